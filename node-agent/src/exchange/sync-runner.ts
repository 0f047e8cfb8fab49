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
import { readSlots } from './read-slots.js';
import { RunCounters } from './run-counters.js';
import { checkOutbound, expired, termsOf } from '../policy/agreement.js';
import { ReconcileProvider, type RepairRows } from '../reconcile/provider.js';
import { fromDriver, parseDateTime, Temporal, temporalEpochMs, type Value } from '../values/value.js';
import { recordFromWire, recordToWire } from '../values/wire.js';

/** Batches read and committed per step of a sync task. */
const STEP_BATCHES = 8;

export interface SyncSettings {
  batchRecords: number;
  maxBatchBytes: number;
  pollIntervalMs: number;
  outboxMaxBatches: number;
  outboxMaxBytes: number;
  runReportIntervalMs: number;
  /** How far a cursor date-time may lie ahead of this machine's clock before its row is held. */
  cursorSkewMs: number;
}

export interface SyncParams extends PipelineSpec {
  batchRecords?: number;
  pollIntervalMs?: number;
}

export function createSyncRunner(
  task: TaskAssignment,
  ctx: RunnerContext,
  deps: { dataPlane: DataPlane; spool: DataSpool; source: RecordSource; settings: SyncSettings; requireAgreement?: boolean; openScanSource?: () => RecordSource },
): TaskRunner {
  if (!task.peerNodeId) throw new Error('sync task has no destination node (peerNodeId)');
  if (!task.subscriptionId) throw new Error('sync task has no subscription id');
  const params = task.params as SyncParams;
  const pipeline = compilePipeline(params);
  const terms = termsOf(task.params);
  const refusal = checkOutbound(task.binding, deps.requireAgreement ?? false, terms, pipeline.columns);
  if (refusal) throw new Error(refusal);
  const { dataPlane, spool, source, settings } = deps;
  // Knowable in advance: a record limit above what the exchange center carries would let through records
  // that can never be published.
  const brokerMax = dataPlane.knownMaxPayload();
  if (brokerMax !== undefined && (params.maxRecordBytes ?? 64 * 1024) > brokerMax - 16 * 1024)
    throw new Error(`maxRecordBytes ${params.maxRecordBytes} is above what the exchange center carries (max_payload ${brokerMax} bytes, less 16 KiB for the envelope)`);
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
    const names = r.columns ?? columns;
    return { ok: true, found: true, record: recordToWire(Object.fromEntries(names.map((c, i) => [c, r.values[i]]))) };
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

  const { cursorSkewMs } = settings;
  let lastFutureReportAt = 0;
  const reportFuture = (row: Record<string, unknown>): void => {
    counters.lastError = `a row's cursor value lies in the future; held until then`;
    if (Date.now() - lastFutureReportAt < 60_000) return;
    lastFutureReportAt = Date.now();
    const key = Object.fromEntries(source.keyColumns.map((k) => [k, String(fromDriver(row[k]))]));
    const value = String(fromDriver(row[source.cursorColumn!]));
    const message = `row ${JSON.stringify(key)} has cursor ${source.cursorColumn} = ${value}, later than now plus ${Math.round(cursorSkewMs / 1000)} s: it and the rows after it are held until then (check the source's clock or the value)`;
    log.warn({ key, cursor: value }, 'cursor value in the future: row held');
    ctx.report('event', { severity: 'warn', code: 'CURSOR_IN_FUTURE', message, taskId: task.id });
  };

  // Reconciliation (对账): the consumer's digest and row questions are answered from a key-order read of
  // the source; the repairs it asks for are committed by this loop into this task's stream (see
  // reconcile/provider.ts for why here).
  const reconcile = deps.openScanSource && new ReconcileProvider({ task: { id: task.id, subscriptionId: task.subscriptionId, peerNodeId: task.peerNodeId }, params, pipeline, source, openScan: deps.openScanSource, dataPlane, log });
  const commitRepair = (state: TaskState, part: RepairRows): TaskState => {
    const batches: ReturnType<typeof buildBatches> = [];
    for (let i = 0; i < part.rows.length; i += batchRecords)
      batches.push(...buildBatches({ ...state, nextSequence: state.nextSequence + batches.length }, part.columns, part.rows.slice(i, i + batchRecords), part.ops.slice(i, i + batchRecords)));
    const next = spool.commitStep(state, { cursor: state.cursor, batches, quarantine: [] }, Date.now());
    counters.records += part.rows.length;
    counters.batches += batches.length;
    dataPlane.notify();
    return next;
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
    const groups = new Map<string, { columns: string[]; values: Value[][] }>();
    const ids: number[] = [];
    for (const q of rows) {
      const r = pipeline.process(recordFromWire(q.record));
      if (r.ok !== true) continue;
      const columns = r.columns ?? pipeline.columns ?? [];
      const sig = columns.join('\u0000');
      const g = groups.get(sig) ?? { columns, values: [] };
      g.values.push(r.values);
      groups.set(sig, g);
      ids.push(q.id);
    }
    const next = spool.transaction(() => {
      const batches: ReturnType<typeof buildBatches> = [];
      for (const g of groups.values()) batches.push(...buildBatches({ ...state, nextSequence: state.nextSequence + batches.length }, g.columns, g.values, g.values.map(() => 'u' as const)));
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
      let release: (() => void) | undefined;
      try {
        if (reconcile) state = await reconcile.commitRepairs(state, commitRepair);
        // At most two tasks of this agent hold a page at once (read-slots.ts): memory stays bounded with
        // many subscriptions of large records.
        release = await readSlots.acquire(signal);
        if (!release) break;
        // One step reads several batches' worth and commits them together: one fsync per step, not per
        // batch. A trickle still goes out at once (a short page is a short step).
        let page = await source.read(state.cursor, batchRecords * STEP_BATCHES);
        // A row whose cursor value lies in the future (a wrong clock, a typo) must not move the cursor
        // past rows that will later be written with correct values: read only up to it and hold it until
        // its time has come, reported meanwhile.
        const held = futureRow(page.rows, source.cursorColumn, Date.now() + cursorSkewMs);
        if (held !== undefined) {
          reportFuture(page.rows[held]!);
          page = held === 0 ? { rows: [], ops: [], cursor: state.cursor, exhausted: true } : { ...(await source.read(state.cursor, held)), exhausted: true };
        }
        const quarantine: NewQuarantine[] = [];
        const origin = `cursor:${JSON.stringify(state.cursor)}`;
        // Consecutive rows with the same columns form one run; a batch never mixes column sets, so every
        // value is matched to its column by name at the sink whatever order or set a source row has.
        const runs: { columns: string[]; rows: Value[][]; ops: ('u' | 'd')[] }[] = [];
        let kept = 0;
        for (let i = 0; i < page.rows.length; i++) {
          const row = page.rows[i]!;
          const error = page.errors?.[i];
          if (error !== undefined) {
            quarantine.push({ origin, rowIndex: i, reason: error, record: row });
            continue;
          }
          let r: ReturnType<typeof pipeline.process>;
          try {
            r = pipeline.process(row);
          } catch (err) {
            // Whatever one row does to the pipeline, it is that row's problem: quarantined, not a stuck task.
            r = { ok: false, reason: `processing failed: ${(err as Error).message}` };
          }
          if (r.ok === 'skip') continue;
          if (r.ok === false) {
            quarantine.push({ origin, rowIndex: i, reason: r.reason, field: r.field, record: row });
            continue;
          }
          const columns = r.columns ?? pipeline.columns ?? [];
          let run = runs.at(-1);
          if (!run || !sameColumns(run.columns, columns)) runs.push((run = { columns, rows: [], ops: [] }));
          run.rows.push(r.values);
          run.ops.push(page.ops[i] ?? 'u');
          kept++;
        }
        const batches: ReturnType<typeof buildBatches> = [];
        for (const run of runs)
          for (let i = 0; i < run.rows.length; i += batchRecords) {
            const part = buildBatches({ ...state, nextSequence: state.nextSequence + batches.length }, run.columns, run.rows.slice(i, i + batchRecords), run.ops.slice(i, i + batchRecords));
            batches.push(...part);
          }
        const exhausted = page.exhausted;
        const restart = exhausted && source.mode === 'full';
        // An idle poll (nothing read) changes nothing: no transaction, no fsync competing with other work.
        if (page.rows.length > 0 || restart)
          state = spool.commitStep(
            state,
            { cursor: restart ? null : page.cursor, ...(restart && { passes: state.passes + 1 }), batches, quarantine },
            Date.now(),
          );
        release();
        release = undefined;
        counters.records += kept;
        counters.batches += batches.length;
        counters.bytes += batches.reduce((n, b) => n + b.envelope.byteLength, 0);
        counters.quarantined += quarantine.length;
        if (batches.length) dataPlane.notify();
        failures = 0;
        if (exhausted) await sleep(pollMs, reconcile ? reconcile.wakeSignal(signal) : signal);
        // Reading is synchronous: yield to the event loop so publishes and receipts interleave with it.
        else await new Promise((r) => setImmediate(r));
      } catch (err) {
        failures++;
        counters.errors++;
        counters.lastError = (err as Error).message;
        if (failures === 1 || failures % 30 === 0) {
          log.warn({ err: (err as Error).message, failures }, 'reading the source failed; retrying');
          ctx.report('event', { severity: 'error', code: 'SOURCE_FAILING', message: `reading the source fails (${failures} time(s) in a row): ${(err as Error).message}`, taskId: task.id });
        }
        release?.();
        release = undefined;
        await sleep(Math.min(30_000, 500 * failures), signal);
      } finally {
        release?.();
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
      reconcile?.close();
      await source.close();
    },
  };
}

function sameColumns(a: string[], b: string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Index of the first row whose cursor value is a date-time later than `limitMs` (epoch ms; a wall-clock
 * timestamp without zone is compared as the agent's local time), or undefined. Cursor values that are not
 * date-times (sequences, numbers) are never held.
 */
export function futureRow(rows: Record<string, unknown>[], cursorColumn: string | undefined, limitMs: number): number | undefined {
  if (!cursorColumn || rows.length === 0) return undefined;
  const localLimit = limitMs - new Date(limitMs).getTimezoneOffset() * 60_000;
  const after = (v: unknown): boolean => {
    const t = v instanceof Temporal ? v : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? (parseDateTime(v).ok ? (parseDateTime(v) as { value: Temporal }).value : undefined) : undefined;
    if (!t || t.kind === 'time') return false;
    const ms = temporalEpochMs(t);
    if (ms === undefined) return t.text === 'infinity';
    return ms > (t.kind === 'timestamptz' ? limitMs : localLimit);
  };
  // Rows come in cursor order: once the last is not in the future, none is.
  if (!after(rows.at(-1)![cursorColumn])) return undefined;
  for (let i = 0; i < rows.length; i++) if (after(rows[i]![cursorColumn])) return i;
  return undefined;
}
