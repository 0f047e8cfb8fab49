// The traffic simulator's pair classes: what each class's expected volume per bucket looks like over the
// local day and week (tides), and how each pair of a class draws its own variation (volume, peak hours,
// noise, batch shape). Pure: a pair's parameters come from the Rng it is given.
import { logUniform, type Rng, uniform, uniformInt } from './random.js';

/** The planted traffic shapes (the ground truth the clustering should recover). */
export const PAIR_CLASSES = ['nightly-bulk', 'office-hours', 'weekly', 'sporadic', 'realtime-steady'] as const;
export type PairClass = (typeof PAIR_CLASSES)[number];

/** What the profile needs of a local day. */
export interface DayInfo {
  /** Local date, YYYY-MM-DD. */
  date: string;
  /** 0 = Sunday … 6 = Saturday (of the local date). */
  weekday: number;
  /** A working day by the calendar (make-up days 调休 work, public holidays rest). */
  working: boolean;
  /** The day before is a working day (nightly jobs carry the previous day's changes). */
  prevWorking: boolean;
}

/** One pair's drawn parameters. Amplitudes are records per bucket at the class's peak on a working day. */
export interface PairParams {
  cls: PairClass;
  /** Peak expected records per bucket (at bucketMs = 5 min; scaled linearly for other bucket sizes). */
  peak: number;
  /** Peak hour of the main bump, local hours (may be < 0 or ≥ 24 for nightly: wraps). */
  peakHour: number;
  /** Width (standard deviation) of the bumps, hours. */
  widthHours: number;
  /** Second hour (office-hours afternoon bump; weekly unused). */
  peakHour2: number;
  /** Weekly: the weekday (0 = Sunday) of the weekly transfer. */
  weekday: number;
  /** Level on rest days relative to working days. */
  restFactor: number;
  /** Floor between bumps relative to the peak. */
  floor: number;
  /** Multiplier per weekday (0 = Sunday), around 1: the weekly shape beyond the day type. */
  weekdayFactor: number[];
  /** Daily log-trend (e.g. 0.003 = +0.3 % a day). */
  trendPerDay: number;
  /** Negative-binomial k of the noise (variance = mean + mean²/k): smaller is burstier. */
  dispersionK: number;
  bytesPerRecord: number;
  recordsPerBatch: number;
}

/** Circular Gaussian bump on the 24 h clock: 1 at `center`, falling with sd `width` hours. */
function bump(hour: number, center: number, width: number): number {
  let d = Math.abs(hour - center) % 24;
  if (d > 12) d = 24 - d;
  return Math.exp(-(d * d) / (2 * width * width));
}

