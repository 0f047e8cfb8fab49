// The brain's surge (浪涌) watch: one streaming SurgeDetector per pair (domain/surge.ts), fed each closed base
// bucket in time order; a detected surge is stored, alarmed, and answered with a dynamic policy (动态策略) on
// the pair's sync tasks that raises batch size and concurrency until the surge ends, and by spreading each of those
// tasks over standby agents of the provider department (dynamic node allocation, services/shards.ts) until it ends. Imported history is
// replayed through a fresh detector, in time order and without look-ahead, so `xchg surge list` shows what the
// brain would have caught. Invariants: a bucket is fed once per detector, in order (fedUntil); detectors are
// rebuilt after a restart by replaying the lookback, which gives the same decisions (no look-ahead, a fold);
// at most one open live surge and one dynamic policy per pair.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { PolicyBody, PolicyKnobs } from '../../../common/src/policy.js';
import { ALERT_KINDS, alertParams } from '../domain/alerts.js';
import type { CalendarSpec } from '../domain/calendar.js';
import { detectSurges, SurgeDetector, type Surge, type SurgeEvent } from '../domain/surge.js';
import { DAY_MS, HOUR_MS, type Series, type TrafficPair } from '../domain/traffic.js';
import { newId } from '../ids.js';
import type { Store, SurgeOrigin, SurgeRecord, TaskRecord } from '../store/index.js';
import type { AlertService } from './alerts.js';
import type { PolicyService } from './policies.js';
import type { ShardService } from './shards.js';
import type { TrafficImported, TrafficService } from './traffic.js';
import { TickBuckets } from './surge-tick-reads.js';

/** Settings of the surge watch (config brain.*). */
export interface SurgeSettings {
  /** History a new detector is warmed on, days (42: the forecast's six weeks). */
  lookbackDays: number;
  /** A bucket is fed once it ended this long ago, ms (60 000: agents report a bucket when it closes). */
  settleMs: number;
  /** Whether a live surge gets a dynamic policy on the pair's sync tasks (true). */
  dynamicPolicies: boolean;
  /** A dynamic policy's validity, renewed while the surge lasts, ms (1 h: a policy outlives a dead central). */
  dynamicHoldMs: number;
  /** Records per batch a dynamic policy starts from when the task has no policy setting it (1 000: the agent's). */
  baseBatchRecords: number;
  /**
   * Standby agents a live surge, and the tide's pre-warm window, spreads each of the pair's sync tasks over at most
   * (2; 0: the brain never spreads).
   */
  spreadAgentsMax: number;
}

export const SURGE_DEFAULTS: SurgeSettings = {
  lookbackDays: 42,
  settleMs: 60_000,
  dynamicPolicies: true,
  dynamicHoldMs: 3_600_000,
  baseBatchRecords: 1000,
  spreadAgentsMax: 2,
};

/**
 * How often a surging pair's sync task reads its source, ms (100): in a surge records arrive faster than the
 * forecast, and the wait for the next read is the largest part of their delivery latency (see
 * PEAK_POLL_INTERVAL_MS in brain-clusters.ts); for the surge's duration only.
 */
export const SURGE_POLL_INTERVAL_MS = 100;

interface Watch {
  detector: SurgeDetector;
  /** Buckets before this instant have been fed. */
  fedUntil: number;
  /** The open live surge's id and its dynamic policy, if any. */
  surgeId: string | undefined;
  policyId: string | undefined;
}

const keyOf = (p: TrafficPair): string => JSON.stringify([p.fromNode, p.toNode, p.resource]);

export class SurgeService {
  /** Dynamic node allocation: a live surge spreads the pair's sync tasks over standby agents (services/shards.ts). */
  allocation: Pick<ShardService, 'spreadAll' | 'unspreadAll' | 'standbysOf'> | undefined;
  private readonly watches = new Map<string, Watch>();
  private readonly replays: TrafficImported[] = [];
  private draining: Promise<void> | undefined;
  /** This tick's recent buckets of the watched pairs, read at once (series() takes them from here). */
  private tickBuckets: TickBuckets | undefined;

  constructor(
    private readonly store: Store,
    private readonly traffic: TrafficService,
    private readonly policies: PolicyService,
    private readonly alerts: AlertService,
    private readonly calendar: CalendarSpec,
    private readonly clock: () => number,
    private readonly settings: SurgeSettings,
    private readonly logger?: Logger,
  ) {}

  private get bucketMs(): number {
    return this.traffic.opts.bucketMs;
  }

