// Traffic history (流量历史) of node pairs: TrafficReports of the consumers' agents counted into buckets
// (inside the Report call's transaction, once per report_id), the hourly rollup kept in the same transaction,
// the series of a pair at a step for `xchg traffic show` and the brain, and the retention sweep. History
// files (import/export) are in traffic-files.ts.
//
// Invariants: an hour still within the base retention (at or after baseKeptFrom) is exactly the rollup of its
// buckets; older hours are all that is kept of them. A live bucket is never overwritten by an import (live
// wins: a live report into an imported bucket replaces it). A report in buckets of another length is put into
// central's buckets (domain/traffic.ts rebucket).
import type { TrafficBucket, TrafficHistory, TrafficShowQuery, TrafficTotals } from '../api/traffic.js';
import { parseTimestamp } from '../domain/traffic-csv.js';
import {
  autoStepMs,
  DAY_MS,
  HOUR_MS,
  mergeCounts,
  parseStep,
  rebucket,
  stepText,
  ZERO_COUNTS,
  type Series,
  type TrafficCounts,
  type TrafficPair,
} from '../domain/traffic.js';
import { TimeZone } from '../domain/time-zone.js';
import { invalid, notFound } from '../errors.js';
import type { Store, TrafficRow } from '../store/index.js';

/** Settings of traffic history (config traffic.*). */
export interface TrafficOptions {
  /** Length of the base buckets, ms; divides an hour (default 300 000: 5 min). Handed to agents. */
  bucketMs: number;
  /** How long base buckets are kept, ms (default 60 days); older hours keep their rollup only. */
  baseRetentionMs: number;
  /** How long hourly rows are kept, ms (default 3 × 365 days). */
  hourlyRetentionMs: number;
  /** IANA time zone of local timestamps in history files and of days (default Asia/Shanghai). */
  timeZone: string;
}

export const TRAFFIC_DEFAULTS: TrafficOptions = {
  bucketMs: 300_000,
  baseRetentionMs: 60 * DAY_MS,
  hourlyRetentionMs: 3 * 365 * DAY_MS,
  timeZone: 'Asia/Shanghai',
};

/** Counted report ids are kept this long (ms; 7 days), far past any retry of a report central stored. */
export const REPORT_ID_RETENTION_MS = 7 * DAY_MS;
/** Series pruned in one transaction of the sweep (a page of them is read in ~10-30 ms at 3,000 series). */
const SWEEP_SERIES_PER_TX = 25;
/** Series listed at a time by pairs() (one index seek each, and one for the range). */
const PAIRS_PER_PAGE = 25;
/** Most buckets one answer holds. */
export const MAX_BUCKETS = 50_000;

/** What an import wrote (the hook's argument): the pair and the range it covers, [sinceMs, untilMs). */
export interface TrafficImported {
  pair: TrafficPair;
  sinceMs: number;
  untilMs: number;
}

const MAX_U32 = 0xffff_ffff;
const floorTo = (t: number, step: number): number => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number): number => Math.ceil(t / step) * step;

export class TrafficService {
  /** Called after an import committed, with its pair and range (the brain runs its detectors over it). */
  onImported: ((e: TrafficImported) => void) | undefined;
  readonly zone: TimeZone;

  constructor(
    readonly store: Store,
    readonly clock: () => number,
    readonly opts: TrafficOptions,
  ) {
    if (!(opts.bucketMs >= 1000 && HOUR_MS % opts.bucketMs === 0 && opts.bucketMs % 1000 === 0))
      throw new RangeError(`traffic.bucketMs must be whole seconds dividing an hour, got ${opts.bucketMs}`);
    this.zone = new TimeZone(opts.timeZone);
    // traffic_daily (migration 15) follows this zone's local days when its offset is fixed over the history kept;
    // a changed offset rebuilds it from the hours (seconds for a province's year, once).
    const now = clock();
    const offset = this.zone.fixedOffsetMs(now - opts.hourlyRetentionMs - 30 * DAY_MS, now + 366 * DAY_MS);
    store.tx(() => store.traffic.alignDaily(offset));
  }

  /** Hours from here on still have their base buckets (the retention cut, hour-aligned). */
  baseKeptFrom(now: number): number {
    return floorTo(now - this.opts.baseRetentionMs, HOUR_MS);
  }

