// Static-policy templates of traffic clusters (静态策略模板), pure: what a pair of a cluster's shape should start
// from — transfer windows, batch size, concurrency, pre-warming standby nodes, surge sensitivity — as data the
// policy service turns into PolicySpecs (it may refine each pair from its own forecast).
import type { ClusterProfile, LabelBase } from './cluster-labels.js';

/** A local-time window in which a pair's transfers should run. */
export interface TransferWindow {
  /** Days it applies to: 'working' or 'rest' days by the calendar, 'every' day, or one ISO weekday 1 (Mon)..7 (Sun). */
  days: 'working' | 'rest' | 'every' | number;
  /** Local start hour (inclusive) and end hour (exclusive), 0..24; endHour ≤ startHour wraps past midnight. */
  startHour: number;
  endHour: number;
}

/** How readily the surge detector should alarm on this shape. */
export type SurgeSensitivity = 'low' | 'normal' | 'high';

/** The static policy a pair of the cluster's shape should start from. */
export interface PolicyTemplate {
  /** Transfer windows; [] = no window (continuous transfer). */
  windows: TransferWindow[];
  /** Records per batch. */
  batchRecords: number;
  /** Parallel batches in flight per flow (a hint; dynamic policies raise it during a surge). */
  concurrency: number;
  /** Warm a standby node before the predicted peak: leadMinutes before beforeLocalHour (null without). */
  prewarm: { standby: boolean; leadMinutes: number; beforeLocalHour: number | null };
  /**
   * 'high': steady traffic, a small deviation from the forecast already means something; 'normal'; 'low':
   * erratic traffic, only large deviations are surges (else it would alarm on its own noise).
   */
  surgeSensitivity: SurgeSensitivity;
  /** Why, in English, for `xchg cluster show` and the policy's explanation. */
  reason: string;
}

/** Share of the daily profile a window must cover, and the margin added on each side, hours. */
export const WINDOW_COVERAGE = 0.9;
export const WINDOW_MARGIN_HOURS = 1;
/** Minutes a standby node is warmed before a window opens. */
export const PREWARM_LEAD_MINUTES = 15;

/**
 * The shortest run of whole local hours (circular: may cross midnight) whose daily-profile shares sum to at
 * least WINDOW_COVERAGE, widened by WINDOW_MARGIN_HOURS on each side; null when that spans the whole day or
 * the profile is empty. Ties: the earliest start.
 */
export function coveringHours(daily: readonly number[]): { startHour: number; endHour: number } | null {
  const total = daily.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return null;
  for (let len = 1; len <= 24; len++) {
    for (let start = 0; start < 24; start++) {
      let s = 0;
      for (let h = 0; h < len; h++) s += daily[(start + h) % 24]!;
      if (s / total >= WINDOW_COVERAGE - 1e-12) {
        const width = len + 2 * WINDOW_MARGIN_HOURS;
        if (width >= 24) return null;
        const startHour = (start - WINDOW_MARGIN_HOURS + 24) % 24;
        return { startHour, endHour: (startHour + width) % 24 || 24 };
      }
    }
  }
  return null;
}

/** Per base: batch records, concurrency, whether to pre-warm, surge sensitivity, which days the window covers. */
const DEFAULTS: Record<
  LabelBase,
  {
    batch: number;
    concurrency: number;
    prewarm: boolean;
    surge: SurgeSensitivity;
    days: TransferWindow['days'] | null;
    why: string;
  }
> = {
  'nightly-bulk': {
    batch: 5000,
    concurrency: 4,
    prewarm: true,
    surge: 'normal',
    days: 'every',
    why: 'bulk moved at night: large batches and parallel transfers inside the night window, a standby warmed before it opens',
  },
  weekly: {
    batch: 5000,
    concurrency: 4,
    prewarm: true,
    surge: 'normal',
    days: null, // the peak weekday
    why: 'a weekly transfer: its weekday and hours reserved, large batches, a standby warmed before it starts',
  },
  'office-hours': {
    batch: 1000,
    concurrency: 2,
    prewarm: true,
    surge: 'high',
    days: 'working',
    why: 'steady traffic in working hours: medium batches during the working day, a standby warmed before the morning rise; steady traffic makes small deviations meaningful',
  },
  'realtime-steady': {
    batch: 200,
    concurrency: 2,
    prewarm: false,
    surge: 'high',
    days: null,
    why: 'continuous traffic around the clock: small batches for latency, no window and no peak to pre-warm for; steady traffic makes small deviations meaningful',
  },
  sporadic: {
    batch: 500,
    concurrency: 1,
    prewarm: false,
    surge: 'low',
    days: null,
    why: 'erratic bursts: no window (they come at any time), nothing predictable to pre-warm for, dynamic policies scale out on a burst; only large deviations count as surges',
  },
  mixed: {
    batch: 1000,
    concurrency: 2,
    prewarm: false,
    surge: 'normal',
    days: null,
    why: 'no clear shape: the platform defaults, no window',
  },
};

/** The template of a cluster with base label `base` and profile `p`, as DEFAULTS and coveringHours give it. */
export function policyTemplate(base: LabelBase, p: ClusterProfile): PolicyTemplate {
  const d = DEFAULTS[base];
  const hours =
    base === 'nightly-bulk' || base === 'weekly' || base === 'office-hours' ? coveringHours(p.dailyProfile) : null;
  const days = base === 'weekly' ? p.peakWeekday + 1 : d.days;
  const windows = hours !== null && days !== null ? [{ days, ...hours }] : [];
  const observed = p.batchSize === null ? 'unknown' : String(Math.round(p.batchSize));
  const window =
    windows.length > 0
      ? `window ${String(hours!.startHour).padStart(2, '0')}:00-${String(hours!.endHour).padStart(2, '0')}:00 covers ${Math.round(WINDOW_COVERAGE * 100)} % of the daily profile plus ${WINDOW_MARGIN_HOURS} h each side`
      : 'no window';
  return {
    windows,
    batchRecords: d.batch,
    concurrency: d.concurrency,
    prewarm: {
      standby: d.prewarm && hours !== null,
      leadMinutes: d.prewarm && hours !== null ? PREWARM_LEAD_MINUTES : 0,
      beforeLocalHour: d.prewarm && hours !== null ? hours.startHour : null,
    },
    surgeSensitivity: d.surge,
    reason: `${d.why}; ${window}; observed records per batch (median): ${observed}`,
  };
}
