// Judging forecasts, pure: day-ahead forecasts refitted at each local midnight (as the brain runs them), the
// seasonal-naive baseline (same bucket one week earlier) and the mean absolute percentage error.
import { DayTypes } from './forecast-days.js';
import { fitForecast, type ForecastOptions } from './forecast.js';
import { DAY_MS, type Series } from './traffic.js';

const WEEK_MS = 7 * DAY_MS;

/**
 * Day-ahead forecasts of [fromMs, untilMs): at each local midnight (and at fromMs) the model is refitted on
 * the buckets that ended before it, and forecasts that day. No bucket's forecast sees its own day.
 */
export function rollingForecast(history: Series, fromMs: number, untilMs: number, opts: ForecastOptions): Series {
  const { bucketMs } = history;
  const days = new DayTypes(opts.calendar);
  const values: number[] = [];
  for (let t = fromMs; t < untilMs;) {
    const next = Math.min(untilMs, days.startOfDay(days.dayOf(t) + 1));
    const n = Math.ceil((next - t) / bucketMs);
    const model = fitForecast(history, t, opts);
    for (let i = 0; i < n; i++) values.push(model.expectedAt(t + i * bucketMs));
    t += n * bucketMs;
  }
  return { startMs: fromMs, bucketMs, values };
}

/**
 * Seasonal-naive forecast of [fromMs, untilMs): each bucket's value one week earlier in `history` (NaN where
 * the history has none).
 */
export function seasonalNaive(history: Series, fromMs: number, untilMs: number): Series {
  const { bucketMs, startMs, values } = history;
  const out: number[] = [];
  for (let t = fromMs; t < untilMs; t += bucketMs) {
    const i = Math.round((t - WEEK_MS - startMs) / bucketMs);
    const v = i >= 0 && i < values.length ? (values[i] as number) : NaN;
    out.push(v);
  }
  return { startMs: fromMs, bucketMs, values: out };
}

/** Which buckets mape counts. */
export interface MapeOptions {
  /**
   * Buckets whose actual is below this are not counted; default 1 (every bucket with traffic). A zero actual
   * has no percentage error, and one record against a forecast of three is 200 %: the floor says how much
   * of the quiet tail counts.
   */
  minActual?: number;
  /** Buckets to leave out (same indexes), e.g. planted surges when judging tide forecasts. */
  skip?: ArrayLike<boolean>;
}

/**
 * Mean absolute percentage error, 100 × mean(|a − f| / a), over the buckets with a ≥ minActual, a finite
 * forecast and not skipped; NaN when no bucket counts. The same buckets must be compared across forecasts:
 * callers pass the same actuals and skip, and a bucket without a finite forecast in either is skipped in both.
 */
export function mape(actual: readonly number[], forecast: readonly number[], opts: MapeOptions = {}): number {
  const floor = opts.minActual ?? 1;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const f = forecast[i];
    if (!(a >= floor) || f === undefined || !Number.isFinite(f) || opts.skip?.[i] === true) continue;
    sum += Math.abs(a - f) / a;
    n++;
  }
  return n === 0 ? NaN : (100 * sum) / n;
}
