// MariaDB / MySQL as a dialect of the SQL sink: INSERT … ON DUPLICATE KEY UPDATE through the driver's bulk
// batch() (update-then-insert per row where other unique indexes exist), DELETE in chunks of key tuples,
// strict sessions at UTC, statements pipelined (about three round trips a batch), savepoints released by
// the commit, SQLSTATE and errno deciding what a record owns. Values written: see mariadb/source.ts.
import type * as mariadb from 'mariadb';
import { Type, type Static } from 'typebox';
import { KeySetting, NameSetting } from '../settings.js';
import type { Convert, SqlDialect } from '../sql/dialect.js';
import { errText, wrap } from '../sql/errors.js';
import { SqlSink } from '../sql/sink.js';
import { ConnectorError, asList, type SinkScanPage, type SinkSchemaHint } from '../types.js';
import {
  mariadbIdent,
  MariadbConnection,
  mariadbConnectionSettings,
  type ColumnInfo,
  type RowsResult,
} from './connection.js';
import { comparable, converter, decodeRows, textOf } from './values.js';

export const MariadbSinkSettings = Type.Object(
  {
    type: Type.Union([Type.Literal('mariadb'), Type.Literal('mysql')]),
    ...mariadbConnectionSettings,
    table: NameSetting(
      "Table written; created from the task's fields when missing (InnoDB, utf8mb4, binary collation).",
    ),
    key: KeySetting,
  },
  { additionalProperties: false },
);
/** Settings of a mariadb/mysql sink binding (each described, with its default, in MariadbSinkSettings). */
export type MariadbSinkConfig = Static<typeof MariadbSinkSettings>;

/** Most key tuples in one DELETE … IN (…). */
const DELETE_CHUNK = 1_000;
/** InnoDB's longest index key, in bytes (DYNAMIC rows); utf8mb4 needs 4 per character. */
const MAX_KEY_BYTES = 3072;
const TRANSACTIONAL_ENGINES = new Set(['innodb', 'xtradb', 'rocksdb', 'tokudb', 'ndbcluster', 'ndb']);

/** Sink sessions: UTC for TIMESTAMP, strict mode so the server refuses what it would otherwise truncate. */
const SINK_INIT = [
  "SET time_zone = '+00:00'",
  "SET sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
];

/** Column types of a table the sink creates, by field type (exact for every value of that type, or refused). */
const CREATE_TYPES: Record<string, string> = {
  string: 'LONGTEXT',
  integer: 'BIGINT',
  number: 'DOUBLE',
  // 35 integer and 30 fractional digits, MariaDB's widest; a value needing more is refused, never rounded.
  decimal: 'DECIMAL(65, 30)',
  boolean: 'BOOLEAN',
  date: 'DATE',
  time: 'TIME(6)',
  datetime: 'DATETIME(6)',
  timestamp: 'DATETIME(6)',
  // An instant: TIMESTAMP is stored in UTC and read in the session's zone (+00:00); it spans 1970–2038,
  // and the server refuses instants outside (common/src/field-types.ts).
  timestamptz: 'TIMESTAMP(6) NULL DEFAULT NULL',
  binary: 'LONGBLOB',
  json: 'JSON',
};

/**
 * Server errors that belong to a record: SQLSTATE classes 22 and 23, and the strict-mode errors MariaDB
 * reports under other states (1265 data truncated is 01000; 1366, 1292, 1406, 1048, 1062, 1364, 1452,
 * 1451, 1690, 3819/4025 check constraints). Anything else (connection, lock wait, disk) is the server's.
 */
const RECORD_ERRNOS = new Set([
  1048, 1062, 1264, 1265, 1292, 1364, 1366, 1367, 1406, 1411, 1451, 1452, 1690, 3819, 4025, 4078,
]);

type Conn = mariadb.Connection;
type Cols = Map<string, ColumnInfo>;

class MariadbDialect implements SqlDialect<Conn, ColumnInfo> {
  readonly sync = false;
  readonly keyColumns: string[];
  readonly tableName: string;
  readonly refuser = 'server';
  readonly checksColumns = true;
  private readonly conn: MariadbConnection;
  private readonly table: string;
  private readonly ledger: string;
  /** A binary collation without trailing-space padding (set by ensureLedger from the server's version). */
  private collation = 'utf8mb4_nopad_bin';
  /** Unique indexes of the table besides the key (see checkTable()). */
  private otherUniqueIndexes: string[] = [];

