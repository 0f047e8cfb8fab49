// xchg surge: the surges (浪涌) the brain's detector found against the forecast — live ones with what the brain
// did (dynamic policy, alert), and those found by replaying imported history in time order (origin import),
// so operators can judge the detector on their own records.
import { Option, type Command } from 'commander';
import type { SurgeView } from '../../api/brain.js';
import { action } from '../context.js';
import type { Column } from '../output.js';
import type { Noun } from './noun.js';

const actionsText = (s: SurgeView): string =>
  s.actions
    .map((a) => {
      const x = a as { action?: string; policyId?: string; kind?: string; nodes?: string[] };
      if (x.nodes) return `${x.action} ${x.nodes.join('+')}`; // dynamic node allocation: the standby agents
      return x.policyId ? `${x.action} ${x.policyId}` : (x.action ?? '?');
    })
    .join(', ') || '-';

const COLUMNS: readonly Column<SurgeView>[] = [
  { header: 'id', value: (s) => s.surgeId },
  { header: 'from', value: (s) => s.fromNode },
  { header: 'to', value: (s) => s.toNode },
  { header: 'resource', value: (s) => s.resource || '(all)' },
  { header: 'origin', value: (s) => s.origin },
  { header: 'start', value: (s) => s.start.slice(0, 16).replace('T', ' ') },
  { header: 'end', value: (s) => (s.end ? s.end.slice(0, 16).replace('T', ' ') : 'ongoing') },
  { header: 'delay', value: (s) => `${s.delayBuckets} b`, align: 'right' },
  { header: 'peak', value: (s) => Math.round(s.peak), align: 'right' },
  { header: 'expected', value: (s) => Math.round(s.expected), align: 'right' },
  { header: 'actions', value: actionsText, maxWidth: 60 },
];

export const surge: Noun = {
  name: 'surge',
  summary: 'traffic surges 浪涌',
  description:
    'Surges (浪涌): a pair’s traffic well above its forecast, detected bucket by bucket without look-ahead. A live ' +
    'surge raises an alert and a dynamic policy (动态策略) on the pair’s sync tasks until it passes; history ' +
    'imported with `xchg traffic import` is replayed through the same detector (origin import).',
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('Surges, oldest first (times in central’s time zone; delay in buckets after the start)')
      .option('--from <node>', 'provider node of the pair')
      .option('--to <node>', 'consumer node of the pair')
      .addOption(new Option('--origin <origin>', 'live or import').choices(['live', 'import']))
      .option('--since <time>', 'surges overlapping from this time (ISO 8601 or YYYY-MM-DD HH:MM:SS)')
      .option('--until <time>', 'surges overlapping until this time')
      .option('--open', 'only surges still going on')
      .action(
        action<{ from?: string; to?: string; origin?: string; since?: string; until?: string; open?: boolean }>(
          async (ctx, o) => {
            const rows = await ctx.api.get<SurgeView[]>('/surges', {
              from: o.from,
              to: o.to,
              origin: o.origin,
              since: o.since,
              until: o.until,
              ...(o.open && { open: 'true' }),
            });
            ctx.list(rows, COLUMNS, 'surges');
          },
        ),
      );
  },
};
