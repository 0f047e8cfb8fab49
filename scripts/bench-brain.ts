// The bench's brain phase (issue 11, Done means; `npm run bench -- --only brain`): the brain's figures on a
// simulated province (scripts/sim/generate.ts), pure computation but the replay (its own servers and agents). One exported function per
// figure; brainPhase runs every function in BRAIN_FIGURES.
//   forecast_mape_vs_naive  MAPE of day-ahead forecasts (refitted at each local midnight) ÷ MAPE of the
//                           seasonal-naive baseline (same bucket a week earlier), lower is better; 200 tide
//                           pairs (nightly-bulk, office-hours, weekly, realtime-steady; 60 with --quick),
//                           trained 2025-08-18..09-25, held out 2025-09-26..10-13 (make-up days 09-28 and
//                           10-11, National Day 10-01..08); MAPE per pair over buckets with ≥ 1 record,
//                           planted surge buckets not scored, then the mean over pairs of each;
//                           forecast_mape_vs_naive_plain beside it: the same on ordinary weeks (2025-11-20..12-08)
//   surge_detect_buckets    p95 of the detection delay of planted surges, buckets (0 = decided at the surge's
//                           first bucket); a missed surge counts as never detected (null if it decides the p95);
//                           surge_detect_within2_pct and surge_detect_mean_buckets beside it. 200 pairs of all
//                           five classes (60 with --quick), 42 days from 2025-09-01 (28 with --quick),
//                           3 surges per pair planted after the 14 warm-up days
//   surge_false_alarm_pct   surge-free buckets (after warm-up) inside a detected surge ÷ all surge-free
//                           buckets, %
//   cluster_ari, cluster_k  clustering against the planted classes, and cluster_2000_pairs_s: scripts/bench-cluster.ts
//   policy_p99_gain_pct     the compressed-time replay through real agents (medians of 3 rounds, 1 with --quick):
//                           scripts/bench-replay.ts
import { mape, rollingForecast, seasonalNaive } from '../central/src/domain/forecast-eval.js';
import { detectSurges } from '../central/src/domain/surge.js';
import { clusterFigures } from './bench-cluster.js';
import { replayFigures } from './bench-replay.js';
import { CHINA_CALENDAR_2025_2026, generateProvince, type SimPair } from './sim/generate.js';

export interface BrainBenchOptions {
  quick: boolean;
  say: (msg: string) => void;
}

export type BrainFigures = Record<string, number | string | null>;

const DAY_MS = 86_400_000;
const cal = CHINA_CALENDAR_2025_2026;
const local = (date: string): number => Date.parse(`${date}T00:00:00+08:00`);
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const inSurge = (pair: SimPair, idx: number): boolean => pair.surges.some((s) => idx >= s.startIdx && idx <= s.endIdx);

/** MAPE of day-ahead forecasts ÷ seasonal-naive MAPE over [from, until) of a province starting at `start`. */
function forecastRatio(o: BrainBenchOptions, start: number, from: number, days: number, seed: number) {
  const until = start + days * DAY_MS;
  const pairs = o.quick ? 60 : 200;
  const classes = ['nightly-bulk', 'office-hours', 'weekly', 'realtime-steady'] as const;
  const province = generateProvince({ pairs, days, startMs: start, seed, calendar: cal, classes });
  let sumF = 0;
  let sumN = 0;
  for (const pair of province.pairs) {
    const off = (from - start) / pair.series.bucketMs;
    const f = rollingForecast(pair.series, from, until, { calendar: cal }).values;
    const naive = seasonalNaive(pair.series, from, until).values;
    const actual = pair.series.values.slice(off, off + f.length);
    const skip = actual.map((_, i) => inSurge(pair, off + i) || !Number.isFinite(f[i]!) || !Number.isFinite(naive[i]!));
    sumF += mape(actual, f, { skip });
    sumN += mape(actual, naive, { skip });
  }
  return { ratio: round(sumF / sumN, 3), mape: round(sumF / pairs, 1), naive: round(sumN / pairs, 1), pairs };
}

