// MariaDB / MySQL tables as sources and sinks (type 'mariadb', alias 'mysql'), mirroring the SQLite and
// PostgreSQL connectors. Source: incremental by a cursor column (ties broken by the key) or full by key
// order, tombstones from a "deleted" column, lookups for online queries. Sink: upsert by key
// (INSERT … ON DUPLICATE KEY UPDATE) and deletes, in one transaction per batch together with the
// stream ledger (_xchg_ledger).
//
// Driver: the official `mariadb` connector (MariaDB Corporation, LGPL, pure JS, MySQL-compatible). Chosen
// over mysql2 because it reads MariaDB's extended column metadata, the only way to tell a JSON column
// from LONGTEXT in MariaDB; it returns BIGINT as bigint and DECIMAL as text natively (no typeCast
// needed); and its batch() uses MariaDB's bulk protocol, sending binary values raw and splitting to the
// server's packet size by itself.
//
// Values (node-agent/src/values/value.ts), read:
//   TINYINT…INT, YEAR → number; BIGINT (signed or UNSIGNED up to 2^64−1) → number when safe else bigint;
//   DECIMAL → Decimal (the text the server prints, scale kept); FLOAT/DOUBLE → number;
//   DATE → Temporal date; DATETIME → Temporal timestamp (wall clock, microseconds kept);
//   TIMESTAMP → Temporal timestamptz (the session runs at time_zone '+00:00');
//   TIME → Temporal time within 00:00–23:59:59.999999, else its text (TIME spans ±838 hours);
//   BINARY/VARBINARY/BLOB → Buffer; JSON → JsonText; CHAR/VARCHAR/TEXT/ENUM → string, SET → 'a,b';
//   BIT(1) → boolean; BIT(n>1) → integer; TINYINT(1) (what BOOLEAN is) stays an integer: it may hold
//   −128…127, and turning it into a boolean would lose those. GEOMETRY → JsonText of its GeoJSON.
//   Zero dates (0000-00-00, 2024-00-10) are not dates: the row is handed over with the reason, to be
//   quarantined alone (SourcePage.errors).
// Values, written: bigint as its digits, Decimal as its text, Temporal as MariaDB's text (a timestamptz
// in UTC, the session's zone; ISO text into a text column), Buffer as binary, JsonText as text, boolean
// as 1/0. A value the column would silently round (more fractional digits than a DECIMAL's scale or a
// DATETIME's precision) is refused instead; the session runs in strict mode, so the server refuses the
// rest (too long, out of range, 4-byte characters into utf8mb3).
//
// Invariants: the cursor and key travel as the server's own text (CAST(… AS CHAR), HEX for binary) and
// are compared after a CAST to the column's type, so microseconds and 20-digit numbers round-trip through
// the spool's JSON; a batch and its ledger entry commit together or not at all; the ledger row is locked
// (FOR UPDATE) before the sequence is checked, so concurrent applies of one stream serialise.
import * as mariadb from 'mariadb';
import { Decimal, JsonText, Temporal, canonicalDecimal, fromDriver, normInt, parseDateTime, parseTime, type Value } from '../values/value.js';
import { ConnectorError, asList, isDeletedMark, writeBisecting, type ApplyOptions, type ApplyOutcome, type Cursor, type RecordSink, type RecordSource, type RefusedRecord, type SinkBatch, type SinkScanPage, type SinkSchemaHint, type SourcePage } from './types.js';

/** Where the server is. `url` (mariadb:// or mysql://user:password@host:port/database) wins over the separate fields; the password never appears in errors. */
export interface MariadbConnectionConfig {
  url?: string;
  /** Default localhost. */
  host?: string;
  /** Default 3306. */
  port?: number;
  /** A Unix socket instead of host/port. */
  socketPath?: string;
  user?: string;
  password?: string;
  /** Database (schema) holding the table and, for a sink, its ledger. Required. */
  database?: string;
}

export interface MariadbSourceConfig extends MariadbConnectionConfig {
  type: 'mariadb' | 'mysql';
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

export interface MariadbSinkConfig extends MariadbConnectionConfig {
  type: 'mariadb' | 'mysql';
  table: string;
  key: string | string[];
}

const POOL_MAX = 2;
const CONNECT_TIMEOUT_MS = 10_000;
const CURSOR_TEXT = '__xchg_c';
const KEY_TEXT = '__xchg_k';
/** Most key tuples in one DELETE … IN (…). */
const DELETE_CHUNK = 1_000;
/** InnoDB's longest index key, in bytes (DYNAMIC rows); utf8mb4 needs 4 per character. */
const MAX_KEY_BYTES = 3072;
const TRANSACTIONAL_ENGINES = new Set(['innodb', 'xtradb', 'rocksdb', 'tokudb', 'ndbcluster', 'ndb']);

/** Quotes a MariaDB identifier with backticks (embedded backticks doubled) after checking MariaDB could name it. */
export function mariadbIdent(name: string, binding: string): string {
  const bad = (why: string): never => {
    throw new ConnectorError(binding, `invalid MariaDB identifier ${JSON.stringify(name)}: ${why}`);
  };
  if (typeof name !== 'string' || name === '') return bad('empty');
  if (!name.isWellFormed()) bad('not well-formed Unicode');
  if (name.includes('\u0000')) bad('contains NUL');
  if (/[\u{10000}-\u{10FFFF}]/u.test(name)) bad('characters outside the Basic Multilingual Plane (such as emoji) are not allowed in identifiers');
  if ([...name].length > 64) bad('longer than 64 characters');
  if (name.endsWith(' ')) bad('ends with a space');
  return '`' + name.replaceAll('`', '``') + '`';
}

// ---- connection -----------------------------------------------------------------------------------------

interface ColumnInfo {
  name: string;
  /** DATA_TYPE, lower case: int, bigint, decimal, datetime, varchar, … */
  dataType: string;
  /** COLUMN_TYPE, e.g. "bigint(20) unsigned", "decimal(38,10)". */
  columnType: string;
  precision: number | undefined;
  scale: number | undefined;
  datetimePrecision: number | undefined;
}

type RowsResult = unknown[][] & { meta: mariadb.FieldInfo[] };

/**
 * Up to POOL_MAX idle connections of a binding, opened on demand. Not the driver's pool: its acquire
 * timeout hides why a connection failed (refused, access denied, unknown database), which is what an
 * operator needs to read.
 */
class MariadbConnection {
  readonly where: string;
  readonly database: string;
  private readonly opts: mariadb.ConnectionConfig;
  private readonly idle: mariadb.Connection[] = [];
  private readonly busy = new Set<mariadb.Connection>();
  private ended = false;

