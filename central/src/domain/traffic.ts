// Traffic history (流量历史), pure: the counts of one bucket and how buckets merge, how counts over any
// interval are put into central's buckets, and at which step a range is shown. Time is an argument.
//
// Percentiles do not merge exactly (the samples are gone). A merged bucket's p99 is the largest of the
// parts' p99s: at most 1 % of each part lies above its own p99, so at most 1 % of the whole lies above the
// largest, an upper bound of the true p99 that is reached when one part dominates. Its p50 is the mean of the
// parts' p50s weighted by batches (latency is measured per batch): the true median lies between the smallest
// and the largest part median, and so does this mean; it is exact when the parts have one distribution.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A pair (shared shape of the brain): resource '' is every resource of the pair. */
export interface TrafficPair {
  fromNode: string;
  toNode: string;
  resource: string;
}

/** A series (shared shape of the brain): records per bucket; bucket i starts at startMs + i * bucketMs. */
export interface Series {
  startMs: number;
  bucketMs: number;
  values: number[];
}

/** What flowed in one bucket. bytes and latencies are null when unknown (imported history). */
export interface TrafficCounts {
  batches: number;
  records: number;
  bytes: number | null;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  /** Records that arrived but were not written (quarantined, refused). */
  errors: number;
}

export const ZERO_COUNTS: TrafficCounts = Object.freeze({
  batches: 0,
  records: 0,
  bytes: null,
  latencyP50Ms: null,
  latencyP99Ms: null,
  errors: 0,
});

const addNullable = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : a + b);

/** Two buckets' counts as one: sums; p50 the batch-weighted mean, p99 the larger (see the top comment). */
export function mergeCounts(a: TrafficCounts, b: TrafficCounts): TrafficCounts {
  let p50: number | null;
  if (a.latencyP50Ms === null) p50 = b.latencyP50Ms;
  else if (b.latencyP50Ms === null) p50 = a.latencyP50Ms;
  else {
    const w = a.batches + b.batches;
    p50 =
      w > 0
        ? Math.round((a.latencyP50Ms * a.batches + b.latencyP50Ms * b.batches) / w)
        : Math.max(a.latencyP50Ms, b.latencyP50Ms);
  }
  const p99 =
    a.latencyP99Ms === null
      ? b.latencyP99Ms
      : b.latencyP99Ms === null
        ? a.latencyP99Ms
        : Math.max(a.latencyP99Ms, b.latencyP99Ms);
  return {
    batches: a.batches + b.batches,
    records: a.records + b.records,
    bytes: addNullable(a.bytes, b.bytes),
    latencyP50Ms: p50,
    latencyP99Ms: p99,
    errors: a.errors + b.errors,
  };
}

/**
 * Splits a whole number into parts proportional to `weights`, keeping the total (largest remainder; ties go to
 * the earlier parts): splitByWeights(10, [1, 1, 1]) = [4, 3, 3].
 */
export function splitByWeights(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  if (weights.length === 0 || sum <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((s, p) => s + p, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((x, y) => y.r - x.r || x.i - y.i);
  for (const { i } of order) {
    if (left <= 0) break;
    parts[i]!++;
    left--;
  }
  return parts;
}

/**
 * Counts observed over [startMs, startMs + lengthMs) put into buckets of `bucketMs` (aligned to the epoch):
 * each bucket the interval overlaps gets a share proportional to the overlap, whole numbers keeping every
 * total; latencies are kept as they are in each share. An interval within one bucket goes into it whole
 * (finer rows aggregate); a coarser aligned interval is spread evenly. Returns the buckets in time order.
 */
export function rebucket(
  startMs: number,
  lengthMs: number,
  c: TrafficCounts,
  bucketMs: number,
): { bucketStart: number; counts: TrafficCounts }[] {
  const first = Math.floor(startMs / bucketMs) * bucketMs;
  const end = startMs + Math.max(1, lengthMs);
  if (end <= first + bucketMs) return [{ bucketStart: first, counts: c }];
  const starts: number[] = [];
  const weights: number[] = [];
  for (let b = first; b < end; b += bucketMs) {
    starts.push(b);
    weights.push(Math.min(end, b + bucketMs) - Math.max(startMs, b));
  }
  const split = (n: number): number[] => splitByWeights(n, weights);
  const batches = split(c.batches);
  const records = split(c.records);
  const errors = split(c.errors);
  const bytes = c.bytes === null ? null : split(c.bytes);
  return starts.map((bucketStart, i) => ({
    bucketStart,
    counts: {
      batches: batches[i]!,
      records: records[i]!,
      bytes: bytes ? bytes[i]! : null,
      latencyP50Ms: c.latencyP50Ms,
      latencyP99Ms: c.latencyP99Ms,
      errors: errors[i]!,
    },
  }));
}

/** Most buckets a range is shown in when no step is asked for. */
export const AUTO_STEP_MAX_BUCKETS = 1000;

/**
 * The step a range [sinceMs, untilMs) is shown at when none is asked for: the finest of the base resolution,
 * an hour and a day that gives at most AUTO_STEP_MAX_BUCKETS buckets; the base resolution only when the range
 * starts after `baseKeptFromMs` (older base buckets are gone: only hours are kept).
 */
export function autoStepMs(sinceMs: number, untilMs: number, baseMs: number, baseKeptFromMs: number): number {
  const range = Math.max(0, untilMs - sinceMs);
  if (sinceMs >= baseKeptFromMs && range / baseMs <= AUTO_STEP_MAX_BUCKETS) return baseMs;
  if (range / HOUR_MS <= AUTO_STEP_MAX_BUCKETS) return HOUR_MS;
  return DAY_MS;
}

/**
 * A step as the CLI and API write it (`30s`, `5m`, `1h`, `1d`) in ms, checked against the base resolution:
 * below an hour a multiple of the base that divides an hour; else exactly 1h or 1d. Returns a reason when
 * refused.
 */
export function parseStep(text: string, baseMs: number): { stepMs: number } | { reason: string } {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text.trim());
  const allowed = `1h, 1d, or a multiple of the base bucket (${baseMs / 1000} s) that divides an hour, e.g. 5m`;
  if (!m) return { reason: `must be a number and a unit s|m|h|d (${allowed})` };
  const unit = { s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS }[m[2] as 's' | 'm' | 'h' | 'd'];
  const stepMs = Number(m[1]) * unit;
  if (stepMs === HOUR_MS || stepMs === DAY_MS) return { stepMs };
  if (stepMs > 0 && stepMs < HOUR_MS && stepMs % baseMs === 0 && HOUR_MS % stepMs === 0) return { stepMs };
  return { reason: `${text} is not a step central keeps: ${allowed}` };
}

/** A step in the CLI's words: 5m, 1h, 1d, 30s. */
export function stepText(stepMs: number): string {
  if (stepMs % DAY_MS === 0) return `${stepMs / DAY_MS}d`;
  if (stepMs % HOUR_MS === 0) return `${stepMs / HOUR_MS}h`;
  if (stepMs % MINUTE_MS === 0) return `${stepMs / MINUTE_MS}m`;
  return `${stepMs / 1000}s`;
}
