// PostgreSQL tables as sources and sinks, mirroring the SQLite connector. Source: incremental by a cursor
// column (ties broken by the key) or full by key order, tombstones from a "deleted" column. Sink: upsert
// by key in one transaction per batch together with the stream ledger (_xchg_ledger).
import pg from 'pg';
import { parse as losslessParse } from 'lossless-json';
import { canonical, Decimal, describeValue, JsonText, normInt, parseDateTime, Temporal } from '../values/value.js';
import { ConnectorError, asList, isDeletedMark, ident as anyIdent, writeBisecting, type ApplyOptions, type ApplyOutcome, type RefusedRecord, type Cursor, type RecordSink, type RecordSource, type SinkBatch, type SinkSchemaHint, type SinkScanPage, type SourcePage } from './types.js';

/** Where the database is. `url` wins over the separate fields; the password never appears in errors. */
export interface PostgresConnectionConfig {
  /** postgres://user:password@host:port/database */
  url?: string;
  /** Default localhost. */
  host?: string;
  /** Default 5432. */
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** Schema holding the table (and the sink's ledger); default public. */
  schema?: string;
}

export interface PostgresSourceConfig extends PostgresConnectionConfig {
  type: 'postgres';
  table: string;
  /** Exactly one key column. */
  key: string | string[];
  /** Column that grows with every change (e.g. updated_at, a change sequence); absent → full sync. Rows where it is NULL are not read. */
  cursor?: string;
  /** Column whose truthy value marks a deleted row (carried as a tombstone). */
  deleted?: string;
  /** Columns an online query may look up by (default: the key); each should be indexed. */
  queryKeys?: string[];
}

export interface PostgresSinkConfig extends PostgresConnectionConfig {
  type: 'postgres';
  table: string;
  key: string | string[];
}

/** Connections per connector: reads are sequential and a sink applies one batch at a time. */
const POOL_MAX = 2;
const CONNECT_TIMEOUT_MS = 10_000;
/** PostgreSQL's limit of bind parameters in one statement. */
const MAX_PARAMS = 65_535;
/** Extra columns a source query selects: the cursor and key as text, so they round-trip through JSON exactly. */
const CURSOR_TEXT = '__xchg_c';
const KEY_TEXT = '__xchg_k';

// Values in the model (values/value.ts), exact: int8 as a number when safe else a bigint, numeric as a
// Decimal (its digits), date/time/timestamp as Temporal text exactly as PostgreSQL prints it in ISO style
// (never a JS Date: that would lose microseconds and shift wall-clock values into the agent's zone),
// timestamptz as an instant in UTC (the session's TimeZone is UTC, set on connect), json/jsonb as their
// text (big numbers inside stay exact), bytea as a Buffer (pg's default). Per pool, so other users of pg
// are not affected. BC dates and values beyond year 9999 keep PostgreSQL's text.
const TYPES = new pg.TypeOverrides();
const B = pg.types.builtins;
TYPES.setTypeParser(B.INT8, (v: string) => normInt(BigInt(v)));
TYPES.setTypeParser(B.NUMERIC, (v: string) => new Decimal(v));
TYPES.setTypeParser(B.DATE, (v: string) => new Temporal('date', v));
TYPES.setTypeParser(B.TIME, (v: string) => new Temporal('time', v));
TYPES.setTypeParser(B.TIMESTAMP, (v: string) => new Temporal('timestamp', v.replace(' ', 'T')));
TYPES.setTypeParser(B.TIMESTAMPTZ, (v: string) => {
  const p = parseDateTime(v);
  return p.ok && p.value.kind === 'timestamptz' ? p.value : new Temporal('timestamptz', v);
});
TYPES.setTypeParser(B.INTERVAL, (v: string) => v);
TYPES.setTypeParser(B.JSON, (v: string) => new JsonText(v));
TYPES.setTypeParser(B.JSONB, (v: string) => new JsonText(v));

interface Column {
  /** Type to cast a text parameter to, e.g. "pg_catalog"."timestamptz". */
  cast: string;
  udt: string;
}

/** A pool of a binding, with the target described without credentials for error messages. */
class PostgresConnection {
  readonly pool: pg.Pool;
  readonly where: string;
  readonly schemaName: string;
  readonly schema: string;
  private ended = false;

