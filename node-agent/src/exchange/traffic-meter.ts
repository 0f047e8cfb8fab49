// The consumer's traffic meter (流量计量): what this node received from each provider node, per resource and
// per time bucket — batches committed, records written, payload bytes, delivery latency p50/p99, records in
// error — sent to central as one TrafficReport per (source node, resource, bucket) when the bucket closes.
//
// Invariants
//  - A bucket is reported once, when it closes: at its end (the run loop), when central hands another bucket
//    length, or at shutdown (flush); an early close reports the part until then (bucket_ms = the time elapsed).
//  - Reports go through the report outbox (durable before report() returns), so nothing counted is lost
//    while central is down; what an agent killed mid-bucket had counted in memory is lost (at most a bucket).
//  - Latency = commit time at this node − the envelope's created_at_ms at the provider, clamped at 0. It
//    includes the clock skew between the two machines; a skewed provider shows as a constant offset.
//  - Memory is bounded: latencies are a uniform reservoir sample of RESERVOIR_SIZE per open bucket.
import { sleep } from '../backoff.js';

/** Latency samples kept per open bucket (a uniform reservoir: p99 of 2048 samples is within ~0.5 % of rank). */
export const RESERVOIR_SIZE = 2048;
/** Bucket length until central hands one, ms (5 min, central's default). */
export const DEFAULT_TRAFFIC_BUCKET_MS = 300_000;

export interface TrafficMeterDeps {
  /** This node's id (the destination of every report). */
  nodeId: () => string;
  /** Records a report in the outbox ('traffic', proto TrafficReport in camelCase). */
  report: (body: Record<string, unknown>) => void;
  /** Wall clock, ms since epoch (default Date.now). */
  clock?: () => number;
  /** Called with each committed batch's delivery latency, ms (the agent's /metrics histogram). */
  onLatencyMs?: (ms: number) => void;
}

interface Open {
  sourceNodeId: string;
  resourceCode: string;
  startMs: number;
  batches: number;
  records: number;
  bytes: number;
  errors: number;
  seen: number;
  latencies: number[];
}

export class TrafficMeter {
  private bucketMs = DEFAULT_TRAFFIC_BUCKET_MS;
  private readonly open = new Map<string, Open>();
  private readonly clock: () => number;

  constructor(private readonly deps: TrafficMeterDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  /** The bucket length in use, ms. */
  get bucketLengthMs(): number {
    return this.bucketMs;
  }

  /** Central's bucket length (poll answer traffic_bucket_ms); a change closes the open buckets first. */
  setBucketMs(ms: number): void {
    if (!(ms > 0) || ms === this.bucketMs) return;
    this.flush();
    this.bucketMs = ms;
  }

  /** A batch committed to the sink: `records` written, `errors` quarantined or refused, created at the provider. */
  committed(
    sourceNodeId: string,
    resourceCode: string,
    b: { records: number; bytes: number; errors: number; createdAtMs: number },
  ): void {
    const now = this.clock();
    const o = this.bucketOf(sourceNodeId, resourceCode, now);
    o.batches++;
    o.records += b.records;
    o.bytes += b.bytes;
    o.errors += b.errors;
    const latency = Math.max(0, now - b.createdAtMs);
    this.deps.onLatencyMs?.(latency);
    o.seen++;
    if (o.latencies.length < RESERVOIR_SIZE) o.latencies.push(latency);
    else {
      const j = Math.floor(Math.random() * o.seen);
      if (j < RESERVOIR_SIZE) o.latencies[j] = latency;
    }
  }

  /** Records that arrived but were not written, in a batch not committed (refused whole, undecodable). */
  refused(sourceNodeId: string, resourceCode: string, records: number): void {
    this.bucketOf(sourceNodeId, resourceCode, this.clock()).errors += records;
  }

  /** Reports every bucket that has ended by now. */
  closeEnded(): void {
    const now = this.clock();
    for (const [key, o] of this.open)
      if (o.startMs + this.bucketMs <= now) {
        this.open.delete(key);
        this.emit(o, this.bucketMs);
      }
  }

  /** Reports every open bucket now, with the time elapsed as its length (shutdown, a new bucket length). */
  flush(): void {
    const now = this.clock();
    for (const o of this.open.values()) this.emit(o, Math.min(this.bucketMs, Math.max(1, now - o.startMs)));
    this.open.clear();
  }

  /** Closes buckets at their ends until the signal aborts (then the caller flushes). */
  async run(signal: AbortSignal): Promise<void> {
    do this.closeEnded();
    while (await sleep(this.untilNextEndMs(), signal));
  }

  /**
   * Time until a little after the current bucket's end (timers may fire a millisecond early), at most a
   * second: a shorter bucket length handed meanwhile is followed within a second.
   */
  private untilNextEndMs(): number {
    const now = this.clock();
    return Math.min(1000, Math.floor(now / this.bucketMs) * this.bucketMs + this.bucketMs - now + 5);
  }

  private bucketOf(sourceNodeId: string, resourceCode: string, now: number): Open {
    const startMs = Math.floor(now / this.bucketMs) * this.bucketMs;
    const key = `${sourceNodeId}\u0000${resourceCode}`;
    let o = this.open.get(key);
    if (o && o.startMs !== startMs) {
      this.open.delete(key);
      this.emit(o, this.bucketMs);
      o = undefined;
    }
    if (!o) {
      o = { sourceNodeId, resourceCode, startMs, batches: 0, records: 0, bytes: 0, errors: 0, seen: 0, latencies: [] };
      this.open.set(key, o);
    }
    return o;
  }

  private emit(o: Open, lengthMs: number): void {
    if (o.batches === 0 && o.errors === 0) return;
    const sorted = Float64Array.from(o.latencies).sort();
    this.deps.report({
      sourceNodeId: o.sourceNodeId,
      destinationNodeId: this.deps.nodeId(),
      resourceCode: o.resourceCode,
      bucketStartMs: o.startMs,
      bucketMs: lengthMs,
      batches: o.batches,
      records: o.records,
      bytes: o.bytes,
      latencyP50Ms: Math.round(quantile(sorted, 0.5)),
      latencyP99Ms: Math.round(quantile(sorted, 0.99)),
      errors: o.errors,
    });
  }
}

/** The q-quantile of sorted samples by the nearest rank (0 when there are none). */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