  constructor(
    readonly binding: string,
    private readonly cfg: MariadbSinkConfig,
  ) {
    if (!cfg.table) throw new ConnectorError(binding, 'mariadb sink needs table');
    this.keyColumns = asList(cfg.key);
    if (this.keyColumns.length === 0) throw new ConnectorError(binding, 'mariadb sink needs key columns (key: id)');
    for (const k of this.keyColumns) mariadbIdent(k, binding);
    this.conn = new MariadbConnection(binding, cfg, SINK_INIT);
    const db = mariadbIdent(this.conn.database, binding);
    this.table = `${db}.${mariadbIdent(cfg.table, binding)}`;
    this.ledger = `${db}.\`_xchg_ledger\``;
    this.tableName = `${this.conn.database}.${cfg.table}`;
  }

  connect(): Promise<Conn> {
    return this.conn.connect();
  }
  release(c: Conn, broken: boolean): Promise<void> {
    return this.conn.release(c, broken);
  }
  close(): Promise<void> {
    return this.conn.end();
  }

  async ensureLedger(c: Conn): Promise<void> {
    const version = String(
      ((await c.query({ sql: 'SELECT VERSION()', rowsAsArray: true })) as unknown[][])[0]?.[0] ?? '',
    );
    // A binary collation without trailing-space padding: keys 'a', 'A' and 'a ' stay three keys.
    this.collation = /mariadb/i.test(version) ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${this.ledger} (stream VARCHAR(700) NOT NULL PRIMARY KEY, last_seq BIGINT NOT NULL, last_batch VARCHAR(700) NOT NULL, updated_at BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${this.collation}`,
    );
  }
  async readColumns(c: Conn): Promise<Cols> {
    return new Map((await this.conn.columns(c, this.cfg.table)).map((col) => [col.name.toLowerCase(), col]));
  }
  /** MariaDB's column names are case-insensitive. */
  column(cols: Cols, name: string): ColumnInfo | undefined {
    return cols.get(name.toLowerCase());
  }

  async createTable(c: Conn, columns: SinkSchemaHint['columns']): Promise<void> {
    const typeOf = (t: string | undefined): string => CREATE_TYPES[t ?? 'string'] ?? 'LONGTEXT';
    const textKeys = columns.filter(
      (col) => this.keyColumns.includes(col.name) && typeOf(col.type) === 'LONGTEXT',
    ).length;
    const keyChars = Math.floor(MAX_KEY_BYTES / 4 / Math.max(1, textKeys));
    const defs = columns.map((col) => {
      let type = typeOf(col.type);
      if (this.keyColumns.includes(col.name)) {
        if (type === 'LONGTEXT') type = `VARCHAR(${keyChars})`;
        else if (type === 'LONGBLOB') type = 'VARBINARY(3072)';
        type = `${type.replace(' NULL DEFAULT NULL', '')} NOT NULL`;
      }
      return `${mariadbIdent(col.name, this.binding)} ${type}`;
    });
    const pk = this.keyColumns.map((k) => mariadbIdent(k, this.binding)).join(', ');
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (${defs.join(', ')}, PRIMARY KEY (${pk})) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${this.collation}`,
    );
  }