  constructor(
    readonly binding: string,
    cfg: PostgresConnectionConfig,
  ) {
    this.schemaName = cfg.schema ?? 'public';
    this.schema = ident(this.schemaName, binding);
    this.where = describeTarget(cfg);
    this.pool = new pg.Pool({
      ...(cfg.url !== undefined && { connectionString: cfg.url }),
      ...(cfg.host !== undefined && { host: cfg.host }),
      ...(cfg.port !== undefined && { port: Number(cfg.port) }),
      ...(cfg.user !== undefined && { user: cfg.user }),
      ...(cfg.password !== undefined && { password: cfg.password }),
      ...(cfg.database !== undefined && { database: cfg.database }),
      max: POOL_MAX,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'xchg-agent',
      types: TYPES,
      // The parsers above and the cursor texts rely on ISO output and UTC for timestamptz, whatever the
      // server's defaults; extra_float_digits 3 prints doubles in their shortest exact form.
      onConnect: async (client) => {
        await client.query(`SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'; SET extra_float_digits = 3`);
      },
    });
    // An idle connection dropped by the server must not crash the agent; the next checkout reconnects.
    this.pool.on('error', () => {});
  }

  async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw wrap(this.binding, `cannot connect to postgres at ${this.where}`, err);
    }
  }

  /** Columns of schema.table by name (empty when the table does not exist or is not visible). */
  async columns(client: pg.PoolClient, table: string): Promise<Map<string, Column>> {
    const r = await client.query<{ column_name: string; udt_schema: string; udt_name: string }>(
      'SELECT column_name, udt_schema, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [this.schemaName, table],
    );
    return new Map(r.rows.map((c) => [c.column_name, { cast: `${quote(c.udt_schema)}.${quote(c.udt_name)}`, udt: c.udt_name }]));
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

interface SourcePlan {
  first: string;
  after: string;
  /** Online-query statement per query key column. */
  byColumn: Map<string, string>;
}

export class PostgresSource implements RecordSource {
  readonly keyColumns: string[];
  readonly mode: 'incremental' | 'full';
  readonly cursorColumn: string | undefined;
  private readonly conn: PostgresConnection;
  private readonly table: string;
  private readonly deleted: string | undefined;
  private plan: Promise<SourcePlan> | undefined;

  constructor(
    readonly binding: string,
    private readonly cfg: PostgresSourceConfig,
  ) {
    if (!cfg.table) throw new ConnectorError(binding, 'postgres source needs table');
    this.keyColumns = asList(cfg.key);
    if (this.keyColumns.length !== 1) throw new ConnectorError(binding, 'postgres source needs exactly one key column (key: id)');
    ident(this.keyColumns[0]!, binding);
    if (cfg.cursor) ident(cfg.cursor, binding);
    if (cfg.deleted) ident(cfg.deleted, binding);
    for (const col of cfg.queryKeys ?? []) ident(col, binding);
    this.deleted = cfg.deleted;
    this.mode = cfg.cursor ? 'incremental' : 'full';
    this.cursorColumn = cfg.cursor;
    this.conn = new PostgresConnection(binding, cfg);
    this.table = `${this.conn.schema}.${ident(cfg.table, binding)}`;
  }

  /** Connects and builds the queries on first use; a failure is not memoised, so the next read retries. */
  private ready(): Promise<SourcePlan> {
    this.plan ??= this.prepare().catch((err: unknown) => {
      this.plan = undefined;
      throw err;
    });
    return this.plan;
  }

  private async prepare(): Promise<SourcePlan> {
    const client = await this.conn.connect();
    let cols: Map<string, Column>;
    try {
      cols = await this.conn.columns(client, this.cfg.table);
    } finally {
      client.release();
    }
    const name = `${this.conn.schemaName}.${this.cfg.table}`;
    if (cols.size === 0) throw new ConnectorError(this.binding, `table ${name} does not exist at ${this.conn.where} (or this user cannot see it)`);
    const need = (col: string, role: string): Column => {
      const c = cols.get(col);
      if (!c) throw new ConnectorError(this.binding, `table ${name} has no ${role} column ${col}`);
      return c;
    };
    const key = this.keyColumns[0]!;
    const kt = need(key, 'key').cast;
    if (this.deleted) need(this.deleted, 'deleted');
    const t = this.table;
    const k = ident(key, this.binding);
    const byColumn = new Map<string, string>();
    for (const col of this.cfg.queryKeys ?? this.keyColumns)
      byColumn.set(col, `SELECT * FROM ${t} WHERE ${ident(col, this.binding)} = $1::${need(col, 'query key').cast} LIMIT 1`);
    if (!this.cfg.cursor) {
      const sel = `SELECT *, ${k}::text AS ${KEY_TEXT} FROM ${t}`;
      return { first: `${sel} ORDER BY ${k} LIMIT $1`, after: `${sel} WHERE ${k} > $1::${kt} ORDER BY ${k} LIMIT $2`, byColumn };
    }
    const ct = need(this.cfg.cursor, 'cursor').cast;
    const c = ident(this.cfg.cursor, this.binding);
    // The cursor and key are read as text and compared after a cast to the column's own type: a JS Date
    // or number would lose microseconds or digits, and skip or repeat rows on the way back. The row
    // comparison equals `c > $1 OR (c = $1 AND k > $2)` and can use an index on (c, k). NULL cursors
    // never compare greater, so they are left out from the start rather than read once and stranded.
    const sel = `SELECT *, ${c}::text AS ${CURSOR_TEXT}, ${k}::text AS ${KEY_TEXT} FROM ${t}`;
    return {
      first: `${sel} WHERE ${c} IS NOT NULL ORDER BY ${c}, ${k} LIMIT $1`,
      after: `${sel} WHERE (${c}, ${k}) > ($1::${ct}, $2::${kt}) ORDER BY ${c}, ${k} LIMIT $3`,
      byColumn,
    };
  }

  async read(cursor: Cursor, limit: number): Promise<SourcePage> {
    const plan = await this.ready();
    // A cursor without the parts this mode needs (e.g. the binding switched from full to incremental) starts over.
    const from = this.mode === 'incremental' ? [cursor?.c, cursor?.k] : [cursor?.k];
    const resume = from.every((v) => v !== undefined && v !== null);
    const { rows } = await this.query(resume ? plan.after : plan.first, resume ? [...from.map(String), limit] : [limit]);
    const last = rows.at(-1);
    const next: Cursor = last ? { ...(this.mode === 'incremental' && { c: last[CURSOR_TEXT] }), k: last[KEY_TEXT] } : cursor;
    const ops = rows.map((r) => (this.deleted && isDeletedMark(r[this.deleted]) ? 'd' : 'u') as 'u' | 'd');
    for (const r of rows) {
      delete r[CURSOR_TEXT];
      delete r[KEY_TEXT];
      if (this.deleted) delete r[this.deleted];
    }
    return { rows, ops, cursor: next, exhausted: rows.length < limit };
  }

  async lookup(key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const plan = await this.ready();
    const [col, value] = Object.entries(key)[0] ?? [];
    const sql = col === undefined ? undefined : plan.byColumn.get(col);
    if (!sql) throw new ConnectorError(this.binding, `cannot look up by ${JSON.stringify(col)} (query keys: ${[...plan.byColumn.keys()].join(', ')})`);
    if (value === undefined || value === null) return undefined;
    const param = value instanceof Decimal || value instanceof Temporal || value instanceof JsonText || typeof value !== 'object' ? String(value) : JSON.stringify(value);
    const row = (await this.query(sql, [param])).rows[0];
    if (row && this.deleted) {
      if (isDeletedMark(row[this.deleted])) return undefined;
      delete row[this.deleted];
    }
    return row;
  }

  private async query(sql: string, params: unknown[]): Promise<pg.QueryResult<Record<string, unknown>>> {
    const client = await this.conn.connect();
    try {
      return await client.query<Record<string, unknown>>(sql, params);
    } catch (err) {
      throw wrap(this.binding, `reading ${this.conn.schemaName}.${this.cfg.table}`, err);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}

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

export class PostgresSink implements RecordSink {
  private readonly conn: PostgresConnection;
  private readonly keyColumns: string[];
  private readonly table: string;
  private readonly ledger: string;
  private started: Promise<Map<string, Column>> | undefined;

  constructor(
    readonly binding: string,
    private readonly cfg: PostgresSinkConfig,
    private readonly hint?: SinkSchemaHint,
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
  }

  /** Creates the ledger and, when missing, the table on first use; a failure is retried on the next call. */
  private ready(): Promise<Map<string, Column>> {
    this.started ??= this.prepare().catch((err: unknown) => {
      this.started = undefined;
      throw err;
    });
    return this.started;
  }

  private async prepare(): Promise<Map<string, Column>> {
    const client = await this.conn.connect();
    const name = `${this.conn.schemaName}.${this.cfg.table}`;
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.ledger} (stream text PRIMARY KEY, last_seq bigint NOT NULL, last_batch text NOT NULL, updated_at bigint NOT NULL)`,
      );
      let cols = await this.conn.columns(client, this.cfg.table);
      if (cols.size === 0) {
        const hint = this.hint;
        if (!hint || hint.columns.length === 0)
          throw new ConnectorError(this.binding, `table ${name} does not exist and the task names no fields to create it from`);
        for (const k of this.keyColumns)
          if (!hint.columns.some((c) => c.name === k)) throw new ConnectorError(this.binding, `table ${name} does not exist and the task's fields lack key column ${k}`);
        const defs = hint.columns.map((c) => `${ident(c.name, this.binding)} ${PG_TYPES[c.type ?? 'string'] ?? 'text'}`);
        const pk = this.keyColumns.map((k) => ident(k, this.binding)).join(', ');
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (${defs.join(', ')}, PRIMARY KEY (${pk}))`);
        cols = await this.conn.columns(client, this.cfg.table);
      }
      for (const k of this.keyColumns) if (!cols.has(k)) throw new ConnectorError(this.binding, `table ${name} has no key column ${k}`);
      return cols;
    } catch (err) {
      if (err instanceof ConnectorError) throw err;
      throw wrap(this.binding, `preparing ${name}`, err);
    } finally {
      client.release();
    }
  }

  async apply(stream: string, seq: number, batch: SinkBatch, opts?: ApplyOptions): Promise<ApplyOutcome> {
    let cols = await this.ready();
    const client = await this.conn.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // The placeholder row makes FOR UPDATE lock something even for a new stream, so two concurrent
      // applies of one stream serialise here instead of both seeing 0; it is rolled back unless applied.
      await client.query(`INSERT INTO ${this.ledger} (stream, last_seq, last_batch, updated_at) VALUES ($1, 0, '', 0) ON CONFLICT (stream) DO NOTHING`, [stream]);
      const r = await client.query<{ last_seq: number | string }>(`SELECT last_seq FROM ${this.ledger} WHERE stream = $1 FOR UPDATE`, [stream]);
      const last = Number(r.rows[0]?.last_seq ?? 0);
      if (seq !== last + 1) {
        await client.query('ROLLBACK');
        return seq <= last ? 'duplicate' : 'gap';
      }
      if (batch.rows.length) {
        let missing = batch.columns.filter((c) => !cols.has(c));
        if (missing.length) {
          // The table may have been altered since it was first read.
          cols = await this.conn.columns(client, this.cfg.table);
          this.started = Promise.resolve(cols);
          missing = batch.columns.filter((c) => !cols.has(c));
        }
        let refused: RefusedRecord[];
        const lacking = this.keyColumns.filter((k) => !batch.columns.includes(k));
        if (missing.length || lacking.length) {
          // Every record of the batch, at once (bisecting would only find them all one by one).
          const reason = lacking.length ? `batch lacks key column ${lacking.join(', ')}` : `table ${this.conn.schemaName}.${this.cfg.table} has no column ${missing.map((c) => JSON.stringify(c)).join(', ')}`;
          refused = batch.rows.map((_, index) => ({ index, reason }));
        } else {
          // Each part inside a savepoint, so a record PostgreSQL refuses undoes only its part; the
          // bisection finds it and the rest of the batch commits with the ledger.
          const current = cols;
          refused = await writeBisecting(
            batch.rows.length,
            async (lo, hi) => {
              await client.query('SAVEPOINT xchg_part');
              try {
                await this.write(client, current, lo === 0 && hi === batch.rows.length ? batch : { ...batch, rows: batch.rows.slice(lo, hi), ops: batch.ops.slice(lo, hi) });
              } catch (err) {
                await client.query('ROLLBACK TO SAVEPOINT xchg_part');
                throw err;
              } finally {
                await client.query('RELEASE SAVEPOINT xchg_part').catch(() => undefined);
              }
            },
            isRecordError,
          );
        }
        if (refused.length) {
          // Nobody to hand them to: fail the batch rather than drop records silently.
          if (!opts?.onRefused) throw new ConnectorError(this.binding, `the database refused ${refused.length} record(s) of batch ${batch.batchId}: ${refused[0]!.reason}`);
          opts.onRefused(refused);
        }
      }
      await client.query(`UPDATE ${this.ledger} SET last_seq = $2, last_batch = $3, updated_at = $4 WHERE stream = $1`, [stream, seq, batch.batchId, Date.now()]);
      await client.query('COMMIT');
      return 'applied';
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (e) {
        broken = e as Error; // the connection is gone: the server rolls back, the pool drops the client
      }
      if (err instanceof ConnectorError) throw err;
      throw wrap(this.binding, `writing ${this.conn.schemaName}.${this.cfg.table}`, err);
    } finally {
      client.release(broken);
    }
  }

  /** Upserts and deletes in batch order: consecutive rows of the same op go in multi-row statements. */
  private async write(client: pg.PoolClient, cols: Map<string, Column>, b: SinkBatch): Promise<void> {
    if (b.rows.length === 0) return;
    for (const k of this.keyColumns) if (!b.columns.includes(k)) throw new ConnectorError(this.binding, `batch lacks key column ${k}`);
    const keyIdx = this.keyColumns.map((k) => b.columns.indexOf(k));
    const convert = b.columns.map((c) => converter(cols.get(c)?.udt));
    const isDelete = (i: number): boolean => b.ops[i] === 'd';
    for (let i = 0; i < b.rows.length; ) {
      let j = i + 1;
      while (j < b.rows.length && isDelete(j) === isDelete(i)) j++;
      const run = b.rows.slice(i, j);
      if (isDelete(i)) await this.deleteRows(client, run.map((row) => keyIdx.map((x) => convert[x]!(row[x]))));
      else {
        // One INSERT … ON CONFLICT cannot touch a row twice: within a run the last version of a key wins,
        // which is what applying them one by one would leave.
        const byKey = new Map<string, unknown[]>();
        for (const row of run) byKey.set(keyIdx.map((x) => canonical(row[x])).join('\u0000'), row.map((v, x) => convert[x]!(v)));
        await this.upsertRows(client, b.columns, [...byKey.values()]);
      }
      i = j;
    }
  }

  private async upsertRows(client: pg.PoolClient, columns: string[], rows: unknown[][]): Promise<void> {
    const names = columns.map((c) => ident(c, this.binding));
    const updates = columns.filter((c) => !this.keyColumns.includes(c)).map((c) => `${ident(c, this.binding)} = EXCLUDED.${ident(c, this.binding)}`);
    const conflict = this.keyColumns.map((k) => ident(k, this.binding)).join(', ');
    const action = updates.length ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING';
    const per = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
    for (let at = 0; at < rows.length; at += per) {
      const chunk = rows.slice(at, at + per);
      const params: unknown[] = [];
      const tuples = chunk.map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
      await client.query(`INSERT INTO ${this.table} (${names.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (${conflict}) DO ${action}`, params);
    }
  }

  private async deleteRows(client: pg.PoolClient, keys: unknown[][]): Promise<void> {
    const names = this.keyColumns.map((k) => ident(k, this.binding)).join(', ');
    const per = Math.max(1, Math.floor(MAX_PARAMS / this.keyColumns.length));
    for (let at = 0; at < keys.length; at += per) {
      const params: unknown[] = [];
      const tuples = keys.slice(at, at + per).map((key) => `(${key.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
      await client.query(`DELETE FROM ${this.table} WHERE (${names}) IN (${tuples.join(', ')})`, params);
    }
  }

  async lastSequence(stream: string): Promise<number> {
    await this.ready();
    const client = await this.conn.connect();
    try {
      const r = await client.query<{ last_seq: number | string }>(`SELECT last_seq FROM ${this.ledger} WHERE stream = $1`, [stream]);
      return Number(r.rows[0]?.last_seq ?? 0);
    } catch (err) {
      throw wrap(this.binding, 'reading the ledger', err);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.conn.end();
  }

  /**
   * Reconciliation: rows in key order after `afterKey`. The key is also read as text (lastKey) and cast
   * back to the column's type for the next page, so no value loses digits or microseconds on the way.
   */
  async scan(afterKey: unknown[] | null, limit: number): Promise<SinkScanPage> {
    const cols = await this.ready();
    const keys = this.keyColumns.map((k) => ident(k, this.binding));
    const texts = keys.map((k, i) => `${k}::text AS "__xchg_k${i}"`).join(', ');
    const params: unknown[] = [];
    const where = afterKey
      ? `WHERE (${keys.join(', ')}) > (${this.keyColumns.map((k, i) => (params.push(afterKey[i] === null ? null : String(afterKey[i])), `$${params.length}::${cols.get(k)!.cast}`)).join(', ')})`
      : '';
    params.push(limit);
    const client = await this.conn.connect();
    let r: pg.QueryResult<unknown[]>;
    try {
      r = await client.query<unknown[]>({ text: `SELECT *, ${texts} FROM ${this.table} ${where} ORDER BY ${keys.join(', ')} LIMIT $${params.length}`, values: params, rowMode: 'array' });
    } catch (err) {
      throw wrap(this.binding, `reading ${this.conn.schemaName}.${this.cfg.table}`, err);
    } finally {
      client.release();
    }
    const n = r.fields.length - keys.length;
    const rows = r.rows.map((row) => row.slice(0, n));
    const last = r.rows.at(-1);
    return { columns: r.fields.slice(0, n).map((f) => f.name), keyColumns: this.keyColumns, rows, lastKey: last ? last.slice(n) : null, exhausted: r.rows.length < limit };
  }
}

/** How a batch value is sent for a column of the given type (undefined: the column is unknown to us). */
function converter(udt: string | undefined): (v: unknown) => unknown {
  const numeric = udt !== undefined && NUMERIC_UDTS.has(udt);
  const bool = udt === 'bool';
  const array = udt?.startsWith('_') ?? false;
  const bytea = udt === 'bytea';
  const text = udt === 'text' || udt === 'varchar' || udt === 'bpchar';
  return (v) => {
    if (v === undefined || v === null) return null;
    // PostgreSQL would take the number's or the bytes' text without complaint: refused, not changed.
    if (bytea && !Buffer.isBuffer(v)) throw new RangeError(`${describeValue(v)} cannot go into a bytea column unchanged (expected binary)`);
    if (text && Buffer.isBuffer(v)) throw new RangeError(`${v.length} bytes of binary cannot go into a ${udt} column unchanged (expected text)`);
    // A JSON array into an array column: PostgreSQL's array literal, each element's text exact.
    if (array && v instanceof JsonText && v.text.trimStart().startsWith('[')) return losslessParse(v.text, null, (n: string) => n) as unknown[];
    if (typeof v === 'boolean') return numeric ? (v ? 1 : 0) : v;
    if (typeof v === 'number') return bool ? v !== 0 : Object.is(v, -0) ? '-0' : v;
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Decimal || v instanceof Temporal || v instanceof JsonText) return v.text;
    if (typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v) && !(array && Array.isArray(v))) return JSON.stringify(v);
    return v;
  };
}

/**
 * Errors that belong to a record, so the rest of its batch can be written: SQLSTATE class 22 (data
 * exception: NUL in text, out of range, invalid input), 23 (integrity: NOT NULL, unique, check, foreign
 * key), 42804 (datatype mismatch), 54000 (a value too large). Anything else (connection, disk, locks) is
 * the database's, and the batch is retried whole later.
 */
function isRecordError(err: unknown): boolean {
  if (err instanceof ConnectorError || err instanceof RangeError || err instanceof TypeError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (/^2[23]/.test(code) || code === '42804' || code === '54000');
}

/** PostgreSQL identifiers: quoted, and refused beyond 63 bytes (the server would silently cut them). */
function ident(name: string, binding: string): string {
  return anyIdent(name, binding, 63);
}


function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function describeTarget(cfg: PostgresConnectionConfig): string {
  if (cfg.url) {
    try {
      const u = new URL(cfg.url);
      if (u.hostname) return `${u.hostname}:${u.port || 5432}`;
    } catch {
      return 'the configured url';
    }
  }
  return `${cfg.host ?? 'localhost'}:${cfg.port ?? 5432}`;
}

/** A ConnectorError naming the binding, keeping the driver's error (SQLSTATE code and all) as its cause. */
function wrap(binding: string, what: string, err: unknown): ConnectorError {
  return Object.assign(new ConnectorError(binding, `${what}: ${errText(err)}`), { cause: err });
}

/** Node reports a refused dual-stack connect as an AggregateError with an empty message. */
function errText(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map((e) => errText(e)).join('; ');
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