  constructor(
    readonly binding: string,
    cfg: MariadbConnectionConfig,
    /** Session settings run on every new connection. */
    initSql: string[],
  ) {
    const opts: mariadb.ConnectionConfig = {};
    if (cfg.url) {
      let u: URL;
      try {
        u = new URL(cfg.url);
      } catch {
        throw new ConnectorError(binding, 'url is not a valid URL (mariadb://user:password@host:port/database)');
      }
      if (!/^(mariadb|mysql):$/.test(u.protocol)) throw new ConnectorError(binding, `url must start with mariadb:// or mysql://, not ${u.protocol}//`);
      if (u.hostname) opts.host = u.hostname;
      if (u.port) opts.port = Number(u.port);
      if (u.username) opts.user = decodeURIComponent(u.username);
      if (u.password) opts.password = decodeURIComponent(u.password);
      const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
      if (db) opts.database = db;
    }
    if (cfg.host !== undefined && !cfg.url) opts.host = cfg.host;
    if (cfg.port !== undefined && !cfg.url) opts.port = Number(cfg.port);
    if (cfg.socketPath !== undefined) opts.socketPath = cfg.socketPath;
    if (cfg.user !== undefined && opts.user === undefined) opts.user = cfg.user;
    if (cfg.password !== undefined && opts.password === undefined) opts.password = cfg.password;
    if (cfg.database !== undefined && opts.database === undefined) opts.database = cfg.database;
    if (!opts.database) throw new ConnectorError(binding, 'mariadb needs database (the database holding the table)');
    this.database = opts.database;
    this.where = opts.socketPath ?? `${opts.host ?? 'localhost'}:${opts.port ?? 3306}`;
    this.opts = {
      ...opts,
      connectTimeout: CONNECT_TIMEOUT_MS,
      charset: 'utf8mb4',
      // Values exactly as the server prints them: BIGINT as bigint, DECIMAL and dates as text, JSON as text.
      bigIntAsNumber: false,
      decimalAsNumber: false,
      insertIdAsNumber: true,
      dateStrings: true,
      autoJsonMap: false,
      // MySQL's JSON type as text too, BIT(1) as a boolean (options the driver has but its typings lack).
      ...({ jsonStrings: true, bitOneIsBoolean: true } as object),
      checkDuplicate: false,
      rowsAsArray: true,
      permitLocalInfile: false,
      // Errors carry the server's message, not the statement's values (record data).
      logParam: false,
      initSql,
    };
  }

  async connect(): Promise<mariadb.Connection> {
    if (this.ended) throw new ConnectorError(this.binding, 'the connector is closed');
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (c.isValid()) {
        this.busy.add(c);
        return c;
      }
      c.destroy();
    }
    let c: mariadb.Connection;
    try {
      c = await mariadb.createConnection(this.opts);
    } catch (err) {
      throw wrap(this.binding, `cannot connect to mariadb at ${this.where}`, err);
    }
    // A connection the server drops while idle must not crash the agent; it is found invalid on reuse.
    c.on('error', () => {});
    this.busy.add(c);
    return c;
  }

  /** Gives a connection back; `broken` ones (or any after close, or past POOL_MAX idle) are closed. */
  async release(c: mariadb.Connection, broken = false): Promise<void> {
    this.busy.delete(c);
    if (broken || this.ended || !c.isValid()) c.destroy();
    else if (this.idle.length < POOL_MAX) this.idle.push(c);
    else await c.end().catch(() => c.destroy());
  }

  /** Columns of database.table in table order (empty when the table does not exist or is not visible). */
  async columns(conn: mariadb.Connection, table: string): Promise<ColumnInfo[]> {
    const rows = (await conn.query(
      { sql: 'SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', rowsAsArray: true },
      [this.database, table],
    )) as unknown[][];
    const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
    // information_schema compares names case-insensitively; the table is the one with exactly this name.
    return rows
      .filter((r) => r[0] === table)
      .map((r) => ({
        name: String(r[1]),
        dataType: String(r[2]).toLowerCase(),
        columnType: String(r[3]).toLowerCase(),
        precision: num(r[4]),
        scale: num(r[5]),
        datetimePrecision: num(r[6]),
      }));
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await Promise.all(this.idle.splice(0).map((c) => c.end().catch(() => c.destroy())));
    for (const c of this.busy) c.destroy();
    this.busy.clear();
  }
}

/** A column by its configured name: exactly, else case-insensitively (MariaDB's column names are). */
function findColumn(cols: ColumnInfo[], name: string): ColumnInfo | undefined {
  return cols.find((c) => c.name === name) ?? cols.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

// ---- reading values -----------------------------------------------------------------------------------

// Column type codes of the protocol (mariadb/lib/const/field-type.js).
const T = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8, INT24: 9, DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14,
  VARCHAR: 15, BIT: 16, TIMESTAMP2: 17, DATETIME2: 18, TIME2: 19, JSON: 245, NEWDECIMAL: 246, ENUM: 247, SET: 248, TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251,
  BLOB: 252, VAR_STRING: 253, STRING: 254, GEOMETRY: 255,
} as const;

/** Decodes one driver value of a column into the model; throws a reason for a value that is not one (zero dates). */
type Decode = (v: unknown) => Value;

