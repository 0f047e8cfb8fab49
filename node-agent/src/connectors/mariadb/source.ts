// MariaDB / MySQL tables as sources (type 'mariadb', alias 'mysql'): incremental by a cursor column (ties
// broken by the key) or full by key order, tombstones from a "deleted" column, lookups for online queries.
// The sink is the SQL sink over mariadb/dialect.ts.
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
import { Type, type Static } from 'typebox';
import { KeySetting, NameSetting, tableSourceSettings } from '../settings.js';
import { wrap } from '../sql/errors.js';
import {
  ConnectorError,
  asList,
  isDeletedMark,
  type Cursor,
  type ShardPart,
  type RecordSource,
  type SourcePage,
} from '../types.js';
import { advance, isSharded, shardWhere } from '../shards.js';
import {
  findColumn,
  mariadbIdent,
  MariadbConnection,
  mariadbConnectionSettings,
  type ColumnInfo,
  type RowsResult,
} from './connection.js';
import { comparable, decodeRows, paramText, textOf, type Comparable } from './values.js';

export const MariadbSourceSettings = Type.Object(
  {
    type: Type.Union([Type.Literal('mariadb'), Type.Literal('mysql')]),
    ...mariadbConnectionSettings,
    table: NameSetting('Table to read.'),
    key: KeySetting,
    ...tableSourceSettings,
  },
  { additionalProperties: false },
);
/** Settings of a mariadb/mysql source binding (each described, with its default, in MariadbSourceSettings). */
export type MariadbSourceConfig = Static<typeof MariadbSourceSettings>;

const CURSOR_TEXT = '__xchg_c';
const KEY_TEXT = '__xchg_k';

interface SourcePlan {
  first: string;
  after: string;
  /** Extra text columns at the end of each row: 2 (cursor, key) or 1 (key). */
  extra: number;
  /** Online-query statement and comparison per query key column. */
  byColumn: Map<string, { sql: string; cmp: Comparable }>;
  deleted: string | undefined;
  /** Sharded reads (incremental only): select list, cursor and key SQL, their parameter casts. */
  shard?: { sel: string; c: string; k: string; cp: string; kp: string };
}

/** The key's bucket in SQL (connectors/shards.ts): the first 32 bits of MD5(key text), unsigned. */
export const mariadbBucket = (k: string): string =>
  `CAST(CONV(SUBSTR(MD5(CAST(${k} AS CHAR)), 1, 8), 16, 10) AS UNSIGNED)`;

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
    if (this.keyColumns.length !== 1)
      throw new ConnectorError(binding, 'mariadb source needs exactly one key column (key: id)');
    for (const c of [this.keyColumns[0]!, cfg.cursor, cfg.deleted, ...(cfg.queryKeys ?? [])])
      if (c !== undefined) mariadbIdent(c, binding);
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
    if (cols.length === 0)
      throw new ConnectorError(
        this.binding,
        `table ${name} does not exist at ${this.conn.where} (or this user cannot see it)`,
      );
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
      return {
        first: `${sel} ORDER BY ${k} LIMIT ?`,
        after: `${sel} WHERE ${k} > ${kc.param} ORDER BY ${k} LIMIT ?`,
        extra: 1,
        byColumn,
        deleted,
      };
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
      shard: { sel, c, k, cp: cc.param, kp: kc.param },
    };
  }

  get shardable(): boolean {
    return this.mode === 'incremental';
  }

  async read(cursor: Cursor, limit: number): Promise<SourcePage> {
    const plan = await this.ready();
    if (isSharded(cursor)) return this.readSharded(plan, cursor, limit);
    // A cursor without the parts this mode needs (e.g. the binding switched from full to incremental) starts over.
    const from = this.mode === 'incremental' ? [cursor?.c, cursor?.k] : [cursor?.k];
    const resume = from.every((v) => v !== undefined && v !== null);
    const params = !resume
      ? [limit]
      : this.mode === 'incremental'
        ? [String(from[0]), String(from[0]), String(from[1]), limit]
        : [String(from[0]), limit];
    const res = await this.query(resume ? plan.after : plan.first, params);
    const { rows, errors, extras } = decodeRows(res, plan.extra);
    const last = extras.at(-1);
    const next: Cursor = last
      ? plan.extra === 2
        ? { c: textOf(last[0]), k: textOf(last[1]) }
        : { k: textOf(last[0]) }
      : cursor;
    const ops = rows.map((r) => (plan.deleted && isDeletedMark(r[plan.deleted]) ? 'd' : 'u') as 'u' | 'd');
    if (plan.deleted) for (const r of rows) delete r[plan.deleted];
    return { rows, ops, cursor: next, exhausted: res.length < limit, ...(errors && { errors }) };
  }

  /** A sharded cursor's read (connectors/shards.ts): flags per part after the cursor and key texts. */
  private async readSharded(
    plan: SourcePlan,
    cursor: { n: number; parts: ShardPart[] },
    limit: number,
  ): Promise<SourcePage> {
    const sh = plan.shard;
    if (!sh) throw new ConnectorError(this.binding, 'a spread flow needs an incremental source (cursor)');
    const params: unknown[] = [];
    const bind = (cast: string, v: unknown): string => {
      params.push(v === null || v === undefined ? null : String(v));
      return cast;
    };
    const { where, flags } = shardWhere(
      cursor,
      {
        bucket: mariadbBucket(sh.k),
        after: (c, k, p) => `${sh.c} > ${p(c)} OR (${sh.c} = ${p(c)} AND ${sh.k} > ${bind(sh.kp, k)})`,
        // LEAST() takes two or more arguments; one value is its own lowest.
        atLeast: (cs, p) => `${sh.c} >= ${cs.length > 1 ? `LEAST(${cs.map(p).join(', ')})` : p(cs[0])}`,
      },
      (v) => bind(sh.cp, v),
    );
    const flagCols = flags.map((f, i) => `${f} AS __xchg_f${i}`).join(', ');
    const sql = `${sh.sel.replace(/ FROM (?!.* FROM )/, `, ${flagCols} FROM `)} WHERE ${sh.c} IS NOT NULL AND (${where}) ORDER BY ${sh.c}, ${sh.k} LIMIT ?`;
    params.push(limit);
    const res = await this.query(sql, params);
    const { rows, errors, extras } = decodeRows(res, 2 + cursor.parts.length);
    const last = extras.at(-1);
    const next = last ? advance(cursor, { c: textOf(last[0]), k: textOf(last[1]) }, last.slice(2).map(Number)) : cursor;
    const ops = rows.map((r) => (plan.deleted && isDeletedMark(r[plan.deleted]) ? 'd' : 'u') as 'u' | 'd');
    if (plan.deleted) for (const r of rows) delete r[plan.deleted];
    return { rows, ops, cursor: next, exhausted: res.length < limit, ...(errors && { errors }) };
  }

  async lookup(key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const plan = await this.ready();
    const [col, value] = Object.entries(key)[0] ?? [];
    const q = col === undefined ? undefined : plan.byColumn.get(col);
    if (!q)
      throw new ConnectorError(
        this.binding,
        `cannot look up by ${JSON.stringify(col)} (query keys: ${[...plan.byColumn.keys()].join(', ')})`,
      );
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
