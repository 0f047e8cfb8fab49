// The data-plane half of spool.db: the provider's outbox of encoded batches, each task's cursor and
// sequence, and quarantined records.
//
// Invariants
//  - commitBatch() writes the outbox row, the advanced cursor, the next sequence and the batch's
//    quarantined records in ONE transaction: after a crash either all of them exist or none, so no
//    record is read twice into two batches and none is skipped.
//  - Sequences of a (task, epoch) are consecutive from 1 with no holes; the consumer applies them strictly
//    in order, so a receipt for sequence N acknowledges every batch ≤ N (acknowledge() deletes them all).
//    commitStep() is the only assigner of sequences: it hands each batch its sequence inside the
//    transaction that stores it (UnsequencedBatch.seal), so a batch's id, envelope and row always agree.
//  - A batch leaves the outbox only in acknowledge(), i.e. on the consumer's receipt or its reported
//    progress — never on the JetStream publish ack (the broker may lose what it acked).
//  - The epoch of a task is drawn once, when its state row is created; a recreated spool is a new epoch.
//  - Publish marks and receipt deletions are hints that are safe to lose (a lost one costs a re-send that
//    the consumer recognises), so they are group-committed — queued and written in one transaction at
//    most every 10 ms, and always before any read of the outbox, so reads never see stale state — through
//    a second connection with synchronous=NORMAL: they never wait for an fsync. Batches, cursors and
//    quarantine go through the main connection (synchronous as configured, FULL by default).
//  - The outbox depth (batches, bytes) is kept in memory, counted once at open and then maintained by
//    every insert and delete.
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Cursor } from '../connectors/types.js';
import {
  quarantineRecord,
  toBatch,
  toEntry,
  type OutboxBatch,
  type OutboxRow,
  type QRow,
  type QuarantineEntry,
} from './data-rows.js';

export type { OutboxBatch, QuarantineEntry } from './data-rows.js';

/** A batch for the outbox, encoded once the spool has assigned its sequence (commitStep). */
export interface UnsequencedBatch {
  records: number;
  /** The batch as stored and sent under `sequence` of stream `epoch`. */
  seal(epoch: string, sequence: number): { batchId: string; subject: string; envelope: Uint8Array };
}

export interface TaskState {
  taskId: string;
  epoch: string;
  nextSequence: number;
  cursor: Cursor;
  passes: number;
}

export interface NewQuarantine {
  origin: string;
  rowIndex: number;
  reason: string;
  field?: string | undefined;
  /** The original values (model or driver values; stored in wire form). */
  record: Record<string, unknown>;
}

export class DataSpool {
  private readonly st;
  private pendingPublished: [id: number, at: number][] = [];
  private pendingAcks = new Map<string, { taskId: string; epoch: string; sequence: number }>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly flushTx: () => void;
  private totals: { batches: number; bytes: number };

