// The simulator's summary figures (npm run simulate): what central stored (its clustering run, the surges its
// replay of imported history found, the series it answers on GET /traffic) compared with the generator's
// planted truth. Pure: takes the stored facts and the province, computes, never re-derives a stored result.
import type { CalendarSpec } from '../../central/src/domain/calendar.js';
import { adjustedRandIndex } from '../../central/src/domain/clustering.js';
import { mape, rollingForecast, seasonalNaive } from '../../central/src/domain/forecast-eval.js';
import type { Series, SimPair } from './generate.js';

/** A pair as central names it (node ids, resource '' = all) and the generator pair it stands for. */
export interface StoredPair {
  fromNode: string;
  toNode: string;
  sim: SimPair;
}

/** What central stored and answered, read back after the run. */
export interface StoredFacts {
  /** Cluster of each pair in central's latest clustering run (pairs it skipped are absent). */
  members: { fromNode: string; toNode: string; clusterId: number }[];
  k: number;
  /** Surges of origin 'import' (the replay of imported history), as stored. */
  surges: { fromNode: string; toNode: string; startMs: number; endMs: number | null; detectedAtMs: number }[];
  /** The base series of each pair as GET /traffic answered it (key fromNode + ' ' + toNode). */
  series: Map<string, Series>;
}

/** The summary; every figure is defined in its JSDoc. */
export interface SimSummary {
  pairs: number;
  days: number;
  /** Adjusted Rand index of central's clusters vs the planted classes (1 = same partition, ~0 = chance). */
  clusterAri: number;
  clusterK: number;
  /** Pairs central clustered (those with at least its minimum history). */
  clustered: number;
  /** Planted surges, and those central's replay caught within 2 buckets of their first bucket. */
  surgesPlanted: number;
  surgesWithin2: number;
  surgesWithin2Pct: number;
  /** Surges central stored for the replayed imports (origin import). */
  surgesStored: number;
  /** Stored surges overlapping no planted surge. */
  surgesFalse: number;
  /** Surge-free buckets after the warm-up that lie inside a stored surge ÷ all surge-free buckets after it, %. */
  falseAlarmBucketsPct: number;
  /**
   * Day-ahead forecast MAPE ÷ seasonal-naive MAPE (same bucket a week earlier) on the stored series of the
   * tide pairs (every class but sporadic), over the held-out last `forecastHeldOutDays`; planted surge buckets
   * not scored; lower is better (< 0.8: the forecast beats the baseline by 20 %).
   */
  forecastMapeVsNaive: number;
  forecastMapePct: number;
  naiveMapePct: number;
  forecastHeldOutDays: number;
}

const keyOf = (from: string, to: string): string => `${from} ${to}`;
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const DAY_MS = 86_400_000;

/** The summary of a run over `pairs` (the province's, named as central names them). */
export function simSummary(
  pairs: readonly StoredPair[],
  facts: StoredFacts,
  o: { days: number; warmupDays: number; calendar: CalendarSpec },
): SimSummary {
  const byKey = new Map(pairs.map((p) => [keyOf(p.fromNode, p.toNode), p]));
  const truth: string[] = [];
  const found: number[] = [];
  for (const m of facts.members) {
    const p = byKey.get(keyOf(m.fromNode, m.toNode));
    if (p === undefined) continue;
    truth.push(p.sim.cls);
    found.push(m.clusterId);
  }
  const s = surgeFigures(pairs, facts, o.warmupDays);
  const f = forecastFigures(pairs, facts, o);
  return {
    pairs: pairs.length,
    days: o.days,
    clusterAri: truth.length > 0 ? round(adjustedRandIndex(truth, found), 3) : NaN,
    clusterK: facts.k,
    clustered: truth.length,
    ...s,
    ...f,
  };
}

