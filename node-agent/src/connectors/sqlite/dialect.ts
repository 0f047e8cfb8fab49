// SQLite as a dialect of the SQL sink (better-sqlite3, synchronous): upsert by key with INSERT … ON
// CONFLICT, one transaction per batch with the stream ledger (_xchg_ledger), savepoints for bisection.
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Type, type Static } from 'typebox';
import { Decimal, JsonText, Temporal, normInt } from '../../values/value.js';
import { limitPageCache } from '../../sqlite-cache.js';
import { KeySetting, NameSetting } from '../settings.js';
import type { Convert, SqlDialect } from '../sql/dialect.js';
import { ident } from '../sql/errors.js';
import { SqlSink } from '../sql/sink.js';
import { ConnectorError, asList, type SinkScanPage, type SinkSchemaHint } from '../types.js';
import { bindable } from './source.js';

export const SqliteSinkSettings = Type.Object(
  {
    type: Type.Literal('sqlite'),
    path: Type.String({ minLength: 1, description: 'Path of the SQLite database file (created when missing).' }),
    table: NameSetting("Table written; created from the task's fields when missing."),
    key: KeySetting,
    synchronous: Type.Optional(
      Type.Union([Type.Literal('FULL'), Type.Literal('NORMAL')], {
        default: 'FULL',
        description: 'SQLite synchronous level: FULL survives power loss; NORMAL only process crashes (faster).',
      }),
    ),
  },
  { additionalProperties: false },
);
/** Settings of a sqlite sink binding (each described, with its default, in SqliteSinkSettings). */
export type SqliteSinkConfig = Static<typeof SqliteSinkSettings>;

// Column types of a table the sink creates. Decimals, dates and times are TEXT: NUMERIC affinity would turn
// '1.50' or a 20-digit decimal into a rounded REAL.
const SQL_TYPES: Record<string, string> = {
  integer: 'INTEGER',
  number: 'REAL',
  decimal: 'TEXT',
  boolean: 'INTEGER',
  string: 'TEXT',
  date: 'TEXT',
  time: 'TEXT',
  datetime: 'TEXT',
  binary: 'BLOB',
  json: 'TEXT',
};

type Db = Database.Database;

/** Refused by SQLite for this record alone (the rest of the batch can be written). */
class ValueRefused extends Error {}

class SqliteDialect implements SqlDialect<Db, true> {
  readonly sync = true;
  readonly keyColumns: string[];
  readonly tableName: string;
  readonly refuser = 'database';
  readonly checksColumns = false;
  /** The database file: its sinks take turns with their sessions (SqlDialect.lockKey). */
  readonly lockKey: string;
  private readonly db: Db;
  private readonly table: string;
  private readonly upserts = new Map<string, Database.Statement>();
  private readonly st: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'rollbackTo' | 'release' | 'getLedger' | 'setLedger',
    Database.Statement
  >;
  private deletes: Database.Statement | undefined;
  private scanFirst: Database.Statement | undefined;
  private scanAfter: Database.Statement | undefined;

