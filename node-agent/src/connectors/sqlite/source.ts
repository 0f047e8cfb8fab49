// SQLite tables as sources: the SQL source (sql/source.ts) over better-sqlite3, synchronous. Rows come as
// arrays (raw mode) and are shaped here: measured ~30 % cheaper than the driver building each object, the
// largest cost of reading. Integers are read as bigints (safeIntegers) and put in the model's form: a plain
// read would round every integer beyond 2^53 to a double, silently merging rows whose keys differ past it.
// Positions are the last row's cursor and key in wire form: JSON-safe in the spool, exact for big integers
// and blobs.
import Database from 'better-sqlite3';
import { Type, type Static } from 'typebox';
import { Decimal, JsonText, Temporal, normInt } from '../../values/value.js';
import { limitPageCache } from '../../sqlite-cache.js';
import { fromWire, toWire } from '../../values/wire.js';
import { KeySetting, NameSetting, tableSourceSettings } from '../settings.js';
import { ident } from '../sql/errors.js';
import { SqlSource, type RawPage, type SourceDialect, type SourcePlan, type TableSourceConfig } from '../sql/source.js';
import { bucketOf } from '../shards.js';
import { ConnectorError } from '../types.js';

export const SqliteSourceSettings = Type.Object(
  {
    type: Type.Literal('sqlite'),
    path: Type.String({
      minLength: 1,
      description: 'Path of the SQLite database file (opened read-only; must exist).',
    }),
    table: NameSetting('Table to read.'),
    key: KeySetting,
    ...tableSourceSettings,
  },
  { additionalProperties: false },
);
/** Settings of a sqlite source binding (each described, with its default, in SqliteSourceSettings). */
export type SqliteSourceConfig = Static<typeof SqliteSourceSettings>;

export class SqliteSource extends SqlSource {
  constructor(binding: string, cfg: SqliteSourceConfig) {
    super(binding, 'sqlite', cfg, () => new SqliteSourceDialect(binding, cfg.path));
  }
}

/** Largest number of prepared reads kept (one per shape of a sharded cursor, plus the plain ones). */
const STATEMENTS_MAX = 64;

class SqliteSourceDialect implements SourceDialect {
  readonly sync = true;
  private readonly db: Database.Database;
  /** Reads by their SQL. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly binding: string,
    path: string,
  ) {
    if (!path) throw new ConnectorError(binding, 'sqlite source needs path and table');
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw new ConnectorError(binding, `cannot open ${path}: ${(err as Error).message}`);
    }
    this.db.pragma('busy_timeout = 5000');
    limitPageCache(this.db);
    // The key's bucket for spread flows (connectors/shards.ts): the same function every dialect computes.
    this.db.function('xchg_bucket', { deterministic: true }, (v: unknown) =>
      v === null || v === undefined ? null : bucketOf(String(v)),
    );
  }

  ident(name: string): string {
    return ident(name, this.binding);
  }

  prepare(cfg: TableSourceConfig & { key: string }): SourcePlan {
    const t = this.ident(cfg.table);
    const k = this.ident(cfg.key);
    const c = cfg.cursor === undefined ? undefined : this.ident(cfg.cursor);
    const byColumn = new Map<string, Database.Statement>();
    try {
      // Checks the table and its key and cursor columns now, as the reads will name them.
      this.db.prepare(`SELECT * FROM ${t} ORDER BY ${c ? `${c}, ` : ''}${k} LIMIT 0`);
      for (const col of cfg.queryKeys ?? [cfg.key])
        byColumn.set(
          col,
          this.db.prepare(`SELECT * FROM ${t} WHERE ${this.ident(col)} = ? LIMIT 1`).safeIntegers(true),
        );
    } catch (err) {
      if (err instanceof ConnectorError) throw err;
      throw new ConnectorError(this.binding, `table ${cfg.table}: ${(err as Error).message}`);
    }
    const bind = (v: unknown, _role: string, params: unknown[]): string => {
      params.push(bindable(fromWire((v ?? null) as never)));
      return '?';
    };
    return {
      table: t,
      k,
      c,
      star: '*',
      positionCols: [],
      bind,
      bindLimit: (limit, params) => (params.push(limit), '?'),
      // `(c, k) > (?, ?)`: SQLite seeks the index on c for it. The spelled-out `c > ? OR (c = ? AND k > ?)`
      // with two parameters for c is planned as a scan of the whole index from its start (it cannot know the
      // two are equal), so every page of an incremental read would cost the table's size.
      rowComparison: true,
      least: 'min',
      bucket: `xchg_bucket(CAST(${k} AS TEXT))`,
      read: (sql, params, tail) => this.read(sql, params, tail),
      position: (row) => ({ ...(cfg.cursor !== undefined && { c: toWire(row[cfg.cursor]) }), k: toWire(row[cfg.key]) }),
      lookup: (col, value) => {
        const row = byColumn.get(col)!.get(bindable(value)) as Record<string, unknown> | undefined;
        if (row) for (const [name, x] of Object.entries(row)) if (typeof x === 'bigint') row[name] = normInt(x);
        return row;
      },
    };
  }

  private read(sql: string, params: unknown[], tail: number): RawPage {
    let st = this.statements.get(sql);
    if (!st) {
      if (this.statements.size > STATEMENTS_MAX) this.statements.clear();
      st = this.db.prepare(sql).raw(true).safeIntegers(true);
      this.statements.set(sql, st);
    }
    const values = st.all(...params) as unknown[][];
    // Column names are taken per read, so a table altered while the agent runs is still read right.
    const names = st.columns().map((c) => c.name);
    const width = names.length - tail;
    const rows = values.map((v) => {
      const r: Record<string, unknown> = {};
      for (let i = 0; i < width; i++) {
        const x = v[i];
        r[names[i]!] = typeof x === 'bigint' ? normInt(x) : x;
      }
      return r;
    });
    return { rows, lastTail: values.at(-1)?.slice(width) };
  }

  close(): void {
    this.db.close();
  }
}

/** A value from a stored cursor or a query as better-sqlite3 binds it. */
export function bindable(v: unknown): unknown {
  if (v instanceof Decimal || v instanceof Temporal || v instanceof JsonText) return v.text;
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}