class BadValue extends Error {}

function zeroDate(text: string): boolean {
  return /^0000-00-00/.test(text) || /^\d{4}-(00-\d\d|\d\d-00)/.test(text);
}

function decodeDateTime(kind: 'date' | 'timestamp' | 'timestamptz', text: string): Value {
  if (zeroDate(text)) throw new BadValue(`zero date ${JSON.stringify(text)} (MariaDB's placeholder for "no date") is not a date`);
  const p = parseDateTime(kind === 'timestamptz' ? `${text}Z` : text);
  if (!p.ok) throw new BadValue(p.reason);
  return kind === 'date' ? new Temporal('date', p.value.text.slice(0, 10)) : p.value;
}

function decoderFor(m: mariadb.FieldInfo): Decode {
  const binary = m.collation?.index === 63;
  switch (m.columnType as number) {
    case T.LONGLONG:
      return (v) => (typeof v === 'bigint' ? normInt(v) : fromDriver(v));
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return (v) => new Decimal(String(v));
    case T.DATE:
    case T.NEWDATE:
      return (v) => decodeDateTime('date', String(v));
    case T.DATETIME:
    case T.DATETIME2:
      return (v) => decodeDateTime('timestamp', String(v));
    case T.TIMESTAMP:
    case T.TIMESTAMP2:
      return (v) => decodeDateTime('timestamptz', String(v));
    case T.TIME:
    case T.TIME2:
      return (v) => {
        const s = String(v).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
        const t = parseTime(s);
        return t.ok ? t.value : s; // beyond a day (or negative): TIME's own text
      };
    case T.BIT:
      return (v) => {
        if (typeof v === 'boolean') return v;
        if (Buffer.isBuffer(v)) return m.columnLength === 1 ? v.some((b) => b !== 0) : normInt(v.length ? BigInt('0x' + v.toString('hex')) : 0n);
        return fromDriver(v);
      };
    case T.JSON:
      return (v) => new JsonText(Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
    case T.VARCHAR:
    case T.VAR_STRING:
    case T.STRING:
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
    case T.ENUM:
    case T.SET:
      if (m.isDataTypeFormatJson()) return (v) => new JsonText(Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
      if (m.isSet()) return (v) => (Array.isArray(v) ? v.join(',') : fromDriver(v));
      if (binary) return (v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));
      return (v) => (Buffer.isBuffer(v) ? v.toString('utf8') : fromDriver(v));
    default:
      return fromDriver;
  }
}

interface Decoded {
  rows: Record<string, unknown>[];
  /** Per row: why it is not a record (absent when every row is good). */
  errors: (string | undefined)[] | undefined;
}

/** Shapes result rows (arrays) into records of model values; the last `extra` columns are left out. */
function decodeRows(res: RowsResult, extra: number): Decoded & { extras: unknown[][] } {
  const meta = res.meta;
  const n = meta.length - extra;
  const names = meta.slice(0, n).map((m) => m.name());
  const decoders = meta.slice(0, n).map(decoderFor);
  let errors: (string | undefined)[] | undefined;
  const rows: Record<string, unknown>[] = [];
  const extras: unknown[][] = [];
  for (let r = 0; r < res.length; r++) {
    const raw = res[r]!;
    const rec: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const v = raw[i];
      if (v === null || v === undefined) {
        rec[names[i]!] = null;
        continue;
      }
      try {
        rec[names[i]!] = decoders[i]!(v);
      } catch (err) {
        if (!(err instanceof BadValue)) throw err;
        // The original text stays in the record, so the quarantine shows what the source holds.
        rec[names[i]!] = typeof v === 'string' ? v : fromDriver(v);
        errors ??= new Array<string | undefined>(res.length).fill(undefined);
        errors[r] = (errors[r] ? `${errors[r]}; ` : '') + `column ${names[i]}: ${err.message}`;
      }
    }
    rows.push(rec);
    extras.push(raw.slice(n));
  }
  return { rows, errors, extras };
}

// ---- cursor and key comparison in the column's own type ---------------------------------------------------

interface Comparable {
  /** Expression reading the column back as text. */
  text: string;
  /** Expression turning a text parameter into the column's type. */
  param: string;
}

/** How a key or cursor column is read back as text and compared; throws for types that cannot page exactly. */
function comparable(col: ColumnInfo, q: string, binding: string, role: string): Comparable {
  const unsigned = /\bunsigned\b/.test(col.columnType);
  switch (col.dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
    case 'year':
      return { text: `CAST(${q} AS CHAR)`, param: unsigned ? 'CAST(? AS UNSIGNED)' : 'CAST(? AS SIGNED)' };
    case 'decimal':
    case 'numeric':
      return { text: `CAST(${q} AS CHAR)`, param: `CAST(? AS DECIMAL(${col.precision ?? 65}, ${col.scale ?? 0}))` };
    case 'date':
      return { text: `CAST(${q} AS CHAR)`, param: 'CAST(? AS DATE)' };
    case 'datetime':
    case 'timestamp':
      return { text: `CAST(${q} AS CHAR)`, param: `CAST(? AS DATETIME(${col.datetimePrecision ?? 0}))` };
    case 'time':
      return { text: `CAST(${q} AS CHAR)`, param: `CAST(? AS TIME(${col.datetimePrecision ?? 0}))` };
    case 'bit':
      return { text: `CAST(${q} + 0 AS CHAR)`, param: 'CAST(? AS UNSIGNED)' };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { text: `HEX(${q})`, param: 'UNHEX(?)' };
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      return { text: q, param: '?' };
    default:
      throw new ConnectorError(binding, `column ${col.name} (${col.columnType}) cannot be the ${role}: only integers, decimals, dates and times, text and binary page exactly (not floats, ENUM, SET or JSON)`);
  }
}