  /**
   * @param db the spool's main connection (durable writes)
   * @param hintDb a second connection to the same file for hint writes (defaults to `db`)
   */
  constructor(
    private readonly db: Database.Database,
    private readonly hintDb: Database.Database = db,
  ) {
    this.st = {
      state: db.prepare('SELECT task_id, epoch, next_sequence, cursor, passes FROM task_state WHERE task_id = ?'),
      insertState: db.prepare(
        'INSERT INTO task_state (task_id, epoch, next_sequence, cursor, passes, updated_at) VALUES (?, ?, 1, NULL, 0, ?)',
      ),
      updateState: db.prepare(
        'UPDATE task_state SET next_sequence = ?, cursor = ?, passes = ?, updated_at = ? WHERE task_id = ?',
      ),
      insertBatch: db.prepare(
        `INSERT INTO data_outbox (batch_id, task_id, epoch, sequence, subject, envelope, records, bytes, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      // The next `limit` unpublished rows whose running byte total stays within the budget (the first one
      // always, when asked): the heads are summed without reading the envelopes, then only those are read.
      unpublished: db.prepare(
        `SELECT * FROM data_outbox WHERE id IN (
           SELECT id FROM (
             SELECT id, bytes, sum(bytes) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS run FROM (
               SELECT id, bytes FROM data_outbox
               WHERE published_at IS NULL AND id > ? AND task_id NOT IN (SELECT value FROM json_each(?))
               ORDER BY id LIMIT ?))
           WHERE run <= ? OR (? AND run = bytes))
         ORDER BY id`,
      ),
      markPublished: hintDb.prepare(
        'UPDATE data_outbox SET published_at = ?, send_count = send_count + 1 WHERE id = ?',
      ),
      ack: hintDb.prepare('DELETE FROM data_outbox WHERE task_id = ? AND epoch = ? AND sequence <= ? RETURNING bytes'),
      oldestUnacked: db.prepare(
        'SELECT epoch, sequence, published_at FROM data_outbox WHERE task_id = ? ORDER BY sequence LIMIT 1',
      ),
      republish: db.prepare(
        'UPDATE data_outbox SET published_at = NULL WHERE task_id = ? AND epoch = ? AND sequence > ? AND sequence <= ?',
      ),
      depth: db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM data_outbox'),
      depthOf: db.prepare(
        'SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b, min(created_at) AS oldest FROM data_outbox WHERE task_id = ?',
      ),
      tasksWithBatches: db.prepare('SELECT DISTINCT task_id FROM data_outbox'),
      insertQ: db.prepare(
        `INSERT INTO quarantine (task_id, side, origin, row_index, reason, field, record, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_id, origin, row_index) DO NOTHING`,
      ),
      listQ: db.prepare('SELECT * FROM quarantine WHERE task_id = ? AND (? OR resent_at IS NULL) ORDER BY id LIMIT ?'),
      markResent: db.prepare('UPDATE quarantine SET resent_at = ? WHERE id = ?'),
      countQ: db.prepare('SELECT count(*) AS n FROM quarantine WHERE task_id = ? AND resent_at IS NULL'),
      unreportedQ: db.prepare('SELECT * FROM quarantine WHERE reported = 0 ORDER BY id LIMIT ?'),
      markReportedQ: db.prepare('UPDATE quarantine SET reported = 1 WHERE id = ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
    const d = this.st.depth.get() as { n: number; b: number };
    this.totals = { batches: d.n, bytes: d.b };
    this.flushTx = hintDb.transaction(() => {
      for (const [id, at] of this.pendingPublished) this.st.markPublished.run(at, id);
      for (const a of this.pendingAcks.values()) this.deleteUpTo(a.taskId, a.epoch, a.sequence);
      this.pendingPublished = [];
      this.pendingAcks.clear();
    });
  }

  /** Writes queued publish marks and receipt deletions (one transaction). */
  flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.pendingPublished.length || this.pendingAcks.size) this.flushTx();
  }

  private schedule(): void {
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, 10);
  }

  private deleteUpTo(taskId: string, epoch: string, sequence: number): number {
    const rows = this.st.ack.all(taskId, epoch, sequence) as { bytes: number }[];
    for (const r of rows) {
      this.totals.batches--;
      this.totals.bytes -= r.bytes;
    }
    return rows.length;
  }

  /** The task's state, created with a fresh epoch on first use. */
  taskState(taskId: string, now: number): TaskState {
    let r = this.st.state.get(taskId) as
      { task_id: string; epoch: string; next_sequence: number; cursor: string | null; passes: number } | undefined;
    if (!r) {
      this.st.insertState.run(taskId, randomBytes(6).toString('hex'), now);
      r = this.st.state.get(taskId) as typeof r;
    }
    return {
      taskId,
      epoch: r!.epoch,
      nextSequence: r!.next_sequence,
      cursor: r!.cursor ? (JSON.parse(r!.cursor) as Cursor) : null,
      passes: r!.passes,
    };
  }

  /**
   * Commits one read step atomically: its batches (given sequences nextSequence, nextSequence+1, ... in
   * array order; none when every row was filtered out or quarantined), the quarantined records and the
   * cursor. Returns the new state and the bytes of the batches stored.
   */
  commitStep(
    state: TaskState,
    step: {
      cursor: Cursor;
      passes?: number;
      batches: readonly UnsequencedBatch[];
      quarantine: readonly NewQuarantine[];
    },
    now: number,
  ): { state: TaskState; bytes: number } {
    return this.db.transaction(() => {
      let next = state.nextSequence;
      let bytes = 0;
      for (const b of step.batches) {
        const sealed = b.seal(state.epoch, next);
        this.st.insertBatch.run(
          sealed.batchId,
          state.taskId,
          state.epoch,
          next,
          sealed.subject,
          sealed.envelope,
          b.records,
          sealed.envelope.byteLength,
          now,
        );
        bytes += sealed.envelope.byteLength;
        next++;
      }
      // Counted once the inserts went through (a failed insert rolls the transaction back and throws).
      this.totals.batches += step.batches.length;
      this.totals.bytes += bytes;
      for (const q of step.quarantine) this.addQuarantine(state.taskId, 'provider', q, now);
      const passes = step.passes ?? state.passes;
      this.st.updateState.run(
        next,
        step.cursor === null ? null : JSON.stringify(step.cursor),
        passes,
        now,
        state.taskId,
      );
      return { state: { ...state, nextSequence: next, cursor: step.cursor, passes }, bytes };
    })();
  }

  addQuarantine(taskId: string, side: 'provider' | 'consumer', q: NewQuarantine, now: number): void {
    this.st.insertQ.run(
      taskId,
      side,
      q.origin,
      q.rowIndex,
      q.reason,
      q.field ?? null,
      JSON.stringify(quarantineRecord(q.record)),
      now,
    );
  }

  /**
   * Batches not yet published (or marked for re-sending), in outbox order, after id `afterId`, except those
   * of `exceptTasks`: at most `limit` of them and at most `maxBytes` together — but the first one even when
   * it alone is larger, if `firstAnyway` (nothing else is in flight).
   */
  unpublished(
    afterId: number,
    limit: number,
    exceptTasks: readonly string[] = [],
    maxBytes = Number.MAX_SAFE_INTEGER,
    firstAnyway = true,
  ): OutboxBatch[] {
    this.flush();
    const rows = this.st.unpublished.all(afterId, JSON.stringify(exceptTasks), limit, maxBytes, firstAnyway ? 1 : 0);
    return (rows as OutboxRow[]).map(toBatch);
  }

  /** Queues the mark that a batch was accepted by the broker (group-committed). */
  markPublished(id: number, at: number): void {
    this.pendingPublished.push([id, at]);
    this.schedule();
  }

  /** Queues the deletion of every batch of the stream up to `sequence` (a receipt; group-committed). */
  queueAcknowledge(taskId: string, epoch: string, sequence: number): void {
    const key = `${taskId}\u0000${epoch}`;
    const cur = this.pendingAcks.get(key);
    if (!cur || cur.sequence < sequence) this.pendingAcks.set(key, { taskId, epoch, sequence });
    this.schedule();
  }

  /** Deletes every batch of the stream up to and including `sequence` now; returns how many. */
  acknowledge(taskId: string, epoch: string, sequence: number): number {
    this.flush();
    return this.hintDb.transaction(() => this.deleteUpTo(taskId, epoch, sequence))();
  }

  /** The head of a task's outbox (its oldest batch), without the envelope: the stall check reads it often. */
  oldestUnacknowledged(taskId: string): { epoch: string; sequence: number; publishedAt: number | null } | undefined {
    this.flush();
    const r = this.st.oldestUnacked.get(taskId) as Pick<OutboxRow, 'epoch' | 'sequence' | 'published_at'> | undefined;
    return r && { epoch: r.epoch, sequence: r.sequence, publishedAt: r.published_at };
  }

  /** Marks batches (after, upTo] of a stream for re-sending. */
  markForResend(taskId: string, epoch: string, after: number, upTo: number): number {
    this.flush();
    return this.st.republish.run(taskId, epoch, after, upTo).changes;
  }

  /** Batches and bytes in the outbox (kept in memory; see the invariants). */
  depth(): { batches: number; bytes: number } {
    return { ...this.totals };
  }

  depthOf(taskId: string): { batches: number; bytes: number; oldestAt: number | null } {
    this.flush();
    const r = this.st.depthOf.get(taskId) as { n: number; b: number; oldest: number | null };
    return { batches: r.n, bytes: r.b, oldestAt: r.oldest };
  }

  tasksWithBatches(): string[] {
    this.flush();
    return (this.st.tasksWithBatches.all() as { task_id: string }[]).map((r) => r.task_id);
  }

  quarantined(taskId: string, opts: { includeResent?: boolean; limit?: number } = {}): QuarantineEntry[] {
    return (this.st.listQ.all(taskId, opts.includeResent ? 1 : 0, opts.limit ?? 1000) as QRow[]).map(toEntry);
  }

  /** Quarantined records not yet reported to central, oldest first. */
  unreportedQuarantine(limit: number): QuarantineEntry[] {
    return (this.st.unreportedQ.all(limit) as QRow[]).map(toEntry);
  }

  markReported(ids: readonly number[]): void {
    for (const id of ids) this.st.markReportedQ.run(id);
  }

  /** The last quarantine re-send request (ms) a task has carried out. */
  resendMark(taskId: string): number {
    return Number((this.st.getMeta.get(`quarantine-resend:${taskId}`) as { value: string } | undefined)?.value ?? 0);
  }

  setResendMark(taskId: string, at: number): void {
    this.st.setMeta.run(`quarantine-resend:${taskId}`, String(at));
  }

  /** A value of the spool's meta table (undefined when unset). */
  meta(key: string): string | undefined {
    return (this.st.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  /** Sets a value of the spool's meta table (inside the caller's transaction, if any). */
  setMeta(key: string, value: string): void {
    this.st.setMeta.run(key, value);
  }

  /** Runs fn in one spool transaction (a step that must commit whole). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  quarantineCount(taskId: string): number {
    return (this.st.countQ.get(taskId) as { n: number }).n;
  }

  markResent(ids: readonly number[], at: number): void {
    this.db.transaction(() => {
      for (const id of ids) this.st.markResent.run(at, id);
    })();
  }
}
