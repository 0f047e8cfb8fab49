// Sync task (同步任务), provider side: read → process → spool → send. Each step reads a page from the
// source, runs it through the pipeline, and commits the resulting batches (batch.ts), the quarantined
// records and the advanced cursor in one spool transaction; the data plane's publisher sends from the
// outbox. A full outbox pauses reading (back-pressure) and raises an event; nothing is dropped.
//
// Invariants: the spool assigns every batch's sequence (commitStep); an idle poll (nothing read) commits
// nothing; at most two read slots of the agent are held at once (read-slots.ts). The knobs of the task's
// policies (策略: batch records, read slots per step, transfer window, poll interval) are read before every
// step, so a window edge or a new policy applies without a restart; a closed transfer window holds reading
// (batches already in the outbox still go) until the next edge or a change of the policies.
import { sleep } from '../backoff.js';
import type { RecordSource } from '../connectors/types.js';
import { compilePipeline, type Pipeline, type PipelineSpec } from '../pipeline/index.js';
import { checkOutbound, termsOf, type AgreementTerms } from '../policy/agreement.js';
import { ReconcileProvider, type RepairRows } from '../reconcile/provider.js';
import type { DataSpool, NewQuarantine, TaskState } from '../spool/data-spool.js';
import type { TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import type { UnsequencedBatch } from '../spool/data-spool.js';
import { addressing, forOutbox, packRun, type RecordRun } from './batch.js';
import type { DataPlane } from './data-plane.js';
import { readSlots } from './read-slots.js';
import { TaskKnobs } from './task-knobs.js';
import { AgreementGate, RunnerKit, type DataPathContext } from './runner-kit.js';
import { processPage, queryAnswerer, reportFuture, futureRow, type Page } from './sync-steps.js';
import { resendQuarantined } from './quarantine-resend.js';
import { ShardRole } from './shard-role.js';

export { futureRow } from './sync-steps.js';

/** Batches read and committed per step of a sync task. */
const STEP_BATCHES = 8;

export interface SyncSettings {
  /** Records per batch, unless the task sets batchRecords. */
  batchRecords: number;
  /** Payload bytes per batch at most (also capped by the broker's max payload less 16 KiB). */
  maxBatchBytes: number;
  /** Wait after the source is read to its end (ms), unless the task sets its own. */
  pollIntervalMs: number;
  /** Outbox quota: batches of all tasks; reading pauses above it. */
  outboxMaxBatches: number;
  /** Outbox quota: bytes of all tasks; reading pauses above it. */
  outboxMaxBytes: number;
  /** Interval of task_run reports (ms). */
  runReportIntervalMs: number;
  /** How far a cursor date-time may lie ahead of this machine's clock before its row is held (ms). */
  cursorSkewMs: number;
}

export interface SyncParams extends PipelineSpec {
  batchRecords?: number;
  pollIntervalMs?: number;
}

/** What a sync runner is given by its factory (runners.ts). */
export interface SyncDeps {
  dataPlane: DataPlane;
  spool: DataSpool;
  /** The binding's source, read by cursor; closed when the runner stops. */
  source: RecordSource;
  settings: SyncSettings;
  /** The binding shares only under an agreement (default false). */
  requireAgreement?: boolean;
  /** Opens the binding for a full key-order read (reconciliation); without it the task answers no reconciliation. */
  openScanSource?: () => RecordSource;
}

/** Whether reading goes on: 'reading', or paused for a full outbox (reported once per spell). */
type Flow = 'reading' | 'outbox-full';

class SyncTask {
  readonly kit: RunnerKit;
  private readonly params: SyncParams;
  private readonly pipeline: Pipeline;
  private readonly terms: AgreementTerms;
  private readonly gate: AgreementGate;
  private readonly reconcile: ReconcileProvider | undefined;
  /** Records per batch now: the policy's knob, else the task's own (params, then settings). */
  private batchRecords: number;
  private readonly ownBatchRecords: number;
  /** Read slots taken per step now (policy concurrency; 1 without one); one page read per slot. */
  private slots = 1;
  private readonly knobs: TaskKnobs;
  private readonly subject: string;
  private flow: Flow = 'reading';
  /** The task's part in a spread flow (dynamic node allocation), if it is spread. */
  private readonly shard: ShardRole | undefined;

  constructor(
    private readonly task: TaskAssignment,
    ctx: DataPathContext,
    private readonly deps: SyncDeps,
  ) {
    if (!task.peerNodeId) throw new Error('sync task has no destination node (peerNodeId)');
    if (!task.subscriptionId) throw new Error('sync task has no subscription id');
    this.params = task.params as SyncParams;
    this.pipeline = compilePipeline(this.params);
    this.terms = termsOf(task.params);
    const refusal = checkOutbound(task.binding, deps.requireAgreement ?? false, this.terms, this.pipeline.columns);
    if (refusal) throw new Error(refusal);
    // Knowable in advance: a record limit above what the exchange center carries would let through records
    // that can never be published.
    const brokerMax = deps.dataPlane.knownMaxPayload();
    if (brokerMax !== undefined && (this.params.maxRecordBytes ?? 64 * 1024) > brokerMax - 16 * 1024)
      throw new Error(
        `maxRecordBytes ${this.params.maxRecordBytes} is above what the exchange center carries (max_payload ${brokerMax} bytes, less 16 KiB for the envelope)`,
      );
    if (task.shard && !deps.source.shardable)
      throw new Error(
        `binding ${task.binding} cannot be spread over several agents: only an incremental SQL source (cursor) can`,
      );
    this.shard = task.shard && new ShardRole(task.id, task.shard, deps.spool, (b) => ctx.report('shard', { ...b }));
    this.kit = new RunnerKit(task, ctx, () => this.lag().lagMs);
    this.gate = new AgreementGate(this.terms, this.kit);
    this.ownBatchRecords = this.batchRecords = this.params.batchRecords ?? deps.settings.batchRecords;
    this.knobs = new TaskKnobs(ctx.policies, task.id, this.kit);
    this.subject = deps.dataPlane.subjects.data(task.peerNodeId, task.id);
    deps.dataPlane.registerOutbound(task.id, {
      destinationNodeId: task.peerNodeId,
      subscriptionId: task.subscriptionId,
    });
    // Online query: the same fields, filters and masking as the batches of this subscription.
    deps.dataPlane.registerQuery(task.subscriptionId, queryAnswerer(task, this.params, this.pipeline, deps.source));
    // Reconciliation (对账): the consumer's digest and row questions are answered from a key-order read of
    // the source; the repairs it asks for are committed by this loop into this task's stream (see
    // reconcile/provider.ts for why here).
    const { openScanSource } = deps;
    this.reconcile =
      openScanSource &&
      new ReconcileProvider({
        task: { id: task.id, subscriptionId: task.subscriptionId, peerNodeId: task.peerNodeId },
        params: this.params,
        pipeline: this.pipeline,
        source: deps.source,
        openScan: openScanSource,
        dataPlane: deps.dataPlane,
        log: this.kit.log,
      });
  }

  lag(): { lagMs: number; pendingBatches: number } {
    const d = this.deps.spool.depthOf(this.task.id);
    return { lagMs: d.oldestAt ? Date.now() - d.oldestAt : 0, pendingBatches: d.batches };
  }

  /** Runs of rows → batches for the outbox (sequences assigned by the spool when committed). */
  batches(runs: readonly RecordRun[]): UnsequencedBatch[] {
    const bytes = Math.min(this.deps.settings.maxBatchBytes, this.deps.dataPlane.maxPayload() - 16 * 1024);
    const addr = addressing(this.task, this.deps.dataPlane.nodeId, this.terms.agreementId);
    const packed = runs.flatMap((run) => packRun(run, { records: this.batchRecords, bytes }));
    return packed.map((p) => forOutbox(p, addr, this.subject));
  }

  /** Commits a reconciliation repair into this task's stream. */
  commitRepair = (state: TaskState, part: RepairRows): TaskState => {
    const batches = this.batches([part]);
    const next = this.deps.spool.commitStep(state, { cursor: state.cursor, batches, quarantine: [] }, Date.now());
    this.kit.counters.records += part.rows.length;
    this.kit.counters.batches += batches.length;
    this.deps.dataPlane.notify();
    return next.state;
  };

  /** Whether reading may go on: the agreement holds and the outbox has room (reported on each change). */
  private mayRead(): boolean {
    if (!this.gate.open(Date.now())) return false;
    const { settings, spool } = this.deps;
    const d = spool.depth();
    const full = d.batches >= settings.outboxMaxBatches || d.bytes >= settings.outboxMaxBytes;
    if (full && this.flow === 'reading') {
      this.flow = 'outbox-full';
      this.kit.log.warn({ depth: d }, 'spool full: reading paused until receipts free space');
      this.kit.event('warn', 'SPOOL_FULL', 'spool outbox quota reached; reading paused');
    } else if (!full && this.flow === 'outbox-full') {
      this.flow = 'reading';
      this.kit.log.info('spool has room again: reading resumed');
      this.kit.event('info', 'SPOOL_RESUMED', 'spool below quota; reading resumed');
    }
    return !full;
  }

  /** One page of at most `limit` rows, up to a row whose cursor lies in the future (held until its time, reported meanwhile). */
  private async readPage(cursor: TaskState['cursor'], limit: number): Promise<Page> {
    const { source, settings } = this.deps;
    const page = await source.read(cursor, limit);
    // A row whose cursor value lies in the future (a wrong clock, a typo) must not move the cursor past
    // rows that will later be written with correct values: read only up to it.
    const held = futureRow(page.rows, source.cursorColumn, Date.now() + settings.cursorSkewMs);
    if (held === undefined) return page;
    reportFuture(this.kit, source, page.rows[held]!, settings.cursorSkewMs);
    return held === 0
      ? { rows: [], ops: [], cursor, exhausted: true }
      : { ...(await source.read(cursor, held)), exhausted: true };
  }

  /**
   * Reads, processes and commits one step: up to STEP_BATCHES pages per read slot, each a batch's worth,
   * committed together (one fsync per step, not per batch; a trickle still goes out at once, as a short page
   * ends the step). Each page is packed before the next is read, so only one batch's rows are alive at a
   * time: a whole step's rows read at once outlived the young generation's collections, and copying them
   * cost the provider a quarter of its time. Returns the new state and whether the source is exhausted.
   */
  async step(state: TaskState): Promise<{ state: TaskState; exhausted: boolean }> {
    const { spool, source, dataPlane } = this.deps;
    const quarantine: NewQuarantine[] = [];
    const batches: UnsequencedBatch[] = [];
    let cursor = state.cursor;
    let read = 0;
    let kept = 0;
    let exhausted = false;
    for (let p = 0; p < STEP_BATCHES * this.slots && !exhausted; p++) {
      const page = await this.readPage(cursor, this.batchRecords);
      const r = processPage(this.pipeline, page, `cursor:${JSON.stringify(cursor)}`, quarantine);
      batches.push(...this.batches(r.runs));
      read += page.rows.length;
      kept += r.kept;
      cursor = page.cursor;
      exhausted = page.exhausted;
    }
    const restart = exhausted && source.mode === 'full';
    // An idle poll (nothing read) changes nothing: no transaction, no fsync competing with other work.
    let next = state;
    if (read > 0 || restart) {
      const committed = spool.commitStep(
        state,
        { cursor: restart ? null : cursor, ...(restart && { passes: state.passes + 1 }), batches, quarantine },
        Date.now(),
      );
      next = committed.state;
      this.kit.counters.bytes += committed.bytes;
    }
    this.kit.counters.records += kept;
    this.kit.counters.batches += batches.length;
    this.kit.counters.quarantined += quarantine.length;
    if (batches.length) dataPlane.notify();
    return { state: next, exhausted };
  }

  async loop(): Promise<void> {
    const signal = this.kit.signal;
    let state = this.deps.spool.taskState(this.task.id, Date.now());
    state = this.resend(state);
    const ownPollMs = this.task.intervalMs || this.params.pollIntervalMs || this.deps.settings.pollIntervalMs;
    let failures = 0;
    while (!signal.aborted) {
      const { knobs, nextChangeMs } = this.knobs.now();
      this.batchRecords = knobs.batchRecords ?? this.ownBatchRecords;
      this.slots = knobs.concurrency ?? 1;
      if (!this.mayRead()) {
        await sleep(this.flow === 'outbox-full' ? 100 : 1_000, signal);
        continue;
      }
      let release: (() => void) | undefined;
      try {
        if (this.reconcile && this.shard)
          this.reconcile.refuseRepairs('the flow is spread over several agents: repairs wait until it is merged back');
        else if (this.reconcile) state = await this.reconcile.commitRepairs(state, this.commitRepair);
        if (this.shard) {
          const t = this.shard.tick(state, Date.now());
          state = t.state;
          if (!t.read) {
            // A withdrawn standby waits for its receipts (or a standby for its start): look again shortly.
            await sleep(200, signal);
            continue;
          }
        }
        if (knobs.transfer === 'closed') {
          // Outside the transfer window: wait for its edge or a new policy (at most a minute, then look again).
          await this.knobs.sleep(60_000, signal, nextChangeMs);
          continue;
        }
        release = await readSlots.acquire(signal, this.slots);
        if (!release) break;
        const r = await this.step(state);
        state = r.state;
        release();
        release = undefined;
        failures = 0;
        if (r.exhausted)
          await this.knobs.sleep(
            knobs.pollIntervalMs ?? ownPollMs,
            this.reconcile ? this.reconcile.wakeSignal(signal) : signal,
            nextChangeMs,
          );
        // Reading is synchronous: yield to the event loop so publishes and receipts interleave with it.
        else await new Promise((resolve) => setImmediate(resolve));
      } catch (err) {
        release?.();
        release = undefined;
        this.sourceFailed(err as Error, ++failures);
        await sleep(Math.min(30_000, 500 * failures), signal);
      }
    }
  }

  private sourceFailed(err: Error, failures: number): void {
    this.kit.failed(err.message);
    if (failures === 1 || failures % 30 === 0) {
      this.kit.log.warn({ err: err.message, failures }, 'reading the source failed; retrying');
      this.kit.event(
        'error',
        'SOURCE_FAILING',
        `reading the source fails (${failures} time(s) in a row): ${err.message}`,
      );
    }
  }

  /** The operator's quarantine re-send, if the task carries one not yet carried out. */
  private resend(state: TaskState): TaskState {
    try {
      return resendQuarantined(
        this.task,
        this.deps.spool,
        this.kit,
        this.pipeline,
        state,
        (s, runs) =>
          this.deps.spool.commitStep(s, { cursor: s.cursor, batches: this.batches(runs), quarantine: [] }, Date.now())
            .state,
        () => this.deps.dataPlane.notify(),
      );
    } catch (err) {
      this.kit.log.error({ err: (err as Error).message }, 'quarantine re-send failed');
      return state;
    }
  }

  async stop(running: Promise<void>, graceMs: number): Promise<void> {
    const stopped = this.kit.stop();
    await Promise.race([Promise.all([running, stopped]), sleep(graceMs)]);
    this.kit.report();
    this.deps.dataPlane.unregisterOutbound(this.task.id);
    this.deps.dataPlane.unregisterQuery(this.task.subscriptionId);
    this.reconcile?.close();
    await this.deps.source.close();
  }
}

export function createSyncRunner(task: TaskAssignment, ctx: DataPathContext, deps: SyncDeps): TaskRunner {
  const t = new SyncTask(task, ctx, deps);
  t.kit.startReports(deps.settings.runReportIntervalMs);
  const running = t.loop();
  return { lag: () => t.lag(), stop: (graceMs) => t.stop(running, graceMs) };
}
