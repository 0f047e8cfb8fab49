// The bench's brain phase (issue 11, Done means; `npm run bench -- --only brain`): the brain's figures on a
// simulated province (scripts/sim/generate.ts), pure computation, no servers. One exported function per
// figure; brainPhase runs every function in BRAIN_FIGURES.
//   forecast_mape_vs_naive  MAPE of day-ahead forecasts (refitted at each local midnight) ÷ MAPE of the
//                           seasonal-naive baseline (same bucket a week earlier), lower is better; 200 tide
//                           pairs (nightly-bulk, office-hours, weekly, realtime-steady; 60 with --quick),
//                           trained 2025-08-18..09-25, held out 2025-09-26..10-13 (make-up days 09-28 and
//                           10-11, National Day 10-01..08); MAPE per pair over buckets with ≥ 1 record,
//                           planted surge buckets not scored, then the mean over pairs of each
//   surge_detect_buckets    p95 of the detection delay of planted surges, buckets (0 = decided at the surge's
//                           first bucket); a missed surge counts as never detected (null if it decides the p95);
//                           surge_detect_within2_pct and surge_detect_mean_buckets beside it. 200 pairs of all
//                           five classes (60 with --quick), 42 days from 2025-09-01 (28 with --quick),
//                           3 surges per pair planted after the 14 warm-up days
//   surge_false_alarm_pct   surge-free buckets (after warm-up) inside a detected surge ÷ all surge-free
//                           buckets, %
import { mape, rollingForecast, seasonalNaive } from '../central/src/domain/forecast-eval.js';
import { detectSurges } from '../central/src/domain/surge.js';
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

/** forecast_mape_vs_naive (and both MAPEs). */
export function forecastFigures(o: BrainBenchOptions): BrainFigures {
  const start = local('2025-08-18');
  const from = local('2025-09-26');
  const until = start + 57 * DAY_MS;
  const pairs = o.quick ? 60 : 200;
  o.say(`brain: forecasts of ${pairs} tide pairs, held out 2025-09-26..10-13 (National Day, 调休)`);
  const classes = ['nightly-bulk', 'office-hours', 'weekly', 'realtime-steady'] as const;
  const province = generateProvince({ pairs, days: 57, startMs: start, seed: 2026, calendar: cal, classes });
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
  return {
    forecast_mape_vs_naive: round(sumF / sumN, 3),
    forecast_mape_pct: round(sumF / pairs, 1),
    forecast_naive_mape_pct: round(sumN / pairs, 1),
    forecast_pairs: pairs,
  };
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

/** The phase's figures, one function each (another helper adds cluster_ari here). */
export const BRAIN_FIGURES: ((o: BrainBenchOptions) => BrainFigures | Promise<BrainFigures>)[] = [
  forecastFigures,
  surgeFigures,
];

/** Runs every figure of BRAIN_FIGURES and merges their results. */
export async function brainPhase(o: BrainBenchOptions): Promise<BrainFigures> {
  const out: BrainFigures = {};
  for (const figure of BRAIN_FIGURES) Object.assign(out, await figure(o));
  return out;
}