/** A lookup value as the text a CAST parameter takes. */
function paramText(v: unknown, cmp: Comparable): string {
  if (Buffer.isBuffer(v)) return cmp.param === 'UNHEX(?)' ? v.toString('hex') : v.toString('utf8');
  if (v instanceof Temporal) return v.text.replace('T', ' ').replace(/Z$/, '');
  if (typeof v === 'object' && v !== null && !(v instanceof Decimal) && !(v instanceof JsonText)) return JSON.stringify(v);
  return String(v);
}

// ---- source -------------------------------------------------------------------------------------------

interface SourcePlan {
  first: string;
  after: string;
  /** Extra text columns at the end of each row: 2 (cursor, key) or 1 (key). */
  extra: number;
  /** Online-query statement and comparison per query key column. */
  byColumn: Map<string, { sql: string; cmp: Comparable }>;
  deleted: string | undefined;
}

/** Source sessions: UTC for TIMESTAMP, and a permissive sql_mode so that a zero date a cursor points at still casts. */
const SOURCE_INIT = ["SET time_zone = '+00:00'", "SET sql_mode = 'NO_ENGINE_SUBSTITUTION'"];

export class MariadbSource implements RecordSource {
  readonly keyColumns: string[];
  readonly mode: 'incremental' | 'full';
  readonly cursorColumn: string | undefined;
  private readonly conn: MariadbConnection;
  private readonly table: string;
  private plan: Promise<SourcePlan> | undefined;

  constructor(
    readonly binding: string,
    private readonly cfg: MariadbSourceConfig,
  ) {
    if (!cfg.table) throw new ConnectorError(binding, 'mariadb source needs table');
    this.keyColumns = asList(cfg.key);
    if (this.keyColumns.length !== 1) throw new ConnectorError(binding, 'mariadb source needs exactly one key column (key: id)');
    for (const c of [this.keyColumns[0]!, cfg.cursor, cfg.deleted, ...(cfg.queryKeys ?? [])]) if (c !== undefined) mariadbIdent(c, binding);
    this.mode = cfg.cursor ? 'incremental' : 'full';
    this.cursorColumn = cfg.cursor;
    this.conn = new MariadbConnection(binding, cfg, SOURCE_INIT);
    this.table = `${mariadbIdent(this.conn.database, binding)}.${mariadbIdent(cfg.table, binding)}`;
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
    const conn = await this.conn.connect();
    let cols: ColumnInfo[];
    try {
      cols = await this.conn.columns(conn, this.cfg.table);
    } catch (err) {
      throw wrap(this.binding, `reading the columns of ${this.conn.database}.${this.cfg.table}`, err);
    } finally {
      await this.conn.release(conn);
    }
    const name = `${this.conn.database}.${this.cfg.table}`;
    if (cols.length === 0) throw new ConnectorError(this.binding, `table ${name} does not exist at ${this.conn.where} (or this user cannot see it)`);
    const need = (col: string, role: string): ColumnInfo => {
      const c = findColumn(cols, col);
      if (!c) throw new ConnectorError(this.binding, `table ${name} has no ${role} column ${col}`);
      return c;
    };
    const b = this.binding;
    const keyCol = need(this.keyColumns[0]!, 'key');
    const k = mariadbIdent(keyCol.name, b);
    const kc = comparable(keyCol, k, b, 'key');
    const deleted = this.cfg.deleted ? need(this.cfg.deleted, 'deleted').name : undefined;
    const t = this.table;
    const byColumn = new Map<string, { sql: string; cmp: Comparable }>();
    for (const col of this.cfg.queryKeys ?? this.keyColumns) {
      const c = need(col, 'query key');
      const cmp = comparable(c, mariadbIdent(c.name, b), b, 'query key');
      byColumn.set(col, { sql: `SELECT * FROM ${t} WHERE ${mariadbIdent(c.name, b)} = ${cmp.param} LIMIT 1`, cmp });
    }
    if (!this.cfg.cursor) {
      const sel = `SELECT ${t}.*, ${kc.text} AS ${KEY_TEXT} FROM ${t}`;
      return { first: `${sel} ORDER BY ${k} LIMIT ?`, after: `${sel} WHERE ${k} > ${kc.param} ORDER BY ${k} LIMIT ?`, extra: 1, byColumn, deleted };
    }
    const curCol = need(this.cfg.cursor, 'cursor');
    const c = mariadbIdent(curCol.name, b);
    const cc = comparable(curCol, c, b, 'cursor');
    // `c > X OR (c = X AND k > Y)`: MariaDB's range optimizer turns it into two ranges of an index on
    // (c, k) (it does not for the row comparison (c, k) > (X, Y)). NULL cursors never compare greater,
    // so they are left out from the start rather than read once and stranded.
    const sel = `SELECT ${t}.*, ${cc.text} AS ${CURSOR_TEXT}, ${kc.text} AS ${KEY_TEXT} FROM ${t}`;
    return {
      first: `${sel} WHERE ${c} IS NOT NULL ORDER BY ${c}, ${k} LIMIT ?`,
      after: `${sel} WHERE ${c} > ${cc.param} OR (${c} = ${cc.param} AND ${k} > ${kc.param}) ORDER BY ${c}, ${k} LIMIT ?`,
      extra: 2,
      byColumn,
      deleted,
    };
  }

  async read(cursor: Cursor, limit: number): Promise<SourcePage> {
    const plan = await this.ready();
    // A cursor without the parts this mode needs (e.g. the binding switched from full to incremental) starts over.
    const from = this.mode === 'incremental' ? [cursor?.c, cursor?.k] : [cursor?.k];
    const resume = from.every((v) => v !== undefined && v !== null);
    const params = !resume ? [limit] : this.mode === 'incremental' ? [String(from[0]), String(from[0]), String(from[1]), limit] : [String(from[0]), limit];
    const res = await this.query(resume ? plan.after : plan.first, params);
    const { rows, errors, extras } = decodeRows(res, plan.extra);
    const last = extras.at(-1);
    const next: Cursor = last ? (plan.extra === 2 ? { c: textOf(last[0]), k: textOf(last[1]) } : { k: textOf(last[0]) }) : cursor;
    const ops = rows.map((r) => (plan.deleted && isDeletedMark(r[plan.deleted]) ? 'd' : 'u') as 'u' | 'd');
    if (plan.deleted) for (const r of rows) delete r[plan.deleted];
    return { rows, ops, cursor: next, exhausted: res.length < limit, ...(errors && { errors }) };
  }

