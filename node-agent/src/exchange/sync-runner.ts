// Sync task (同步任务), provider side: read → process → spool → send. Each step reads a page from the
// source, runs it through the pipeline, and commits the resulting batches, the quarantined records and
// the advanced cursor in one spool transaction; the data plane's publisher sends from the outbox.
// A full outbox pauses reading (back-pressure) and raises an event; nothing is dropped.
import { sleep } from '../backoff.js';
import type { RecordSource } from '../connectors/types.js';
import { compilePipeline, type PipelineSpec } from '../pipeline/index.js';
import type { DataSpool, NewQuarantine, TaskState } from '../spool/data-spool.js';
import type { RunnerContext, TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import { encodeEnvelope, packRecords, sha256, type EnvelopeData } from '../transport/envelope.js';
import { addressing, type DataPlane } from './data-plane.js';
import { RunCounters } from './run-counters.js';
import { checkOutbound, expired, termsOf } from '../policy/agreement.js';

/** Batches read and committed per step of a sync task. */
const STEP_BATCHES = 8;

export interface SyncSettings {
  batchRecords: number;
  maxBatchBytes: number;
  pollIntervalMs: number;
  outboxMaxBatches: number;
  outboxMaxBytes: number;
  runReportIntervalMs: number;
}

export interface SyncParams extends PipelineSpec {
  batchRecords?: number;
  pollIntervalMs?: number;
}

export function createSyncRunner(
  task: TaskAssignment,
  ctx: RunnerContext,
  deps: { dataPlane: DataPlane; spool: DataSpool; source: RecordSource; settings: SyncSettings; requireAgreement?: boolean },
): TaskRunner {
  if (!task.peerNodeId) throw new Error('sync task has no destination node (peerNodeId)');
  if (!task.subscriptionId) throw new Error('sync task has no subscription id');
  const params = task.params as SyncParams;
  const pipeline = compilePipeline(params);
  const terms = termsOf(task.params);
  const refusal = checkOutbound(task.binding, deps.requireAgreement ?? false, terms, pipeline.columns);
  if (refusal) throw new Error(refusal);
  const { dataPlane, spool, source, settings } = deps;
  const log = ctx.logger.child({ taskId: task.id });
  const counters = new RunCounters(task.id);
  const abort = new AbortController();
  const batchRecords = params.batchRecords ?? settings.batchRecords;
  const pollMs = task.intervalMs || params.pollIntervalMs || settings.pollIntervalMs;
  const subject = dataPlane.subjects.data(task.peerNodeId, task.id);
  dataPlane.registerOutbound(task.id, { destinationNodeId: task.peerNodeId, subscriptionId: task.subscriptionId });
  // Online query: the same fields, filters and masking as the batches of this subscription.
  const sourceName = new Map((params.fields ?? []).map((f) => [f.as ?? f.name, f.name]));
  dataPlane.registerQuery(task.subscriptionId, async (q) => {
    if (q.requester !== task.peerNodeId) return { ok: false, error: `node ${q.requester} does not hold subscription ${task.subscriptionId}` };
    const entries = Object.entries(q.key ?? {});
    if (entries.length !== 1) return { ok: false, error: 'a query names exactly one key field' };
    const [field, value] = entries[0]!;
    const column = sourceName.get(field) ?? field;
    let row: Record<string, unknown> | undefined;
    try {
      row = await source.lookup({ [column]: value });
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    if (!row) return { ok: true, found: false };
    const r = pipeline.process(row);
    if (r.ok === 'skip') return { ok: true, found: false };
    if (r.ok === false) return { ok: false, error: `record fails validation: ${r.reason}` };
    const columns = pipeline.columns ?? Object.keys(row);
    return { ok: true, found: true, record: Object.fromEntries(columns.map((c, i) => [c, r.values[i]])) };
  });

  const buildBatches = (state: TaskState, columns: string[], rows: unknown[][], ops: ('u' | 'd')[]) => {
    const maxBytes = Math.min(settings.maxBatchBytes, dataPlane.maxPayload() - 16 * 1024);
    const out: { batchId: string; subject: string; envelope: Uint8Array; records: number; raw: number }[] = [];
    const emit = (from: number, to: number): void => {
      const slice = rows.slice(from, to);
      const sliceOps = ops.slice(from, to);
      const packed = packRecords({ columns, rows: slice, ...(sliceOps.some((o) => o === 'd') && { ops: sliceOps }) });
      if (packed.payload.length > maxBytes && to - from > 1) {
        const mid = from + Math.floor((to - from) / 2);
        emit(from, mid);
        emit(mid, to);
        return;
      }
      const sequence = state.nextSequence + out.length;
      const env: EnvelopeData = {
        ...addressing(task, dataPlane.nodeId, terms.agreementId),
        batchId: `b-${task.id}-${state.epoch}-${sequence}`,
        sequence,
        recordCount: slice.length,
        compression: packed.compression,
        payloadKind: 'PAYLOAD_KIND_RECORDS',
        payload: packed.payload,
        payloadSha256: sha256(packed.payload),
        streamEpoch: state.epoch,
      };
      out.push({ batchId: env.batchId, subject, envelope: encodeEnvelope(env), records: slice.length, raw: packed.rawBytes });
    };
    if (rows.length) emit(0, rows.length);
    return out;
  };

  let full = false;
  const outboxFull = (): boolean => {
    const d = spool.depth();
    return d.batches >= settings.outboxMaxBatches || d.bytes >= settings.outboxMaxBytes;
  };

  /**
   * Re-sends quarantined records after a fix (the operator's `xchg task resend-quarantine`, carried as
   * params._resendQuarantine): each is run through the current pipeline; those that now pass go out in
   * a batch, committed with their "resent" marks in one transaction; the rest stay quarantined.
   */
  const resendQuarantined = (state: TaskState): TaskState => {
    const requested = Number((task.params as { _resendQuarantine?: unknown })._resendQuarantine ?? 0);
    if (!requested || requested <= spool.resendMark(task.id)) return state;
    const rows = spool.quarantined(task.id, { limit: 100_000 }).filter((q) => q.side === 'provider');
    const values: unknown[][] = [];
    const ids: number[] = [];
    let columns = pipeline.columns;
    for (const q of rows) {
      const r = pipeline.process(q.record);
      if (r.ok !== true) continue;
      columns ??= Object.keys(q.record);
      values.push(r.values);
      ids.push(q.id);
    }
    const next = spool.transaction(() => {
      const batches = buildBatches(state, columns ?? [], values, values.map(() => 'u' as const));
      const s2 = spool.commitStep(state, { cursor: state.cursor, batches, quarantine: [] }, Date.now());
      spool.markResent(ids, Date.now());
      spool.setResendMark(task.id, requested);
      return s2;
    });
    log.info({ resent: ids.length, stillFailing: rows.length - ids.length }, 'quarantined records re-sent');
    ctx.report('quarantine', { taskId: task.id, count: 0, byReason: {}, records: [], resentIds: ids });
    counters.records += ids.length;
    dataPlane.notify();
    return next;
  };

  const loop = async (): Promise<void> => {
    const signal = abort.signal;
    let state = spool.taskState(task.id, Date.now());
    try {
      state = resendQuarantined(state);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'quarantine re-send failed');
    }
    let failures = 0;
    while (!signal.aborted) {
      if (expired(terms, Date.now())) {
        if (!full) {
          full = true;
          log.warn({ agreementId: terms.agreementId }, 'agreement expired: sending stopped');
          ctx.report('event', { severity: 'warn', code: 'AGREEMENT_EXPIRED', message: `agreement ${terms.agreementId} expired; nothing more is sent`, taskId: task.id });
        }
        await sleep(1_000, signal);
        continue;
      }
      if (outboxFull()) {
        if (!full) {
          full = true;
          log.warn({ depth: spool.depth() }, 'spool full: reading paused until receipts free space');
          ctx.report('event', { severity: 'warn', code: 'SPOOL_FULL', message: 'spool outbox quota reached; reading paused', taskId: task.id });
        }
        await sleep(100, signal);
        continue;
      }
      if (full) {
        full = false;
        log.info('spool has room again: reading resumed');
        ctx.report('event', { severity: 'info', code: 'SPOOL_RESUMED', message: 'spool below quota; reading resumed', taskId: task.id });
      }
      try {
        // One step reads several batches' worth and commits them together: one fsync per step, not per
        // batch. A trickle still goes out at once (a short page is a short step).
        const page = await source.read(state.cursor, batchRecords * STEP_BATCHES);
        const rows: unknown[][] = [];
        const ops: ('u' | 'd')[] = [];
        const quarantine: NewQuarantine[] = [];
        const origin = `cursor:${JSON.stringify(state.cursor)}`;
        let columns = pipeline.columns;
        for (let i = 0; i < page.rows.length; i++) {
          const row = page.rows[i]!;
          const error = page.errors?.[i];
          if (error !== undefined) {
            quarantine.push({ origin, rowIndex: i, reason: error, record: row });
            continue;
          }
          const r = pipeline.process(row);
          if (r.ok === 'skip') continue;
          if (r.ok === false) {
            quarantine.push({ origin, rowIndex: i, reason: r.reason, field: r.field, record: row });
            continue;
          }
          columns ??= Object.keys(row);
          rows.push(r.values);
          ops.push(page.ops[i] ?? 'u');
        }
        const batches: ReturnType<typeof buildBatches> = [];
        for (let i = 0; i < rows.length; i += batchRecords) {
          const part = buildBatches({ ...state, nextSequence: state.nextSequence + batches.length }, columns ?? [], rows.slice(i, i + batchRecords), ops.slice(i, i + batchRecords));
          batches.push(...part);
        }
        const exhausted = page.exhausted;
        const restart = exhausted && source.mode === 'full';
        // An idle poll (nothing read) changes nothing: no transaction, no fsync competing with other work.
        if (page.rows.length > 0 || restart)
          state = spool.commitStep(
            state,
            { cursor: restart ? null : page.cursor, ...(restart && { passes: state.passes + 1 }), batches, quarantine: quarantine.map((q) => ({ ...q, record: jsonSafe(q.record) })) },
            Date.now(),
          );
        counters.records += rows.length;
        counters.batches += batches.length;
        counters.bytes += batches.reduce((n, b) => n + b.envelope.byteLength, 0);
        counters.quarantined += quarantine.length;
        if (batches.length) dataPlane.notify();
        failures = 0;
        if (exhausted) await sleep(pollMs, signal);
        // Reading is synchronous: yield to the event loop so publishes and receipts interleave with it.
        else await new Promise((r) => setImmediate(r));
      } catch (err) {
        failures++;
        counters.errors++;
        counters.lastError = (err as Error).message;
        if (failures === 1 || failures % 30 === 0) log.warn({ err: (err as Error).message }, 'reading the source failed; retrying');
        await sleep(Math.min(30_000, 500 * failures), signal);
      }
    }
  };

  const reporter = async (): Promise<void> => {
    while (await sleep(settings.runReportIntervalMs, abort.signal)) report();
  };
  const report = (): void => {
    const body = counters.take(lag().lagMs);
    if (body) ctx.report('task_run', body);
  };
  const lag = (): { lagMs: number; pendingBatches: number } => {
    const d = spool.depthOf(task.id);
    return { lagMs: d.oldestAt ? Date.now() - d.oldestAt : 0, pendingBatches: d.batches };
  };

  const running = Promise.all([loop(), reporter()]);
  return {
    lag,
    async stop(graceMs: number) {
      abort.abort();
      await Promise.race([running, sleep(graceMs)]);
      report();
      dataPlane.unregisterOutbound(task.id);
      dataPlane.unregisterQuery(task.subscriptionId);
      await source.close();
    },
  };
}

/** Source rows may hold bigint or binary values; quarantine keeps them as JSON-safe text. */
function jsonSafe(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    out[k] = typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? { base64: v.toString('base64') } : v;
  return out;
}
