// xchg audit: the append-only, hash-chained audit log (事前审批 · 事中留痕 · 事后追溯): list entries by
// department, resource and time; verify recomputes the chain and names the first broken entry.
import type { Command } from 'commander';
import type { AuditEntry, AuditVerdict } from '../../api/audit.js';
import { action } from '../context.js';
import { CliError } from '../errors.js';
import { formatTime } from '../format.js';
import type { Column } from '../output.js';
import { integerAtLeast, parseTime } from '../parse.js';
import type { Noun } from './noun.js';
import { defaulted } from '../help.js';

/** The details worth a glance in a table: a few key=value pairs. */
function summary(e: AuditEntry): string {
  return Object.entries(e.details)
    .filter(([, v]) => v !== null && v !== '' && typeof v !== 'object')
    .slice(0, 5)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

const COLUMNS: readonly Column<AuditEntry>[] = [
  { header: 'seq', value: (e) => e.seq, align: 'right' },
  { header: 'at', value: (e) => formatTime(e.at) },
  { header: 'actor', value: (e) => e.actor, maxWidth: 24 },
  { header: 'action', value: (e) => e.action },
  { header: 'entity', value: (e) => e.entityId, maxWidth: 24 },
  {
    header: 'dept',
    value: (e) =>
      e.peerDepartmentCode ? `${e.departmentCode || '-'} -> ${e.peerDepartmentCode}` : e.departmentCode || '-',
  },
  { header: 'resource', value: (e) => e.resourceCode || '-' },
  { header: 'details', value: summary, maxWidth: 60 },
];

export const audit: Noun = {
  name: 'audit',
  summary: 'audit log 审计日志',
  description:
    'The audit log (事前审批 · 事中留痕 · 事后追溯): every change to the catalog, applications, agreements, subscriptions, ' +
    'tasks, nodes, tokens and users, and every delivery, each entry chained to the one before by its sha-256 hash.',
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('List audit entries in sequence order')
      .option('--dept <code>', 'only entries of this department (either party)')
      .option('--resource <code>', 'only entries about this resource')
      .option('--action <action>', 'only this action (e.g. batch.delivered) or prefix (e.g. task)')
      .option('--since <time>', 'from, e.g. 2025-01-01, "2025-01-01 08:00" or 7d', (v) => parseTime(v))
      .option('--until <time>', 'up to (exclusive), same forms as --since', (v) => parseTime(v))
      .option('--after-seq <n>', 'only entries after this sequence number (to page on)', integerAtLeast(0))
      .addOption(defaulted('--limit <n>', 'at most this many entries', "1000 (central's)").argParser(integerAtLeast(1)))
      .action(
        action<{
          dept?: string;
          resource?: string;
          action?: string;
          since?: number;
          until?: number;
          afterSeq?: number;
          limit?: number;
        }>(async (ctx, o) => {
          const rows = await ctx.api.get<AuditEntry[]>('/audit', {
            department: o.dept,
            resource: o.resource,
            action: o.action,
            since: o.since,
            until: o.until,
            afterSeq: o.afterSeq,
            limit: o.limit,
          });
          ctx.list(rows, COLUMNS, 'audit entries');
        }),
      );

    cmd
      .command('verify')
      .description('Recompute the hash chain; exits 1 naming the first broken entry when it does not hold')
      .action(
        action(async (ctx) => {
          const v = await ctx.api.get<AuditVerdict>('/audit/verify');
          if (v.ok) return ctx.show(v, () => `audit chain intact: ${v.entries} entries, head ${v.headHash}`);
          if (ctx.output === 'json') ctx.show(v, () => '');
          const b = v.firstBroken!;
          throw new CliError(`audit chain broken at entry ${b.seq}: ${b.problem}`);
        }),
      );
  },
};
