// PostgreSQL connections of a binding: where the database is (settings), a small pool whose sessions read
// values into the model exactly, and the table's columns.
import { createRequire } from 'node:module';
import type pg from 'pg';
import { Type, type Static } from 'typebox';
import { Decimal, JsonText, normInt, parseDateTime, Temporal } from '../../values/value.js';
import { ident as anyIdent, wrap } from '../sql/errors.js';

/** Where the database is. `url` wins over the separate fields; the password never appears in errors. */
export const postgresConnectionSettings = {
  url: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'postgres://user:password@host:port/database (wins over the fields below).',
    }),
  ),
  host: Type.Optional(Type.String({ minLength: 1, default: 'localhost', description: 'Server host name or address.' })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 5432, description: 'Server port.' })),
  user: Type.Optional(Type.String({ description: "User name (default: the agent's OS user)." })),
  password: Type.Optional(Type.String({ description: 'Password; never sent to central or written to logs.' })),
  database: Type.Optional(Type.String({ minLength: 1, description: 'Database (default: the user name).' })),
  schema: Type.Optional(
    Type.String({ minLength: 1, default: 'public', description: "Schema holding the table (and the sink's ledger)." }),
  ),
};

/** Where the database is: the connection settings a source and a sink binding share. */
export type PostgresConnectionConfig = Static<ReturnType<typeof Type.Object<typeof postgresConnectionSettings>>>;

/** Connections per connector: reads are sequential and a sink applies one batch at a time. */
const POOL_MAX = 2;
const CONNECT_TIMEOUT_MS = 10_000;

// Values in the model (values/value.ts), exact: int8 as a number when safe else a bigint, numeric as a
// Decimal (its digits), date/time/timestamp as Temporal text exactly as PostgreSQL prints it in ISO style
// (never a JS Date: that would lose microseconds and shift wall-clock values into the agent's zone),
// timestamptz as an instant in UTC (the session's TimeZone is UTC, set on connect), json/jsonb as their
// text (big numbers inside stay exact), bytea as a Buffer (pg's default). Per pool, so other users of pg
// are not affected. BC dates and values beyond year 9999 keep PostgreSQL's text.
//
// pg is loaded on first use, not when the agent starts: an agent whose bindings are all SQLite or files does
// not pay its ~6 MB of resident memory (measured: RSS after importing pg). pg is CommonJS, so a synchronous
// require keeps the factories synchronous.
let loaded: { pg: typeof pg; types: pg.TypeOverrides } | undefined;
function loadPg(): { pg: typeof pg; types: pg.TypeOverrides } {
  if (loaded) return loaded;
  const mod = createRequire(import.meta.url)('pg') as typeof pg;
  const TYPES = new mod.TypeOverrides();
  const B = mod.types.builtins;
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
  loaded = { pg: mod, types: TYPES };
  return loaded;
}

export interface Column {
  /** Type to cast a text parameter to, e.g. "pg_catalog"."timestamptz". */
  cast: string;
  udt: string;
}

/** A pool of a binding, with the target described without credentials for error messages. */
export class PostgresConnection {
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
    const { pg: mod, types } = loadPg();
    this.pool = new mod.Pool({
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
      types,
      // The parsers above and the cursor texts rely on ISO output and UTC for timestamptz, whatever the
      // server's defaults; extra_float_digits 3 prints doubles in their shortest exact form.
      onConnect: async (client) => {
        await client.query(
          `SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'; SET extra_float_digits = 3`,
        );
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
    return new Map(
      r.rows.map((c) => [c.column_name, { cast: `${quote(c.udt_schema)}.${quote(c.udt_name)}`, udt: c.udt_name }]),
    );
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

/** PostgreSQL identifiers: quoted, and refused beyond 63 bytes (the server would silently cut them). */
export function ident(name: string, binding: string): string {
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
