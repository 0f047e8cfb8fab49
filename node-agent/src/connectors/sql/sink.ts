// The SQL sink: the ledger contract (RecordSink) written once over a dialect (sql/dialect.ts). A batch and
// its ledger entry (stream, seq) commit in one transaction; duplicates and gaps write nothing; a missing
// table is created from the task's fields; records the database refuses are found by bisection inside
// savepoints and handed to onRefused, or fail the batch when nobody takes them.
//
// Batches go through sessions (group commit): begin() opens the transaction and locks the stream's ledger
// row, each apply() writes one batch if it is next in line, commit() records the last one applied in the
// ledger and commits them all; apply() alone is a session of one batch.
//
// Invariants: the ledger row is locked before a sequence is checked, so concurrent sessions of one stream
// serialise; a session sees its own batches in order (its last sequence advances as it applies); a
// refused record undoes only its savepoint part; a failed write or commit rolls back the whole session.
// One session per sink is open at a time, and one per database file for dialects that name a lockKey.
import {
  ConnectorError,
  type ApplyOptions,
  type ApplyOutcome,
  type RecordSink,
  type RefusedRecord,
  type SinkBatch,
  type SinkScanPage,
  type SinkSchemaHint,
  type SinkSession,
} from '../types.js';
import type { SqlDialect } from './dialect.js';
import { bisect, Parallel, runAsync, runSync, type Flow, type MaybePromise } from './flow.js';

/** Takes turns: each take() resolves, with its release, once every earlier taker has released. */
class Turns {
  private tail: Promise<void> = Promise.resolve();
  take(): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const before = this.tail;
    this.tail = before.then(() => mine);
    return before.then(() => release);
  }
}

/** Turns shared by the sinks of one database file (SqlDialect.lockKey). */
const sharedTurns = new Map<string, Turns>();

/** An open session: its connection and what it has applied so far. */
interface Open<C, Col> {
  c: C;
  cols: Map<string, Col>;
  stream: string;
  /** The stream's last sequence as this session sees it (the ledger's, then each batch it applied). */
  last: number;
  lastBatch: string;
  applied: number;
}

export class SqlSink<C, Col> implements RecordSink {
  readonly binding: string;
  private readonly keyColumns: readonly string[];
  /** The table's columns once prepared; a failed preparation is forgotten, so the next call retries. */
  private table: MaybePromise<Map<string, Col>> | undefined;
  private readonly turns: Turns;

  constructor(
    protected readonly dialect: SqlDialect<C, Col>,
    private readonly hint?: SinkSchemaHint,
  ) {
    this.binding = dialect.binding;
    this.keyColumns = dialect.keyColumns;
    const key = dialect.lockKey;
    if (key && !sharedTurns.has(key)) sharedTurns.set(key, new Turns());
    this.turns = key ? sharedTurns.get(key)! : new Turns();
    // A synchronous driver prepares at once, so a missing table without fields refuses the task at start.
    if (dialect.sync) this.table = runSync(this.prepare());
  }

  async apply(stream: string, seq: number, batch: SinkBatch, opts?: ApplyOptions): Promise<ApplyOutcome> {
    const session = await this.begin(stream);
    const outcome = await session.apply(seq, batch, opts);
    await session.commit();
    return outcome;
  }

  async begin(stream: string): Promise<SinkSession> {
    const release = await this.turns.take();
    let o: Open<C, Col>;
    try {
      o = await this.run(this.openFlow(stream));
    } catch (err) {
      release();
      throw err;
    }
    let ended = false;
    const over = (): Error => new ConnectorError(this.binding, 'the session is over (committed, aborted or failed)');
    const end = async (commit: boolean): Promise<void> => {
      if (ended) throw over();
      ended = true;
      try {
        await this.run(this.closeFlow(o, commit));
      } finally {
        release();
      }
    };
    return {
      apply: async (seq, batch, opts) => {
        if (ended) throw over();
        try {
          return await this.run(this.writeFlow(o, seq, batch, opts));
        } catch (err) {
          await end(false).catch(() => undefined);
          throw err;
        }
      },
      commit: () => end(true),
      abort: () => (ended ? Promise.resolve() : end(false).catch(() => undefined)),
    };
  }

