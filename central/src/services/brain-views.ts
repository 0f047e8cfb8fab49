// The brain's records as the API shows them (api/brain.ts): clustering runs and surges, with ISO times in
// central's zone, narrowed to the pairs a caller may see (a city admin: a node of the pair in its region).
import type { ClusterBoard, ClusterDetail, ClusterRunView, SurgeQuery, SurgeView } from '../api/brain.js';
import type { TrafficForecast, TrafficHistory } from '../api/traffic.js';
import type { CalendarSpec } from '../domain/calendar.js';
import { fitForecast } from '../domain/forecast.js';
import { DAY_MS, HOUR_MS } from '../domain/traffic.js';
import { notFound } from '../errors.js';
import type { Store, SurgeRecord } from '../store/index.js';
import type { TrafficService } from './traffic.js';

/** Which pairs a caller sees: undefined = every pair, else pairs with a node among these. */
export type PairScope = ReadonlySet<string> | undefined;

const sees = (scope: PairScope, p: { fromNode: string; toNode: string }): boolean =>
  !scope || scope.has(p.fromNode) || scope.has(p.toNode);

/** Limits of a forecast beside a history (longer ranges and coarser steps get none). */
export const FORECAST_LIMITS = { minHistoryDays: 7, historyDays: 42, maxRangeDays: 35, maxStepMs: HOUR_MS } as const;

/** The bucket a surge was decided on: its evidence's bucketMs (hourly replays of old history), else the base. */
const bucketOf = (s: SurgeRecord, baseMs: number): number => {
  const b = (s.evidence as { bucketMs?: unknown } | null)?.bucketMs;
  return typeof b === 'number' && b > 0 ? b : baseMs;
};

export class BrainViews {
  constructor(
    private readonly store: Store,
    private readonly traffic: TrafficService,
    private readonly calendar: CalendarSpec,
  ) {}

  /**
   * The forecast beside a history (TrafficForecast): fitted on the base buckets before its start, predicted
   * over its range and summed into its steps; null outside FORECAST_LIMITS.
   */
  forecast(h: TrafficHistory): TrafficForecast | null {
    const b = this.traffic.opts.bucketMs;
    if (h.stepMs > FORECAST_LIMITS.maxStepMs || h.untilMs - h.sinceMs > FORECAST_LIMITS.maxRangeDays * DAY_MS)
      return null;
    const fitFrom = h.sinceMs - FORECAST_LIMITS.historyDays * DAY_MS;
    const pair = { fromNode: h.fromNode, toNode: h.toNode, resource: h.resource };
    const rows = this.store.traffic.read('traffic_buckets', { ...pair, sinceMs: fitFrom, untilMs: h.sinceMs }, b);
    const first = rows[0];
    if (!first || h.sinceMs - first.startMs < FORECAST_LIMITS.minHistoryDays * DAY_MS) return null;
    const values = new Array<number>(Math.floor((h.sinceMs - first.startMs) / b)).fill(0);
    for (const r of rows) values[Math.floor((r.startMs - first.startMs) / b)] = r.records;
    const model = fitForecast({ startMs: first.startMs, bucketMs: b, values }, h.sinceMs, {
      calendar: this.calendar,
      historyDays: FORECAST_LIMITS.historyDays,
    });
    const f = model.predict(h.sinceMs, Math.ceil((h.untilMs - h.sinceMs) / b));
    const buckets = h.buckets.map((x) => ({ startMs: x.startMs, expected: 0, lower: 0, upper: 0 }));
    let j = 0;
    f.expected.forEach((e, i) => {
      const t = f.startMs + i * b;
      while (j + 1 < buckets.length && buckets[j + 1]!.startMs <= t) j++;
      const out = buckets[j];
      if (!out) return;
      out.expected += e;
      out.lower += f.lower[i]!;
      out.upper += f.upper[i]!;
    });
    const r1 = (x: number): number => Math.round(x * 10) / 10;
    return {
      fittedAtMs: h.sinceMs,
      level: 0.95,
      method: 'day-type x time-of-day profile (holidays and 调休 by the calendar), recent weeks weighted, trend',
      buckets: buckets.map((x) => ({
        startMs: x.startMs,
        expected: r1(x.expected),
        lower: r1(x.lower),
        upper: r1(x.upper),
      })),
    };
  }

