// The brain's clustering (聚类) and static policies (静态策略): every clusterIntervalMs it clusters the pairs with
// enough history by traffic shape (domain/clustering.ts), stores the run, and turns each cluster's policy template
// into one static policy per pair for the pair's sync tasks, replaced in place when a later run changes it.
// Invariant: at most one brain static policy per pair (brain_policies); an operator's policies are never touched.
import type { Logger } from 'pino';
import type { PolicyBody, PolicyWindow } from '../../../common/src/policy.js';
import { WorkingCalendar, type CalendarSpec } from '../domain/calendar.js';
import { PREWARM_LEAD_MINUTES, type PolicyTemplate, type TransferWindow } from '../domain/cluster-policy.js';
import type { PairCluster } from '../domain/clustering.js';
import { DAY_MS, type TrafficPair } from '../domain/traffic.js';
import { newId } from '../ids.js';
import type { ClusterRunRecord, Store } from '../store/index.js';
import { computeClustering, type ClusterComputed, type ClusterWindow } from './brain-cluster-input.js';
import type { PolicyService } from './policies.js';
import type { TrafficService } from './traffic.js';

/** Settings of the clustering (config brain.*). */
export interface ClusterSettings {
  /** History each run looks at, days (28: four weeks hold every weekly shape; within the base retention). */
  clusterDays: number;
  /** Least history a pair needs to be clustered, days (7: one of each weekday). */
  minHistoryDays: number;
  /** Whether each run writes static policies for the pairs' sync tasks (true). */
  staticPolicies: boolean;
  /** Seed of the clustering (same history, same seed: same clusters). */
  seed: number;
}

export const CLUSTER_DEFAULTS: ClusterSettings = { clusterDays: 28, minHistoryDays: 7, staticPolicies: true, seed: 1 };

/** What a run concluded, for the log and the API. */
export interface ClusterRunResult {
  run: ClusterRunRecord | undefined;
  /** Pairs left out (too little history), and static policies written/replaced/unchanged. */
  skipped: number;
  policies: { created: number; replaced: number; withoutTask: number };
}

export class ClusterService {
  private readonly calendar: WorkingCalendar;

  constructor(
    private readonly store: Store,
    private readonly traffic: TrafficService,
    private readonly policies: PolicyService,
    readonly calendarSpec: CalendarSpec,
    private readonly clock: () => number,
    private readonly settings: ClusterSettings,
    private readonly logger?: Logger,
  ) {
    this.calendar = new WorkingCalendar(calendarSpec);
  }

  /** The window a run started now looks at (base buckets of the last clusterDays, to the last closed bucket). */
  window(): ClusterWindow {
    const bucketMs = this.traffic.opts.bucketMs;
    const untilMs = Math.floor(this.clock() / bucketMs) * bucketMs;
    const sinceMs = untilMs - this.settings.clusterDays * DAY_MS;
    return { sinceMs, untilMs, bucketMs, minHistoryDays: this.settings.minHistoryDays, seed: this.settings.seed };
  }

  /** Clusters the pairs with history in the last clusterDays and stores the run (undefined: no pair qualified). */
  run(): ClusterRunResult {
    const result = emptyResult();
    for (const _ of this.writeRun(computeClustering(this.store.traffic, this.calendar, this.window()), result));
    return result;
  }

  /**
   * The same as run(), with the reading and clustering done by `compute` (the jobs' worker thread) and the writes
   * applied in steps: `pause` is awaited between the static policies (one short transaction each), so central's
   * event loop is never held for the whole run. Rejects with compute's error (nothing written then).
   */
  async runAsync(
    compute: (w: ClusterWindow) => Promise<ClusterComputed>,
    pause: () => Promise<void>,
  ): Promise<ClusterRunResult> {
    const computed = await compute(this.window());
    const result = emptyResult();
    for (const _ of this.writeRun(computed, result)) await pause();
    return result;
  }

  /** Stores a computed run, then its static policies one by one (a step each, yielded before it), into `result`. */
  private *writeRun(computed: ClusterComputed, result: ClusterRunResult): Generator<void, void> {
    const { pairs, features, clustering: c, window: w } = computed;
    result.skipped = computed.skipped;
    if (c === undefined) return;
    const now = this.clock();
    const runId = newId('clr');
    const run: ClusterRunRecord = {
      runId,
      createdAt: now,
      sinceMs: w.sinceMs,
      untilMs: w.untilMs,
      bucketMs: w.bucketMs,
      pairs: pairs.length,
      k: c.k,
      criterion: { ...c.criterion, dimensions: c.dimensions },
    };
    this.store.tx(() =>
      this.store.brain.putRun(
        run,
        c.clusters.map((x) => ({
          runId,
          clusterId: x.id,
          size: x.members.length,
          label: x.label,
          profile: x.profile,
          policy: x.policy,
          silhouette: x.silhouette,
        })),
        pairs.map((p, i) => ({ runId, ...p, clusterId: c.assignments[i]!, features: features[i] })),
      ),
    );
    result.run = run;
    if (this.settings.staticPolicies)
      for (const cl of c.clusters)
        for (const i of cl.members) {
          yield;
          this.applyTemplate(pairs[i]!, cl, runId, result);
        }
    const skipped = result.skipped;
    this.logger?.info({ runId, pairs: pairs.length, k: c.k, skipped, policies: result.policies }, 'pairs clustered');
  }

