// Re-sending quarantined records after a fix (the operator's `xchg task resend-quarantine`, carried to the
// task as params._resendQuarantine = the request's time). Provider records go out again through the task's
// stream; consumer records are written to the sink through a stream of their own.
//
// Invariants: a request is carried out once (the spool keeps the last one done, setResendMark, in the same
// transaction that marks the records re-sent); a record that still fails stays quarantined, unmarked.
import type { RecordSink } from '../connectors/types.js';
import type { Pipeline } from '../pipeline/index.js';
import type { DataSpool, QuarantineEntry, TaskState } from '../spool/data-spool.js';
import type { TaskAssignment } from '../tasks/supervisor.js';
import { recordFromWire } from '../values/wire.js';
import type { RecordRun } from './batch.js';
import type { RunnerKit } from './runner-kit.js';

/** Most quarantined records re-sent per request. */
const RESEND_LIMIT = 100_000;

/** The re-send request a task carries that it has not carried out yet, or undefined. */
function pendingRequest(task: TaskAssignment, spool: DataSpool): number | undefined {
  const requested = Number((task.params as { _resendQuarantine?: unknown })._resendQuarantine ?? 0);
  return requested && requested > spool.resendMark(task.id) ? requested : undefined;
}

/** Marks records re-sent and the request done, in one transaction (nested: part of the caller's). */
function markDone(task: TaskAssignment, spool: DataSpool, requested: number, ids: number[]): void {
  spool.transaction(() => {
    spool.markResent(ids, Date.now());
    spool.setResendMark(task.id, requested);
  });
}

/** Counts the re-sent records and reports them to central (outside any spool transaction). */
function reportDone(kit: RunnerKit, ids: number[]): void {
  kit.reportResent(ids);
  kit.counters.records += ids.length;
}

/** Groups records by their column set (a batch never mixes column sets). */
function byColumns<T>(
  entries: readonly QuarantineEntry[],
  accept: (q: QuarantineEntry) => { columns: string[]; values: T[] } | undefined,
): { columns: string[]; rows: T[][]; ids: number[] }[] {
  const groups = new Map<string, { columns: string[]; rows: T[][]; ids: number[] }>();
  for (const q of entries) {
    const r = accept(q);
    if (!r) continue;
    const sig = r.columns.join('\u0000');
    const g = groups.get(sig) ?? { columns: r.columns, rows: [], ids: [] };
    g.rows.push(r.values);
    g.ids.push(q.id);
    groups.set(sig, g);
  }
  return [...groups.values()];
}

/**
 * Provider: each quarantined record is run through the current pipeline; those that now pass go out in
 * batches committed (by `commit`, into the task's stream) with their "resent" marks in one transaction.
 */
export function resendQuarantined(
  task: TaskAssignment,
  spool: DataSpool,
  kit: RunnerKit,
  pipeline: Pipeline,
  state: TaskState,
  commit: (state: TaskState, runs: RecordRun[]) => TaskState,
  notify: () => void,
): TaskState {
  const requested = pendingRequest(task, spool);
  if (!requested) return state;
  const rows = spool.quarantined(task.id, { limit: RESEND_LIMIT }).filter((q) => q.side === 'provider');
  const groups = byColumns(rows, (q) => {
    const r = pipeline.process(recordFromWire(q.record));
    return r.ok === true ? { columns: r.columns ?? pipeline.columns ?? [], values: r.values } : undefined;
  });
  const ids = groups.flatMap((g) => g.ids);
  const next = spool.transaction(() => {
    const s = commit(
      state,
      groups.map((g) => ({ columns: g.columns, rows: g.rows, ops: g.rows.map(() => 'u' as const) })),
    );
    markDone(task, spool, requested, ids);
    return s;
  });
  kit.log.info({ resent: ids.length, stillFailing: rows.length - ids.length }, 'quarantined records re-sent');
  reportDone(kit, ids);
  notify();
  return next;
}

/**
 * Consumer: records quarantined on arrival are verified again against the current field specs and written
 * through a stream of their own (its ledger makes a repeated run harmless). Runs in the background.
 */
export function rewriteQuarantined(
  task: TaskAssignment,
  spool: DataSpool,
  kit: RunnerKit,
  verifier: Pipeline,
  sink: RecordSink,
): void {
  const requested = pendingRequest(task, spool);
  if (!requested) return;
  const run = async (): Promise<void> => {
    const rows = spool
      .quarantined(task.id, { limit: RESEND_LIMIT })
      .filter((q) => q.side === 'consumer' && q.rowIndex >= 0);
    const groups = byColumns(rows, (q) => {
      const record = recordFromWire(q.record);
      const columns = Object.keys(record);
      const v = verifier.verify(columns, Object.values(record));
      return v.ok ? { columns, values: v.values } : undefined;
    });
    const stream = `requeue/${task.id}`;
    const resent: number[] = [];
    for (const g of groups) {
      const seq = (await sink.lastSequence(stream)) + 1;
      // A record the sink still refuses stays in quarantine (not marked re-sent).
      const still = new Set<number>();
      const batch = {
        batchId: `requeue-${task.id}-${seq}`,
        columns: g.columns,
        rows: g.rows,
        ops: g.rows.map(() => 'u' as const),
      };
      await sink.apply(stream, seq, batch, { onRefused: (r) => r.forEach((x) => still.add(x.index)) });
      resent.push(...g.ids.filter((_, i) => !still.has(i)));
    }
    markDone(task, spool, requested, resent);
    kit.log.info(
      { resent: resent.length, stillFailing: rows.length - resent.length },
      'quarantined records written after a fix',
    );
    reportDone(kit, resent);
  };
  run().catch((err: unknown) => kit.log.error({ err: (err as Error).message }, 'quarantine re-send failed'));
}