  /**
   * Feeds every pair's closed buckets to its detector and acts on what it decides; then replays queued imports.
   * Yields to the event loop between pairs (a first feed replays the lookback) and while listing them.
   */
  async tick(): Promise<void> {
    const until = Math.floor((this.clock() - this.settings.settleMs) / this.bucketMs) * this.bucketMs;
    const since = until - this.settings.lookbackDays * DAY_MS;
    this.tickBuckets = TickBuckets.read(this.store, this.watches, until, this.bucketMs);
    for (const pair of await this.traffic.pairsSliced(since, until, () => yieldToLoop())) {
      this.feed(pair, since, until);
      await yieldToLoop();
    }
    this.tickBuckets = undefined;
    await this.drained();
  }

  /**
   * Queues a replay of imported history (the traffic service's onImported hook) and starts it on the next turn
   * of the event loop, so the import's answer does not wait for it; drained() resolves when it is done.
   */
  queueReplay(e: TrafficImported): void {
    this.replays.push(e);
    this.draining ??= (async () => {
      await yieldToLoop();
      for (let job = this.replays.shift(); job; job = this.replays.shift()) {
        try {
          this.replayImported(job);
        } catch (err) {
          this.logger?.error({ err, pair: job.pair }, 'replay of imported history failed');
        }
        await yieldToLoop();
      }
      this.draining = undefined;
    })();
  }

