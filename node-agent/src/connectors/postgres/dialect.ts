// PostgreSQL as a dialect of the SQL sink: multi-row INSERT … ON CONFLICT within the bind-parameter limit,
// DELETE by key tuples, savepoints released after each part, SQLSTATE classes deciding what a record owns.
import type pg from 'pg';
import { parse as losslessParse } from 'lossless-json';
import { Type, type Static } from 'typebox';
import { canonical, Decimal, describeValue, JsonText, Temporal } from '../../values/value.js';
import { KeySetting, NameSetting } from '../settings.js';
import type { Convert, SqlDialect } from '../sql/dialect.js';
import { wrap } from '../sql/errors.js';
import { SqlSink } from '../sql/sink.js';
import { ConnectorError, asList, type SinkScanPage, type SinkSchemaHint } from '../types.js';
import { ident, PostgresConnection, postgresConnectionSettings, type Column } from './connection.js';

export const PostgresSinkSettings = Type.Object(
  {
    type: Type.Literal('postgres'),
    ...postgresConnectionSettings,
    table: NameSetting("Table written; created from the task's fields when missing."),
    key: KeySetting,
  },
  { additionalProperties: false },
);
/** Settings of a postgres sink binding (each described, with its default, in PostgresSinkSettings). */
export type PostgresSinkConfig = Static<typeof PostgresSinkSettings>;

/** PostgreSQL's limit of bind parameters in one statement. */
const MAX_PARAMS = 65_535;

const PG_TYPES: Record<string, string> = {
  integer: 'bigint',
  number: 'double precision',
  decimal: 'numeric',
  boolean: 'boolean',
  string: 'text',
  date: 'date',
  time: 'time',
  datetime: 'timestamp',
  timestamptz: 'timestamptz',
  binary: 'bytea',
  json: 'jsonb',
};
const NUMERIC_UDTS = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']);

type Client = pg.PoolClient;

class PostgresDialect implements SqlDialect<Client, Column> {
  readonly sync = false;
  readonly keyColumns: string[];
  readonly tableName: string;
  readonly refuser = 'database';
  readonly checksColumns = true;
  private readonly conn: PostgresConnection;
  private readonly table: string;
  private readonly ledger: string;

  constructor(
    readonly binding: string,
    private readonly cfg: PostgresSinkConfig,
    hint: SinkSchemaHint | undefined,
  ) {
    if (!cfg.table) throw new ConnectorError(binding, 'postgres sink needs table');
    this.keyColumns = asList(cfg.key);
    if (this.keyColumns.length === 0) throw new ConnectorError(binding, 'postgres sink needs key columns (key: id)');
    for (const k of this.keyColumns) ident(k, binding);
    // A column name PostgreSQL cannot take is refused when the task starts, not per record later.
    for (const c of hint?.columns ?? []) ident(c.name, binding);
    this.conn = new PostgresConnection(binding, cfg);
    this.table = `${this.conn.schema}.${ident(cfg.table, binding)}`;
    this.ledger = `${this.conn.schema}._xchg_ledger`;
    this.tableName = `${this.conn.schemaName}.${cfg.table}`;
  }

  connect(): Promise<Client> {
    return this.conn.connect();
  }
  release(c: Client, broken: boolean): void {
    c.release(broken || undefined);
  }
  close(): Promise<void> {
    return this.conn.end();
  }

  async ensureLedger(c: Client): Promise<void> {
    await createIfMissing(
      c,
      `CREATE TABLE IF NOT EXISTS ${this.ledger} (stream text PRIMARY KEY, last_seq bigint NOT NULL, last_batch text NOT NULL, updated_at bigint NOT NULL)`,
    );
  }
  readColumns(c: Client): Promise<Map<string, Column>> {
    return this.conn.columns(c, this.cfg.table);
  }
  column(cols: Map<string, Column>, name: string): Column | undefined {
    return cols.get(name);
  }
  async createTable(c: Client, columns: SinkSchemaHint['columns']): Promise<void> {
    const defs = columns.map((col) => `${ident(col.name, this.binding)} ${PG_TYPES[col.type ?? 'string'] ?? 'text'}`);
    const pk = this.keyColumns.map((k) => ident(k, this.binding)).join(', ');
    await createIfMissing(c, `CREATE TABLE IF NOT EXISTS ${this.table} (${defs.join(', ')}, PRIMARY KEY (${pk}))`);
  }