  async lookup(key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const plan = await this.ready();
    const [col, value] = Object.entries(key)[0] ?? [];
    const q = col === undefined ? undefined : plan.byColumn.get(col);
    if (!q) throw new ConnectorError(this.binding, `cannot look up by ${JSON.stringify(col)} (query keys: ${[...plan.byColumn.keys()].join(', ')})`);
    if (value === undefined || value === null) return undefined;
    const res = await this.query(q.sql, [paramText(value, q.cmp)]);
    const { rows, errors } = decodeRows(res, 0);
    const row = rows[0];
    if (!row) return undefined;
    if (errors?.[0]) throw new ConnectorError(this.binding, `the row found cannot be sent: ${errors[0]}`);
    if (plan.deleted) {
      if (isDeletedMark(row[plan.deleted])) return undefined;
      delete row[plan.deleted];
    }
    return row;
  }

  private async query(sql: string, params: unknown[]): Promise<RowsResult> {
    const conn = await this.conn.connect();
    try {
      return (await conn.query({ sql, rowsAsArray: true }, params)) as RowsResult;
    } catch (err) {
      throw wrap(this.binding, `reading ${this.conn.database}.${this.cfg.table}`, err);
    } finally {
      await this.conn.release(conn);
    }
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}

function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

// ---- sink ---------------------------------------------------------------------------------------------

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

export class MariadbSink implements RecordSink {
  private readonly conn: MariadbConnection;
  private readonly keyColumns: string[];
  private readonly table: string;
  private readonly ledger: string;
  private started: Promise<Map<string, ColumnInfo>> | undefined;
  /** Unique indexes of the table besides the key (see prepare()). */
  private otherUniqueIndexes: string[] = [];

  constructor(
    readonly binding: string,
    private readonly cfg: MariadbSinkConfig,
    private readonly hint?: SinkSchemaHint,
  ) {
    if (!cfg.table) throw new ConnectorError(binding, 'mariadb sink needs table');
    this.keyColumns = asList(cfg.key);
    if (this.keyColumns.length === 0) throw new ConnectorError(binding, 'mariadb sink needs key columns (key: id)');
    for (const k of this.keyColumns) mariadbIdent(k, binding);
    this.conn = new MariadbConnection(binding, cfg, SINK_INIT);
    const db = mariadbIdent(this.conn.database, binding);
    this.table = `${db}.${mariadbIdent(cfg.table, binding)}`;
    this.ledger = `${db}.\`_xchg_ledger\``;
  }

  private get name(): string {
    return `${this.conn.database}.${this.cfg.table}`;
  }

  /** Creates the ledger and, when missing, the table on first use; a failure is retried on the next call. */
  private ready(): Promise<Map<string, ColumnInfo>> {
    this.started ??= this.prepare().catch((err: unknown) => {
      this.started = undefined;
      throw err;
    });
    return this.started;
  }

  private async prepare(): Promise<Map<string, ColumnInfo>> {
    const conn = await this.conn.connect();
    try {
      const version = String(((await conn.query({ sql: 'SELECT VERSION()', rowsAsArray: true })) as unknown[][])[0]?.[0] ?? '');
      // A binary collation without trailing-space padding: keys 'a', 'A' and 'a ' stay three keys.
      const collation = /mariadb/i.test(version) ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
      await conn.query(
        `CREATE TABLE IF NOT EXISTS ${this.ledger} (stream VARCHAR(700) NOT NULL PRIMARY KEY, last_seq BIGINT NOT NULL, last_batch VARCHAR(700) NOT NULL, updated_at BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`,
      );
      let cols = await this.conn.columns(conn, this.cfg.table);
      if (cols.length === 0) {
        const hint = this.hint;
        if (!hint || hint.columns.length === 0) throw new ConnectorError(this.binding, `table ${this.name} does not exist and the task names no fields to create it from`);
        for (const k of this.keyColumns)
          if (!hint.columns.some((c) => c.name === k)) throw new ConnectorError(this.binding, `table ${this.name} does not exist and the task's fields lack key column ${k}`);
        const textKeys = hint.columns.filter((c) => this.keyColumns.includes(c.name) && (CREATE_TYPES[c.type ?? 'string'] ?? 'LONGTEXT') === 'LONGTEXT').length;
        const keyChars = Math.floor(MAX_KEY_BYTES / 4 / Math.max(1, textKeys));
        const defs = hint.columns.map((c) => {
          let type = CREATE_TYPES[c.type ?? 'string'] ?? 'LONGTEXT';
          if (this.keyColumns.includes(c.name)) {
            if (type === 'LONGTEXT') type = `VARCHAR(${keyChars})`;
            else if (type === 'LONGBLOB') type = 'VARBINARY(3072)';
            type = `${type.replace(' NULL DEFAULT NULL', '')} NOT NULL`;
          }
          return `${mariadbIdent(c.name, this.binding)} ${type}`;
        });
        const pk = this.keyColumns.map((k) => mariadbIdent(k, this.binding)).join(', ');
        await conn.query(`CREATE TABLE IF NOT EXISTS ${this.table} (${defs.join(', ')}, PRIMARY KEY (${pk})) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${collation}`);
        cols = await this.conn.columns(conn, this.cfg.table);
      }
      for (const k of this.keyColumns) if (!findColumn(cols, k)) throw new ConnectorError(this.binding, `table ${this.name} has no key column ${k}`);
      // A case-insensitive key column would merge keys the source keeps apart ('a' and 'A', an ID number
      // ending in x and in X): the sink could never equal its source, so the task is refused at start.
      const keyCollations = (await conn.query(
        { sql: 'SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', rowsAsArray: true },
        [this.conn.database, this.cfg.table],
      )) as unknown[][];
      for (const [col, collation] of keyCollations) {
        if (!this.keyColumns.some((k) => k.toLowerCase() === String(col).toLowerCase()) || typeof collation !== 'string') continue;
        if (/_ci$/i.test(collation))
          throw new ConnectorError(
            this.binding,
            `key column ${String(col)} of table ${this.name} has the case-insensitive collation ${collation}: keys that differ only in case would merge into one row; give it a binary collation (ALTER TABLE … MODIFY ${String(col)} … COLLATE utf8mb4_nopad_bin)`,
          );
      }
      // Unique indexes other than the key: ON DUPLICATE KEY UPDATE would fire on them too and overwrite
      // another row; such tables get an update-then-insert per row, where a clash is refused (1062).
      const uniques = (await conn.query(
        { sql: 'SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX', rowsAsArray: true },
        [this.conn.database, this.cfg.table],
      )) as unknown[][];
      const byIndex = new Map<string, string[]>();
      for (const [ix, col] of uniques) byIndex.set(String(ix), [...(byIndex.get(String(ix)) ?? []), String(col).toLowerCase()]);
      const keySet = this.keyColumns.map((k) => k.toLowerCase()).sort().join('\u0000');
      this.otherUniqueIndexes = [...byIndex.entries()].filter(([, c]) => [...c].sort().join('\u0000') !== keySet).map(([ix]) => ix);
      const engine = ((await conn.query({ sql: 'SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', rowsAsArray: true }, [this.conn.database, this.cfg.table])) as unknown[][])
        .map((r) => String(r[0] ?? ''))[0];
      if (engine && !TRANSACTIONAL_ENGINES.has(engine.toLowerCase()))
        throw new ConnectorError(this.binding, `table ${this.name} uses the ${engine} engine, which has no transactions: the sink writes a batch and its ledger entry atomically and needs InnoDB`);
      return new Map(cols.map((c) => [c.name.toLowerCase(), c]));
    } catch (err) {
      if (err instanceof ConnectorError) throw err;
      throw wrap(this.binding, `preparing ${this.name}`, err);
    } finally {
      await this.conn.release(conn);
    }
  }