  /** Resolves once every queued replay has run. */
  async drained(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Runs fresh detectors over a pair's imported history in time order and stores what they found as origin
   * 'import' (replacing an earlier replay of that range). History past the base retention is kept only as
   * hourly rows, so that part is replayed at hourly buckets (its surges' evidence says bucketMs 3 600 000), the
   * rest at base buckets; each detector warms up on its own first 14 days. Returns the surges.
   */
  replayImported(e: TrafficImported): SurgeRecord[] {
    const hourlyUntil = Math.min(e.untilMs, this.traffic.baseKeptFrom(this.clock()));
    const found: { s: Surge; bucketMs: number }[] = [];
    let buckets = 0;
    if (e.sinceMs < hourlyUntil) {
      const hourly = this.series('traffic_hourly', HOUR_MS, e.pair, e.sinceMs, hourlyUntil);
      buckets += hourly.values.length;
      for (const s of detectSurges(hourly, { calendar: this.calendar, bucketMs: HOUR_MS }))
        found.push({ s, bucketMs: HOUR_MS });
    }
    const base = this.series('traffic_buckets', this.bucketMs, e.pair, Math.max(e.sinceMs, hourlyUntil), e.untilMs);
    buckets += base.values.length;
    for (const s of detectSurges(base, { calendar: this.calendar, bucketMs: this.bucketMs }))
      found.push({ s, bucketMs: this.bucketMs });
    const note = { action: 'none', note: 'replay of imported history' };
    const records = found.map(({ s, bucketMs }) => {
      const r = this.recordOf(e.pair, s, 'import', [note]);
      return { ...r, evidence: { ...s.evidence, bucketMs } };
    });
    this.store.tx(() => {
      this.store.brain.deleteSurges(e.pair, 'import', e.sinceMs, e.untilMs);
      for (const r of records) this.store.brain.upsertSurge(r);
    });
    this.logger?.info({ pair: e.pair, surges: records.length, buckets }, 'imported history replayed');
    return records;
  }

  /** Surges stored, oldest first. */
  list(f: Parameters<Store['brain']['surges']>[0] = {}): SurgeRecord[] {
    return this.store.brain.surges(f);
  }

  private feed(pair: TrafficPair, since: number, until: number): void {
    const key = keyOf(pair);
    let w = this.watches.get(key);
    // A new watch (first sight of the pair, or central restarted) catches up on the lookback silently: what
    // ended in the past is not acted on again; only a surge still going at its end is (adopting the stored one).
    const fresh = w === undefined;
    if (w === undefined) {
      const detector = new SurgeDetector({ calendar: this.calendar, bucketMs: this.bucketMs });
      w = { detector, fedUntil: since, surgeId: undefined, policyId: undefined };
      this.watches.set(key, w);
      this.adoptOpen(pair, w);
    }
    if (w.fedUntil >= until) return;
    // Before a pair's first bucket there is no history (not zero traffic): a fresh detector starts there.
    const series = this.baseSeries(pair, w.fedUntil, until, fresh);
    for (const [i, v] of series.values.entries()) {
      const events = w.detector.push(series.startMs + i * this.bucketMs, v);
      if (!fresh) for (const e of events) this.act(pair, w, e);
    }
    w.fedUntil = until;
    if (!fresh) return;
    const current = w.detector.current;
    if (current) this.open(pair, w, current);
    else if (w.surgeId) this.closeOpen(pair, w, until);
  }

  /** After a restart: the open live surge and its dynamic policy in the store belong to this watch. */
  private adoptOpen(pair: TrafficPair, w: Watch): void {
    const open = this.store.brain.surges({
      fromNode: pair.fromNode,
      toNode: pair.toNode,
      origin: 'live',
      openOnly: true,
    });
    const mine = open.find((s) => s.resource === pair.resource);
    if (!mine) return;
    w.surgeId = mine.surgeId;
    const pol = mine.actions.find(
      (a): a is { action: 'dynamic-policy'; policyId: string } =>
        (a as { action?: string }).action === 'dynamic-policy',
    );
    w.policyId = pol?.policyId;
  }

  private act(pair: TrafficPair, w: Watch, e: SurgeEvent): void {
    if (e.kind === 'start') this.open(pair, w, e.surge);
    else this.close(pair, w, e.surge);
  }

  private open(pair: TrafficPair, w: Watch, s: Surge): void {
    if (w.surgeId) return this.update(pair, w, s);
    const actions: unknown[] = [];
    const surgeId = newId('srg');
    const policyId = this.settings.dynamicPolicies ? this.dynamicPolicy(pair, s, undefined) : undefined;
    if (policyId) actions.push({ action: 'dynamic-policy', policyId });
    const spreadMax = this.settings.spreadAgentsMax;
    if (this.allocation && spreadMax > 0) {
      const why = `surge ${pair.fromNode} → ${pair.toNode}: ${Math.round(s.peak)} records per bucket against ${Math.round(s.expected)} expected`;
      actions.push(
        ...this.allocation.spreadAll(
          this.pairTasks(pair).map((t) => t.id),
          spreadMax,
          why,
        ),
      );
    }
    const node = this.store.nodes.get(pair.fromNode);
    this.store.tx(() => {
      const raised = this.alerts.raise({
        kind: ALERT_KINDS.SURGE_DETECTED,
        entityId: surgeId,
        departmentCode: node?.departmentCode ?? '',
        message: `surge ${pair.fromNode} → ${pair.toNode}${pair.resource ? ` (${pair.resource})` : ''}: ${Math.round(s.peak)} records per bucket against ${Math.round(s.expected)} expected`,
        params: alertParams(ALERT_KINDS.SURGE_DETECTED, {
          from: pair.fromNode,
          to: pair.toNode,
          resource: pair.resource ?? '',
          peak: Math.round(s.peak),
          expected: Math.round(s.expected),
        }),
        at: this.clock(),
      });
      if (raised) actions.push({ action: 'alert', kind: ALERT_KINDS.SURGE_DETECTED });
      this.store.brain.upsertSurge(this.recordOf(pair, s, 'live', actions, surgeId));
    });
    w.surgeId = surgeId;
    w.policyId = policyId;
    this.logger?.warn({ pair, surgeId, peak: s.peak, expected: s.expected, policyId }, 'surge detected');
  }

  private update(pair: TrafficPair, w: Watch, s: Surge): void {
    const had = w.surgeId ? this.store.brain.getSurge(w.surgeId) : undefined;
    if (had)
      this.store.brain.upsertSurge({ ...had, peak: Math.max(had.peak, s.peak), expected: s.expected, endMs: s.endMs });
    if (w.policyId) this.dynamicPolicy(pair, s, w.policyId);
  }

  private close(pair: TrafficPair, w: Watch, s: Surge): void {
    this.update(pair, w, s);
    this.closeOpen(pair, w, s.endMs ?? this.clock());
  }

  /** Ends the open surge at `endMs` and withdraws its dynamic policy (the pair steps back to its static one). */
  private closeOpen(pair: TrafficPair, w: Watch, endMs: number): void {
    const had = w.surgeId ? this.store.brain.getSurge(w.surgeId) : undefined;
    if (had) {
      const actions = [...had.actions];
      if (w.policyId) actions.push({ action: 'policy-withdrawn', policyId: w.policyId });
      if (this.allocation) actions.push(...this.allocation.unspreadAll(had.actions, 'the surge passed'));
      this.store.brain.upsertSurge({ ...had, endMs: had.endMs ?? endMs, actions });
    }
    if (w.surgeId) this.alerts.resolve(ALERT_KINDS.SURGE_DETECTED, w.surgeId, 'surge ended', this.clock());
    if (w.policyId && this.policies.isLive(w.policyId)) this.policies.expire(w.policyId);
    this.logger?.info({ pair, surgeId: w.surgeId, endMs }, 'surge ended');
    w.surgeId = undefined;
    w.policyId = undefined;
  }

  /** Creates (or renews) the surge's dynamic policy; undefined when the pair has no sync task. */
  private dynamicPolicy(pair: TrafficPair, s: Surge, renew: string | undefined): string | undefined {
    const tasks = this.pairTasks(pair);
    if (tasks.length === 0) return undefined;
    const now = this.clock();
    const factor = s.expected > 0 ? Math.min(4, Math.max(2, s.peak / s.expected)) : 4;
    const knobs: PolicyKnobs = {
      transfer: 'open',
      batchRecords: Math.min(100_000, Math.round(this.settings.baseBatchRecords * factor)),
      concurrency: 8,
      pollIntervalMs: SURGE_POLL_INTERVAL_MS,
    };
    const body: PolicyBody = {
      kind: 'dynamic',
      taskIds: tasks.map((t) => t.id),
      validFromMs: now,
      validUntilMs: now + this.settings.dynamicHoldMs,
      windows: [],
      outside: knobs,
      reason: `surge: ${Math.round(s.peak)} records per bucket against ${Math.round(s.expected)} expected (rule ${s.evidence.rule}); batch size ×${factor.toFixed(1)}, every read slot and a read every ${SURGE_POLL_INTERVAL_MS} ms until it passes`,
      evidence: [
        { kind: 'surge', name: 'peak_records', value: s.peak, unit: 'records/bucket' },
        { kind: 'forecast', name: 'expected_records', value: Math.round(s.expected * 10) / 10, unit: 'records/bucket' },
        { kind: 'surge', name: 'rule', text: s.evidence.rule },
        { kind: 'surge', name: 'started', text: new Date(s.startMs).toISOString() },
      ],
    };
    const live = renew !== undefined && this.policies.isLive(renew) ? renew : undefined;
    return (live ? this.policies.replace(live, body, 'brain') : this.policies.create(body, 'brain')).id;
  }

  /** The pair's sync tasks (its provider node's, to its consumer node, of its resource when it names one). */
  private pairTasks(pair: TrafficPair): TaskRecord[] {
    return this.store.tasks
      .forNode(pair.fromNode)
      .filter(
        (t) =>
          t.kind === 'sync' &&
          t.peerNodeId === pair.toNode &&
          (pair.resource === '' || t.resourceCode === pair.resource),
      );
  }

  /** Records per base bucket of a pair over [since, until), dense (no row: no traffic, 0); `fromFirst`: see series. */
  private baseSeries(pair: TrafficPair, since: number, until: number, fromFirst = false): Series {
    const own = this.series('traffic_buckets', this.bucketMs, pair, since, until, fromFirst);
    // While the pair's flow is spread, its standbys carry part of it: their traffic to the consumer is the
    // pair's too (else the spread itself would look like the surge's end, and spread and merge would alternate).
    const standbys = this.allocation?.standbysOf(this.pairTasks(pair).map((t) => t.id)) ?? [];
    for (const fromNode of standbys) {
      const part = this.series('traffic_buckets', this.bucketMs, { ...pair, fromNode }, own.startMs, until, false);
      part.values.forEach((v, i) => (own.values[i] = (own.values[i] ?? 0) + v));
    }
    return own;
  }

  /**
   * Records per bucket of `table` (step = its resolution) over [since, until), dense (no row: no traffic, 0);
   * `fromFirst` (default true for replays): starting at the first bucket with a row (empty when none).
   */
  private series(
    table: 'traffic_buckets' | 'traffic_hourly',
    step: number,
    pair: TrafficPair,
    since: number,
    until: number,
    fromFirst = true,
  ): Series {
    const from = Math.floor(since / step) * step;
    const shared = table === 'traffic_buckets' && !fromFirst ? this.tickBuckets : undefined;
    const rows =
      shared?.rowsOf(keyOf(pair), from, until) ??
      this.store.traffic.read(table, { ...pair, sinceMs: from, untilMs: until }, step);
    const start = fromFirst ? (rows[0]?.startMs ?? until) : from;
    const values = new Array<number>(Math.max(0, Math.ceil((until - start) / step))).fill(0);
    for (const r of rows) {
      const i = Math.round((r.startMs - start) / step);
      if (i >= 0 && i < values.length) values[i] = r.records;
    }
    return { startMs: start, bucketMs: step, values };
  }

  private recordOf(
    pair: TrafficPair,
    s: Surge,
    origin: SurgeOrigin,
    actions: unknown[],
    surgeId = newId('srg'),
  ): SurgeRecord {
    return {
      surgeId,
      ...pair,
      origin,
      startMs: s.startMs,
      endMs: s.endMs,
      detectedAtMs: s.detectedMs,
      peak: s.peak,
      expected: s.expected,
      evidence: s.evidence,
      actions,
    };
  }
}
