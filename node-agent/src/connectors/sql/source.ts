// One SQL table source over a small per-database part (SourceDialect): incremental by a cursor column (ties
// broken by the key) or full by key order, key-hash shards of a spread flow (connectors/shards.ts), tombstones
// from a "deleted" column, lookups for online queries. Reconciliation reads through read() like a sync task.
//
// What stays true for every database: rows whose cursor is NULL are never read (NULL never compares greater,
// so such a row would be read once and one written later never; reconciliation finds them); a cursor without
// the parts the mode needs (the binding switched from full to incremental) starts over; positions travel in a
// form that round-trips through the spool's JSON exactly (the dialect's choice: the server's text, or wire
// values); parameters are bound in the order of the SQL text, so positional placeholders work.
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
import type { MaybePromise } from './flow.js';

/** The settings every SQL table source has (its type's schema adds the connection). */
export interface TableSourceConfig {
  table: string;
  key: string | string[];
  cursor?: string | undefined;
  deleted?: string | undefined;
  queryKeys?: string[] | undefined;
}

/** A plain position: the cursor column's value (incremental only) and the key's, in a JSON-safe form. */
export type Position = { c?: unknown; k: unknown };

/** Rows of one read, in model values, without the trailing columns the source selected for itself. */
export interface RawPage {
  rows: Record<string, unknown>[];
  /** The trailing columns of the last row (position columns, then shard flags); undefined when no rows. */
  lastTail: unknown[] | undefined;
  /** Per row: why it cannot be sent (SourcePage.errors); absent when every row is good. */
  errors?: (string | undefined)[] | undefined;
}

/** What one database's source knows of a table, built once it can see the table (SourceDialect.prepare). */
export interface SourcePlan {
  /** The quoted table, key column and cursor column (undefined for a full source). */
  table: string;
  k: string;
  c: string | undefined;
  /** The row's own columns in a select list: '*', or 'schema.table.*' when more columns follow. */
  star: string;
  /** Expressions selected after the row's own columns that position() reads (e.g. cursor and key as text). */
  positionCols: string[];
  /** Binds a position value (as position() gave it) of the cursor or key column into `params`; its SQL. */
  bind(v: unknown, role: 'c' | 'k', params: unknown[]): string;
  /** Binds the row limit into `params`; its SQL. */
  bindLimit(limit: number, params: unknown[]): string;
  /** `(c, k) > (X, Y)` (PostgreSQL's index-friendly row comparison) instead of `c > X OR (c = X AND k > Y)`. */
  rowComparison: boolean;
  /** The SQL function giving the lowest of two or more values: LEAST, min. */
  least: string;
  /** SQL of a key's bucket for `k` (connectors/shards.ts), an unsigned 32-bit integer. */
  bucket: string;
  /** The deleted column as rows name it (default: as configured; MariaDB matches names case-insensitively). */
  deleted?: string | undefined;
  /** Runs a read whose select list ends with `tail` columns of the source's own. */
  read(sql: string, params: unknown[], tail: number): MaybePromise<RawPage>;
  /** The position of a read row from the row and its tail (the position columns first). */
  position(row: Record<string, unknown>, tail: readonly unknown[]): Position;
  /** One row whose query key column `col` equals `value` (not null), in model values, or undefined. */
  lookup(col: string, value: unknown): MaybePromise<Record<string, unknown> | undefined>;
}

/** One database's side of an SQL source. */
export interface SourceDialect {
  /** True for a synchronous driver (better-sqlite3): prepare() returns the plan, built in the constructor. */
  readonly sync: boolean;
  /** Quotes an identifier, throwing a ConnectorError naming a bad one. */
  ident(name: string): string;
  /** Connects, checks the table and the named columns, and builds the plan. */
  prepare(cfg: TableSourceConfig & { key: string }): MaybePromise<SourcePlan>;
  close(): MaybePromise<void>;
}

/** `need(col, role)` for a dialect's prepare(): the column, or a ConnectorError naming table and role. */
export function columnCheck<Col>(
  binding: string,
  table: string,
  where: string,
  count: number,
  find: (name: string) => Col | undefined,
): (col: string, role: string) => Col {
  if (count === 0)
    throw new ConnectorError(binding, `table ${table} does not exist at ${where} (or this user cannot see it)`);
  return (col, role) => {
    const c = find(col);
    if (!c) throw new ConnectorError(binding, `table ${table} has no ${role} column ${col}`);
    return c;
  };
}

export class SqlSource implements RecordSource {
  readonly keyColumns: string[];
  readonly mode: 'incremental' | 'full';
  readonly cursorColumn: string | undefined;
  private readonly dialect: SourceDialect;
  private readonly cfg: TableSourceConfig & { key: string };
  private readonly queryKeys: string[];
  private plan: MaybePromise<SourcePlan> | undefined;

  /**
   * `kind` names the database in messages ('postgres'); `open` makes the dialect once the shared settings are
   * checked. Throws a ConnectorError for a missing table, a key of other than one column or a bad identifier,
   * and (synchronous drivers) for a table or column the database does not have.
   */
  constructor(
    readonly binding: string,
    kind: string,
    cfg: TableSourceConfig,
    open: () => SourceDialect,
  ) {
    if (!cfg.table) throw new ConnectorError(binding, `${kind} source needs table`);
    this.keyColumns = asList(cfg.key);
    if (this.keyColumns.length !== 1)
      throw new ConnectorError(binding, `${kind} source needs exactly one key column (key: id)`);
    this.cfg = { ...cfg, key: this.keyColumns[0]! };
    this.queryKeys = cfg.queryKeys ?? this.keyColumns;
    this.mode = cfg.cursor ? 'incremental' : 'full';
    this.cursorColumn = cfg.cursor;
    this.dialect = open();
    for (const c of [cfg.table, this.cfg.key, cfg.cursor, cfg.deleted, ...this.queryKeys])
      if (c !== undefined) this.dialect.ident(c);
    if (this.dialect.sync) this.plan = this.dialect.prepare(this.cfg);
  }