  async lockLedger(c: Client, stream: string): Promise<number> {
    await c.query('BEGIN');
    // The placeholder row makes FOR UPDATE lock something even for a new stream, so two concurrent
    // applies of one stream serialise here instead of both seeing 0; it is rolled back unless applied.
    await c.query(
      `INSERT INTO ${this.ledger} (stream, last_seq, last_batch, updated_at) VALUES ($1, 0, '', 0) ON CONFLICT (stream) DO NOTHING`,
      [stream],
    );
    const r = await c.query<{ last_seq: number | string }>(
      `SELECT last_seq FROM ${this.ledger} WHERE stream = $1 FOR UPDATE`,
      [stream],
    );
    return Number(r.rows[0]?.last_seq ?? 0);
  }
  async setLedger(c: Client, stream: string, seq: number, batchId: string, nowMs: number): Promise<void> {
    await c.query(`UPDATE ${this.ledger} SET last_seq = $2, last_batch = $3, updated_at = $4 WHERE stream = $1`, [
      stream,
      seq,
      batchId,
      nowMs,
    ]);
  }
  async readLedger(c: Client, stream: string): Promise<number> {
    const r = await c.query<{ last_seq: number | string }>(`SELECT last_seq FROM ${this.ledger} WHERE stream = $1`, [
      stream,
    ]);
    return Number(r.rows[0]?.last_seq ?? 0);
  }
  async commit(c: Client): Promise<void> {
    await c.query('COMMIT');
  }
  async rollback(c: Client): Promise<void> {
    await c.query('ROLLBACK');
  }
  async savepoint(c: Client): Promise<void> {
    await c.query('SAVEPOINT xchg_part');
  }
  async rollbackToSavepoint(c: Client): Promise<void> {
    await c.query('ROLLBACK TO SAVEPOINT xchg_part');
  }
  async releaseSavepoint(c: Client): Promise<void> {
    await c.query('RELEASE SAVEPOINT xchg_part').catch(() => undefined);
  }

  converter(_name: string, col: Column | undefined): Convert {
    return converter(col?.udt);
  }

  async upsertRun(
    c: Client,
    columns: string[],
    rows: unknown[][],
    convert: Convert[],
    keyIdx: number[],
  ): Promise<void> {
    // One INSERT … ON CONFLICT cannot touch a row twice: within a run the last version of a key wins,
    // which is what applying them one by one would leave.
    const byKey = new Map<string, unknown[]>();
    for (const row of rows)
      byKey.set(
        keyIdx.map((x) => canonical(row[x])).join('\u0000'),
        row.map((v, x) => convert[x]!(v)),
      );
    const unique = [...byKey.values()];
    const names = columns.map((col) => ident(col, this.binding));
    const updates = columns
      .filter((col) => !this.keyColumns.includes(col))
      .map((col) => `${ident(col, this.binding)} = EXCLUDED.${ident(col, this.binding)}`);
    const conflict = this.keyColumns.map((k) => ident(k, this.binding)).join(', ');
    const action = updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING';
    const per = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
    for (let at = 0; at < unique.length; at += per) {
      const params: unknown[] = [];
      const tuples = unique
        .slice(at, at + per)
        .map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
      await c.query(
        `INSERT INTO ${this.table} (${names.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (${conflict}) DO ${action}`,
        params,
      );
    }
  }

