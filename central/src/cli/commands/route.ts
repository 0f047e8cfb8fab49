// xchg route: the route of each pair of exchange centers (路由), why it was chosen (costs, the probe evidence
// of its links, its history), and pins; the link-state cells xchg link shares.
import { InvalidArgumentError, type Command } from 'commander';
import type { LinkState, PinRouteBody, RouteCandidateView, RouteDetail, RouteSummary } from '../../api/routing.js';
import { action } from '../context.js';
import { usageError } from '../errors.js';
import { formatAge, formatTimeAndAge, yesNo } from '../format.js';
import { renderFields, renderSection, renderTable, type Column, type Field } from '../output.js';
import { formatCapacity } from './center.js';
import type { Noun } from './noun.js';

const ms = (v: number | null): string => (v === null ? '-' : `${+v.toFixed(1)} ms`);
const cost = (v: number | null): string => (v === null ? '∞' : `${+v.toFixed(1)}`);
const routeText = (r: readonly string[] | null): string => (r ? r.join('>') : '-');

/** The state cells of a link (state, latency, loss, load, queue, staleness), for link and route views. */
export function linkStateColumns<T>(get: (row: T) => LinkState, nowMs: number): Column<T>[] {
  return [
    { header: 'state', value: (l) => get(l).state },
    { header: 'p50', value: (l) => ms(get(l).latencyP50Ms), align: 'right' },
    { header: 'p99', value: (l) => ms(get(l).latencyP99Ms), align: 'right' },
    { header: 'loss', value: (l) => pct(get(l).loss), align: 'right' },
    { header: 'load', value: (l) => rate(get(l).loadBps), align: 'right' },
    { header: 'queue', value: (l) => get(l).queueDepth ?? '-', align: 'right' },
    { header: 'last probe', value: (l) => formatAge(get(l).measuredAt, nowMs) },
  ];
}

const rate = (bps: number | null): string => (bps === null ? '-' : formatCapacity(bps));

/** The state of a link as detail lines. */
export function linkStateFields(s: LinkState, capacityBps: number, nowMs: number): Field[] {
  return [
    ['State', s.reason ? `${s.state} (${s.reason})` : s.state],
    ['State since', formatTimeAndAge(s.stateSince, nowMs)],
    ['Healthy since', formatTimeAndAge(s.healthySince, nowMs)],
    ['Latency p50 / p99', `${ms(s.latencyP50Ms)} / ${ms(s.latencyP99Ms)} (one way: probe round trip / 2)`],
    ['Loss', `${pct(s.loss)} (${s.probes.answered} of ${s.probes.sent} probes answered, ${s.probes.windows} windows)`],
    [
      'Load',
      s.loadBps === null
        ? '-'
        : `${formatCapacity(s.loadBps)} of ${formatCapacity(capacityBps)} (${pct(s.utilisation)})`,
    ],
    ['Queue', s.queueDepth ?? '-'],
    ['Last probe', formatTimeAndAge(s.measuredAt, nowMs)],
    [
      'Probe overhead',
      s.probeOverheadPct === null ? '-' : `${s.probeOverheadPct} % of capacity (${s.probeBps} bytes/s)`,
    ],
    ['Cost', s.cost === null ? '∞ (down)' : `${cost(s.cost)} ms`],
  ];
}

function pct(x: number | null): string {
  return x === null ? '-' : `${+(x * 100).toFixed(2)} %`;
}

const COLUMNS = (nowMs: number): readonly Column<RouteSummary>[] => [
  { header: 'from', value: (r) => r.from },
  { header: 'to', value: (r) => r.to },
  { header: 'route', value: (r) => routeText(r.route), maxWidth: 50 },
  { header: 'cost ms', value: (r) => cost(r.cost), align: 'right' },
  { header: 'state', value: (r) => r.state },
  { header: 'pinned', value: (r) => yesNo(r.pinned) },
  { header: 'changes', value: (r) => r.changes, align: 'right' },
  { header: 'last change', value: (r) => formatAge(r.since, nowMs) },
  { header: 'why', value: (r) => r.reason, maxWidth: 60 },
];

