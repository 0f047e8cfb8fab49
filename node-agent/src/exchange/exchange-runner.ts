// Exchange task (交换任务), consumer side: receive → verify → write. Registers with the data plane for
// its subscription; each arriving batch is verified against the task's field types (failures are
// quarantined with the reason), then written to the sink together with its sequence in one transaction
// (the sink's ledger: the exactly-once effect). Records the sink's database refuses are quarantined alone.
import type { RecordSink, RefusedRecord, SinkBatch, SinkSession } from '../connectors/types.js';
import { compilePipeline, type Pipeline, type PipelineSpec } from '../pipeline/index.js';
import { checkInbound, termsOf, type AgreementTerms } from '../policy/agreement.js';
import type { DataSpool } from '../spool/data-spool.js';
import type { TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import { unpackRecords, type EnvelopeData, type RecordsPayload } from '../transport/envelope.js';
import type { DataPlane } from './data-plane.js';
import type { Applied, InboundHandler, UnitGroup } from './inbound.js';
import { streamKey } from './progress.js';
import { rewriteQuarantined } from './quarantine-resend.js';
import { RunnerKit, type DataPathContext } from './runner-kit.js';

/** What an exchange runner is given by its factory (runners.ts). */
export interface ExchangeDeps {
  dataPlane: DataPlane;
  /** Where records quarantined on arrival are kept. */
  spool: DataSpool;
  /** The binding's sink; its ledger makes each batch's effect exactly-once. Closed when the runner stops. */
  sink: RecordSink;
  /** Interval of task_run reports (ms). */
  runReportIntervalMs: number;
  /** Called after each batch the sink committed (tests, metrics). */
  onApplied?: (env: EnvelopeData, at: number) => void;
}

/** Rows of a batch that passed verification, with each one's index in the payload. */
interface Verified {
  rows: unknown[][];
  ops: ('u' | 'd')[];
  origIndex: number[];
  quarantined: number;
}

/** What one batch did inside a sink session, and what to count once the session commits. */
interface Written {
  applied: Applied;
  committed?: () => void;
}

const GAP: Written = { applied: { status: 'refused', written: 0, quarantined: 0, reason: 'gap' } };
const DUPLICATE: Written = { applied: { status: 'duplicate', written: 0, quarantined: 0 } };

class ExchangeTask implements InboundHandler {
  readonly kit: RunnerKit;
  readonly verifier: Pipeline;
  private readonly terms: AgreementTerms;
  private readonly traffic: DataPathContext['traffic'];
  lastLagMs = 0;
  /** When each kind of problem was last reported (events at most every 10 s / 60 s). */
  private readonly lastReportAt = { refusal: 0, sinkRefusal: 0, sinkError: 0 };

  constructor(
    private readonly task: TaskAssignment,
    ctx: DataPathContext,
    private readonly deps: ExchangeDeps,
  ) {
    const params = task.params as PipelineSpec;
    // The consumer verifies types and required fields; it does not mask again (the provider did).
    this.verifier = compilePipeline({
      ...params,
      fields: (params.fields ?? []).map((f) => ({ ...f, name: f.as ?? f.name, as: f.as ?? f.name, mask: undefined })),
    });
    this.terms = termsOf(task.params);
    this.traffic = ctx.traffic;
    this.kit = new RunnerKit(task, ctx, () => this.lastLagMs);
  }

  lastSequence(stream: string): Promise<number> {
    return this.deps.sink.lastSequence(stream);
  }

  /** The flow's provider, or a node central assigned a shard of it to (dynamic node allocation). */
  acceptsFrom(nodeId: string): boolean {
    const { peerNodeId, sourceNodes } = this.task;
    return !peerNodeId || nodeId === peerNodeId || (sourceNodes ?? []).includes(nodeId);
  }

  /** One batch in a session of its own (a unit outside a group). */
  async handle(env: EnvelopeData): Promise<Applied> {
    const g = await this.openGroup(streamKey(env.sourceNodeId, env.taskId, env.streamEpoch));
    const applied = await g.add(env);
    await g.commit();
    return applied;
  }

  /** Batches of one stream in one sink transaction (group commit); counted once it commits. */
  async openGroup(stream: string): Promise<UnitGroup> {
    const session = await this.sinkCall(() => this.deps.sink.begin(stream));
    const committed: (() => void)[] = [];
    return {
      add: async (env) => {
        let w: Written;
        try {
          w = await this.write(env, session);
        } catch (err) {
          // Whatever failed (the sink, or the quarantine before it), the group is over: its transaction
          // must not stay open, holding the sink's turn.
          await session.abort();
          throw err;
        }
        if (w.committed) committed.push(w.committed);
        return w.applied;
      },
      commit: async () => {
        await this.sinkCall(() => session.commit());
        for (const f of committed) f();
      },
    };
  }

  /** Decodes, checks and verifies one batch and applies it in `session`. */
  private async write(env: EnvelopeData, session: SinkSession): Promise<Written> {
    let payload: RecordsPayload;
    try {
      payload = unpackRecords(env.payload, env.compression);
    } catch (err) {
      return this.undecodable(env, session, err as Error);
    }
    const refusal = checkInbound(this.terms, env.agreementId, payload.columns);
    if (refusal) return { applied: this.refuse(env, refusal) };
    const v = this.verify(env, payload);
    let refusedCount = 0;
    const onRefused = (refused: RefusedRecord[]): void => {
      refusedCount = refused.length;
      this.sinkRefused(env, payload, v, refused);
    };
    const batch: SinkBatch = { batchId: env.batchId, columns: payload.columns, rows: v.rows, ops: v.ops };
    const outcome = await this.sinkCall(() => session.apply(env.sequence, batch, { onRefused }));
    if (outcome === 'gap') return GAP;
    if (outcome === 'duplicate') return DUPLICATE;
    const written = v.rows.length - refusedCount;
    const quarantined = v.quarantined + refusedCount;
    return {
      applied: { status: 'committed', written, quarantined },
      committed: () => {
        const at = Date.now();
        this.kit.counters.records += written;
        this.kit.counters.batches++;
        this.kit.counters.bytes += env.payload.length;
        this.kit.counters.quarantined += quarantined;
        this.lastLagMs = at - env.createdAtMs;
        this.traffic?.committed(env.sourceNodeId, env.resourceCode, {
          records: written,
          bytes: env.payload.length,
          errors: quarantined,
          createdAtMs: env.createdAtMs,
        });
        this.deps.onApplied?.(env, at);
      },
    };
  }

  /**
   * The checksum matched, so this is what the provider sent: re-sending cannot fix it. Keep it in
   * quarantine whole and move the stream on, so one bad batch does not block the ones after it.
   */
  private async undecodable(env: EnvelopeData, session: SinkSession, err: Error): Promise<Written> {
    this.deps.spool.addQuarantine(
      this.task.id,
      'consumer',
      {
        origin: env.batchId,
        rowIndex: -1,
        reason: `undecodable batch: ${err.message}`,
        record: { payload: env.payload },
      },
      Date.now(),
    );
    const empty: SinkBatch = { batchId: env.batchId, columns: [], rows: [], ops: [] };
    const outcome = await this.sinkCall(() => session.apply(env.sequence, empty));
    if (outcome === 'gap') return GAP;
    return {
      applied: {
        status: outcome === 'applied' ? 'committed' : 'duplicate',
        written: 0,
        quarantined: env.recordCount,
      },
      committed: () => {
        this.kit.counters.quarantined += env.recordCount;
        if (outcome === 'applied') this.traffic?.refused(env.sourceNodeId, env.resourceCode, env.recordCount);
      },
    };
  }

  private refuse(env: EnvelopeData, refusal: string): Applied {
    this.kit.failed(refusal);
    this.traffic?.refused(env.sourceNodeId, env.resourceCode, env.recordCount);
    if (Date.now() - this.lastReportAt.refusal > 10_000) {
      this.lastReportAt.refusal = Date.now();
      this.kit.log.warn(
        { batchId: env.batchId, source: env.sourceNodeId, reason: refusal },
        'batch refused: not covered by the agreement this node holds',
      );
      this.kit.event('warn', 'BATCH_REFUSED', refusal);
    }
    return { status: 'refused', written: 0, quarantined: 0, reason: refusal };
  }

  /** Verifies upserts against the field specs; failures are quarantined with the reason. */
  private verify(env: EnvelopeData, payload: RecordsPayload): Verified {
    const out: Verified = { rows: [], ops: [], origIndex: [], quarantined: 0 };
    const now = Date.now();
    for (let i = 0; i < payload.rows.length; i++) {
      const op = payload.ops?.[i] ?? 'u';
      const row = payload.rows[i]!;
      if (op === 'u') {
        const v = this.verifier.verify(payload.columns, row);
        if (!v.ok) {
          this.quarantine(env, payload, i, v.reason, now, v.field);
          out.quarantined++;
          continue;
        }
        out.rows.push(v.values);
      } else out.rows.push(row);
      out.ops.push(op);
      out.origIndex.push(i);
    }
    return out;
  }

  private quarantine(
    env: EnvelopeData,
    payload: RecordsPayload,
    i: number,
    reason: string,
    at: number,
    field?: string,
  ): void {
    const row = payload.rows[i]!;
    const record = Object.fromEntries(payload.columns.map((c, j) => [c, row[j]]));
    this.deps.spool.addQuarantine(
      this.task.id,
      'consumer',
      { origin: env.batchId, rowIndex: i, reason, field, record },
      at,
    );
  }

  /**
   * Records the sink's database refuses (NUL in text, NOT NULL, out of range…) are quarantined here, with
   * the database's reason, before the sink commits the rest of the batch; the stream goes on.
   */
  private sinkRefused(env: EnvelopeData, payload: RecordsPayload, v: Verified, refused: RefusedRecord[]): void {
    const at = Date.now();
    for (const r of refused)
      this.quarantine(env, payload, v.origIndex[r.index]!, `sink refused the record: ${r.reason}`, at);
    if (at - this.lastReportAt.sinkRefusal > 10_000) {
      this.lastReportAt.sinkRefusal = at;
      const message = `the sink refused ${refused.length} record(s) of batch ${env.batchId}; quarantined: ${refused[0]!.reason}`;
      this.kit.log.warn(
        { batchId: env.batchId, refused: refused.length, reason: refused[0]!.reason },
        'sink refused records; quarantined, the rest written',
      );
      this.kit.event('warn', 'SINK_REFUSED_RECORDS', message);
    }
  }

  /** A call into the sink; a failing sink throws (the data plane redelivers with a growing delay), reported. */
  private async sinkCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.kit.failed((err as Error).message);
      if (Date.now() - this.lastReportAt.sinkError > 60_000) {
        this.lastReportAt.sinkError = Date.now();
        this.kit.event('error', 'SINK_FAILING', `writing to the sink fails: ${(err as Error).message}`);
      }
      throw err;
    }
  }
}

export function createExchangeRunner(task: TaskAssignment, ctx: DataPathContext, deps: ExchangeDeps): TaskRunner {
  if (!task.subscriptionId) throw new Error('exchange task has no subscription id');
  const { dataPlane, spool, sink } = deps;
  const t = new ExchangeTask(task, ctx, deps);
  dataPlane.registerInbound(task.subscriptionId, t);
  if (task.peerNodeId) dataPlane.registerQueryTarget(task.subscriptionId, task.peerNodeId);
  t.kit.log.info({ subscriptionId: task.subscriptionId }, 'exchange task receiving');
  rewriteQuarantined(task, spool, t.kit, t.verifier, sink);
  t.kit.startReports(deps.runReportIntervalMs);
  return {
    lag: () => ({ lagMs: t.lastLagMs, pendingBatches: 0 }),
    async stop() {
      await t.kit.stop();
      dataPlane.unregisterInbound(task.subscriptionId);
      dataPlane.unregisterQueryTarget(task.subscriptionId);
      t.kit.report();
      await sink.close();
    },
  };
}