  /** Refuses case-insensitive keys and tables without transactions; finds other unique indexes. */
  async checkTable(c: Conn): Promise<void> {
    const where = [this.conn.database, this.cfg.table];
    const rows = async (sql: string): Promise<unknown[][]> =>
      (await c.query({ sql, rowsAsArray: true }, where)) as unknown[][];
    // A case-insensitive key column would merge keys the source keeps apart ('a' and 'A', an ID number
    // ending in x and in X): the sink could never equal its source, so the task is refused at start.
    for (const [col, collation] of await rows(
      'SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    )) {
      if (!this.keyColumns.some((k) => k.toLowerCase() === String(col).toLowerCase()) || typeof collation !== 'string')
        continue;
      if (/_ci$/i.test(collation))
        throw new ConnectorError(
          this.binding,
          `key column ${String(col)} of table ${this.tableName} has the case-insensitive collation ${collation}: keys that differ only in case would merge into one row; give it a binary collation (ALTER TABLE … MODIFY ${String(col)} … COLLATE utf8mb4_nopad_bin)`,
        );
    }
    // Unique indexes other than the key: ON DUPLICATE KEY UPDATE would fire on them too and overwrite
    // another row; such tables get an update-then-insert per row, where a clash is refused (1062).
    const uniques = await rows(
      'SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX',
    );
    const byIndex = new Map<string, string[]>();
    for (const [ix, col] of uniques)
      byIndex.set(String(ix), [...(byIndex.get(String(ix)) ?? []), String(col).toLowerCase()]);
    const keySet = this.keyColumns
      .map((k) => k.toLowerCase())
      .sort()
      .join('\u0000');
    this.otherUniqueIndexes = [...byIndex.entries()]
      .filter(([, cols]) => [...cols].sort().join('\u0000') !== keySet)
      .map(([ix]) => ix);
    const engine = (
      await rows('SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?')
    ).map((r) => String(r[0] ?? ''))[0];
    if (engine && !TRANSACTIONAL_ENGINES.has(engine.toLowerCase()))
      throw new ConnectorError(
        this.binding,
        `table ${this.tableName} uses the ${engine} engine, which has no transactions: the sink writes a batch and its ledger entry atomically and needs InnoDB`,
      );
  }

  async lockLedger(c: Conn, stream: string): Promise<number> {
    // Statements that do not depend on each other's results are sent together (the driver pipelines
    // them): a batch costs about three round trips (lock, write, commit), not eight.
    // The placeholder row makes FOR UPDATE lock something even for a new stream, so two concurrent
    // applies of one stream serialise here instead of both seeing 0 (ON DUPLICATE KEY takes the
    // exclusive lock at once, where INSERT IGNORE would take a shared one and could deadlock on the
    // upgrade); it is rolled back unless the batch applies.
    const [, , r] = await Promise.all([
      c.beginTransaction(),
      c.query(
        `INSERT INTO ${this.ledger} (stream, last_seq, last_batch, updated_at) VALUES (?, 0, '', 0) ON DUPLICATE KEY UPDATE stream = stream`,
        [stream],
      ),
      c.query({ sql: `SELECT last_seq FROM ${this.ledger} WHERE stream = ? FOR UPDATE`, rowsAsArray: true }, [
        stream,
      ]) as Promise<unknown[][]>,
    ]);
    return Number(r[0]?.[0] ?? 0);
  }
  async setLedger(c: Conn, stream: string, seq: number, batchId: string, nowMs: number): Promise<void> {
    await c.query(`UPDATE ${this.ledger} SET last_seq = ?, last_batch = ?, updated_at = ? WHERE stream = ?`, [
      seq,
      batchId,
      nowMs,
      stream,
    ]);
  }
  async readLedger(c: Conn, stream: string): Promise<number> {
    const r = (await c.query({ sql: `SELECT last_seq FROM ${this.ledger} WHERE stream = ?`, rowsAsArray: true }, [
      stream,
    ])) as unknown[][];
    return Number(r[0]?.[0] ?? 0);
  }
  commit(c: Conn): Promise<void> {
    return c.commit();
  }
  rollback(c: Conn): Promise<void> {
    return c.rollback();
  }
  /** A savepoint of the same name replaces the last one; all are released by the commit. */
  async savepoint(c: Conn): Promise<void> {
    await c.query('SAVEPOINT xchg_part');
  }
  async rollbackToSavepoint(c: Conn): Promise<void> {
    await c.query('ROLLBACK TO SAVEPOINT xchg_part');
  }

  converter(name: string, col: ColumnInfo | undefined): Convert {
    return converter(this.binding, name, col);
  }

  async upsertRun(c: Conn, columns: string[], raw: unknown[][], convert: Convert[], keyIdx: number[]): Promise<void> {
    const rows = raw.map((row) => row.map((v, x) => convert[x]!(v)));
    const q = (name: string): string => mariadbIdent(name, this.binding);
    const names = columns.map(q);
    const keys = new Set(this.keyColumns);
    if (this.otherUniqueIndexes.length) return this.updateThenInsert(c, columns, rows, keyIdx);
    const updates = columns.filter((col) => !keys.has(col)).map((col) => `${q(col)} = VALUES(${q(col)})`);
    // With nothing but key columns, "update" a key to itself: a no-op that still refuses other errors
    // (INSERT IGNORE would turn every error into a warning).
    const k0 = q(this.keyColumns[0]!);
    const action = updates.length ? updates.join(', ') : `${k0} = ${k0}`;
    await c.batch(
      `INSERT INTO ${this.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ON DUPLICATE KEY UPDATE ${action}`,
      rows,
    );
  }

  /**
   * Update by the key, insert when there was nothing to update: a clash with another unique index is then
   * refused (1062) instead of silently overwriting the row that holds the other value.
   */
  private async updateThenInsert(c: Conn, columns: string[], rows: unknown[][], keyIdx: number[]): Promise<void> {
    const q = (name: string): string => mariadbIdent(name, this.binding);
    const keys = new Set(this.keyColumns);
    const setCols = columns.map((col, i) => [col, i] as const).filter(([col]) => !keys.has(col));
    const where = this.keyColumns.map((k) => `${q(k)} <=> ?`).join(' AND ');
    const insert = `INSERT INTO ${this.table} (${columns.map(q).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    const update = setCols.length
      ? `UPDATE ${this.table} SET ${setCols.map(([col]) => `${q(col)} = ?`).join(', ')} WHERE ${where}`
      : undefined;
    const exists = `SELECT 1 FROM ${this.table} WHERE ${where} FOR UPDATE`;
    for (const row of rows) {
      const keyVals = keyIdx.map((i) => row[i]);
      // affectedRows counts changed rows only, so existence is asked, not inferred from an update.
      const found = ((await c.query({ sql: exists, rowsAsArray: true }, keyVals)) as unknown[][]).length > 0;
      if (!found) await c.query(insert, row);
      else if (update) await c.query(update, [...setCols.map(([, i]) => row[i]), ...keyVals]);
    }
  }

  async deleteRun(c: Conn, keys: unknown[][]): Promise<void> {
    const names = this.keyColumns.map((k) => mariadbIdent(k, this.binding));
    const lhs = names.length === 1 ? names[0]! : `(${names.join(', ')})`;
    const tuple = names.length === 1 ? '?' : `(${names.map(() => '?').join(', ')})`;
    for (let at = 0; at < keys.length; at += DELETE_CHUNK) {
      const chunk = keys.slice(at, at + DELETE_CHUNK);
      await c.execute(`DELETE FROM ${this.table} WHERE ${lhs} IN (${chunk.map(() => tuple).join(', ')})`, chunk.flat());
    }
  }

  /**
   * Errors that belong to a record, so the rest of its batch can be written: SQLSTATE class 22 (data: too
   * long, out of range, incorrect value or string), 23 (integrity: NOT NULL, duplicate unique key, check,
   * foreign key), RECORD_ERRNOS, and values this connector refuses (ConnectorError).
   */
  isRecordError(err: unknown): boolean {
    if (err instanceof ConnectorError || err instanceof RangeError || err instanceof TypeError) return true;
    const { sqlState: state, errno } = err as { sqlState?: unknown; errno?: unknown };
    return (
      (typeof state === 'string' && /^2[23]/.test(state)) || (typeof errno === 'number' && RECORD_ERRNOS.has(errno))
    );
  }

  /** The reason a refused record is quarantined with: the server's message and code only. */
  asRefusal(err: unknown): unknown {
    if (err instanceof ConnectorError) return err;
    const { sqlState, errno } = err as { sqlState?: unknown; errno?: unknown };
    return Object.assign(new Error(errText(err)), { sqlState, errno, cause: err });
  }

  wrap(what: string, err: unknown): unknown {
    return wrap(this.binding, what, err);
  }

  /**
   * Reconciliation: rows in key order after `afterKey` (the previous page's lastKey: the key as the
   * server's text, cast back to the column's type), values in the model as the source reads them.
   */
  async scan(cols: Cols, afterKey: unknown[] | null, limit: number): Promise<SinkScanPage> {
    const keyCols = this.keyColumns.map((k) => cols.get(k.toLowerCase())!);
    const keys = keyCols.map((col) => mariadbIdent(col.name, this.binding));
    const cmps = keyCols.map((col, i) => comparable(col, keys[i]!, this.binding, 'key'));
    const texts = cmps.map((cmp, i) => `${cmp.text} AS \`__xchg_k${i}\``).join(', ');
    const params: unknown[] = [];
    // (k1, k2) > (X1, X2) spelled out, as MariaDB plans it as index ranges.
    const after = (i: number): string => {
      const eq = keys.slice(0, i).map((k, j) => (params.push(textOf(afterKey![j])), `${k} = ${cmps[j]!.param}`));
      params.push(textOf(afterKey![i]));
      return [...eq, `${keys[i]} > ${cmps[i]!.param}`].join(' AND ');
    };
    const where = afterKey ? `WHERE ${keys.map((_, i) => `(${after(i)})`).join(' OR ')}` : '';
    params.push(limit);
    const c = await this.conn.connect();
    let res: RowsResult;
    try {
      const sql = `SELECT ${this.table}.*, ${texts} FROM ${this.table} ${where} ORDER BY ${keys.join(', ')} LIMIT ?`;
      res = (await c.query({ sql, rowsAsArray: true }, params)) as RowsResult;
    } catch (err) {
      throw wrap(this.binding, `reading ${this.tableName}`, err);
    } finally {
      await this.conn.release(c);
    }
    const { rows, extras } = decodeRows(res, keys.length);
    const columns = res.meta.slice(0, res.meta.length - keys.length).map((m) => m.name());
    const last = extras.at(-1);
    return {
      columns,
      keyColumns: this.keyColumns,
      rows: rows.map((r) => columns.map((col) => r[col])),
      lastKey: last ? last.map(textOf) : null,
      exhausted: res.length < limit,
    };
  }
}

/** A MariaDB or MySQL table as a sink: the SQL sink over the MariaDB dialect. */
export class MariadbSink extends SqlSink<Conn, ColumnInfo> {
  constructor(binding: string, cfg: MariadbSinkConfig, hint?: SinkSchemaHint) {
    super(new MariadbDialect(binding, cfg), hint);
  }
}