  async apply(stream: string, seq: number, batch: SinkBatch, opts?: ApplyOptions): Promise<ApplyOutcome> {
    let cols = await this.ready();
    const conn = await this.conn.connect();
    let broken = false;
    try {
      // Statements that do not depend on each other's results are sent together (the driver pipelines
      // them): a batch costs about three round trips (lock, write, commit), not eight.
      // The placeholder row makes FOR UPDATE lock something even for a new stream, so two concurrent
      // applies of one stream serialise here instead of both seeing 0 (ON DUPLICATE KEY takes the
      // exclusive lock at once, where INSERT IGNORE would take a shared one and could deadlock on the
      // upgrade); it is rolled back unless the batch applies.
      const [, , r] = await Promise.all([
        conn.beginTransaction(),
        conn.query(`INSERT INTO ${this.ledger} (stream, last_seq, last_batch, updated_at) VALUES (?, 0, '', 0) ON DUPLICATE KEY UPDATE stream = stream`, [stream]),
        conn.query({ sql: `SELECT last_seq FROM ${this.ledger} WHERE stream = ? FOR UPDATE`, rowsAsArray: true }, [stream]) as Promise<unknown[][]>,
      ]);
      const last = Number(r[0]?.[0] ?? 0);
      if (seq !== last + 1) {
        await conn.rollback();
        return seq <= last ? 'duplicate' : 'gap';
      }
      // Sent now, checked before the commit: the ledger row is ours (locked) and any failure rolls back all.
      const ledgerUpdate = conn.query(`UPDATE ${this.ledger} SET last_seq = ?, last_batch = ?, updated_at = ? WHERE stream = ?`, [seq, batch.batchId, Date.now(), stream]).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (batch.rows.length) {
        let missing = batch.columns.filter((c) => !cols.has(c.toLowerCase()));
        if (missing.length) {
          // The table may have been altered since it was first read.
          cols = new Map((await this.conn.columns(conn, this.cfg.table)).map((c) => [c.name.toLowerCase(), c]));
          this.started = Promise.resolve(cols);
          missing = batch.columns.filter((c) => !cols.has(c.toLowerCase()));
        }
        let refused: RefusedRecord[];
        const lacking = this.keyColumns.filter((k) => !batch.columns.includes(k));
        if (missing.length || lacking.length) {
          // Every record of the batch, at once (bisecting would only find them all one by one).
          const reason = lacking.length ? `batch lacks key column ${lacking.join(', ')}` : `table ${this.name} has no column ${missing.map((c) => JSON.stringify(c)).join(', ')}`;
          refused = batch.rows.map((_, index) => ({ index, reason }));
        } else {
          // Each part inside a savepoint, so a record the server refuses undoes only its part; the
          // bisection finds it and the rest of the batch commits with the ledger.
          const current = cols;
          refused = await writeBisecting(
            batch.rows.length,
            async (lo, hi) => {
              // A savepoint of the same name replaces the last one; all are released by the commit.
              try {
                await Promise.all([
                  conn.query('SAVEPOINT xchg_part'),
                  this.write(conn, current, lo === 0 && hi === batch.rows.length ? batch : { ...batch, rows: batch.rows.slice(lo, hi), ops: batch.ops.slice(lo, hi) }),
                ]);
              } catch (err) {
                await conn.query('ROLLBACK TO SAVEPOINT xchg_part');
                // The reason a refused record is quarantined with: the server's message and code only.
                throw err instanceof ConnectorError ? err : Object.assign(new Error(errText(err)), { sqlState: (err as { sqlState?: unknown }).sqlState, errno: (err as { errno?: unknown }).errno, cause: err });
              }
            },
            isRecordError,
          );
        }
        if (refused.length) {
          // Nobody to hand them to: fail the batch rather than drop records silently.
          if (!opts?.onRefused) throw new ConnectorError(this.binding, `the server refused ${refused.length} record(s) of batch ${batch.batchId}: ${refused[0]!.reason}`);
          opts.onRefused(refused);
        }
      }
      const ledgerError = await ledgerUpdate;
      if (ledgerError) throw ledgerError;
      await conn.commit();
      return 'applied';
    } catch (err) {
      try {
        await conn.rollback();
      } catch {
        broken = true; // the connection is gone: the server rolls back; it is not reused
      }
      if (err instanceof ConnectorError) throw err;
      throw wrap(this.binding, `writing ${this.name}`, err);
    } finally {
      await this.conn.release(conn, broken);
    }
  }