  /** The newest clustering run with its clusters (as the caller sees them); undefined before the first run. */
  latestRun(scope: PairScope): ClusterRunView | undefined {
    const run = this.store.brain.latestRun();
    if (!run) return undefined;
    const members = this.store.brain.members(run.runId).filter((m) => sees(scope, m));
    const size = new Map<number, number>();
    for (const m of members) size.set(m.clusterId, (size.get(m.clusterId) ?? 0) + 1);
    const clusters = this.store.brain
      .clusters(run.runId)
      .filter((c) => !scope || size.has(c.clusterId))
      .map((c) => ({
        clusterId: c.clusterId,
        size: scope ? (size.get(c.clusterId) ?? 0) : c.size,
        label: c.label as ClusterRunView['clusters'][number]['label'],
        silhouette: c.silhouette,
        policy: c.policy,
        profile: c.profile,
      }));
    // A scoped caller counts the pairs it sees, not the province's.
    return {
      ...run,
      pairs: scope ? members.length : run.pairs,
      created: this.traffic.zone.iso(run.createdAt),
      clusters,
    };
  }

  /**
   * One cluster of the newest run with its members (the first `limit`, all when undefined); NOT_FOUND when the run
   * has no such cluster (for the caller).
   */
  cluster(clusterId: number, scope: PairScope, limit?: number): ClusterDetail {
    const run = this.latestRun(scope);
    const c = run?.clusters.find((x) => x.clusterId === clusterId);
    if (!run || !c) throw notFound('cluster', String(clusterId));
    const members = this.store.brain
      .members(run.runId, clusterId)
      .filter((m) => sees(scope, m))
      .slice(0, limit)
      .map(({ fromNode, toNode, resource, features }) => ({ fromNode, toNode, resource, features }));
    return { ...c, runId: run.runId, members };
  }

  /**
   * The newest run with each cluster's first `limit` members (the dashboard's brain page: one answer, no 404);
   * null before the first run.
   */
  board(scope: PairScope, limit: number): ClusterBoard | null {
    const run = this.latestRun(scope);
    if (!run) return null;
    const byCluster = new Map<number, ClusterDetail['members']>();
    for (const m of this.store.brain.members(run.runId)) {
      if (!sees(scope, m)) continue;
      const list = byCluster.get(m.clusterId) ?? [];
      if (list.length < limit)
        list.push({ fromNode: m.fromNode, toNode: m.toNode, resource: m.resource, features: m.features });
      byCluster.set(m.clusterId, list);
    }
    return {
      ...run,
      clusters: run.clusters.map((c) => ({ ...c, runId: run.runId, members: byCluster.get(c.clusterId) ?? [] })),
    };
  }

  /** Surges by the query, oldest first, those the caller sees. INVALID_ARGUMENT names a bad since/until. */
  surges(q: SurgeQuery, scope: PairScope): SurgeView[] {
    const sinceMs = q.since !== undefined ? this.traffic.instant(q.since, 'since') : undefined;
    const untilMs = q.until !== undefined ? this.traffic.instant(q.until, 'until') : undefined;
    return this.store.brain
      .surges({
        ...(q.from !== undefined && { fromNode: q.from }),
        ...(q.to !== undefined && { toNode: q.to }),
        ...(q.origin !== undefined && { origin: q.origin }),
        ...(sinceMs !== undefined && { sinceMs }),
        ...(untilMs !== undefined && { untilMs }),
        ...(q.open && { openOnly: true }),
        ...(q.limit !== undefined && { limit: q.limit }),
      })
      .filter((s) => sees(scope, s))
      .map((s) => this.surgeView(s));
  }

  surgeView(s: SurgeRecord): SurgeView {
    const iso = (ms: number): string => this.traffic.zone.iso(ms);
    return {
      surgeId: s.surgeId,
      fromNode: s.fromNode,
      toNode: s.toNode,
      resource: s.resource,
      origin: s.origin,
      start: iso(s.startMs),
      end: s.endMs === null ? null : iso(s.endMs),
      startMs: s.startMs,
      endMs: s.endMs,
      detected: iso(s.detectedAtMs),
      detectedAtMs: s.detectedAtMs,
      delayBuckets: Math.round((s.detectedAtMs - s.startMs) / bucketOf(s, this.traffic.opts.bucketMs)),
      peak: s.peak,
      expected: Math.round(s.expected * 10) / 10,
      evidence: s.evidence,
      actions: s.actions,
    };
  }
}