  /** Connects and builds the plan on first use; a failure is not memoised, so the next read retries. */
  private ready(): MaybePromise<SourcePlan> {
    this.plan ??= Promise.resolve(this.dialect.prepare(this.cfg)).catch((err: unknown) => {
      this.plan = undefined;
      throw err;
    });
    return this.plan;
  }

  get shardable(): boolean {
    return this.mode === 'incremental';
  }

  async read(cursor: Cursor, limit: number): Promise<SourcePage> {
    const plan = await this.ready();
    if (isSharded(cursor)) return this.readSharded(plan, cursor, limit);
    const { c, k } = plan;
    const params: unknown[] = [];
    const order = c ? `${c}, ${k}` : k;
    const from = c ? [cursor?.c, cursor?.k] : [cursor?.k];
    const resume = from.every((v) => v !== undefined && v !== null);
    const where = !resume
      ? c && `${c} IS NOT NULL`
      : c
        ? this.after(plan, cursor!.c, cursor!.k, params)
        : `${k} > ${plan.bind(cursor!.k, 'k', params)}`;
    const sql = `${this.select(plan, [])}${where ? ` WHERE ${where}` : ''} ORDER BY ${order} LIMIT ${plan.bindLimit(limit, params)}`;
    const page = await plan.read(sql, params, plan.positionCols.length);
    const last = page.rows.at(-1);
    return this.page(plan, page, last ? plan.position(last, page.lastTail!) : cursor, limit);
  }

  /** A sharded cursor's read: a flag per part after the position columns says which parts the last row moves. */
  private async readSharded(
    plan: SourcePlan,
    cursor: { n: number; parts: ShardPart[] },
    limit: number,
  ): Promise<SourcePage> {
    const { c, k } = plan;
    if (!c) throw new ConnectorError(this.binding, 'a spread flow needs an incremental source (cursor)');
    const params: unknown[] = [];
    const { where, flags } = shardWhere(
      cursor,
      {
        bucket: plan.bucket,
        after: (pc, pk) => this.after(plan, pc, pk, params),
        // LEAST() and min() take two or more arguments; one value is its own lowest.
        atLeast: (cs, p) => `${c} >= ${cs.length > 1 ? `${plan.least}(${cs.map(p).join(', ')})` : p(cs[0])}`,
      },
      (v) => plan.bind(v, 'c', params),
    );
    const sql = `${this.select(plan, flags)} WHERE ${c} IS NOT NULL AND (${where}) ORDER BY ${c}, ${k} LIMIT ${plan.bindLimit(limit, params)}`;
    const width = plan.positionCols.length;
    const page = await plan.read(sql, params, width + flags.length);
    const last = page.rows.at(-1);
    const next = last ? advance(cursor, plan.position(last, page.lastTail!), page.lastTail!.slice(width)) : cursor;
    return this.page(plan, page, next, limit);
  }

  /** The select list: the row's columns, the position columns, then `flags`, each tail column aliased. */
  private select(plan: SourcePlan, flags: string[]): string {
    const tail = [...plan.positionCols, ...flags].map((e, i) => `, ${e} AS __xchg_t${i}`).join('');
    return `SELECT ${plan.star}${tail} FROM ${plan.table}`;
  }

  /** "The row lies after (pc, pk)", binding both into `params`. */
  private after(plan: SourcePlan, pc: unknown, pk: unknown, params: unknown[]): string {
    const c = plan.c!;
    const k = plan.k;
    if (plan.rowComparison) return `(${c}, ${k}) > (${plan.bind(pc, 'c', params)}, ${plan.bind(pk, 'k', params)})`;
    const x = plan.bind(pc, 'c', params);
    const x2 = plan.bind(pc, 'c', params);
    return `${c} > ${x} OR (${c} = ${x2} AND ${k} > ${plan.bind(pk, 'k', params)})`;
  }

  /** The page with tombstones marked and the deleted column taken out of the rows. */
  private page(plan: SourcePlan, raw: RawPage, cursor: Cursor, limit: number): SourcePage {
    const { rows, errors } = raw;
    const deleted = plan.deleted ?? this.cfg.deleted;
    const ops = rows.map((r) => (deleted && isDeletedMark(r[deleted]) ? 'd' : 'u') as 'u' | 'd');
    if (deleted) for (const r of rows) delete r[deleted];
    return { rows, ops, cursor, exhausted: rows.length < limit, ...(errors && { errors }) };
  }

  async lookup(key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const plan = await this.ready();
    const [col, value] = Object.entries(key)[0] ?? [];
    if (col === undefined || !this.queryKeys.includes(col))
      throw new ConnectorError(
        this.binding,
        `cannot look up by ${JSON.stringify(col)} (query keys: ${this.queryKeys.join(', ')})`,
      );
    if (value === undefined || value === null) return undefined;
    const row = await plan.lookup(col, value);
    const deleted = plan.deleted ?? this.cfg.deleted;
    if (row && deleted) {
      if (isDeletedMark(row[deleted])) return undefined;
      delete row[deleted];
    }
    return row;
  }

  async close(): Promise<void> {
    await this.dialect.close();
  }
}