  /**
   * Counts one TrafficReport body (proto, camelCase) from node `nodeId`; call inside the Report transaction.
   * Returns false for a report id already counted. A malformed report is refused naming the field.
   */
  ingest(nodeId: string, reportId: string, body: Record<string, unknown>, receivedAt: number, at: string): boolean {
    const r = checkedReport(body, nodeId, at);
    if (!this.store.traffic.markReport(reportId, receivedAt)) return false;
    const pair = { fromNode: r.fromNode, toNode: nodeId, resource: r.resource };
    const keptFrom = this.baseKeptFrom(receivedAt);
    const hours = new Set<number>();
    for (const b of rebucket(r.bucketStartMs, r.bucketMs, r.counts, this.opts.bucketMs)) {
      if (b.bucketStart >= keptFrom) {
        const had = this.store.traffic.get('traffic_buckets', pair, b.bucketStart);
        const counts = had?.origin === 'live' ? mergeCounts(had, b.counts) : b.counts;
        this.store.traffic.put('traffic_buckets', pair, [{ ...counts, startMs: b.bucketStart, origin: 'live' }]);
        hours.add(floorTo(b.bucketStart, HOUR_MS));
      } else {
        // Older than the base retention: only the hour is kept; a late live bucket adds to it.
        const hour = floorTo(b.bucketStart, HOUR_MS);
        const had = this.store.traffic.get('traffic_hourly', pair, hour);
        const counts = had ? mergeCounts(had, b.counts) : b.counts;
        this.store.traffic.put('traffic_hourly', pair, [{ ...counts, startMs: hour, origin: 'live' }]);
      }
    }
    for (const h of hours) this.store.traffic.rollupHours(pair, h, h + HOUR_MS);
    return true;
  }

  /** The history of a pair for `xchg traffic show` (GET /traffic); nodes must exist. */
  show(q: TrafficShowQuery): TrafficHistory {
    const pair = this.pairOf(q);
    const now = this.clock();
    const untilMs = q.until !== undefined ? this.instant(q.until, 'until') : now;
    const sinceMs = q.since !== undefined ? this.instant(q.since, 'since') : untilMs - DAY_MS;
    if (untilMs <= sinceMs) throw invalid('until', 'must be after since');
    const stepMs = this.stepOf(q.step, sinceMs, untilMs, now);
    const rows = this.grouped(pair, sinceMs, untilMs, stepMs);
    const buckets: TrafficBucket[] = [];
    let totals: TrafficCounts = ZERO_COUNTS;
    let withData = 0;
    const [first, end] = this.aligned(sinceMs, untilMs, stepMs);
    if ((end - first) / stepMs > MAX_BUCKETS)
      throw invalid('step', `${stepText(stepMs)} over this range gives more than ${MAX_BUCKETS} buckets`);
    for (let t = first; t < end; t = this.next(t, stepMs)) {
      const r = rows.get(t);
      if (r) {
        totals = mergeCounts(totals, r);
        withData++;
      }
      buckets.push({ startMs: t, start: this.zone.iso(t), ...countsOf(r ?? ZERO_COUNTS) });
    }
    const total: TrafficTotals = { ...countsOf(totals), bucketsWithData: withData };
    return {
      ...{ fromNode: pair.fromNode, toNode: pair.toNode, resource: pair.resource },
      sinceMs: first,
      untilMs: end,
      since: this.zone.iso(first),
      until: this.zone.iso(end),
      stepMs,
      step: stepText(stepMs),
      timeZone: this.zone.name,
      buckets,
      totals: total,
      forecast: null,
    };
  }

  /**
   * Records per bucket of a pair (resource '' : every resource) over [sinceMs, untilMs) at `stepMs` (default:
   * chosen from the range, autoStepMs), dense from the aligned start: the brain's series.
   */
  series(pair: TrafficPair, sinceMs: number, untilMs: number, stepMs?: number): Series {
    const step = stepMs ?? autoStepMs(sinceMs, untilMs, this.opts.bucketMs, this.baseKeptFrom(this.clock()));
    const rows = this.grouped(pair, sinceMs, untilMs, step);
    const [first, end] = this.aligned(sinceMs, untilMs, step);
    const values: number[] = [];
    for (let t = first; t < end; t = this.next(t, step)) values.push(rows.get(t)?.records ?? 0);
    return { startMs: first, bucketMs: step, values };
  }

  /** Pairs (with resource) that have traffic in [sinceMs, untilMs), from the hours. */
  pairs(sinceMs: number, untilMs: number): TrafficPair[] {
    const out: TrafficPair[] = [];
    for (const page of this.pairPages(sinceMs, untilMs)) out.push(...page);
    return out;
  }

