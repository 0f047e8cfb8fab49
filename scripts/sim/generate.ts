// The traffic simulator's generator (issue 11, Build 8): a province's worth of pair histories with planted
// ground truth (class, tides by the working-day calendar, trend, overdispersed noise, surges, degrading
// links). Pure and seeded: the same options give the same province, byte for byte.
import { CN_HOLIDAYS, CN_WORKDAYS } from '../../central/src/config.js';
import { type CalendarSpec, WorkingCalendar } from '../../central/src/domain/calendar.js';
import { type DayInfo, drawParams, expectedAt, PAIR_CLASSES, type PairClass, type PairParams } from './profiles.js';
import { mulberry32, negBinomial, type Rng, subSeed, uniform, uniformInt } from './random.js';

export { PAIR_CLASSES, type PairClass, type PairParams } from './profiles.js';

/**
 * China Standard Time with the public holidays and make-up working days (调休) of 2025 and 2026 from the
 * State Council's notices (the same lists as central's default governance calendar, config.ts).
 */
export const CHINA_CALENDAR_2025_2026: CalendarSpec = Object.freeze({
  holidays: CN_HOLIDAYS,
  workdays: CN_WORKDAYS,
  utcOffsetMinutes: 480,
});

/** A series of records per bucket: bucket i starts at startMs + i * bucketMs. */
export interface Series {
  startMs: number;
  bucketMs: number;
  values: number[];
}

/** A planted surge: buckets startIdx..endIdx inclusive carry factor × max(expected, the pair's mean level). */
export interface PlantedSurge {
  startIdx: number;
  endIdx: number;
  factor: number;
}

export interface SimPair {
  fromNode: string;
  toNode: string;
  resource: string;
  /** The planted class (ground truth for clustering). */
  cls: PairClass;
  /** What was observed: records per bucket, with noise and surges. */
  series: Series;
  /** Ground truth: the noise-free, surge-free expected records per bucket (tide × trend). */
  expected: number[];
  /** The pair's mean expected records per bucket over the whole series (the floor of a surge's level). */
  meanLevel: number;
  bytesPerRecord: number;
  recordsPerBatch: number;
  surges: PlantedSurge[];
  /** The drawn parameters (peak, hours, noise k, trend), for inspection. */
  params: PairParams;
}

/** A planted link degradation for the replay: extra latency (and loss) on one center-to-center link. */
export interface PlantedDegradation {
  /** Link between two exchange centers, as "a–b" center codes. */
  from: string;
  to: string;
  startMs: number;
  endMs: number;
  /** Added one-way latency, ms. */
  addedLatencyMs: number;
  /** Share of probes lost, 0..1. */
  loss: number;
}

export interface ProvinceOptions {
  /** Number of pairs. */
  pairs: number;
  /** Days of history. */
  days: number;
  /** Bucket size, ms; default 300_000 (5 min). Volumes scale linearly with it. */
  bucketMs?: number;
  /** Start of the first bucket (ms since epoch); a local midnight keeps days aligned. */
  startMs: number;
  seed: number;
  /** Day types; CHINA_CALENDAR_2025_2026 for real holidays and 调休. */
  calendar: CalendarSpec;
  /** Surges per pair over the whole range (a Poisson mean); default 2. */
  surgesPerPair?: number;
  /** No surge starts before this instant; default startMs + 7 days (leaves a clean first week). */
  surgesFromMs?: number;
  /** Noise scale: multiplies 1/k of the negative-binomial noise; default 1, 0 ≈ Poisson only. */
  noise?: number;
  /** Classes to draw from, balanced (each class gets pairs/n ± 1); default all five. */
  classes?: readonly PairClass[];
  /** Link degradations to plant for the replay between these centers (none by default). */
  degradeLinks?: { centers: readonly string[]; count: number };
}

export interface Province {
  pairs: SimPair[];
  degradations: PlantedDegradation[];
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const BASE_BUCKET_MS = 300_000;

/** Day types of every local day the range touches, keyed by the local day number (floor(local ms / day)). */
function dayTable(cal: WorkingCalendar, spec: CalendarSpec, startMs: number, endMs: number): Map<number, DayInfo> {
  const offsetMs = spec.utcOffsetMinutes * 60_000;
  const out = new Map<number, DayInfo>();
  for (let d = Math.floor((startMs + offsetMs) / DAY_MS); d * DAY_MS - offsetMs < endMs; d++) {
    const date = new Date(d * DAY_MS).toISOString().slice(0, 10);
    const prev = new Date((d - 1) * DAY_MS).toISOString().slice(0, 10);
    const weekday = new Date(d * DAY_MS).getUTCDay();
    out.set(d, { date, weekday, working: cal.isWorkingDay(date), prevWorking: cal.isWorkingDay(prev) });
  }
  return out;
}

/** Expected records per bucket of one pair over the range (tide × trend × bucket-size scale). */
function expectedSeries(
  p: PairParams,
  days: Map<number, DayInfo>,
  o: Required<Pick<ProvinceOptions, 'startMs'>> & {
    n: number;
    bucketMs: number;
    offsetMs: number;
  },
): number[] {
  const scale = o.bucketMs / BASE_BUCKET_MS;
  const out = new Array<number>(o.n);
  for (let i = 0; i < o.n; i++) {
    const local = o.startMs + i * o.bucketMs + o.offsetMs + o.bucketMs / 2;
    const dayNo = Math.floor(local / DAY_MS);
    const day = days.get(dayNo);
    if (day === undefined) throw new Error(`no day type for local day ${dayNo}`);
    const hour = (local - dayNo * DAY_MS) / HOUR_MS;
    const trend = Math.exp(p.trendPerDay * ((i * o.bucketMs) / DAY_MS));
    out[i] = expectedAt(p, hour, day) * trend * scale;
  }
  return out;
}

/** Surges of one pair: non-overlapping, at least a day apart, 2–36 buckets, ×3–×10. */
function plantSurges(rng: Rng, n: number, firstIdx: number, mean: number, bucketsPerDay: number): PlantedSurge[] {
  // Poisson count with mean `mean` (Knuth), then rejection-sampled starts.
  let count = 0;
  for (let p = rng(), limit = Math.exp(-mean); p > limit; p *= rng()) count++;
  const out: PlantedSurge[] = [];
  for (let tries = 0; out.length < count && tries < 50 * (count + 1); tries++) {
    const len = uniformInt(rng, 2, 36);
    const start = uniformInt(rng, firstIdx, n - len - 1);
    if (start < firstIdx || start + len >= n) continue;
    const end = start + len - 1;
    if (out.some((s) => start <= s.endIdx + bucketsPerDay && end >= s.startIdx - bucketsPerDay)) continue;
    out.push({ startIdx: start, endIdx: end, factor: Math.round(uniform(rng, 3, 10) * 100) / 100 });
  }
  return out.sort((a, b) => a.startIdx - b.startIdx);
}

/** Balanced class assignment, shuffled (Fisher–Yates) so classes do not follow pair order. */
function assignClasses(rng: Rng, pairs: number, classes: readonly PairClass[]): PairClass[] {
  const out = Array.from({ length: pairs }, (_, i) => classes[i % classes.length] as PairClass);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j] as PairClass, out[i] as PairClass];
  }
  return out;
}

