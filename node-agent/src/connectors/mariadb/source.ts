// MariaDB / MySQL tables as sources (type 'mariadb', alias 'mysql'): the SQL source (sql/source.ts) over the
// mariadb connector, rows as arrays decoded by mariadb/values.ts. The sink is the SQL sink over mariadb/dialect.ts.
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
import { columnCheck, SqlSource, type SourceDialect, type SourcePlan, type TableSourceConfig } from '../sql/source.js';
import { ConnectorError } from '../types.js';
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

export class MariadbSource extends SqlSource {
  constructor(binding: string, cfg: MariadbSourceConfig) {
    super(binding, 'mariadb', cfg, () => new MariadbSourceDialect(binding, cfg));
  }
}

/** The key's bucket in SQL (connectors/shards.ts): the first 32 bits of MD5(key text), unsigned. */
const mariadbBucket = (k: string): string => `CAST(CONV(SUBSTR(MD5(CAST(${k} AS CHAR)), 1, 8), 16, 10) AS UNSIGNED)`;

/** Source sessions: UTC for TIMESTAMP, and a permissive sql_mode so that a zero date a cursor points at still casts. */
const SOURCE_INIT = ["SET time_zone = '+00:00'", "SET sql_mode = 'NO_ENGINE_SUBSTITUTION'"];

class MariadbSourceDialect implements SourceDialect {
  readonly sync = false;
  private readonly conn: MariadbConnection;

  constructor(
    private readonly binding: string,
    cfg: MariadbSourceConfig,
  ) {
    this.conn = new MariadbConnection(binding, cfg, SOURCE_INIT);
    this.ident(this.conn.database);
  }

  ident(name: string): string {
    return mariadbIdent(name, this.binding);
  }

  async prepare(cfg: TableSourceConfig & { key: string }): Promise<SourcePlan> {
    const name = `${this.conn.database}.${cfg.table}`;
    const conn = await this.conn.connect();
    let cols: ColumnInfo[];
    try {
      cols = await this.conn.columns(conn, cfg.table);
    } catch (err) {
      throw wrap(this.binding, `reading the columns of ${name}`, err);
    } finally {
      await this.conn.release(conn);
    }
    const need = columnCheck(this.binding, name, this.conn.where, cols.length, (c) => findColumn(cols, c));
    const b = this.binding;
    const keyCol = need(cfg.key, 'key');
    const k = this.ident(keyCol.name);
    const kc = comparable(keyCol, k, b, 'key');
    const deleted = cfg.deleted ? need(cfg.deleted, 'deleted').name : undefined;
    const t = `${this.ident(this.conn.database)}.${this.ident(cfg.table)}`;
    const byColumn = new Map<string, { sql: string; cmp: Comparable }>();
    for (const col of cfg.queryKeys ?? [cfg.key]) {
      const qc = need(col, 'query key');
      const cmp = comparable(qc, this.ident(qc.name), b, 'query key');
      byColumn.set(col, { sql: `SELECT * FROM ${t} WHERE ${this.ident(qc.name)} = ${cmp.param} LIMIT 1`, cmp });
    }
    const curCol = cfg.cursor ? need(cfg.cursor, 'cursor') : undefined;
    const c = curCol && this.ident(curCol.name);
    const cc = curCol && comparable(curCol, c!, b, 'cursor');
    const what = `reading ${name}`;
    // `c > X OR (c = X AND k > Y)`: MariaDB's range optimizer turns it into two ranges of an index on (c, k)
    // (it does not for the row comparison (c, k) > (X, Y)).
    return {
      table: t,
      k,
      c,
      star: `${t}.*`,
      positionCols: [...(cc ? [cc.text] : []), kc.text],
      bind: (v, role, params) => {
        params.push(v === null || v === undefined ? null : String(v));
        return role === 'c' ? cc!.param : kc.param;
      },
      bindLimit: (limit, params) => (params.push(limit), '?'),
      rowComparison: false,
      least: 'LEAST',
      bucket: mariadbBucket(k),
      deleted,
      read: async (sql, params, tail) => {
        const res = await this.query(what, sql, params);
        const { rows, errors, extras } = decodeRows(res, tail);
        return { rows, lastTail: extras.at(-1), errors };
      },
      position: (_row, tl) => (c ? { c: textOf(tl[0]), k: textOf(tl[1]) } : { k: textOf(tl[0]) }),
      lookup: async (col, value) => {
        const q = byColumn.get(col)!;
        const { rows, errors } = decodeRows(await this.query(what, q.sql, [paramText(value, q.cmp)]), 0);
        if (rows[0] && errors?.[0]) throw new ConnectorError(b, `the row found cannot be sent: ${errors[0]}`);
        return rows[0];
      },
    };
  }

  private async query(what: string, sql: string, params: unknown[]): Promise<RowsResult> {
    const conn = await this.conn.connect();
    try {
      return (await conn.query({ sql, rowsAsArray: true }, params)) as RowsResult;
    } catch (err) {
      throw wrap(this.binding, what, err);
    } finally {
      await this.conn.release(conn);
    }
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}