/** forecast_mape_vs_naive (and both MAPEs): held out 2025-09-26..10-13, National Day and 调休 inside. */
export function forecastFigures(o: BrainBenchOptions): BrainFigures {
  o.say(`brain: forecasts of tide pairs, held out 2025-09-26..10-13 (National Day, 调休)`);
  const r = forecastRatio(o, local('2025-08-18'), local('2025-09-26'), 57, 2026);
  return {
    forecast_mape_vs_naive: r.ratio,
    forecast_mape_pct: r.mape,
    forecast_naive_mape_pct: r.naive,
    forecast_pairs: r.pairs,
  };
}

/**
 * forecast_mape_vs_naive_plain: the same on ordinary weeks (held out 2025-11-20..12-08, no holiday), where
 * the baseline is not hurt by holidays: how much of the gain is the calendar's.
 */
export function forecastPlainFigures(o: BrainBenchOptions): BrainFigures {
  o.say(`brain: forecasts of tide pairs, held out 2025-11-20..12-08 (ordinary weeks)`);
  const r = forecastRatio(o, local('2025-10-13'), local('2025-11-20'), 57, 2028);
  return { forecast_mape_vs_naive_plain: r.ratio };
}

/** surge_detect_buckets (p95 delay), surge_false_alarm_pct, and the share within two buckets. */
export function surgeFigures(o: BrainBenchOptions): BrainFigures {
  const start = local('2025-09-01');
  const days = o.quick ? 28 : 42;
  const pairs = o.quick ? 60 : 200;
  const warm = 14;
  o.say(`brain: surge detection over ${pairs} pairs x ${days} days, streaming bucket by bucket`);
  const province = generateProvince({
    pairs,
    days,
    startMs: start,
    seed: 2027,
    calendar: cal,
    surgesPerPair: 3,
    surgesFromMs: start + warm * DAY_MS,
  });
  const delays: number[] = [];
  let free = 0;
  let flaggedFree = 0;
  for (const pair of province.pairs) {
    const { bucketMs, values } = pair.series;
    const idx = (ms: number): number => (ms - start) / bucketMs;
    const found = detectSurges(pair.series, { calendar: cal, warmupDays: warm });
    for (const s of pair.surges) {
      const hit = found.find((d) => idx(d.startMs) <= s.endIdx && (d.endMs === null || idx(d.endMs) > s.startIdx));
      delays.push(hit === undefined ? Infinity : Math.max(0, idx(hit.detectedMs) - s.startIdx));
    }
    const flagged = new Uint8Array(values.length);
    for (const d of found)
      for (let j = idx(d.startMs); j < (d.endMs === null ? values.length : idx(d.endMs)); j++) flagged[j] = 1;
    for (let j = (warm * DAY_MS) / bucketMs; j < values.length; j++)
      if (!inSurge(pair, j)) {
        free++;
        flaggedFree += flagged[j] as number;
      }
  }
  delays.sort((a, b) => a - b);
  const p95 = delays[Math.min(delays.length - 1, Math.ceil(0.95 * delays.length) - 1)] as number;
  const caught = delays.filter(Number.isFinite);
  return {
    surge_detect_buckets: Number.isFinite(p95) ? p95 : null,
    surge_detect_mean_buckets: round(caught.reduce((a, b) => a + b, 0) / Math.max(1, caught.length), 2),
    surge_detect_within2_pct: round((100 * delays.filter((d) => d <= 2).length) / delays.length, 1),
    surge_planted: delays.length,
    surge_false_alarm_pct: round((100 * flaggedFree) / free, 3),
  };
}

/** The phase's figures, one function each. */
export const BRAIN_FIGURES: ((o: BrainBenchOptions) => BrainFigures | Promise<BrainFigures>)[] = [
  forecastFigures,
  forecastPlainFigures,
  surgeFigures,
  clusterFigures,
  replayFigures,
];

/** Runs every figure of BRAIN_FIGURES and merges their results. */
export async function brainPhase(o: BrainBenchOptions): Promise<BrainFigures> {
  const out: BrainFigures = {};
  for (const figure of BRAIN_FIGURES) Object.assign(out, await figure(o));
  return out;
}
