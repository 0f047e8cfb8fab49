// What one SQL database adds to the shared sink (sql/sink.ts): quoting and types live in its statements,
// plus its connections, transaction and savepoint primitives, statements for op runs within its
// parameter limits, and which errors belong to a record. A new database is one file implementing this.
import type { SinkScanPage, SinkSchemaHint } from '../types.js';
import type { MaybePromise } from './flow.js';

/** Turns a batch value into what the driver binds for one column. */
export type Convert = (v: unknown) => unknown;

/**
 * One database's side of the SQL sink. `C` is a connection (or the database handle of a synchronous
 * driver), `Col` what the dialect knows of a table column. Calls return values when `sync` is true and
 * promises otherwise; the ledger protocol (sql/sink.ts) is the same for both.
 */
export interface SqlDialect<C, Col> {
  readonly binding: string;
  /** True for a synchronous driver (better-sqlite3): every call returns its result. */
  readonly sync: boolean;
  /** The sink's key columns (the table's primary key), in order. */
  readonly keyColumns: readonly string[];
  /** The table as messages name it, e.g. public.person, xchg.人口信息. */
  readonly tableName: string;
  /** Who refuses records, in the message of a batch failed for them: 'database' or 'server'. */
  readonly refuser: string;
  /** Whether batch and key columns are checked against the table (false: the database reports them). */
  readonly checksColumns: boolean;
  /**
   * Sinks whose dialects give the same key take turns with their sessions (SqlSink.begin): one SQLite file
   * has one writer, and a second connection's write would wait for the open session's lock in a busy loop
   * that blocks the event loop the session needs to commit. Undefined: per sink (a server locks rows).
   */
  readonly lockKey?: string | undefined;

  connect(): MaybePromise<C>;
  /** Gives a connection back; a `broken` one is closed. */
  release(c: C, broken: boolean): MaybePromise<void>;
  close(): MaybePromise<void>;

  /** Creates the ledger table (_xchg_ledger) when missing. */
  ensureLedger(c: C): MaybePromise<void>;
  /** Columns of the table by the name `column` looks them up with; empty when the table does not exist. */
  readColumns(c: C): MaybePromise<Map<string, Col>>;
  column(cols: Map<string, Col>, name: string): Col | undefined;
  /** Creates the table from the task's fields (each a name and a field type), keyed by keyColumns. */
  createTable(c: C, columns: SinkSchemaHint['columns']): MaybePromise<void>;
  /** Refuses a table the sink cannot write exactly (a ConnectorError), e.g. one without transactions. */
  checkTable?(c: C, cols: Map<string, Col>): MaybePromise<void>;

  /** Begins the batch's transaction, locks the stream's ledger row and returns its last sequence (0: none). */
  lockLedger(c: C, stream: string): MaybePromise<number>;
  /** Records (stream, seq) in the ledger, inside the transaction. */
  setLedger(c: C, stream: string, seq: number, batchId: string, nowMs: number): MaybePromise<void>;
  /** The stream's last sequence outside a transaction (0: none). */
  readLedger(c: C, stream: string): MaybePromise<number>;
  commit(c: C): MaybePromise<void>;
  rollback(c: C): MaybePromise<void>;
  savepoint(c: C): MaybePromise<void>;
  rollbackToSavepoint(c: C): MaybePromise<void>;
  /** Releases the savepoint (never rejects); absent when the commit releases them all. */
  releaseSavepoint?(c: C): MaybePromise<void>;

  /** How a batch value is bound for a column (`col` undefined: unknown to the dialect). */
  converter(name: string, col: Col | undefined): Convert;
  /** Upserts rows (raw batch values, `convert` per column) in batch order; the last version of a key wins. */
  upsertRun(c: C, columns: string[], rows: unknown[][], convert: Convert[], keyIdx: number[]): MaybePromise<void>;
  /** Deletes rows by key (converted key values). */
  deleteRun(c: C, keys: unknown[][]): MaybePromise<void>;

  /** Whether an error belongs to a record (refused alone) rather than to the database (batch retried). */
  isRecordError(err: unknown): boolean;
  /** The error a refused record is reported with (default: as thrown). */
  asRefusal?(err: unknown): unknown;
  /** An error of `what` (e.g. "writing public.t") as the sink throws it. */
  wrap(what: string, err: unknown): unknown;

  /** Reconciliation: rows in key order after `afterKey` (see RecordSink.scan). */
  scan(cols: Map<string, Col>, afterKey: unknown[] | null, limit: number): MaybePromise<SinkScanPage>;
}