  /** Waits for an open session to end: on a shared connection (SQLite) a read inside it would see what it has not committed. */
  async lastSequence(stream: string): Promise<number> {
    const release = await this.turns.take();
    try {
      return await this.run(this.lastSequenceFlow(stream));
    } finally {
      release();
    }
  }

  async scan(afterKey: unknown[] | null, limit: number): Promise<SinkScanPage> {
    const release = await this.turns.take();
    try {
      return await this.dialect.scan(await this.ready(), afterKey, limit);
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    await this.dialect.close();
  }

  private run<T>(flow: Flow<T>): MaybePromise<T> {
    return this.dialect.sync ? runSync(flow) : runAsync(flow);
  }

  private ready(): MaybePromise<Map<string, Col>> {
    if (this.table === undefined) {
      const started = this.run(this.prepare());
      this.table =
        started instanceof Promise
          ? started.catch((err: unknown) => {
              this.table = undefined;
              throw err;
            })
          : started;
    }
    return this.table;
  }

  /** Creates the ledger and, when missing, the table; checks the key columns. */
  private *prepare(): Flow<Map<string, Col>> {
    const d = this.dialect;
    const c = (yield d.connect()) as C;
    try {
      yield d.ensureLedger(c);
      let cols = (yield d.readColumns(c)) as Map<string, Col>;
      if (cols.size === 0) {
        const hint = this.hint;
        if (!hint || hint.columns.length === 0)
          throw new ConnectorError(
            this.binding,
            `table ${d.tableName} does not exist and the task names no fields to create it from`,
          );
        for (const k of this.keyColumns)
          if (!hint.columns.some((col) => col.name === k))
            throw new ConnectorError(
              this.binding,
              `table ${d.tableName} does not exist and the task's fields lack key column ${k}`,
            );
        yield d.createTable(c, hint.columns);
        cols = (yield d.readColumns(c)) as Map<string, Col>;
      }
      if (d.checksColumns)
        for (const k of this.keyColumns)
          if (!d.column(cols, k)) throw new ConnectorError(this.binding, `table ${d.tableName} has no key column ${k}`);
      if (d.checkTable) yield d.checkTable(c, cols);
      return cols;
    } catch (err) {
      if (err instanceof ConnectorError) throw err;
      throw d.wrap(`preparing ${d.tableName}`, err);
    } finally {
      yield d.release(c, false);
    }
  }

  /** Begins the transaction and locks the stream's ledger row. */
  private *openFlow(stream: string): Flow<Open<C, Col>> {
    const d = this.dialect;
    const cols = (yield this.ready()) as Map<string, Col>;
    const c = (yield d.connect()) as C;
    try {
      const last = (yield d.lockLedger(c, stream)) as number;
      return { c, cols, stream, last, lastBatch: '', applied: 0 };
    } catch (err) {
      const broken = yield* this.rollbackFlow(c);
      yield d.release(c, broken);
      throw this.wrapped(err);
    }
  }

  /** One batch inside an open session: written when next in line; a failure is thrown (the caller rolls back). */
  private *writeFlow(
    o: Open<C, Col>,
    seq: number,
    batch: SinkBatch,
    opts: ApplyOptions | undefined,
  ): Flow<ApplyOutcome> {
    if (seq <= o.last) return 'duplicate';
    if (seq > o.last + 1) return 'gap';
    try {
      if (batch.rows.length) {
        const refused = yield* this.writeBatch(o.c, o.cols, batch);
        if (refused.length) {
          // Nobody to hand them to: fail the batch rather than drop records silently.
          if (!opts?.onRefused)
            throw new ConnectorError(
              this.binding,
              `the ${this.dialect.refuser} refused ${refused.length} record(s) of batch ${batch.batchId}: ${refused[0]!.reason}`,
            );
          opts.onRefused(refused);
        }
      }
    } catch (err) {
      throw this.wrapped(err);
    }
    o.last = seq;
    o.lastBatch = batch.batchId;
    o.applied++;
    return 'applied';
  }

  /** Ends a session: records the last sequence applied and commits, or rolls back; gives the connection back. */
  private *closeFlow(o: Open<C, Col>, commit: boolean): Flow<void> {
    const d = this.dialect;
    let broken = false;
    try {
      if (commit && o.applied > 0) {
        yield d.setLedger(o.c, o.stream, o.last, o.lastBatch, Date.now());
        yield d.commit(o.c);
      } else yield d.rollback(o.c);
    } catch (err) {
      broken = yield* this.rollbackFlow(o.c);
      throw this.wrapped(err);
    } finally {
      yield d.release(o.c, broken);
    }
  }

  /** Rolls back; true when that failed too (the connection is gone: the server rolls back; it is not reused). */
  private *rollbackFlow(c: C): Flow<boolean> {
    try {
      yield this.dialect.rollback(c);
      return false;
    } catch {
      return true;
    }
  }

  private wrapped(err: unknown): unknown {
    return err instanceof ConnectorError ? err : this.dialect.wrap(`writing ${this.dialect.tableName}`, err);
  }

  /** Writes the batch's rows; returns the records refused, each with the database's reason. */
  private *writeBatch(c: C, known: Map<string, Col>, batch: SinkBatch): Flow<RefusedRecord[]> {
    const d = this.dialect;
    let cols = known;
    let missing = d.checksColumns ? batch.columns.filter((col) => !d.column(cols, col)) : [];
    if (missing.length) {
      // The table may have been altered since it was first read.
      cols = (yield d.readColumns(c)) as Map<string, Col>;
      this.table = d.sync ? cols : Promise.resolve(cols);
      missing = batch.columns.filter((col) => !d.column(cols, col));
    }
    const lacking = this.keyColumns.filter((k) => !batch.columns.includes(k));
    if (missing.length || lacking.length) {
      // Every record of the batch, at once (bisecting would only find them all one by one).
      const reason = lacking.length
        ? `batch lacks key column ${lacking.join(', ')}`
        : `table ${d.tableName} has no column ${missing.map((col) => JSON.stringify(col)).join(', ')}`;
      return batch.rows.map((_, index) => ({ index, reason }));
    }
    const whole = batch.rows.length;
    return yield* bisect(
      whole,
      (lo, hi) =>
        this.attempt(
          c,
          cols,
          lo === 0 && hi === whole ? batch : { ...batch, rows: batch.rows.slice(lo, hi), ops: batch.ops.slice(lo, hi) },
        ),
      (err) => d.isRecordError(err),
    );
  }

  /** One part inside a savepoint, so a record the database refuses undoes only this part. */
  private *attempt(c: C, cols: Map<string, Col>, part: SinkBatch): Flow<void> {
    const d = this.dialect;
    try {
      // Sent together: the driver pipelines them where it can.
      yield new Parallel([d.savepoint(c), this.run(this.writeRuns(c, cols, part))]);
    } catch (err) {
      yield d.rollbackToSavepoint(c);
      throw d.asRefusal ? d.asRefusal(err) : err;
    } finally {
      if (d.releaseSavepoint) yield d.releaseSavepoint(c);
    }
  }

  /** Upserts and deletes in batch order: consecutive rows of the same op go to the dialect as one run. */
  private *writeRuns(c: C, cols: Map<string, Col>, b: SinkBatch): Flow<void> {
    if (b.rows.length === 0) return;
    const d = this.dialect;
    for (const k of this.keyColumns)
      if (!b.columns.includes(k)) throw new ConnectorError(this.binding, `batch lacks key column ${k}`);
    const keyIdx = this.keyColumns.map((k) => b.columns.indexOf(k));
    const convert = b.columns.map((name) => d.converter(name, d.column(cols, name)));
    const isDelete = (i: number): boolean => b.ops[i] === 'd';
    for (let i = 0; i < b.rows.length;) {
      let j = i + 1;
      while (j < b.rows.length && isDelete(j) === isDelete(i)) j++;
      const run = i === 0 && j === b.rows.length ? b.rows : b.rows.slice(i, j);
      if (isDelete(i))
        yield d.deleteRun(
          c,
          run.map((row) => keyIdx.map((x) => convert[x]!(row[x]))),
        );
      else yield d.upsertRun(c, b.columns, run, convert, keyIdx);
      i = j;
    }
  }

  private *lastSequenceFlow(stream: string): Flow<number> {
    const d = this.dialect;
    yield this.ready();
    const c = (yield d.connect()) as C;
    try {
      return (yield d.readLedger(c, stream)) as number;
    } catch (err) {
      throw d.wrap('reading the ledger', err);
    } finally {
      yield d.release(c, false);
    }
  }
}
