// MariaDB / MySQL connections of a binding (the official `mariadb` driver): where the server is
// (settings), up to two idle connections opened on demand, the table's columns, and identifier quoting.
import type * as mariadb from 'mariadb';
import { Type, type Static } from 'typebox';
import { ConnectorError } from '../types.js';
import { wrap } from '../sql/errors.js';

/** Where the server is. `url` wins over the separate fields; the password never appears in errors. */
export const mariadbConnectionSettings = {
  url: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'mariadb:// or mysql://user:password@host:port/database (wins over host and port).',
    }),
  ),
  host: Type.Optional(Type.String({ minLength: 1, default: 'localhost', description: 'Server host name or address.' })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 3306, description: 'Server port.' })),
  socketPath: Type.Optional(Type.String({ minLength: 1, description: 'A Unix socket instead of host and port.' })),
  user: Type.Optional(Type.String({ description: 'User name.' })),
  password: Type.Optional(Type.String({ description: 'Password; never sent to central or written to logs.' })),
  database: Type.Optional(
    Type.String({
      minLength: 1,
      description: "Database (schema) holding the table and a sink's ledger; required here or in url.",
    }),
  ),
};

/** Where the database is: the connection settings a source and a sink binding share. */
export type MariadbConnectionConfig = Static<ReturnType<typeof Type.Object<typeof mariadbConnectionSettings>>>;

const POOL_MAX = 2;

// The driver is loaded on the first connection, not when the agent starts: an agent without a MariaDB
// binding does not pay its ~5 MB of resident memory (measured: RSS after importing mariadb). It is an ES
// module, so the load is an import() inside connect(), which is asynchronous anyway.
let driver: Promise<typeof mariadb> | undefined;
function loadMariadb(): Promise<typeof mariadb> {
  driver ??= import('mariadb');
  return driver;
}
const CONNECT_TIMEOUT_MS = 10_000;

/** Quotes a MariaDB identifier with backticks (embedded backticks doubled) after checking MariaDB could name it. */
export function mariadbIdent(name: string, binding: string): string {
  const bad = (why: string): never => {
    throw new ConnectorError(binding, `invalid MariaDB identifier ${JSON.stringify(name)}: ${why}`);
  };
  if (typeof name !== 'string' || name === '') return bad('empty');
  if (!name.isWellFormed()) bad('not well-formed Unicode');
  if (name.includes('\u0000')) bad('contains NUL');
  if (/[\u{10000}-\u{10FFFF}]/u.test(name))
    bad('characters outside the Basic Multilingual Plane (such as emoji) are not allowed in identifiers');
  if ([...name].length > 64) bad('longer than 64 characters');
  if (name.endsWith(' ')) bad('ends with a space');
  return '`' + name.replaceAll('`', '``') + '`';
}

export interface ColumnInfo {
  name: string;
  /** DATA_TYPE, lower case: int, bigint, decimal, datetime, varchar, … */
  dataType: string;
  /** COLUMN_TYPE, e.g. "bigint(20) unsigned", "decimal(38,10)". */
  columnType: string;
  precision: number | undefined;
  scale: number | undefined;
  datetimePrecision: number | undefined;
}

export type RowsResult = unknown[][] & { meta: mariadb.FieldInfo[] };

/**
 * Up to POOL_MAX idle connections of a binding, opened on demand. Not the driver's pool: its acquire
 * timeout hides why a connection failed (refused, access denied, unknown database), which is what an
 * operator needs to read.
 */
export class MariadbConnection {
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
      if (!/^(mariadb|mysql):$/.test(u.protocol))
        throw new ConnectorError(binding, `url must start with mariadb:// or mysql://, not ${u.protocol}//`);
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
      c = await (await loadMariadb()).createConnection(this.opts);
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
      {
        sql: 'SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        rowsAsArray: true,
      },
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
export function findColumn(cols: ColumnInfo[], name: string): ColumnInfo | undefined {
  return cols.find((c) => c.name === name) ?? cols.find((c) => c.name.toLowerCase() === name.toLowerCase());
}
