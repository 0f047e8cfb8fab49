// The read-and-compute half of the brain's clustering (brain-clusters.ts writes the result): the pairs with history
// in the window, their features from the base buckets and the clustering itself. It only reads the traffic store,
// so it runs as well in the jobs' worker thread over a read-only connection (jobs/job-worker-main.ts) as in
// central's own; its answer is plain data (structured-clone safe).
import { WorkingCalendar } from '../domain/calendar.js';
import { clusterPairs, type Clustering } from '../domain/clustering.js';
import { DAY_MS, HOUR_MS, type TrafficPair } from '../domain/traffic.js';
import { trafficFeatures, type TrafficFeatures } from '../domain/traffic-features.js';
import type { TrafficStore } from '../store/traffic.js';

/** What a clustering run looks at: [sinceMs, untilMs) of base buckets of bucketMs, and the settings that apply. */
export interface ClusterWindow {
  sinceMs: number;
  untilMs: number;
  bucketMs: number;
  /** Least history a pair needs, days. */
  minHistoryDays: number;
  /** Seed of the k-means restarts. */
  seed: number;
}

/** The computed half of a run: the qualifying pairs, their features (same order), the pairs left out, the clustering. */
export interface ClusterComputed {
  window: ClusterWindow;
  pairs: TrafficPair[];
  features: TrafficFeatures[];
  skipped: number;
  /** Undefined when no pair qualified. */
  clustering: Clustering | undefined;
}

/** Pairs of the hourly history with a row in [sinceMs, untilMs) (TrafficService.pairs over a bare store). */
function pairsWithHistory(t: TrafficStore, sinceMs: number, untilMs: number): TrafficPair[] {
  const out: TrafficPair[] = [];
  const since = Math.floor(sinceMs / HOUR_MS) * HOUR_MS;
  for (
    let page = t.series('traffic_hourly', undefined, 500);
    page.length;
    page = t.series('traffic_hourly', page.at(-1), 500)
  )
    for (const p of page) if (t.hasRows('traffic_hourly', p, since, untilMs)) out.push(p);
  return out;
}

/** Features of a pair's base buckets over the window; undefined when it has under minHistoryDays of history. */
function featuresOf(
  t: TrafficStore,
  calendar: WorkingCalendar,
  pair: TrafficPair,
  w: ClusterWindow,
): TrafficFeatures | undefined {
  const { sinceMs, untilMs, bucketMs } = w;
  const rows = t.read('traffic_buckets', { ...pair, sinceMs, untilMs }, bucketMs);
  const first = rows[0];
  if (first === undefined || untilMs - first.startMs < w.minHistoryDays * DAY_MS) return undefined;
  // The series starts at the local midnight before the first bucket with traffic, so profiles align to days.
  const startMs = calendar.startOf(calendar.dateOf(first.startMs));
  const n = Math.floor((untilMs - startMs) / bucketMs);
  const values = new Array<number>(n).fill(0);
  const batches = new Array<number>(n).fill(0);
  for (const r of rows) {
    const i = Math.floor((r.startMs - startMs) / bucketMs);
    if (i < 0 || i >= n) continue;
    values[i] = r.records;
    batches[i] = r.batches;
  }
  // Imported history has no batch counts: batch size is then unknown rather than read as 0 records per batch.
  const knowsBatches = rows.some((r) => r.batches > 0);
  return trafficFeatures({ series: { startMs, bucketMs, values }, ...(knowsBatches && { batches }) }, calendar);
}

/** Reads the window's pairs and clusters them (CPU and reads only: seconds at 3,000 pairs, so off the event loop). */
export function computeClustering(t: TrafficStore, calendar: WorkingCalendar, w: ClusterWindow): ClusterComputed {
  const pairs: TrafficPair[] = [];
  const features: TrafficFeatures[] = [];
  let skipped = 0;
  for (const pair of pairsWithHistory(t, w.sinceMs, w.untilMs)) {
    const f = featuresOf(t, calendar, pair, w);
    if (f === undefined) skipped++;
    else {
      pairs.push(pair);
      features.push(f);
    }
  }
  const clustering = pairs.length ? clusterPairs(features, { seed: w.seed }) : undefined;
  return { window: w, pairs, features, skipped, clustering };
}