  async deleteRun(c: Client, keys: unknown[][]): Promise<void> {
    const names = this.keyColumns.map((k) => ident(k, this.binding)).join(', ');
    const per = Math.max(1, Math.floor(MAX_PARAMS / this.keyColumns.length));
    for (let at = 0; at < keys.length; at += per) {
      const params: unknown[] = [];
      const tuples = keys
        .slice(at, at + per)
        .map((key) => `(${key.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
      await c.query(`DELETE FROM ${this.table} WHERE (${names}) IN (${tuples.join(', ')})`, params);
    }
  }

  /**
   * Errors that belong to a record, so the rest of its batch can be written: SQLSTATE class 22 (data
   * exception: NUL in text, out of range, invalid input), 23 (integrity: NOT NULL, unique, check, foreign
   * key), 42804 (datatype mismatch), 54000 (a value too large). Anything else (connection, disk, locks) is
   * the database's, and the batch is retried whole later.
   */
  isRecordError(err: unknown): boolean {
    if (err instanceof ConnectorError || err instanceof RangeError || err instanceof TypeError) return true;
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && (/^2[23]/.test(code) || code === '42804' || code === '54000');
  }

  wrap(what: string, err: unknown): unknown {
    return wrap(this.binding, what, err);
  }

  /**
   * Reconciliation: rows in key order after `afterKey`. The key is also read as text (lastKey) and cast
   * back to the column's type for the next page, so no value loses digits or microseconds on the way.
   */
  async scan(cols: Map<string, Column>, afterKey: unknown[] | null, limit: number): Promise<SinkScanPage> {
    const keys = this.keyColumns.map((k) => ident(k, this.binding));
    const texts = keys.map((k, i) => `${k}::text AS "__xchg_k${i}"`).join(', ');
    const params: unknown[] = [];
    const after = (k: string, i: number): string => (
      params.push(afterKey![i] === null ? null : String(afterKey![i])),
      `$${params.length}::${cols.get(k)!.cast}`
    );
    const where = afterKey ? `WHERE (${keys.join(', ')}) > (${this.keyColumns.map(after).join(', ')})` : '';
    params.push(limit);
    const c = await this.conn.connect();
    let r: pg.QueryResult<unknown[]>;
    try {
      r = await c.query<unknown[]>({
        text: `SELECT *, ${texts} FROM ${this.table} ${where} ORDER BY ${keys.join(', ')} LIMIT $${params.length}`,
        values: params,
        rowMode: 'array',
      });
    } catch (err) {
      throw wrap(this.binding, `reading ${this.tableName}`, err);
    } finally {
      c.release();
    }
    const n = r.fields.length - keys.length;
    const rows = r.rows.map((row) => row.slice(0, n));
    const last = r.rows.at(-1);
    return {
      columns: r.fields.slice(0, n).map((f) => f.name),
      keyColumns: this.keyColumns,
      rows,
      lastKey: last ? last.slice(n) : null,
      exhausted: r.rows.length < limit,
    };
  }
}

/** A PostgreSQL table as a sink: the SQL sink over the PostgreSQL dialect. */
export class PostgresSink extends SqlSink<Client, Column> {
  constructor(binding: string, cfg: PostgresSinkConfig, hint?: SinkSchemaHint) {
    super(new PostgresDialect(binding, cfg, hint), hint);
  }
}

/** How a batch value is sent for a column of the given type (undefined: the column is unknown to us). */
function converter(udt: string | undefined): Convert {
  const numeric = udt !== undefined && NUMERIC_UDTS.has(udt);
  const bool = udt === 'bool';
  const array = udt?.startsWith('_') ?? false;
  const bytea = udt === 'bytea';
  const text = udt === 'text' || udt === 'varchar' || udt === 'bpchar';
  return (v) => {
    if (v === undefined || v === null) return null;
    // PostgreSQL would take the number's or the bytes' text without complaint: refused, not changed.
    if (bytea && !Buffer.isBuffer(v))
      throw new RangeError(`${describeValue(v)} cannot go into a bytea column unchanged (expected binary)`);
    if (text && Buffer.isBuffer(v))
      throw new RangeError(`${v.length} bytes of binary cannot go into a ${udt} column unchanged (expected text)`);
    // A JSON array into an array column: PostgreSQL's array literal, each element's text exact.
    if (array && v instanceof JsonText && v.text.trimStart().startsWith('['))
      return losslessParse(v.text, null, (n: string) => n) as unknown[];
    if (typeof v === 'boolean') return numeric ? (v ? 1 : 0) : v;
    if (typeof v === 'number') return bool ? v !== 0 : Object.is(v, -0) ? '-0' : v;
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Decimal || v instanceof Temporal || v instanceof JsonText) return v.text;
    if (typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v) && !(array && Array.isArray(v)))
      return JSON.stringify(v);
    return v;
  };
}

/**
 * Runs a `CREATE TABLE IF NOT EXISTS`. PostgreSQL's IF NOT EXISTS is checked before the catalog rows are
 * inserted, so two sessions creating one table at once (the sinks of several flows into one database share
 * the ledger table) can both pass it and the second fails on the catalog's unique index (23505 on
 * pg_type_typname_nsp_index), 42710 duplicate_object (its row type) or 42P07 duplicate_table. Each means the
 * table exists now: done.
 */
async function createIfMissing(c: Client, sql: string): Promise<void> {
  try {
    await c.query(sql);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42710' && code !== '42P07') throw err;
  }
}