/** Planted link degradations: each 30 min to 3 h, +100..800 ms, 0..5 % loss, at random times. */
function plantDegradations(rng: Rng, o: ProvinceOptions, endMs: number): PlantedDegradation[] {
  const spec = o.degradeLinks;
  if (spec === undefined || spec.centers.length < 2) return [];
  const out: PlantedDegradation[] = [];
  for (let i = 0; i < spec.count; i++) {
    const a = uniformInt(rng, 0, spec.centers.length - 1);
    let b = uniformInt(rng, 0, spec.centers.length - 2);
    if (b >= a) b++;
    const len = Math.round(uniform(rng, 0.5, 3) * HOUR_MS);
    const startMs = o.startMs + Math.floor(uniform(rng, 0, Math.max(0, endMs - o.startMs - len)));
    out.push({
      from: spec.centers[a] as string,
      to: spec.centers[b] as string,
      startMs,
      endMs: startMs + len,
      addedLatencyMs: Math.round(uniform(rng, 100, 800)),
      loss: Math.round(uniform(rng, 0, 0.05) * 1000) / 1000,
    });
  }
  return out.sort((x, y) => x.startMs - y.startMs);
}

/**
 * Generates a province: `pairs` pairs of `days` days each. Pair i draws from its own stream (seed, i), so
 * its history does not depend on how many pairs follow it. Each bucket's value is negative-binomial around
 * the expected (variance mean + mean²/k); in a planted surge the mean is factor × max(expected, meanLevel).
 */
export function generateProvince(opts: ProvinceOptions): Province {
  const bucketMs = opts.bucketMs ?? BASE_BUCKET_MS;
  if (!(bucketMs > 0) || DAY_MS % bucketMs !== 0) throw new RangeError('bucketMs must divide a day');
  if (!(opts.pairs >= 0) || !(opts.days > 0)) throw new RangeError('pairs must be >= 0 and days > 0');
  const n = Math.round((opts.days * DAY_MS) / bucketMs);
  const endMs = opts.startMs + n * bucketMs;
  const cal = new WorkingCalendar(opts.calendar);
  const offsetMs = opts.calendar.utcOffsetMinutes * 60_000;
  const days = dayTable(cal, opts.calendar, opts.startMs, endMs);
  const top = mulberry32(opts.seed);
  const classes = assignClasses(top, opts.pairs, opts.classes ?? PAIR_CLASSES);
  const bucketsPerDay = DAY_MS / bucketMs;
  const surgesFrom = opts.surgesFromMs ?? opts.startMs + 7 * DAY_MS;
  const firstIdx = Math.max(0, Math.ceil((surgesFrom - opts.startMs) / bucketMs));
  const pairs: SimPair[] = [];
  for (let i = 0; i < opts.pairs; i++) {
    const rng = mulberry32(subSeed(opts.seed, i));
    const params = drawParams(rng, classes[i] as PairClass, opts.noise ?? 1);
    const expected = expectedSeries(params, days, { startMs: opts.startMs, n, bucketMs, offsetMs });
    const meanLevel = expected.reduce((s, v) => s + v, 0) / Math.max(1, n);
    const surges = plantSurges(rng, n, firstIdx, opts.surgesPerPair ?? 2, bucketsPerDay);
    const mean = expected.slice();
    for (const s of surges)
      for (let j = s.startIdx; j <= s.endIdx; j++) mean[j] = s.factor * Math.max(expected[j] as number, meanLevel);
    const values = mean.map((m) => negBinomial(rng, m, params.dispersionK));
    pairs.push({
      fromNode: `node-${String(1 + (i % 97)).padStart(3, '0')}`,
      toNode: `node-${String(101 + Math.floor(i / 97)).padStart(3, '0')}`,
      resource: `RES-${String(i + 1).padStart(5, '0')}`,
      cls: params.cls,
      series: { startMs: opts.startMs, bucketMs, values },
      expected,
      meanLevel,
      bytesPerRecord: params.bytesPerRecord,
      recordsPerBatch: params.recordsPerBatch,
      surges,
      params,
    });
  }
  return { pairs, degradations: plantDegradations(top, opts, endMs) };
}
