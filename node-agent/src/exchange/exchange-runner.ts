// Exchange task (交换任务), consumer side: receive → verify → write. Registers with the data plane for
// its subscription; each arriving batch is verified against the task's field types (failures are
// quarantined with the reason), then written to the sink together with its sequence in one transaction.
import type { Logger } from 'pino';
import type { RecordSink, RefusedRecord } from '../connectors/types.js';
import { compilePipeline, type PipelineSpec } from '../pipeline/index.js';
import type { DataSpool } from '../spool/data-spool.js';
import type { RunnerContext, TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import { unpackRecords, type EnvelopeData, type RecordsPayload } from '../transport/envelope.js';
import { sleep } from '../backoff.js';
import { streamKey, type DataPlane } from './data-plane.js';
import { RunCounters } from './run-counters.js';
import { checkInbound, termsOf } from '../policy/agreement.js';
import { recordFromWire } from '../values/wire.js';

export function createExchangeRunner(
  task: TaskAssignment,
  ctx: RunnerContext,
  deps: { dataPlane: DataPlane; spool: DataSpool; sink: RecordSink; runReportIntervalMs: number; onApplied?: (env: EnvelopeData, at: number) => void },
): TaskRunner {
  if (!task.subscriptionId) throw new Error('exchange task has no subscription id');
  const params = task.params as PipelineSpec;
  // The consumer verifies types and required fields; it does not mask again (the provider did).
  const verifier = compilePipeline({ ...params, fields: (params.fields ?? []).map((f) => ({ ...f, name: f.as ?? f.name, as: f.as ?? f.name, mask: undefined })) });
  const { dataPlane, spool, sink } = deps;
  const log: Logger = ctx.logger.child({ taskId: task.id });
  const counters = new RunCounters(task.id);
  const abort = new AbortController();
  let lastLagMs = 0;
  const terms = termsOf(task.params);
  let lastRefusalAt = 0;
  let lastSinkRefusalAt = 0;
  let lastSinkErrorAt = 0;

  dataPlane.registerInbound(task.subscriptionId, {
    lastSequence: (stream) => sink.lastSequence(stream),
    async handle(env) {
      const stream = streamKey(env.sourceNodeId, env.taskId, env.streamEpoch);
      let payload: RecordsPayload;
      try {
        payload = unpackRecords(env.payload, env.compression);
      } catch (err) {
        // The checksum matched, so this is what the provider sent: re-sending cannot fix it. Keep it in
        // quarantine whole and move the stream on, so one bad batch does not block the ones after it.
        spool.addQuarantine(task.id, 'consumer', { origin: env.batchId, rowIndex: -1, reason: `undecodable batch: ${(err as Error).message}`, record: { payload: env.payload } }, Date.now());
        const outcome = await sink.apply(stream, env.sequence, { batchId: env.batchId, columns: [], rows: [], ops: [] });
        counters.quarantined += env.recordCount;
        return outcome === 'gap' ? { status: 'refused', written: 0, quarantined: 0, reason: 'gap' } : { status: outcome === 'applied' ? 'committed' : 'duplicate', written: 0, quarantined: env.recordCount };
      }
      const refusal = checkInbound(terms, env.agreementId, payload.columns);
      if (refusal) {
        counters.errors++;
        counters.lastError = refusal;
        if (Date.now() - lastRefusalAt > 10_000) {
          lastRefusalAt = Date.now();
          log.warn({ batchId: env.batchId, source: env.sourceNodeId, reason: refusal }, 'batch refused: not covered by the agreement this node holds');
          ctx.report('event', { severity: 'warn', code: 'BATCH_REFUSED', message: refusal, taskId: task.id });
        }
        return { status: 'refused', written: 0, quarantined: 0, reason: refusal };
      }
      const good: unknown[][] = [];
      const ops: ('u' | 'd')[] = [];
      /** Index in the payload of each row of `good`. */
      const origIndex: number[] = [];
      let quarantined = 0;
      const now = Date.now();
      for (let i = 0; i < payload.rows.length; i++) {
        const op = payload.ops?.[i] ?? 'u';
        const row = payload.rows[i]!;
        if (op === 'u') {
          const v = verifier.verify(payload.columns, row);
          if (!v.ok) {
            spool.addQuarantine(task.id, 'consumer', { origin: env.batchId, rowIndex: i, reason: v.reason, field: v.field, record: Object.fromEntries(payload.columns.map((c, j) => [c, row[j]])) }, now);
            quarantined++;
            continue;
          }
          good.push(v.values);
        } else good.push(row);
        ops.push(op);
        origIndex.push(i);
      }
      // Records the sink's database refuses (NUL in text, NOT NULL, out of range…) are quarantined here,
      // with the database's reason, before the sink commits the rest of the batch; the stream goes on.
      let refusedCount = 0;
      const onRefused = (refused: RefusedRecord[]): void => {
        refusedCount = refused.length;
        const at = Date.now();
        for (const r of refused) {
          const i = origIndex[r.index]!;
          const row = payload.rows[i]!;
          spool.addQuarantine(task.id, 'consumer', { origin: env.batchId, rowIndex: i, reason: `sink refused the record: ${r.reason}`, record: Object.fromEntries(payload.columns.map((c, j) => [c, row[j]])) }, at);
        }
        if (at - lastSinkRefusalAt > 10_000) {
          lastSinkRefusalAt = at;
          const message = `the sink refused ${refused.length} record(s) of batch ${env.batchId}; quarantined: ${refused[0]!.reason}`;
          log.warn({ batchId: env.batchId, refused: refused.length, reason: refused[0]!.reason }, 'sink refused records; quarantined, the rest written');
          ctx.report('event', { severity: 'warn', code: 'SINK_REFUSED_RECORDS', message, taskId: task.id });
        }
      };
      let outcome: Awaited<ReturnType<RecordSink['apply']>>;
      try {
        outcome = await sink.apply(stream, env.sequence, { batchId: env.batchId, columns: payload.columns, rows: good, ops }, { onRefused });
      } catch (err) {
        // The sink as a whole fails (down, full): the data plane redelivers with a growing delay.
        counters.errors++;
        counters.lastError = (err as Error).message;
        if (Date.now() - lastSinkErrorAt > 60_000) {
          lastSinkErrorAt = Date.now();
          ctx.report('event', { severity: 'error', code: 'SINK_FAILING', message: `writing to the sink fails: ${(err as Error).message}`, taskId: task.id });
        }
        throw err;
      }
      quarantined += refusedCount;
      if (outcome === 'gap') return { status: 'refused', written: 0, quarantined: 0, reason: 'gap' };
      if (outcome === 'duplicate') return { status: 'duplicate', written: 0, quarantined: 0 };
      const at = Date.now();
      counters.records += good.length - refusedCount;
      counters.batches++;
      counters.bytes += env.payload.length;
      counters.quarantined += quarantined;
      lastLagMs = at - env.createdAtMs;
      deps.onApplied?.(env, at);
      return { status: 'committed', written: good.length - refusedCount, quarantined };
    },
  });
  if (task.peerNodeId) dataPlane.registerQueryTarget(task.subscriptionId, task.peerNodeId);
  log.info({ subscriptionId: task.subscriptionId }, 'exchange task receiving');

  // Re-send after a fix: records quarantined here on arrival are verified again against the current
  // field specs and written through a stream of their own (its ledger makes a repeated run harmless).
  const requested = Number((task.params as { _resendQuarantine?: unknown })._resendQuarantine ?? 0);
  if (requested && requested > spool.resendMark(task.id)) {
    void (async () => {
      const rows = spool.quarantined(task.id, { limit: 100_000 }).filter((q) => q.side === 'consumer' && q.rowIndex >= 0);
      const byColumns = new Map<string, { columns: string[]; rows: unknown[][]; ids: number[] }>();
      for (const q of rows) {
        const record = recordFromWire(q.record);
        const columns = Object.keys(record);
        const v = verifier.verify(columns, Object.values(record));
        if (!v.ok) continue;
        const key = columns.join('\u0000');
        const g = byColumns.get(key) ?? { columns, rows: [], ids: [] };
        g.rows.push(v.values);
        g.ids.push(q.id);
        byColumns.set(key, g);
      }
      const stream = `requeue/${task.id}`;
      const resent: number[] = [];
      for (const g of byColumns.values()) {
        const seq = (await sink.lastSequence(stream)) + 1;
        // A record the sink still refuses stays in quarantine (not marked re-sent).
        const still = new Set<number>();
        await sink.apply(stream, seq, { batchId: `requeue-${task.id}-${seq}`, columns: g.columns, rows: g.rows, ops: g.rows.map(() => 'u' as const) }, { onRefused: (r) => r.forEach((x) => still.add(x.index)) });
        resent.push(...g.ids.filter((_, i) => !still.has(i)));
      }
      spool.transaction(() => {
        spool.markResent(resent, Date.now());
        spool.setResendMark(task.id, requested);
      });
      counters.records += resent.length;
      log.info({ resent: resent.length, stillFailing: rows.length - resent.length }, 'quarantined records written after a fix');
      ctx.report('quarantine', { taskId: task.id, count: 0, byReason: {}, records: [], resentIds: resent });
    })().catch((err: unknown) => log.error({ err: (err as Error).message }, 'quarantine re-send failed'));
  }

  const report = (): void => {
    const body = counters.take(lastLagMs);
    if (body) ctx.report('task_run', body);
  };
  const reporter = (async () => {
    while (await sleep(deps.runReportIntervalMs, abort.signal)) report();
  })();

  return {
    lag: () => ({ lagMs: lastLagMs, pendingBatches: 0 }),
    async stop() {
      abort.abort();
      await reporter;
      dataPlane.unregisterInbound(task.subscriptionId);
      dataPlane.unregisterQueryTarget(task.subscriptionId);
      report();
      await sink.close();
    },
  };
}