/** Planted surges caught within 2 buckets, stored surges matching none, false-alarm buckets. */
function surgeFigures(pairs: readonly StoredPair[], facts: StoredFacts, warmupDays: number) {
  let planted = 0;
  let within2 = 0;
  let falseSurges = 0;
  let free = 0;
  let flaggedFree = 0;
  for (const p of pairs) {
    const { startMs, bucketMs, values } = p.sim.series;
    const idx = (ms: number): number => Math.round((ms - startMs) / bucketMs);
    const stored = facts.surges.filter((x) => x.fromNode === p.fromNode && x.toNode === p.toNode);
    const endIdx = (x: (typeof stored)[number]): number => (x.endMs === null ? values.length : idx(x.endMs));
    const overlaps = (x: (typeof stored)[number], a: number, b: number): boolean =>
      idx(x.startMs) <= b && endIdx(x) > a;
    for (const ps of p.sim.surges) {
      planted++;
      const hit = stored.find((x) => overlaps(x, ps.startIdx, ps.endIdx));
      if (hit !== undefined && idx(hit.detectedAtMs) - ps.startIdx <= 2) within2++;
    }
    for (const x of stored) if (!p.sim.surges.some((ps) => overlaps(x, ps.startIdx, ps.endIdx))) falseSurges++;
    const flagged = new Uint8Array(values.length);
    for (const x of stored)
      for (let j = Math.max(0, idx(x.startMs)); j < Math.min(values.length, endIdx(x)); j++) flagged[j] = 1;
    for (let j = (warmupDays * DAY_MS) / bucketMs; j < values.length; j++)
      if (!p.sim.surges.some((ps) => j >= ps.startIdx && j <= ps.endIdx)) {
        free++;
        flaggedFree += flagged[j] as number;
      }
  }
  return {
    surgesPlanted: planted,
    surgesStored: facts.surges.length,
    surgesWithin2: within2,
    surgesWithin2Pct: planted > 0 ? round((100 * within2) / planted, 1) : NaN,
    surgesFalse: falseSurges,
    falseAlarmBucketsPct: free > 0 ? round((100 * flaggedFree) / free, 3) : NaN,
  };
}

/** Forecast vs seasonal naive on the stored series of the tide pairs over the held-out last days. */
function forecastFigures(
  pairs: readonly StoredPair[],
  facts: StoredFacts,
  o: { days: number; calendar: CalendarSpec },
) {
  // Two weeks held out, or a third of a shorter history (the forecast needs weeks of training before it).
  const heldOut = Math.max(1, Math.min(14, Math.floor(o.days / 3)));
  let sumF = 0;
  let sumN = 0;
  let n = 0;
  for (const p of pairs) {
    if (p.sim.cls === 'sporadic') continue;
    const series = facts.series.get(keyOf(p.fromNode, p.toNode));
    if (series === undefined) continue;
    const until = series.startMs + series.values.length * series.bucketMs;
    const from = until - heldOut * DAY_MS;
    const off = Math.round((from - series.startMs) / series.bucketMs);
    const fc = rollingForecast(series, from, until, { calendar: o.calendar }).values;
    const naive = seasonalNaive(series, from, until).values;
    const actual = series.values.slice(off, off + fc.length);
    // Planted surge buckets are not scored (the generator's index: the stored series starts where it does).
    const simOff = Math.round((from - p.sim.series.startMs) / series.bucketMs);
    const skip = actual.map(
      (_, i) =>
        p.sim.surges.some((s) => simOff + i >= s.startIdx && simOff + i <= s.endIdx) ||
        !Number.isFinite(fc[i]!) ||
        !Number.isFinite(naive[i]!),
    );
    sumF += mape(actual, fc, { skip });
    sumN += mape(actual, naive, { skip });
    n++;
  }
  return {
    forecastMapeVsNaive: n > 0 ? round(sumF / sumN, 3) : NaN,
    forecastMapePct: n > 0 ? round(sumF / n, 1) : NaN,
    naiveMapePct: n > 0 ? round(sumN / n, 1) : NaN,
    forecastHeldOutDays: heldOut,
  };
}
