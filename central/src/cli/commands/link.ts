// xchg link: links between exchange centers (交换中心) with their configured capacity, and the URLs the
// relay at each end dials to reach the other.
import { InvalidArgumentError, type Command } from 'commander';
import type { CreateLinkBody, Link, UpdateLinkBody } from '../../api/centers.js';
import type { LinkView } from '../../api/routing.js';
import { action } from '../context.js';
import { formatTime } from '../format.js';
import { defaulted } from '../help.js';
import { renderFields, type Column } from '../output.js';
import { formatCapacity, parseUrls } from './center.js';
import type { Noun } from './noun.js';
import { linkStateColumns, linkStateFields } from './route.js';

/** Megabits per second (a positive number) → bytes per second, the API's unit. */
export function parseCapacityMbps(text: string): number {
  const n = Number(text.trim());
  const bps = Math.round(n * 125_000);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isSafeInteger(bps) || bps < 1)
    throw new InvalidArgumentError('expected megabits per second above 0, e.g. 100 or 2.5');
  return bps;
}

/** A URL list, or "default" for the other center's own URLs. */
function parseUrlsOrDefault(text: string): string[] | null {
  return text.trim() === 'default' ? null : parseUrls(text);
}

const urlsText = (urls: readonly string[] | null): string => (urls ? urls.join(',') : 'its URLs');

const columns = (nowMs: number): readonly Column<LinkView>[] => [
  { header: 'id', value: (l) => l.id },
  { header: 'a', value: (l) => l.a },
  { header: 'b', value: (l) => l.b },
  { header: 'capacity', value: (l) => formatCapacity(l.capacityBps), align: 'right' },
  ...linkStateColumns<LinkView>((l) => l.state, nowMs),
  { header: 'a dials b at', value: (l) => urlsText(l.urlsAToB), maxWidth: 40 },
  { header: 'b dials a at', value: (l) => urlsText(l.urlsBToA), maxWidth: 40 },
];

/** A link; with its state when the answer carries one (show does, create and update do not). */
const render = (l: Link | LinkView, nowMs: number): string =>
  renderFields([
    ['ID', l.id],
    ['Centers', `${l.a} – ${l.b}`],
    ['Capacity', `${formatCapacity(l.capacityBps)} (${l.capacityBps} bytes/s)`],
    [`${l.a} dials ${l.b} at`, l.urlsAToB ? l.urlsAToB.join(', ') : `${l.b}'s URLs`],
    [`${l.b} dials ${l.a} at`, l.urlsBToA ? l.urlsBToA.join(', ') : `${l.a}'s URLs`],
    ...('state' in l ? linkStateFields(l.state, l.capacityBps, nowMs) : []),
    ['Created', formatTime(l.createdAt)],
    ['Updated', formatTime(l.updatedAt)],
  ]);

const FLAGS = {
  a: '--from',
  b: '--to',
  capacityBps: '--capacity-mbps',
  urlsAToB: '--urls-a-to-b',
  urlsBToA: '--urls-b-to-a',
} as const;

interface UrlFlags {
  urlsAToB?: string[] | null;
  urlsBToA?: string[] | null;
  check: boolean;
}

export const link: Noun = {
  name: 'link',
  summary: 'links between centers 中心间链路',
  description:
    'Links between exchange centers (交换中心): which centers connect, with a configured capacity. One link per ' +
    'pair of centers (from–to is to–from). URLs given are checked for a NATS server first.',
  register(cmd: Command): void {
    linkList(cmd);
    linkCreate(cmd);
    linkShow(cmd);
    linkUpdate(cmd);
    linkDelete(cmd);
  },
};

function linkList(cmd: Command): void {
  cmd
    .command('list')
    .description('List links between centers with their state from the probes')
    .option('--center <code>', 'only links with this center at one end')
    .action(
      action<{ center?: string }>(async (ctx, o) => {
        ctx.list(await ctx.api.get<LinkView[]>('/links', { center: o.center }), columns(ctx.nowMs), 'links');
      }),
    );
}

function linkCreate(cmd: Command): void {
  cmd
    .command('create')
    .description('Link two centers')
    .requiredOption('--from <code>', 'center at one end (a)')
    .requiredOption('--to <code>', 'center at the other end (b)')
    .requiredOption('--capacity-mbps <n>', 'configured capacity, megabits per second', parseCapacityMbps)
    .addOption(
      defaulted(
        '--urls-a-to-b <urls>',
        'URLs the relay at --from dials to reach --to, comma-separated',
        "--to's URLs",
      ).argParser(parseUrls),
    )
    .addOption(
      defaulted(
        '--urls-b-to-a <urls>',
        'URLs the relay at --to dials to reach --from, comma-separated',
        "--from's URLs",
      ).argParser(parseUrls),
    )
    .option('--no-check', 'create without connecting to the URLs given first')
    .action(
      action<UrlFlags & { from: string; to: string; capacityMbps: number }>(async (ctx, o) => {
        const body = {
          a: o.from,
          b: o.to,
          capacityBps: o.capacityMbps,
          ...(o.urlsAToB && { urlsAToB: o.urlsAToB }),
          ...(o.urlsBToA && { urlsBToA: o.urlsBToA }),
          ...(!o.check && { check: false }),
        } satisfies CreateLinkBody;
        const l = await ctx.api.post<Link>('/links', body, FLAGS);
        ctx.show(l, () => render(l, ctx.nowMs));
      }),
    );
}

function linkShow(cmd: Command): void {
  cmd
    .command('show')
    .alias('get')
    .description('Show one link and its state: latency, loss, load, queue, last probe, probe overhead')
    .argument('<id>', 'link id')
    .action(
      action(async (ctx, _o, id) => {
        const l = await ctx.api.get<LinkView>(`/links/${encodeURIComponent(id)}`);
        ctx.show(l, () => render(l, ctx.nowMs));
      }),
    );
}

function linkUpdate(cmd: Command): void {
  cmd
    .command('update')
    .description("Change a link's capacity or the URLs its ends dial")
    .argument('<id>', 'link id')
    .option('--capacity-mbps <n>', 'configured capacity, megabits per second', parseCapacityMbps)
    .option(
      '--urls-a-to-b <urls>',
      "URLs a's relay dials to reach b, comma-separated, or 'default' for b's own",
      parseUrlsOrDefault,
    )
    .option(
      '--urls-b-to-a <urls>',
      "URLs b's relay dials to reach a, comma-separated, or 'default' for a's own",
      parseUrlsOrDefault,
    )
    .option('--no-check', 'change the URLs without connecting to them first')
    .action(
      action<UrlFlags & { capacityMbps?: number }>(async (ctx, o, id) => {
        const body = {
          ...(o.capacityMbps !== undefined && { capacityBps: o.capacityMbps }),
          ...(o.urlsAToB !== undefined && { urlsAToB: o.urlsAToB }),
          ...(o.urlsBToA !== undefined && { urlsBToA: o.urlsBToA }),
          ...(!o.check && { check: false }),
        } satisfies UpdateLinkBody;
        const l = await ctx.api.patch<Link>(`/links/${encodeURIComponent(id)}`, body, FLAGS);
        ctx.show(l, () => render(l, ctx.nowMs));
      }),
    );
}

function linkDelete(cmd: Command): void {
  cmd
    .command('delete')
    .description('Delete a link')
    .argument('<id>', 'link id')
    .action(
      action(async (ctx, _o, id) => {
        await ctx.api.delete(`/links/${encodeURIComponent(id)}`);
        ctx.done(`deleted link ${id}`);
      }),
    );
}