  /**
   * pairs() with `pause` awaited after each page of PAIRS_PER_PAGE series: at 3,000 series the listing is 1.2-1.8 s
   * of index seeks (measured on the loaded 2-core machine), which the surge watch's tick must not spend in one go.
   */
  async pairsSliced(sinceMs: number, untilMs: number, pause: () => Promise<void>): Promise<TrafficPair[]> {
    const out: TrafficPair[] = [];
    for (const page of this.pairPages(sinceMs, untilMs)) {
      out.push(...page);
      await pause();
    }
    return out;
  }

  /** The pairs of pairs(), a page of PAIRS_PER_PAGE listed series at a time. */
  private *pairPages(sinceMs: number, untilMs: number): Generator<TrafficPair[], void> {
    const t = this.store.traffic;
    const since = floorTo(sinceMs, HOUR_MS);
    for (
      let page = t.series('traffic_hourly', undefined, PAIRS_PER_PAGE);
      page.length;
      page = t.series('traffic_hourly', page.at(-1), PAIRS_PER_PAGE)
    )
      yield page.filter((p) => t.hasRows('traffic_hourly', p, since, untilMs));
  }

  /**
   * Deletes buckets past the base retention, hours past theirs and old report ids; returns the counts. Series
   * by series, SWEEP_SERIES_PER_TX to a transaction, each a range of the primary key: the write lock is never
   * held for a scan of the whole history, so Report calls are not held up.
   */
  sweep(now: number): { buckets: number; hours: number; ids: number } {
    const out = { buckets: 0, hours: 0, ids: 0 };
    for (const _ of this.sweepSteps(now, out));
    return out;
  }

  /**
   * sweep() in steps, counts added to `out`: it yields after each page of series read and each transaction
   * (tens of ms each at 3,000 series), so that the job can hand the event loop back between them (jobs/slices.ts).
   */
  *sweepSteps(now: number, out: { buckets: number; hours: number; ids: number }): Generator<void, void> {
    const t = this.store.traffic;
    const cuts = {
      traffic_buckets: this.baseKeptFrom(now),
      traffic_hourly: now - this.opts.hourlyRetentionMs,
    } as const;
    for (const table of ['traffic_buckets', 'traffic_hourly'] as const)
      for (let page = t.series(table, undefined, SWEEP_SERIES_PER_TX); page.length;) {
        yield;
        const deleted = this.store.tx(() => page.reduce((n, p) => n + t.pruneSeries(table, p, cuts[table]), 0));
        if (table === 'traffic_buckets') out.buckets += deleted;
        else out.hours += deleted;
        yield;
        page = t.series(table, page.at(-1), SWEEP_SERIES_PER_TX);
      }
    out.ids += this.store.tx(() => t.pruneReportIds(now - REPORT_ID_RETENTION_MS));
  }

  /** The pair a query names; both nodes must exist (NOT_FOUND naming the unknown one). */
  pairOf(q: { from: string; to: string; resource?: string | undefined }): TrafficPair {
    if (!this.store.nodes.get(q.from)) throw notFound('node', q.from);
    if (!this.store.nodes.get(q.to)) throw notFound('node', q.to);
    if (q.from === q.to) throw invalid('to', 'is the same node as from');
    return { fromNode: q.from, toNode: q.to, resource: q.resource ?? '' };
  }

