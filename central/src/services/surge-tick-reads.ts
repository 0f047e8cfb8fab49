// The surge watch's per-tick read of recent traffic: the base buckets every watched pair still needs, read for all
// of them in one statement (TrafficStore.recordsOf) instead of one query per pair and tick. A pair whose detector
// lags further than RECENT_MAX_MS behind (or a series not watched, such as a standby's) reads its own as before.
import { HOUR_MS, type TrafficPair } from '../domain/traffic.js';
import type { Store } from '../store/index.js';

/** How far behind `until` the shared read starts at most, ms (1 h; a tick normally needs one or two buckets). */
export const RECENT_MAX_MS = HOUR_MS;

export class TickBuckets {
  private constructor(
    /** The read covers [sinceMs, untilMs). */
    private readonly sinceMs: number,
    private readonly untilMs: number,
    /** Series key (JSON [fromNode, toNode, resource]) → bucket start → records. */
    private readonly rows: Map<string, Map<number, number>>,
  ) {}

  /**
   * Reads [earliest fedUntil within RECENT_MAX_MS of `untilMs`, untilMs) for the watched series `watched` (key →
   * fedUntil), aligned to `bucketMs`; undefined when no watched pair needs anything in that span.
   */
  static read(
    store: Store,
    watched: ReadonlyMap<string, { fedUntil: number }>,
    untilMs: number,
    bucketMs: number,
  ): TickBuckets | undefined {
    let since = untilMs;
    for (const w of watched.values())
      if (w.fedUntil < since && w.fedUntil >= untilMs - RECENT_MAX_MS) since = w.fedUntil;
    if (since >= untilMs) return undefined;
    const sinceMs = Math.floor(since / bucketMs) * bucketMs;
    const series = [...watched.keys()].map((k): TrafficPair => {
      const [fromNode, toNode, resource] = JSON.parse(k) as [string, string, string];
      return { fromNode, toNode, resource };
    });
    return new TickBuckets(sinceMs, untilMs, store.traffic.recordsOf(series, sinceMs, untilMs));
  }

  /** The series' buckets in [fromMs, untilMs) (key as above), or undefined when this read does not cover them. */
  rowsOf(key: string, fromMs: number, untilMs: number): { startMs: number; records: number }[] | undefined {
    const rows = untilMs === this.untilMs && fromMs >= this.sinceMs ? this.rows.get(key) : undefined;
    if (!rows) return undefined;
    const out: { startMs: number; records: number }[] = [];
    for (const [startMs, records] of rows) if (startMs >= fromMs) out.push({ startMs, records });
    return out.sort((a, b) => a.startMs - b.startMs);
  }
}
