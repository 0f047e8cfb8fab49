// Traffic forecasts per pair (issue 11, Build 3), pure: the expected records per bucket from a day-type ×
// time-of-day profile (working/rest day, the day before, weekday: holidays and 调休 by the calendar),
// exponentially weighted recent weeks, a log-linear trend, and a prediction interval. Fits only on buckets
// that end before the forecast point; robust to surges in the training data (clipped, or excluded by flag).
import type { CalendarSpec } from './calendar.js';
import { DayTypes, dayTypeKey, matchLevel, type DayType } from './forecast-days.js';
import { normalQuantile } from './forecast-stats.js';
import { DAY_MS, type Series } from './traffic.js';

/** How a forecast is fitted. */
export interface ForecastOptions {
  /** Day types (holidays, make-up days, UTC offset). */
  calendar: CalendarSpec;
  /** Days of history before the forecast point that are used; default 42 (six weeks). */
  historyDays?: number;
  /** Half-life of a past day's weight, days; default 14 (recent weeks count more, older ones still help). */
  halfLifeDays?: number;
  /** Half-width of the triangular smoothing over neighbouring buckets of the profile; default 2 (±10 min at 5 min). */
  smoothBuckets?: number;
  /** Coverage of the prediction interval; default 0.95. */
  level?: number;
  /**
   * Fewest matching past days a profile needs at a match level (forecast-days.ts matchLevel) before it falls
   * back to a looser one; default 2.
   */
  minGroupDays?: number;
}

/** Expected records per bucket with a prediction interval, bucket i at startMs + i * bucketMs. */
export interface Forecast {
  startMs: number;
  bucketMs: number;
  expected: number[];
  /** Lower/upper bound of the interval at the model's level (normal approximation, lower ≥ 0). */
  lower: number[];
  upper: number[];
}

interface Profile {
  values: Float64Array;
  /** Effective number of days behind each slot after weighting and smoothing. */
  nEff: number;
}

const DEFAULTS = { historyDays: 42, halfLifeDays: 14, smoothBuckets: 2, level: 0.95, minGroupDays: 2 };
/** Largest daily log-trend believed (±3 % a day) and how far ahead it is extrapolated (days). */
const MAX_TREND = 0.03;
const MAX_TREND_AHEAD_DAYS = 28;
/** Days whose in-sample residuals estimate the dispersion. */
const DISPERSION_DAYS = 14;

/**
 * Clip level for the profile's robust mean: a value above 2 × median + 4 √median + 3 is taken as a surge and
 * replaced by the median of its slot. Planted and real surges are ×3 and more; Poisson noise never reaches
 * the bound (≥ 4 sd), negative-binomial noise with k = 15 exceeds it in ~0.1 % of buckets at a median of
 * 100, the burstiest simulated pairs (k = 3) in ~4 %: a small downward bias there, traded for robustness.
 */
function clipHigh(median: number): number {
  return 2 * median + 4 * Math.sqrt(median) + 3;
}