  /** An instant of a query: ISO 8601, local date-time or date, or ms since epoch. */
  instant(text: string, field: string): number {
    if (/^\d{10,15}$/.test(text)) return Number(text);
    const t = parseTimestamp(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text} 00:00:00` : text, this.zone);
    if (typeof t === 'string') throw invalid(field, `${JSON.stringify(text)}: ${t}`);
    return t;
  }

  /** The step asked for (checked) or chosen from the range. */
  stepOf(text: string | undefined, sinceMs: number, untilMs: number, now: number): number {
    const keptFrom = this.baseKeptFrom(now);
    if (text === undefined) return autoStepMs(sinceMs, untilMs, this.opts.bucketMs, keptFrom);
    const s = parseStep(text, this.opts.bucketMs);
    if ('reason' in s) throw invalid('step', s.reason);
    if (s.stepMs < HOUR_MS && sinceMs < keptFrom)
      throw invalid(
        'step',
        `buckets finer than an hour are kept ${this.opts.baseRetentionMs / DAY_MS} days (traffic.baseRetentionMs): ` +
          `ask for 1h or 1d, or a later since (${this.zone.iso(keptFrom)} or after)`,
      );
    return s.stepMs;
  }

  /** [first, end) of the steps covering [sinceMs, untilMs): epoch-aligned, days at local midnight. */
  aligned(sinceMs: number, untilMs: number, stepMs: number): [number, number] {
    if (stepMs === DAY_MS) {
      const end = this.zone.dayStart(untilMs);
      return [this.zone.dayStart(sinceMs), end < untilMs ? this.zone.nextDayStart(untilMs) : end];
    }
    return [floorTo(sinceMs, stepMs), ceilTo(untilMs, stepMs)];
  }

  private next(t: number, stepMs: number): number {
    return stepMs === DAY_MS ? this.zone.nextDayStart(t) : t + stepMs;
  }

  /** The stored rows of the range grouped by step start (days: local days from the hours), in time order. */
  grouped(pair: TrafficPair, sinceMs: number, untilMs: number, stepMs: number): Map<number, TrafficRow> {
    const [first, end] = this.aligned(sinceMs, untilMs, stepMs);
    const range = {
      fromNode: pair.fromNode,
      toNode: pair.toNode,
      resource: pair.resource === '' ? undefined : pair.resource,
      sinceMs: first,
      untilMs: end,
    };
    const out = new Map<number, TrafficRow>();
    if (stepMs < HOUR_MS) {
      for (const r of this.store.traffic.read('traffic_buckets', range, stepMs)) out.set(r.startMs, r);
      return out;
    }
    const sqlStep = stepMs === DAY_MS ? HOUR_MS : stepMs;
    for (const r of this.store.traffic.read('traffic_hourly', range, sqlStep)) {
      const key = stepMs === DAY_MS ? this.zone.dayStart(r.startMs) : r.startMs;
      const had = out.get(key);
      out.set(key, had ? { ...mergeCounts(had, r), startMs: key, origin: had.origin } : { ...r, startMs: key });
    }
    return out;
  }
}

function countsOf(c: TrafficCounts): Omit<TrafficBucket, 'startMs' | 'start'> {
  return {
    batches: c.batches,
    records: c.records,
    bytes: c.bytes,
    latencyP50Ms: c.latencyP50Ms,
    latencyP99Ms: c.latencyP99Ms,
    errors: c.errors,
  };
}

interface CheckedReport {
  fromNode: string;
  resource: string;
  bucketStartMs: number;
  bucketMs: number;
  counts: TrafficCounts;
}

/** A TrafficReport body checked, or a refusal naming the field (`items[i].traffic.<field>`). */
function checkedReport(b: Record<string, unknown>, nodeId: string, at: string): CheckedReport {
  const num = (name: string, field: string, max = Number.MAX_SAFE_INTEGER): number => {
    const v = Number(b[name] ?? 0);
    if (!Number.isSafeInteger(v) || v < 0 || v > max)
      throw invalid(`${at}.${field}`, `must be an integer from 0 to ${max}`);
    return v;
  };
  const fromNode = String(b['sourceNodeId'] ?? '');
  if (!fromNode || fromNode.length > 64) throw invalid(`${at}.source_node_id`, 'must be a node id of 1-64 characters');
  const to = String(b['destinationNodeId'] ?? '');
  if (to !== nodeId)
    throw invalid(`${at}.destination_node_id`, `must be the reporting node ${nodeId}, got ${JSON.stringify(to)}`);
  const resource = String(b['resourceCode'] ?? '');
  if (resource.length > 64) throw invalid(`${at}.resource_code`, 'must be at most 64 characters');
  const bucketMs = num('bucketMs', 'bucket_ms', MAX_U32);
  if (bucketMs === 0) throw invalid(`${at}.bucket_ms`, 'must be positive');
  const batches = num('batches', 'batches');
  return {
    fromNode,
    resource,
    bucketStartMs: num('bucketStartMs', 'bucket_start_ms'),
    bucketMs,
    counts: {
      batches,
      records: num('records', 'records'),
      bytes: num('bytes', 'bytes'),
      // A bucket with only refused batches has no latency (0 on the wire).
      latencyP50Ms: batches > 0 ? num('latencyP50Ms', 'latency_p50_ms') : null,
      latencyP99Ms: batches > 0 ? num('latencyP99Ms', 'latency_p99_ms') : null,
      errors: num('errors', 'errors'),
    },
  };
}