/** Draws one pair of class `cls`: volume over ~2.5 orders of magnitude, shifted hours, its own noise. */
export function drawParams(rng: Rng, cls: PairClass, noise: number): PairParams {
  const weekdayFactor = [0, 1, 2, 3, 4, 5, 6].map(() => uniform(rng, 0.9, 1.1));
  weekdayFactor[1] = uniform(rng, 1.05, 1.25); // Mondays carry the weekend's backlog
  const common = {
    cls,
    weekdayFactor,
    trendPerDay: uniform(rng, -0.002, 0.004),
    peakHour2: 0,
    weekday: 0,
    floor: 0.02,
  };
  const k = (lo: number, hi: number): number => uniform(rng, lo, hi) / Math.max(noise, 1e-6);
  switch (cls) {
    case 'nightly-bulk':
      return {
        ...common,
        peak: logUniform(rng, 200, 40_000),
        peakHour: uniform(rng, -2, 4),
        widthHours: uniform(rng, 0.5, 1.3),
        restFactor: uniform(rng, 0.2, 0.5),
        floor: uniform(rng, 0.005, 0.02),
        dispersionK: k(15, 40),
        bytesPerRecord: Math.round(logUniform(rng, 400, 4000)),
        recordsPerBatch: uniformInt(rng, 500, 5000),
      };
    case 'office-hours':
      return {
        ...common,
        peak: logUniform(rng, 20, 5_000),
        peakHour: uniform(rng, 9, 11),
        peakHour2: uniform(rng, 14.5, 16.5),
        widthHours: uniform(rng, 0.9, 1.6),
        restFactor: uniform(rng, 0.03, 0.12),
        floor: uniform(rng, 0.02, 0.06),
        dispersionK: k(15, 40),
        bytesPerRecord: Math.round(logUniform(rng, 200, 2000)),
        recordsPerBatch: uniformInt(rng, 20, 500),
      };
    case 'weekly':
      return {
        ...common,
        peak: logUniform(rng, 200, 30_000),
        peakHour: uniform(rng, 8, 22),
        weekday: uniformInt(rng, 1, 5),
        widthHours: uniform(rng, 0.8, 2.5),
        restFactor: uniform(rng, 0.3, 0.8),
        floor: uniform(rng, 0.005, 0.02),
        dispersionK: k(10, 30),
        bytesPerRecord: Math.round(logUniform(rng, 400, 4000)),
        recordsPerBatch: uniformInt(rng, 500, 5000),
      };
    case 'sporadic':
      return {
        ...common,
        peak: logUniform(rng, 5, 500),
        peakHour: uniform(rng, 9, 17),
        widthHours: uniform(rng, 3, 6),
        restFactor: uniform(rng, 0.2, 0.6),
        floor: uniform(rng, 0.15, 0.4),
        dispersionK: k(2, 5),
        bytesPerRecord: Math.round(logUniform(rng, 200, 20_000)),
        recordsPerBatch: uniformInt(rng, 1, 100),
      };
    case 'realtime-steady':
      return {
        ...common,
        peak: logUniform(rng, 50, 10_000),
        peakHour: uniform(rng, 10, 16),
        widthHours: uniform(rng, 4, 8),
        restFactor: uniform(rng, 0.6, 0.9),
        floor: uniform(rng, 0.5, 0.75),
        dispersionK: k(40, 120),
        bytesPerRecord: Math.round(logUniform(rng, 100, 1000)),
        recordsPerBatch: uniformInt(rng, 1, 50),
      };
  }
}

/**
 * Expected records per bucket (at 5-min buckets, before trend) at local hour `hour` of day `day`: the tide.
 * Nightly jobs carry the changes of the day before the night (a night after a rest day is light); office
 * traffic and the weekly transfer run on working days only; realtime traffic dips on rest days.
 */
export function expectedAt(p: PairParams, hour: number, day: DayInfo): number {
  const wf = p.weekdayFactor[day.weekday] ?? 1;
  switch (p.cls) {
    case 'nightly-bulk': {
      // Hours before the peak belong to the night that follows `day`; the business day is the one before.
      const business = hour >= 12 ? day.working : day.prevWorking;
      const shape = Math.max(bump(hour, p.peakHour, p.widthHours), p.floor);
      return p.peak * shape * (business ? 1 : p.restFactor);
    }
    case 'office-hours': {
      const shape = Math.max(bump(hour, p.peakHour, p.widthHours), 0.85 * bump(hour, p.peakHour2, p.widthHours));
      return p.peak * wf * (day.working ? Math.max(shape, p.floor) : p.restFactor * Math.max(shape, 0.3));
    }
    case 'weekly': {
      const on = day.weekday === p.weekday && day.working;
      const shape = on ? Math.max(bump(hour, p.peakHour, p.widthHours), p.floor) : p.floor;
      return p.peak * shape * (day.working ? 1 : p.restFactor);
    }
    case 'sporadic': {
      const shape = Math.max(bump(hour, p.peakHour, p.widthHours), p.floor);
      return p.peak * wf * shape * (day.working ? 1 : p.restFactor);
    }
    case 'realtime-steady': {
      const shape = p.floor + (1 - p.floor) * bump(hour, p.peakHour, p.widthHours);
      return p.peak * wf * shape * (day.working ? 1 : p.restFactor);
    }
  }
}