/** Median; sorts `xs` in place when it is a Float64Array (callers pass scratch buffers). */
function medianOf(xs: ArrayLike<number>): number {
  const s = xs instanceof Float64Array ? xs.sort() : Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A fitted forecast of one pair. Build it with fitForecast. */
export class ForecastModel {
  /** Daily log-trend (0.01 = +1 % a day), the median of week-on-week day slopes. */
  trendPerDay = 0;
  private spread: { dispersion: number; level: number; inflation: number } | null = null;
  private readonly profiles = new Map<string, Profile | null>();
  private readonly z: number;

  /** @internal use fitForecast */
  constructor(
    readonly bucketMs: number,
    /** The forecast point: only buckets ending by then were used. */
    readonly fittedUntilMs: number,
    private readonly days: DayTypes,
    private readonly atDay: number,
    private readonly rows: Map<number, Float64Array>,
    private readonly o: Required<Omit<ForecastOptions, 'calendar'>>,
  ) {
    this.z = normalQuantile((1 + o.level) / 2);
  }

  /** Expected records in the bucket starting at `ms` (NaN when no history at all). */
  expectedAt(ms: number): number {
    const day = this.days.dayOf(ms);
    const p = this.profileFor(this.days.typeOf(day));
    if (p === null) return NaN;
    const slot = Math.floor((ms - this.days.startOfDay(day)) / this.bucketMs);
    const ahead = Math.min(day - this.atDay, MAX_TREND_AHEAD_DAYS);
    return (p.values[slot] as number) * Math.exp(this.trendPerDay * ahead);
  }

  /** Standard deviation of a bucket with expectation `mu`: √(μ + φμ²), widened for the profile's own error. */
  sdOf(mu: number): number {
    const { dispersion, inflation } = this.noise();
    return Math.sqrt(Math.max(mu, 1) + dispersion * mu * mu) * inflation;
  }

  /** Negative-binomial dispersion φ of the noise: variance = μ + φμ² (0 = Poisson). */
  get dispersion(): number {
    return this.noise().dispersion;
  }

  /** Mean expected records per bucket over the last two weeks' fitted values (the pair's level; 0 without history). */
  get levelPerBucket(): number {
    return this.noise().level;
  }

  /** Forecast of `n` buckets from `fromMs`, with the interval at the model's level. */
  predict(fromMs: number, n: number): Forecast {
    const expected: number[] = [];
    const lower: number[] = [];
    const upper: number[] = [];
    for (let i = 0; i < n; i++) {
      const mu = this.expectedAt(fromMs + i * this.bucketMs);
      const half = this.z * this.sdOf(mu);
      expected.push(mu);
      lower.push(Math.max(0, mu - half));
      upper.push(mu + half);
    }
    return { startMs: fromMs, bucketMs: this.bucketMs, expected, lower, upper };
  }

  /** The profile of a day type: the days of the best match level that has enough of them. */
  profileFor(t: DayType): Profile | null {
    const key = dayTypeKey(t);
    let p = this.profiles.get(key);
    if (p !== undefined) return p;
    const byLevel: number[][] = [[], [], [], []];
    for (const d of this.rows.keys()) byLevel[matchLevel(t, this.days.typeOf(d))]?.push(d);
    let chosen: number[] = [];
    for (let level = 3; level >= 0 && chosen.length < this.o.minGroupDays; level--)
      chosen = chosen.concat(byLevel[level] as number[]);
    p = chosen.length === 0 ? null : this.buildProfile(chosen);
    this.profiles.set(key, p);
    return p;
  }

  private buildProfile(dayNos: number[]): Profile {
    const bpd = DAY_MS / this.bucketMs;
    const raw = new Float64Array(bpd).fill(NaN);
    const weights = dayNos.map((d) => Math.pow(0.5, (this.atDay - d) / this.o.halfLifeDays));
    const deflate = dayNos.map((d) => Math.exp(-this.trendPerDay * (d - this.atDay)));
    const buf = new Float64Array(dayNos.length);
    const rows = dayNos.map((d) => this.rows.get(d) as Float64Array);
    for (let s = 0; s < bpd; s++) {
      let n = 0;
      for (let j = 0; j < dayNos.length; j++) {
        const v = (rows[j] as Float64Array)[s] as number;
        if (!Number.isNaN(v)) buf[n++] = v * (deflate[j] as number);
      }
      if (n === 0) continue;
      const med = medianOf(buf.subarray(0, n));
      const cap = clipHigh(med);
      let sum = 0;
      let wsum = 0;
      for (let j = 0; j < dayNos.length; j++) {
        const v = (rows[j] as Float64Array)[s] as number;
        if (Number.isNaN(v)) continue;
        const x = v * (deflate[j] as number);
        sum += (weights[j] as number) * (x > cap ? med : x);
        wsum += weights[j] as number;
      }
      raw[s] = sum / wsum;
    }
    const wsum = weights.reduce((a, b) => a + b, 0);
    const daysEff = (wsum * wsum) / weights.reduce((a, b) => a + b * b, 0);
    const { values, kernelSq } = smooth(raw, this.o.smoothBuckets);
    return { values, nEff: daysEff / kernelSq };
  }

  /** @internal the trend, once the rows are in (profiles are deflated by it). */
  finish(): void {
    this.trendPerDay = estimateTrend(this.rows, this.days);
  }

  /** Level and dispersion from the last DISPERSION_DAYS days' in-sample residuals; computed on first use. */
  private noise(): { dispersion: number; level: number; inflation: number } {
    if (this.spread !== null) return this.spread;
    const fitted: number[] = [];
    const observed: number[] = [];
    let nEffSum = 0;
    for (const [d, row] of this.rows) {
      if (d < this.atDay - DISPERSION_DAYS) continue;
      const p = this.profileFor(this.days.typeOf(d));
      if (p === null) continue;
      const g = Math.exp(this.trendPerDay * (d - this.atDay));
      for (let s = 0; s < row.length; s++) {
        const v = row[s] as number;
        if (Number.isNaN(v)) continue;
        fitted.push((p.values[s] as number) * g);
        observed.push(v);
        nEffSum += p.nEff;
      }
    }
    if (fitted.length === 0) return (this.spread = { dispersion: 0, level: 0, inflation: 1 });
    const nEff = Math.max(nEffSum / fitted.length, 1.5);
    // In-sample residuals are smaller than new ones by about (1 − 1/nEff); a new bucket also carries the
    // profile's own error (variance σ²/nEff): sd × √((1 + 1/nEff) / (1 − 1/nEff)).
    this.spread = {
      dispersion: estimateDispersion(fitted, observed, Math.sqrt(1 - 1 / nEff)),
      level: fitted.reduce((a, b) => a + b, 0) / fitted.length,
      inflation: Math.sqrt((1 + 1 / nEff) / (1 - 1 / nEff)),
    };
    return this.spread;
  }
}

/** Triangular smoothing over ±h slots (edges renormalised); returns Σ kernel² of a full window too. */
function smooth(raw: Float64Array, h: number): { values: Float64Array; kernelSq: number } {
  const k = Array.from({ length: 2 * h + 1 }, (_, j) => h + 1 - Math.abs(j - h));
  const ksum = k.reduce((a, b) => a + b, 0);
  const kernelSq = k.reduce((a, b) => a + (b / ksum) ** 2, 0);
  const out = new Float64Array(raw.length);
  for (let s = 0; s < raw.length; s++) {
    let sum = 0;
    let w = 0;
    for (let j = -h; j <= h; j++) {
      const v = raw[s + j];
      if (v === undefined || Number.isNaN(v)) continue;
      sum += (k[j + h] as number) * v;
      w += k[j + h] as number;
    }
    out[s] = w > 0 ? sum / w : 0;
  }
  return { values: out, kernelSq };
}

/**
 * Daily log-trend: the median, over days with a day of the same type seven days earlier, of
 * ln((S_d + 1) / (S_{d−7} + 1)) / 7, S the sums over buckets present in both; 0 with fewer than 3 such days.
 * The median keeps a surge day from tilting it. Clamped to ±MAX_TREND.
 */
function estimateTrend(rows: Map<number, Float64Array>, days: DayTypes): number {
  const slopes: number[] = [];
  for (const [d, row] of rows) {
    const prev = rows.get(d - 7);
    if (prev === undefined || matchLevel(days.typeOf(d), days.typeOf(d - 7)) !== 3) continue;
    let a = 0;
    let b = 0;
    for (let s = 0; s < row.length; s++) {
      const x = row[s] as number;
      const y = prev[s] as number;
      if (Number.isNaN(x) || Number.isNaN(y)) continue;
      a += x;
      b += y;
    }
    slopes.push(Math.log((a + 1) / (b + 1)) / 7);
  }
  if (slopes.length < 3) return 0;
  return Math.max(-MAX_TREND, Math.min(MAX_TREND, medianOf(slopes)));
}

/**
 * φ such that the Pearson residuals (y − μ)/√(μ' + φμ²) (μ' = max(μ, 1); divided by `shrink` for their
 * in-sample shrinkage) have a median absolute value of 0.6745, a standard normal's: a robust moment estimate
 * that surges do not move. |r_i| > c exactly when φ < φ_i = ((y_i − μ_i)²/(c·shrink)² − μ'_i)/μ_i², so the
 * φ that puts half the residuals above c is the median of the φ_i (μ = 0 counts as +∞ or −∞); at least 0.
 */
function estimateDispersion(mu: number[], y: number[], shrink: number): number {
  const c2 = (0.6745 * shrink) ** 2;
  const thresholds = mu.map((m, i) => {
    const e2 = ((y[i] as number) - m) ** 2;
    const base = Math.max(m, 1);
    if (m <= 0) return e2 / c2 > base ? 1e12 : -1e12;
    return (e2 / c2 - base) / (m * m);
  });
  return Math.max(0, medianOf(thresholds));
}

/**
 * Fits a pair's forecast at `untilMs` from `history`: only buckets that end by untilMs, within the last
 * historyDays local days, and not marked in `exclude` (same indexes as history.values; e.g. buckets a surge
 * detector flagged) are used. NaN values are missing buckets. Throws RangeError when bucketMs does not
 * divide a day.
 */
export function fitForecast(
  history: Series,
  untilMs: number,
  opts: ForecastOptions,
  exclude?: ArrayLike<boolean>,
): ForecastModel {
  const o = { ...DEFAULTS, ...opts };
  const { bucketMs, startMs, values } = history;
  if (!(bucketMs > 0) || DAY_MS % bucketMs !== 0) throw new RangeError('bucketMs must divide a day');
  const days = new DayTypes(opts.calendar);
  const atDay = days.dayOf(untilMs);
  const from = Math.max(0, Math.ceil((days.startOfDay(atDay - o.historyDays) - startMs) / bucketMs));
  const to = Math.min(values.length, Math.floor((untilMs - startMs) / bucketMs));
  const rows = new Map<number, Float64Array>();
  const bpd = DAY_MS / bucketMs;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v) || exclude?.[i] === true) continue;
    const t = startMs + i * bucketMs;
    const d = days.dayOf(t);
    let row = rows.get(d);
    if (row === undefined) rows.set(d, (row = new Float64Array(bpd).fill(NaN)));
    row[Math.floor((t - days.startOfDay(d)) / bucketMs)] = v;
  }
  const model = new ForecastModel(bucketMs, untilMs, days, atDay, rows, o);
  model.finish();
  return model;
}