  /** Upserts and deletes in batch order: consecutive rows of the same op go in one batch() of the driver. */
  private async write(conn: mariadb.Connection, cols: Map<string, ColumnInfo>, b: SinkBatch): Promise<void> {
    if (b.rows.length === 0) return;
    for (const k of this.keyColumns) if (!b.columns.includes(k)) throw new ConnectorError(this.binding, `batch lacks key column ${k}`);
    const keyIdx = this.keyColumns.map((k) => b.columns.indexOf(k));
    const convert = b.columns.map((c) => this.converter(c, cols.get(c.toLowerCase())));
    const isDelete = (i: number): boolean => b.ops[i] === 'd';
    for (let i = 0; i < b.rows.length; ) {
      let j = i + 1;
      while (j < b.rows.length && isDelete(j) === isDelete(i)) j++;
      const run = b.rows.slice(i, j);
      if (isDelete(i)) await this.deleteRows(conn, run.map((row) => keyIdx.map((x) => convert[x]!(row[x]))));
      else await this.upsertRows(conn, b.columns, run.map((row) => row.map((v, x) => convert[x]!(v))));
      i = j;
    }
  }

  private async upsertRows(conn: mariadb.Connection, columns: string[], rows: unknown[][]): Promise<void> {
    const names = columns.map((c) => mariadbIdent(c, this.binding));
    const keys = new Set(this.keyColumns);
    const updates = columns.filter((c) => !keys.has(c)).map((c) => `${mariadbIdent(c, this.binding)} = VALUES(${mariadbIdent(c, this.binding)})`);
    // With nothing but key columns, "update" a key to itself: a no-op that still refuses other errors
    // (INSERT IGNORE would turn every error into a warning).
    const k0 = mariadbIdent(this.keyColumns[0]!, this.binding);
    const action = updates.length ? updates.join(', ') : `${k0} = ${k0}`;
    if (this.otherUniqueIndexes.length) {
      // Update by the key, insert when there was nothing to update: a clash with another unique index is
      // then refused (1062) instead of silently overwriting the row that holds the other value.
      const keyIdx = this.keyColumns.map((k) => columns.indexOf(k));
      const setCols = columns.map((c, i) => [c, i] as const).filter(([c]) => !keys.has(c));
      const where = this.keyColumns.map((k) => `${mariadbIdent(k, this.binding)} <=> ?`).join(' AND ');
      const insert = `INSERT INTO ${this.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
      const update = setCols.length ? `UPDATE ${this.table} SET ${setCols.map(([c]) => `${mariadbIdent(c, this.binding)} = ?`).join(', ')} WHERE ${where}` : undefined;
      const exists = `SELECT 1 FROM ${this.table} WHERE ${where} FOR UPDATE`;
      for (const row of rows) {
        const keyVals = keyIdx.map((i) => row[i]);
        // affectedRows counts changed rows only, so existence is asked, not inferred from an update.
        const found = ((await conn.query({ sql: exists, rowsAsArray: true }, keyVals)) as unknown[][]).length > 0;
        if (!found) await conn.query(insert, row);
        else if (update) await conn.query(update, [...setCols.map(([, i]) => row[i]), ...keyVals]);
      }
      return;
    }
    const sql = `INSERT INTO ${this.table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ON DUPLICATE KEY UPDATE ${action}`;
    await conn.batch(sql, rows);
  }

  private async deleteRows(conn: mariadb.Connection, keys: unknown[][]): Promise<void> {
    const names = this.keyColumns.map((k) => mariadbIdent(k, this.binding));
    const lhs = names.length === 1 ? names[0]! : `(${names.join(', ')})`;
    const tuple = names.length === 1 ? '?' : `(${names.map(() => '?').join(', ')})`;
    for (let at = 0; at < keys.length; at += DELETE_CHUNK) {
      const chunk = keys.slice(at, at + DELETE_CHUNK);
      await conn.execute(`DELETE FROM ${this.table} WHERE ${lhs} IN (${chunk.map(() => tuple).join(', ')})`, chunk.flat());
    }
  }

  /** How a batch value is sent for a column; throws (naming the column) for a value the column would round. */
  private converter(name: string, col: ColumnInfo | undefined): (v: unknown) => unknown {
    const type = col?.dataType;
    const temporalColumn = type === 'date' || type === 'datetime' || type === 'timestamp' || type === 'time';
    const textColumn = type !== undefined && /char|text|enum|set/.test(type);
    const fracLimit = type === 'decimal' || type === 'numeric' ? col!.scale : temporalColumn ? (col!.datetimePrecision ?? 0) : undefined;
    const refuse = (what: string): never => {
      throw new ConnectorError(this.binding, `column ${name} (${col?.columnType ?? 'unknown'}): ${what}`);
    };
    return (v) => {
      if (v === undefined || v === null) return null;
      if (typeof v === 'string' || Buffer.isBuffer(v)) return v;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) refuse(`${v} cannot be stored in MariaDB`);
        return v;
      }
      if (v instanceof Decimal) {
        const canon = canonicalDecimal(v.text);
        if (canon === undefined || /[a-z]/.test(canon)) refuse(`decimal ${v.text} cannot be stored in MariaDB`);
        if (fracLimit !== undefined && (canon!.split('.')[1]?.length ?? 0) > fracLimit) refuse(`decimal ${v.text} has more than ${fracLimit} fractional digits: the column would round it`);
        return textColumn ? v.text : canon;
      }
      if (v instanceof Temporal) {
        if (textColumn) return v.text;
        if (/infinity/.test(v.text)) refuse(`${v.text} cannot be stored in MariaDB`);
        const s = v.text.replace('T', ' ').replace(/Z$/, '');
        const frac = /\.(\d+)$/.exec(s)?.[1]?.length ?? 0;
        if (type === 'date' && s.length > 10 && !/^.{10} 00:00:00(\.0*)?$/.test(s)) refuse(`${v.kind} ${v.text} has a time of day: a DATE column would drop it`);
        if (temporalColumn && type !== 'date' && frac > fracLimit!) refuse(`${v.kind} ${v.text} is finer than the column's ${fracLimit} fractional digits: the column would cut it`);
        return s;
      }
      if (v instanceof JsonText) return v.text;
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      if (v instanceof Date) return v.toISOString().replace('T', ' ').replace(/Z$/, '');
      return JSON.stringify(v);
    };
  }

