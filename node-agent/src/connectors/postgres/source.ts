// PostgreSQL tables as sources: the SQL source (sql/source.ts) over a pg pool. The cursor and key are read
// as text and compared after a cast to the column's own type: a JS Date or number would lose microseconds or
// digits, and skip or repeat rows on the way back. The row comparison (c, k) > (X, Y) can use an index on (c, k).
import type pg from 'pg';
import { Type, type Static } from 'typebox';
import { Decimal, JsonText, Temporal } from '../../values/value.js';
import { KeySetting, NameSetting, tableSourceSettings } from '../settings.js';
import { wrap } from '../sql/errors.js';
import { columnCheck, SqlSource, type SourceDialect, type SourcePlan, type TableSourceConfig } from '../sql/source.js';
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

export class PostgresSource extends SqlSource {
  constructor(binding: string, cfg: PostgresSourceConfig) {
    super(binding, 'postgres', cfg, () => new PostgresSourceDialect(binding, cfg));
  }
}

/** The key's bucket in SQL (connectors/shards.ts): the first 32 bits of md5(key text), unsigned. */
export const postgresBucket = (k: string): string => `('x' || substr(md5(${k}::text), 1, 8))::bit(32)::bigint`;

class PostgresSourceDialect implements SourceDialect {
  readonly sync = false;
  private readonly conn: PostgresConnection;

  constructor(
    private readonly binding: string,
    cfg: PostgresSourceConfig,
  ) {
    this.conn = new PostgresConnection(binding, cfg);
  }

  ident(name: string): string {
    return ident(name, this.binding);
  }

  async prepare(cfg: TableSourceConfig & { key: string }): Promise<SourcePlan> {
    const client = await this.conn.connect();
    let cols: Map<string, Column>;
    try {
      cols = await this.conn.columns(client, cfg.table);
    } finally {
      client.release();
    }
    const name = `${this.conn.schemaName}.${cfg.table}`;
    const need = columnCheck(this.binding, name, this.conn.where, cols.size, (c) => cols.get(c));
    const kt = need(cfg.key, 'key').cast;
    if (cfg.deleted) need(cfg.deleted, 'deleted');
    const t = `${this.conn.schema}.${this.ident(cfg.table)}`;
    const byColumn = new Map<string, string>();
    for (const col of cfg.queryKeys ?? [cfg.key])
      byColumn.set(col, `SELECT * FROM ${t} WHERE ${this.ident(col)} = $1::${need(col, 'query key').cast} LIMIT 1`);
    const ct = cfg.cursor ? need(cfg.cursor, 'cursor').cast : '';
    const c = cfg.cursor ? this.ident(cfg.cursor) : undefined;
    const k = this.ident(cfg.key);
    const what = `reading ${name}`;
    return {
      table: t,
      k,
      c,
      star: '*',
      positionCols: [...(c ? [`${c}::text`] : []), `${k}::text`],
      bind: (v, role, params) =>
        `$${params.push(v === null || v === undefined ? null : String(v))}::${role === 'c' ? ct : kt}`,
      bindLimit: (limit, params) => `$${params.push(limit)}`,
      rowComparison: true,
      least: 'LEAST',
      bucket: postgresBucket(k),
      read: async (sql, params, tail) => {
        const { rows } = await this.query(what, sql, params);
        let lastTail: unknown[] | undefined;
        for (const r of rows) {
          lastTail = [];
          for (let i = 0; i < tail; i++) {
            lastTail.push(r[`__xchg_t${i}`]);
            delete r[`__xchg_t${i}`];
          }
        }
        return { rows, lastTail };
      },
      position: (_row, tl) => (c ? { c: tl[0], k: tl[1] } : { k: tl[0] }),
      lookup: async (col, value) => {
        const param =
          value instanceof Decimal ||
          value instanceof Temporal ||
          value instanceof JsonText ||
          typeof value !== 'object'
            ? String(value)
            : JSON.stringify(value);
        return (await this.query(what, byColumn.get(col)!, [param])).rows[0];
      },
    };
  }

  private async query(what: string, sql: string, params: unknown[]): Promise<pg.QueryResult<Record<string, unknown>>> {
    const client = await this.conn.connect();
    try {
      return await client.query<Record<string, unknown>>(sql, params);
    } catch (err) {
      throw wrap(this.binding, what, err);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}
