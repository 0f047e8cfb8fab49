// PostgreSQL tables as sources: incremental by a cursor column (ties broken by the key) or full by key
// order, tombstones from a "deleted" column, lookups for online queries.
import type pg from 'pg';
import { Type, type Static } from 'typebox';
import { Decimal, JsonText, Temporal } from '../../values/value.js';
import { KeySetting, NameSetting, tableSourceSettings } from '../settings.js';
import { wrap } from '../sql/errors.js';
import { advance, isSharded, shardWhere } from '../shards.js';
import {
  ConnectorError,
  asList,
  isDeletedMark,
  type Cursor,
  type RecordSource,
  type ShardPart,
  type SourcePage,
} from '../types.js';
import { ident, PostgresConnection, postgresConnectionSettings, type Column } from './connection.js';

export const PostgresSourceSettings = Type.Object(
  {
    type: Type.Literal('postgres'),
    ...postgresConnectionSettings,
    table: NameSetting('Table to read.'),
    key: KeySetting,
    ...tableSourceSettings,
  },
  { additionalProperties: false },
);
/** Settings of a postgres source binding (each described, with its default, in PostgresSourceSettings). */
export type PostgresSourceConfig = Static<typeof PostgresSourceSettings>;

/** Extra columns a source query selects: the cursor and key as text, so they round-trip through JSON exactly. */
const CURSOR_TEXT = '__xchg_c';
const KEY_TEXT = '__xchg_k';

interface SourcePlan {
  first: string;
  after: string;
  /** Online-query statement per query key column. */
  byColumn: Map<string, string>;
  /** Sharded reads (incremental only): the select list, cursor and key SQL and their casts. */
  shard?: { sel: string; c: string; k: string; ct: string; kt: string };
}

/** The key's bucket in SQL (connectors/shards.ts): the first 32 bits of md5(key text), unsigned. */
export const postgresBucket = (k: string): string => `('x' || substr(md5(${k}::text), 1, 8))::bit(32)::bigint`;

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
    if (this.keyColumns.length !== 1)
      throw new ConnectorError(binding, 'postgres source needs exactly one key column (key: id)');
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
    if (cols.size === 0)
      throw new ConnectorError(
        this.binding,
        `table ${name} does not exist at ${this.conn.where} (or this user cannot see it)`,
      );
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
      byColumn.set(
        col,
        `SELECT * FROM ${t} WHERE ${ident(col, this.binding)} = $1::${need(col, 'query key').cast} LIMIT 1`,
      );
    if (!this.cfg.cursor) {
      const sel = `SELECT *, ${k}::text AS ${KEY_TEXT} FROM ${t}`;
      return {
        first: `${sel} ORDER BY ${k} LIMIT $1`,
        after: `${sel} WHERE ${k} > $1::${kt} ORDER BY ${k} LIMIT $2`,
        byColumn,
      };
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
      shard: { sel, c, k, ct, kt },
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
    const { rows } = await this.query(
      resume ? plan.after : plan.first,
      resume ? [...from.map(String), limit] : [limit],
    );
    const last = rows.at(-1);
    const next: Cursor = last
      ? { ...(this.mode === 'incremental' && { c: last[CURSOR_TEXT] }), k: last[KEY_TEXT] }
      : cursor;
    const ops = rows.map((r) => (this.deleted && isDeletedMark(r[this.deleted]) ? 'd' : 'u') as 'u' | 'd');
    for (const r of rows) {
      delete r[CURSOR_TEXT];
      delete r[KEY_TEXT];
      if (this.deleted) delete r[this.deleted];
    }
    return { rows, ops, cursor: next, exhausted: rows.length < limit };
  }

  /** A sharded cursor's read (connectors/shards.ts): flags per part after the row's own columns. */
  private async readSharded(
    plan: SourcePlan,
    cursor: { n: number; parts: ShardPart[] },
    limit: number,
  ): Promise<SourcePage> {
    const sh = plan.shard;
    if (!sh) throw new ConnectorError(this.binding, 'a spread flow needs an incremental source (cursor)');
    const params: unknown[] = [];
    const param = (v: unknown): string => `$${params.push(v === null || v === undefined ? null : String(v))}`;
    const { where, flags } = shardWhere(
      cursor,
      {
        bucket: postgresBucket(sh.k),
        after: (c, k, p) => `(${sh.c}, ${sh.k}) > (${p(c)}::${sh.ct}, ${p(k)}::${sh.kt})`,
        atLeast: (cs, p) => `${sh.c} >= LEAST(${cs.map((c) => `${p(c)}::${sh.ct}`).join(', ')})`,
      },
      param,
    );
    const flagCols = flags.map((f, i) => `${f} AS __xchg_f${i}`).join(', ');
    const sql = `${sh.sel.replace(' FROM ', `, ${flagCols} FROM `)} WHERE ${sh.c} IS NOT NULL AND (${where}) ORDER BY ${sh.c}, ${sh.k} LIMIT $${params.push(limit)}`;
    const { rows } = await this.query(sql, params);
    const last = rows.at(-1);
    const lastFlags = cursor.parts.map((_, i) => last?.[`__xchg_f${i}`]);
    const next = last ? advance(cursor, { c: last[CURSOR_TEXT], k: last[KEY_TEXT] }, lastFlags) : cursor;
    const ops = rows.map((r) => (this.deleted && isDeletedMark(r[this.deleted]) ? 'd' : 'u') as 'u' | 'd');
    for (const r of rows) {
      delete r[CURSOR_TEXT];
      delete r[KEY_TEXT];
      for (let i = 0; i < cursor.parts.length; i++) delete r[`__xchg_f${i}`];
      if (this.deleted) delete r[this.deleted];
    }
    return { rows, ops, cursor: next, exhausted: rows.length < limit };
  }

  async lookup(key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const plan = await this.ready();
    const [col, value] = Object.entries(key)[0] ?? [];
    const sql = col === undefined ? undefined : plan.byColumn.get(col);
    if (!sql)
      throw new ConnectorError(
        this.binding,
        `cannot look up by ${JSON.stringify(col)} (query keys: ${[...plan.byColumn.keys()].join(', ')})`,
      );
    if (value === undefined || value === null) return undefined;
    const param =
      value instanceof Decimal || value instanceof Temporal || value instanceof JsonText || typeof value !== 'object'
        ? String(value)
        : JSON.stringify(value);
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