function render(r: RouteDetail, nowMs: number): string {
  const parts = [
    renderFields([
      ['Pair', `${r.from} → ${r.to}`],
      ['Route', routeText(r.route)],
      ['Cost', r.cost === null ? '-' : `${cost(r.cost)} ms`],
      ['State', r.state],
      ['Pinned', r.pin ? `${r.pin.join('>')} (by ${r.pinnedBy ?? '?'})` : 'no'],
      ['Why', r.reason],
      ['Last change', formatTimeAndAge(r.since, nowMs)],
      ['Changes', r.changes],
      [
        'Challenger',
        r.challenger ? `${r.challenger.centers.join('>')} since ${formatAge(r.challenger.since, nowMs)}` : '-',
      ],
      ['Needed by a flow', yesNo(r.needed)],
      ['Evaluated', formatTimeAndAge(r.evaluatedAt, nowMs)],
    ]),
  ];
  if (r.alternatives.length)
    parts.push(
      renderSection(
        'Alternatives',
        renderTable<RouteCandidateView>(r.alternatives, [
          { header: '', value: (a) => (r.route && a.centers.join('>') === r.route.join('>') ? '*' : '') },
          { header: 'route', value: (a) => a.centers.join('>') },
          { header: 'cost ms', value: (a) => cost(a.cost), align: 'right' },
          { header: 'health', value: (a) => a.health },
          { header: 'links', value: (a) => a.links.join(',') },
          {
            header: 'route probes p50/p99 loss',
            value: (a) =>
              a.probe ? `${ms(a.probe.latencyP50Ms)} / ${ms(a.probe.latencyP99Ms)} ${pct(a.probe.loss)}` : '-',
          },
        ]),
      ),
    );
  if (r.evidence.length)
    parts.push(
      renderSection(
        'Probe evidence',
        renderTable(r.evidence, [
          { header: 'link', value: (l) => l.linkId },
          { header: 'centers', value: (l) => `${l.a}–${l.b}` },
          ...linkStateColumns<(typeof r.evidence)[number]>((l) => l, nowMs),
          { header: 'cost ms', value: (l) => cost(l.cost), align: 'right' },
          { header: 'probe overhead', value: (l) => (l.probeOverheadPct === null ? '-' : `${l.probeOverheadPct} %`) },
          { header: 'why', value: (l) => l.reason ?? '', maxWidth: 40 },
        ]),
      ),
    );
  if (r.history.length)
    parts.push(
      renderSection(
        'History (latest first)',
        renderTable(r.history, [
          { header: 'at', value: (h) => formatTimeAndAge(h.at, nowMs) },
          { header: 'from', value: (h) => routeText(h.previous) },
          { header: 'to', value: (h) => h.route.join('>') },
          { header: 'by', value: (h) => h.actor },
          { header: 'why', value: (h) => h.reason, maxWidth: 70 },
        ]),
      ),
    );
  return parts.join('\n\n');
}

/** A comma-separated list of center codes. */
function parseCenters(text: string): string[] {
  const codes = text.split(',').map((s) => s.trim());
  if (codes.some((c) => !c)) throw new InvalidArgumentError('expected center codes separated by commas, e.g. province');
  return codes;
}

const pairPath = (from: string, to: string): string => `/routes/${encodeURIComponent(from)}/${encodeURIComponent(to)}`;
/** The flags that set the request's fields (a center of the route at index i is field route.i). */
const PAIR_FLAGS: Readonly<Record<string, string>> = {
  from: '--from',
  to: '--to',
  route: '--via',
  ...Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`route.${i}`, '--via'])),
};

export const route: Noun = {
  name: 'route',
  summary: 'routes between centers 路由',
  description:
    'Routes between exchange centers (交换中心): the route of every pair of centers a flow or relay needs, ' +
    'chosen by central from the probes (测试粒子) with hysteresis, and why. Costs are ms of expected one-way ' +
    'delay. Operators pin a route and unpin it.',
  register(cmd: Command): void {
    routeList(cmd);
    routeShow(cmd);
    routePin(cmd);
    routeUnpin(cmd);
  },
};

function routeList(cmd: Command): void {
  cmd
    .command('list')
    .description('List the route of every pair of centers')
    .option('--center <code>', 'only pairs starting or ending at this center')
    .action(
      action<{ center?: string }>(async (ctx, o) => {
        const routes = await ctx.api.get<RouteSummary[]>('/routes', { center: o.center });
        ctx.list(routes, COLUMNS(ctx.nowMs), 'routes');
      }),
    );
}

function pairOptions(c: Command): Command {
  return c
    .requiredOption('--from <code>', 'center the route starts at')
    .requiredOption('--to <code>', 'center the route ends at');
}

function routeShow(cmd: Command): void {
  pairOptions(
    cmd.command('show').alias('get').description('Show a route: alternatives, probe evidence, history'),
  ).action(
    action<{ from: string; to: string }>(async (ctx, o) => {
      const r = await ctx.api.get<RouteDetail>(pairPath(o.from, o.to), undefined, PAIR_FLAGS);
      ctx.show(r, () => render(r, ctx.nowMs));
    }),
  );
}

function routePin(cmd: Command): void {
  pairOptions(cmd.command('pin').description('Pin the route of a pair: kept whatever the probes say until unpinned'))
    .option(
      '--via <centers>',
      'centers crossed between --from and --to, comma-separated (or the whole route)',
      parseCenters,
    )
    .option('--direct', 'the direct link between --from and --to')
    .action(
      action<{ from: string; to: string; via?: string[]; direct?: boolean }>(async (ctx, o) => {
        if (!o.via === !o.direct) throw usageError('route pin: give either --via <centers> or --direct');
        const via = o.via ?? [];
        const whole = via[0] === o.from && via.at(-1) === o.to && via.length >= 2;
        const body = { route: whole ? via : [o.from, ...via, o.to] } satisfies PinRouteBody;
        const r = await ctx.api.put<RouteDetail>(`${pairPath(o.from, o.to)}/pin`, body, PAIR_FLAGS);
        ctx.show(r, () => render(r, ctx.nowMs));
      }),
    );
}

function routeUnpin(cmd: Command): void {
  pairOptions(
    cmd.command('unpin').description("Unpin a pair's route: the cheapest usable route is chosen at once"),
  ).action(
    action<{ from: string; to: string }>(async (ctx, o) => {
      const r = await ctx.api.delete<RouteDetail>(`${pairPath(o.from, o.to)}/pin`);
      ctx.show(r, () => render(r, ctx.nowMs));
    }),
  );
}
