// Link state (链路状态) from the probe windows (测试粒子) relays report, pure: the windows of one link over a
// sliding window aggregated into the LinkMeasure routing rates links with (domain/routing.ts), plus the
// evidence operators are shown (queue depth, probe traffic, how many probes). Time is an argument.
//
// Aggregation over the windows whose end falls in (now − windowMs, now], both directions of the link as one
// state (a relay at each end probes the other):
// - Latency is one-way = RTT / 2: a probe's round trip crosses the link twice, and the relays' clocks are
//   not compared (one-way timing would need synchronised clocks to the millisecond).
// - p50: the median of the windows' p50s weighted by their answered probes (a median of medians: exact
//   percentiles cannot be combined from summaries). p99: the highest window p99 (a link is as bad as its
//   worst recent window, so a degradation shows at once and clears only once that window has aged out).
// - loss = 1 − Σ answered / Σ sent.
// - load: data bytes forwarded per second over the windows' time, per direction; the busier direction.
// - probe traffic: probe bytes per second per direction, summed over both directions (conservative: the
//   capacity is per direction) — probe_overhead_pct = that ÷ capacity.
// - queue depth: the latest window's transit backlog per direction; the deeper direction.
// - measuredAt: the end of the latest window with an answered probe; when every probe in the window was
//   lost, the latest window's end (so the state reads "every probe lost", not "never measured").
// A window's end is taken as at most its arrival at central: a relay clock running ahead cannot make a
// window look newer than it is. Relays and central are assumed NTP-synchronised: a relay clock behind by
// more than windowMs makes its windows fall out of the window (the link reads stale, never better).
import type { LinkHealth, LinkMeasure } from './routing.js';

/** One probe window a relay reported (ProbeReport). */
export interface ProbeWindow {
  fromCenter: string;
  toCenter: string;
  /** The link probed; '' for a probe of a whole route. */
  linkId: string;
  /** The centers of a route probe (first = the reporting relay's center); [] for a link probe. */
  route: string[];
  windowStartMs: number;
  windowEndMs: number;
  sent: number;
  answered: number;
  rttP50Us: number;
  rttP99Us: number;
  forwardedBytes: number;
  probeBytes: number;
  queueDepth: number;
  /** When central received it, ms since epoch. */
  receivedAt: number;
}

/** A link's measure with the evidence behind it. */
export interface LinkEvidence extends Omit<LinkMeasure, 'healthySince'> {
  /** Windows aggregated, and the probes in them. */
  windows: number;
  sent: number;
  answered: number;
  /** Transit backlog (JetStream pending of the relay's transit consumer), messages. */
  queueDepth: number;
  /** Probe traffic over the link, bytes per second (both directions summed). */
  probeBps: number;
}

/** The windows of (now − windowMs, now], aggregated as the top comment says; undefined without a probe sent. */
export function aggregateLink(
  windows: readonly ProbeWindow[],
  now: number,
  windowMs: number,
): LinkEvidence | undefined {
  const recent = windows.filter((w) => {
    const end = effectiveEnd(w);
    return end > now - windowMs && end <= now && w.sent > 0;
  });
  if (recent.length === 0) return undefined;
  const sent = sum(recent, (w) => w.sent);
  const answered = sum(recent, (w) => w.answered);
  const heard = recent.filter((w) => w.answered > 0);
  const latest = (ws: readonly ProbeWindow[]) => Math.max(...ws.map(effectiveEnd));
  const byDirection = groupBy(recent, (w) => `${w.fromCenter}>${w.toCenter}`);
  const rate = (ws: readonly ProbeWindow[], bytes: (w: ProbeWindow) => number) =>
    (sum(ws, bytes) * 1000) /
    Math.max(
      1,
      sum(ws, (w) => Math.max(1, w.windowEndMs - w.windowStartMs)),
    );
  const directions = [...byDirection.values()];
  return {
    latencyP50Ms: heard.length ? weightedMedian(heard.map((w) => [w.rttP50Us, w.answered])) / 2000 : 0,
    latencyP99Ms: heard.length ? Math.max(...heard.map((w) => w.rttP99Us)) / 2000 : 0,
    loss: 1 - answered / sent,
    loadBps: Math.max(...directions.map((ws) => rate(ws, (w) => w.forwardedBytes))),
    measuredAt: heard.length ? latest(heard) : latest(recent),
    windows: recent.length,
    sent,
    answered,
    queueDepth: Math.max(...directions.map((ws) => newest(ws).queueDepth)),
    probeBps: sum(directions, (ws) => rate(ws, (w) => w.probeBytes)),
  };
}

/** Since when a link has been healthy without interruption, after an evaluation that found it `health`. */
export function nextHealthySince(previous: number | undefined, health: LinkHealth, now: number): number | undefined {
  return health === 'up' ? (previous ?? now) : undefined;
}

/** Probe traffic as a percentage of the link's configured capacity (undefined when either is unknown). */
export function probeOverheadPct(probeBps: number | undefined, capacityBps: number): number | undefined {
  return probeBps === undefined || capacityBps <= 0 ? undefined : (probeBps / capacityBps) * 100;
}

const effectiveEnd = (w: ProbeWindow): number => Math.min(w.windowEndMs, w.receivedAt);

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of xs) s += f(x);
  return s;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k) ?? [];
    list.push(x);
    out.set(k, list);
  }
  return out;
}

function newest(ws: readonly ProbeWindow[]): ProbeWindow {
  return ws.reduce((a, b) => (effectiveEnd(b) > effectiveEnd(a) ? b : a));
}

/** The median of values with weights: the smallest value at which the cumulative weight reaches half. */
function weightedMedian(pairs: readonly (readonly [value: number, weight: number])[]): number {
  const sorted = [...pairs].sort((a, b) => a[0] - b[0]);
  const half = sum(sorted, (p) => p[1]) / 2;
  let acc = 0;
  for (const [v, w] of sorted) {
    acc += w;
    if (acc >= half) return v;
  }
  return sorted.at(-1)?.[0] ?? 0;
}