  /**
   * Reconciliation: rows in key order after `afterKey` (the previous page's lastKey: the key as the
   * server's text, cast back to the column's type), values in the model as the source reads them.
   */
  async scan(afterKey: unknown[] | null, limit: number): Promise<SinkScanPage> {
    const cols = await this.ready();
    const keyCols = this.keyColumns.map((k) => cols.get(k.toLowerCase())!);
    const cmps = keyCols.map((c) => comparable(c, mariadbIdent(c.name, this.binding), this.binding, 'key'));
    const keys = keyCols.map((c) => mariadbIdent(c.name, this.binding));
    const texts = cmps.map((c, i) => `${c.text} AS \`__xchg_k${i}\``).join(', ');
    const params: unknown[] = [];
    // (k1, k2) > (X1, X2) spelled out, as MariaDB plans it as index ranges.
    const after = (i: number): string => {
      const eq = keys.slice(0, i).map((k, j) => (params.push(textOf(afterKey![j])), `${k} = ${cmps[j]!.param}`));
      params.push(textOf(afterKey![i]));
      return [...eq, `${keys[i]} > ${cmps[i]!.param}`].join(' AND ');
    };
    const where = afterKey ? `WHERE ${keys.map((_, i) => `(${after(i)})`).join(' OR ')}` : '';
    params.push(limit);
    const conn = await this.conn.connect();
    let res: RowsResult;
    try {
      res = (await conn.query({ sql: `SELECT ${this.table}.*, ${texts} FROM ${this.table} ${where} ORDER BY ${keys.join(', ')} LIMIT ?`, rowsAsArray: true }, params)) as RowsResult;
    } catch (err) {
      throw wrap(this.binding, `reading ${this.name}`, err);
    } finally {
      await this.conn.release(conn);
    }
    const { rows, extras } = decodeRows(res, keys.length);
    const columns = res.meta.slice(0, res.meta.length - keys.length).map((m) => m.name());
    const last = extras.at(-1);
    return { columns, keyColumns: this.keyColumns, rows: rows.map((r) => columns.map((c) => r[c])), lastKey: last ? last.map(textOf) : null, exhausted: res.length < limit };
  }

  async lastSequence(stream: string): Promise<number> {
    await this.ready();
    const conn = await this.conn.connect();
    try {
      const r = (await conn.query({ sql: `SELECT last_seq FROM ${this.ledger} WHERE stream = ?`, rowsAsArray: true }, [stream])) as unknown[][];
      return Number(r[0]?.[0] ?? 0);
    } catch (err) {
      throw wrap(this.binding, 'reading the ledger', err);
    } finally {
      await this.conn.release(conn);
    }
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}

/**
 * Errors that belong to a record, so the rest of its batch can be written: SQLSTATE class 22 (data: too
 * long, out of range, incorrect value or string), 23 (integrity: NOT NULL, duplicate unique key, check,
 * foreign key), and values this connector refuses (ConnectorError). Anything else (connection, locks,
 * disk) is the server's, and the batch is retried whole later.
 */
/**
 * Server errors that belong to a record: SQLSTATE classes 22 and 23, and the strict-mode errors MariaDB
 * reports under other states (1265 data truncated is 01000; 1366, 1292, 1406, 1048, 1062, 1364, 1452,
 * 1451, 1690, 3819/4025 check constraints). Anything else (connection, lock wait, disk) is the server's.
 */
const RECORD_ERRNOS = new Set([1048, 1062, 1264, 1265, 1292, 1364, 1366, 1367, 1406, 1411, 1451, 1452, 1690, 3819, 4025, 4078]);
function isRecordError(err: unknown): boolean {
  if (err instanceof ConnectorError || err instanceof RangeError || err instanceof TypeError) return true;
  const { sqlState: state, errno } = err as { sqlState?: unknown; errno?: unknown };
  return (typeof state === 'string' && /^2[23]/.test(state)) || (typeof errno === 'number' && RECORD_ERRNOS.has(errno));
}


/** A ConnectorError naming the binding, with the server's code and message (never the SQL or its values); the driver's error as cause. */
function wrap(binding: string, what: string, err: unknown): ConnectorError {
  return Object.assign(new ConnectorError(binding, `${what}: ${errText(err)}`), { cause: err });
}

function errText(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map((e) => errText(e)).join('; ');
  const e = err as { sqlMessage?: string | null; code?: string | null; errno?: number; message?: string };
  if (e && typeof e.sqlMessage === 'string' && e.sqlMessage) return `${e.sqlMessage}${e.code ? ` (${e.code}${e.errno ? ` ${e.errno}` : ''})` : ''}`;
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