  /** Writes or replaces the pair's brain static policy from its cluster's template. */
  private applyTemplate(pair: TrafficPair, cl: PairCluster, runId: string, out: ClusterRunResult): void {
    const tasks = this.store.tasks
      .forNode(pair.fromNode)
      .filter(
        (t) =>
          t.kind === 'sync' &&
          t.peerNodeId === pair.toNode &&
          (pair.resource === '' || t.resourceCode === pair.resource),
      );
    if (tasks.length === 0) {
      out.policies.withoutTask++;
      return;
    }
    const body = staticPolicyOf(
      cl,
      tasks.map((t) => t.id),
      this.calendarSpec,
      pair,
    );
    const had = this.store.brain.staticPolicy(pair);
    const live = had && this.policies.isLive(had.policyId) ? had.policyId : undefined;
    const rec = live ? this.policies.replace(live, body, 'brain') : this.policies.create(body, 'brain');
    this.store.brain.setStaticPolicy(pair, rec.id, runId);
    if (live) out.policies.replaced++;
    else out.policies.created++;
  }
}

const emptyResult = (): ClusterRunResult => ({
  run: undefined,
  skipped: 0,
  policies: { created: 0, replaced: 0, withoutTask: 0 },
});

/**
 * How often a pair's sync task reads its source inside its predicted busy window, ms (200). A record committed
 * just after a read waits up to a poll interval before it is read: with the agent's default 1 s poll that wait
 * is the largest part of delivery latency at a tide's peak (the replay, scripts/sim/replay.ts, measured p99
 * about 1.2 s with the brain's batch knobs alone and 0.2 s with a 100 ms poll at 8,000 records/s). At 200 ms the
 * added wait is at most 0.2 s, for 5 cursor queries a second against the source, and only inside the window.
 */
export const PEAK_POLL_INTERVAL_MS = 200;

/** What a pre-warm window does (the tide allocation, services/tide.ts), as the policy's evidence says it. */
const PREWARM_TEXT = 'standby agents are spread over while the window is open (tide allocation), merged after it';

/** A cluster's template as a static policy of the pair's tasks (windows in local time, knobs inside them). */
export function staticPolicyOf(
  cl: PairCluster,
  taskIds: string[],
  calendar: CalendarSpec,
  pair: TrafficPair,
): PolicyBody {
  const t: PolicyTemplate = cl.policy;
  const knobs = {
    batchRecords: t.batchRecords,
    concurrency: Math.min(8, Math.max(1, t.concurrency)),
    pollIntervalMs: PEAK_POLL_INTERVAL_MS,
  };
  const lead = t.prewarm.standby ? t.prewarm.leadMinutes || PREWARM_LEAD_MINUTES : 0;
  const windows: PolicyWindow[] = t.windows.map((w) => ({ ...daysOf(w), ...minutesOf(w, lead), knobs }));
  return {
    kind: 'static',
    taskIds,
    utcOffsetMinutes: calendar.utcOffsetMinutes,
    // No window: the shape has no peak to prepare for, the knobs hold all day.
    windows,
    outside: windows.length === 0 ? knobs : {},
    holidays: [...calendar.holidays],
    makeUpWorkdays: [...calendar.workdays],
    reason: `${cl.label.en} (${cl.label.zh}): ${t.reason}`,
    evidence: [
      { kind: 'cluster', name: 'label', text: `${cl.label.en} / ${cl.label.zh}` },
      { kind: 'cluster', name: 'rule', text: cl.label.rule },
      { kind: 'cluster', name: 'silhouette', value: Math.round(cl.silhouette * 1000) / 1000 },
      { kind: 'cluster', name: 'members', value: cl.members.length },
      {
        kind: 'history',
        name: 'pair',
        text: `${pair.fromNode} → ${pair.toNode}${pair.resource ? ` (${pair.resource})` : ''}`,
      },
      ...(lead
        ? [{ kind: 'forecast' as const, name: 'opens_before_peak', value: lead, unit: 'min', text: PREWARM_TEXT }]
        : []),
    ],
  };
}

function daysOf(w: TransferWindow): Pick<PolicyWindow, 'dayType' | 'weekdays'> {
  if (typeof w.days === 'number') return { weekdays: [w.days] };
  return { dayType: w.days === 'working' ? 'workday' : w.days === 'rest' ? 'rest-day' : '' };
}

/** Start/end minutes of a window opened `leadMinutes` early; an end at or before the start runs into the next day. */
function minutesOf(w: TransferWindow, leadMinutes: number): { startMinute: number; endMinute: number } {
  const start = (w.startHour * 60 - leadMinutes + 1440) % 1440;
  let end = w.endHour * 60;
  while (end <= start) end += 1440;
  return { startMinute: start, endMinute: Math.min(end, start + 1440) };
}