  constructor(
    readonly binding: string,
    cfg: SqliteSinkConfig,
  ) {
    if (!cfg.path || !cfg.table) throw new ConnectorError(binding, 'sqlite sink needs path and table');
    this.keyColumns = asList(cfg.key);
    if (this.keyColumns.length === 0) throw new ConnectorError(binding, 'sqlite sink needs key columns (key: id)');
    this.tableName = cfg.table;
    this.table = ident(cfg.table, binding);
    this.lockKey = `sqlite:${resolve(cfg.path)}`;
    try {
      this.db = new Database(cfg.path);
    } catch (err) {
      throw new ConnectorError(binding, `cannot open ${cfg.path}: ${(err as Error).message}`);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${cfg.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    limitPageCache(this.db);
    this.ensureLedger();
    const p = (sql: string): Database.Statement => this.db.prepare(sql);
    this.st = {
      begin: p('BEGIN'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT xchg_part'),
      rollbackTo: p('ROLLBACK TO xchg_part'),
      release: p('RELEASE xchg_part'),
      getLedger: p('SELECT last_seq FROM _xchg_ledger WHERE stream = ?'),
      setLedger: p(
        `INSERT INTO _xchg_ledger (stream, last_seq, last_batch, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (stream) DO UPDATE SET last_seq = excluded.last_seq, last_batch = excluded.last_batch, updated_at = excluded.updated_at`,
      ),
    };
  }

  connect(): Db {
    return this.db;
  }
  release(): void {}
  close(): void {
    if (this.db.open) this.db.close();
  }

  ensureLedger(): void {
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS _xchg_ledger (stream TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, last_batch TEXT NOT NULL, updated_at INTEGER NOT NULL)`,
    );
  }

  /** Only whether the table exists matters here: SQLite itself reports unknown columns. */
  readColumns(): Map<string, true> {
    const exists = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(this.tableName);
    return exists ? new Map([[this.tableName, true]]) : new Map();
  }
  column(): true {
    return true;
  }

  createTable(_c: Db, columns: SinkSchemaHint['columns']): void {
    const cols = columns.map((c) => `${ident(c.name, this.binding)} ${SQL_TYPES[c.type ?? 'string'] ?? 'TEXT'}`);
    const pk = this.keyColumns.map((k) => ident(k, this.binding)).join(', ');
    this.db.exec(`CREATE TABLE ${this.table} (${cols.join(', ')}, PRIMARY KEY (${pk}))`);
  }

  /** Prepared once the table exists, as before a first batch: a key column the table lacks fails here. */
  checkTable(): void {
    const where = this.keyColumns.map((k) => `${ident(k, this.binding)} = ?`).join(' AND ');
    this.deletes = this.db.prepare(`DELETE FROM ${this.table} WHERE ${where}`);
  }

  lockLedger(_c: Db, stream: string): number {
    this.st.begin.run();
    return this.readLedger(_c, stream);
  }
  setLedger(_c: Db, stream: string, seq: number, batchId: string, nowMs: number): void {
    this.st.setLedger.run(stream, seq, batchId, nowMs);
  }
  readLedger(_c: Db, stream: string): number {
    return (this.st.getLedger.get(stream) as { last_seq: number } | undefined)?.last_seq ?? 0;
  }
  commit(): void {
    this.st.commit.run();
  }
  rollback(): void {
    if (this.db.inTransaction) this.st.rollback.run();
  }
  savepoint(): void {
    this.st.savepoint.run();
  }
  rollbackToSavepoint(): void {
    this.st.rollbackTo.run();
  }
  releaseSavepoint(): void {
    try {
      this.st.release.run();
    } catch {
      /* nothing to release: the transaction is gone and the batch fails anyway */
    }
  }

  converter(): Convert {
    return toSqlite;
  }

  upsertRun(_c: Db, columns: string[], rows: unknown[][]): void {
    const upsert = this.upsertFor(columns);
    // One parameter array for the whole run, refilled per row (better-sqlite3 binds an array's elements as
    // the anonymous parameters): a new array and a spread per row were ~120 bytes of garbage a record.
    const args = new Array<unknown>(columns.length);
    for (const row of rows) {
      if (row.length !== args.length)
        throw new RangeError(`a record has ${row.length} values for ${args.length} columns`);
      for (let i = 0; i < args.length; i++) args[i] = toSqlite(row[i]);
      upsert.run(args);
    }
  }

  deleteRun(_c: Db, keys: unknown[][]): void {
    for (const key of keys) this.deletes!.run(...key);
  }

  private upsertFor(columns: string[]): Database.Statement {
    const sig = columns.join('\u0000');
    let st = this.upserts.get(sig);
    if (!st) {
      const q = (c: string): string => ident(c, this.binding);
      const updates = columns.filter((c) => !this.keyColumns.includes(c)).map((c) => `${q(c)} = excluded.${q(c)}`);
      st = this.db.prepare(
        `INSERT INTO ${this.table} (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
         ON CONFLICT (${this.keyColumns.map(q).join(', ')}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
      );
      this.upserts.set(sig, st);
    }
    return st;
  }

  /** Errors that belong to a record (constraint, type, size, a value SQLite cannot hold), not to the database as a whole. */
  isRecordError(err: unknown): boolean {
    if (
      err instanceof ValueRefused ||
      err instanceof RangeError ||
      err instanceof TypeError ||
      err instanceof ConnectorError
    )
      return true;
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
  }

  /** SQLite's errors go out as the driver throws them. */
  wrap(_what: string, err: unknown): unknown {
    return err;
  }

  /** Reconciliation: rows in key order after `afterKey` (a row-value comparison, so composite keys page right). */
  scan(_cols: unknown, afterKey: unknown[] | null, limit: number): SinkScanPage {
    const keys = this.keyColumns.map((k) => ident(k, this.binding)).join(', ');
    const marks = this.keyColumns.map(() => '?').join(', ');
    this.scanFirst ??= this.db
      .prepare(`SELECT * FROM ${this.table} ORDER BY ${keys} LIMIT ?`)
      .raw(true)
      .safeIntegers(true);
    this.scanAfter ??= this.db
      .prepare(`SELECT * FROM ${this.table} WHERE (${keys}) > (${marks}) ORDER BY ${keys} LIMIT ?`)
      .raw(true)
      .safeIntegers(true);
    const st = afterKey ? this.scanAfter : this.scanFirst;
    const found = (afterKey ? st.all(...afterKey.map(bindable), limit) : st.all(limit)) as unknown[][];
    // Integers as the model holds them (exact past 2^53, so a big key compares equal to its source).
    const rows = found.map((r) => r.map((x) => (typeof x === 'bigint' ? normInt(x) : x)));
    const columns = st.columns().map((c) => c.name);
    const keyIdx = this.keyColumns.map((k) => columns.indexOf(k));
    const last = rows.at(-1);
    return {
      columns,
      keyColumns: this.keyColumns,
      rows,
      lastKey: last ? keyIdx.map((i) => last[i]) : null,
      exhausted: rows.length < limit,
    };
  }
}

/** A SQLite table as a sink: the SQL sink over the SQLite dialect. */
export class SqliteSink extends SqlSink<Db, true> {
  constructor(binding: string, cfg: SqliteSinkConfig, hint?: SinkSchemaHint) {
    super(new SqliteDialect(binding, cfg), hint);
  }
}

/** A model value as SQLite stores it without loss: integers as INTEGER (bigint binds as int64), text forms for decimals, dates and JSON. */
function toSqlite(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  // better-sqlite3 binds every JS number as a double: 7 would land as REAL 7.0 ('7.0' in a TEXT column).
  // Integers bind as bigint, so they are stored as INTEGER.
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number') {
    // SQLite has no NaN: it would store NULL.
    if (Number.isNaN(v)) throw new ValueRefused('SQLite cannot store NaN');
    return Number.isSafeInteger(v) && !Object.is(v, -0) ? BigInt(v) : v;
  }
  if (v instanceof Decimal || v instanceof Temporal || v instanceof JsonText) return v.text;
  if (typeof v === 'string' || typeof v === 'bigint' || Buffer.isBuffer(v)) return v;
  return JSON.stringify(v);
}
