// Data of the type-fidelity matrix (issue 8, Build 2): the edge rows every source holds, what each kind of
// source and sink can hold of them (the documented exceptions, one place), writers of the source tables and
// files, the typed read-back of any binding through the connectors' own readers, and exact value texts.
import Database from 'better-sqlite3';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSource, type BindingConfig } from '../../node-agent/src/connectors/index.js';
import { coerce, type FieldType } from '../../node-agent/src/pipeline/index.js';
import { canonical, Decimal, JsonText, Temporal, type Value } from '../../node-agent/src/values/value.js';
import type { MariadbServer } from './mariadb.js';
import type { PostgresServer } from './postgres.js';

export const KINDS = ['sqlite', 'postgres', 'mariadb', 'csv', 'jsonl'] as const;
export type Kind = (typeof KINDS)[number];

/** The matrix's fields: one column per field type, all typed (the catalog's usual case). */
export const FIELDS = [
  { name: 'id', type: 'integer', required: true },
  { name: 's', type: 'string' },
  { name: 'i', type: 'integer' },
  { name: 'n', type: 'number' },
  { name: 'd', type: 'decimal' },
  { name: 'b', type: 'boolean' },
  { name: 'dt', type: 'date' },
  { name: 'tm', type: 'time' },
  { name: 'ts', type: 'datetime' },
  { name: 'tz', type: 'timestamptz' },
  { name: 'bin', type: 'binary' },
  { name: 'j', type: 'json' },
] as const satisfies readonly { name: string; type: FieldType; required?: boolean }[];
export type Col = Exclude<(typeof FIELDS)[number]['name'], 'id'>;
export const COLS = FIELDS.filter((f) => f.name !== 'id').map((f) => f.name) as Col[];

/** Largest record the matrix's tasks accept (pipeline maxRecordBytes): a 4 MiB binary fits (5.6 MB as base64), 16 MiB does not. */
export const MAX_RECORD_BYTES = 6 * 1024 * 1024;
/** The broker's max_payload for the matrix (as deploy/nats-server.conf). */
export const NATS_CONFIG = 'max_payload: 8MB\n';

/** Bytes that do not compress (as photos and scans): xorshift32 from a seed, the same on every run. */
export function noise(bytes: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= bytes; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  for (let i = bytes - (bytes % 4); i < bytes; i++) b[i] = i & 0xff;
  return b;
}

const tz = (t: string): Temporal => new Temporal('timestamptz', t);
const ts = (t: string): Temporal => new Temporal('timestamp', t);
const date = (t: string): Temporal => new Temporal('date', t);
const time = (t: string): Temporal => new Temporal('time', t);

export interface EdgeRow {
  id: number;
  what: string;
  /** Columns not named are NULL. */
  v: Partial<Record<Col, Value>>;
}

export const BIG_ID = 44;
/** The edge rows: one edge value per row (a refusal takes only its own value with it), plus an all-typical and an all-NULL row. */
export const EDGE: EdgeRow[] = [
  {
    id: 1,
    what: 'typical values in every column',
    v: {
      s: '普通',
      i: 42,
      n: 1.5,
      d: new Decimal('3.14'),
      b: true,
      dt: date('2024-05-01'),
      tm: time('10:00:00'),
      ts: ts('2024-05-01T10:00:00'),
      tz: tz('2024-05-01T10:00:00Z'),
      bin: Buffer.from([1, 2, 3]),
      j: new JsonText('{"a":1}'),
    },
  },
  { id: 2, what: 'NULL in every column', v: {} },
  { id: 3, what: "'' (not NULL)", v: { s: '' } },
  { id: 4, what: "the text 'NULL'", v: { s: 'NULL' } },
  { id: 5, what: 'whitespace only', v: { s: '  ' } },
  { id: 6, what: 'NUL inside text', v: { s: 'a\u0000b' } },
  { id: 7, what: '4-byte UTF-8', v: { s: '𠀀😀' } },
  { id: 8, what: 'Chinese text', v: { s: '政务数据共享交换' } },
  { id: 9, what: 'ID number ending in X', v: { s: '11010519491231002X' } },
  { id: 10, what: 'code with leading zeros', v: { s: '007' } },
  { id: 11, what: 'int64 min', v: { i: -(2n ** 63n) } },
  { id: 12, what: 'int64 max', v: { i: 2n ** 63n - 1n } },
  { id: 13, what: '2^53 − 1', v: { i: 2 ** 53 - 1 } },
  { id: 14, what: '2^53', v: { i: 2n ** 53n } },
  { id: 15, what: '2^53 + 1', v: { i: 2n ** 53n + 1n } },
  { id: 16, what: 'double 0.1', v: { n: 0.1 } },
  { id: 17, what: 'double 1e308', v: { n: 1e308 } },
  { id: 18, what: 'double −0', v: { n: -0 } },
  { id: 19, what: 'double NaN', v: { n: NaN } },
  { id: 20, what: 'double Infinity', v: { n: Infinity } },
  { id: 21, what: 'double 5e-324', v: { n: 5e-324 } },
  { id: 22, what: '38-digit integer decimal', v: { d: new Decimal('12345678901234567890123456789012345678') } },
  {
    id: 23,
    what: 'negative 38-digit decimal with fraction',
    v: { d: new Decimal('-1234567890123456789012345678.0123456789') },
  },
  { id: 24, what: 'decimal with trailing zero 1.50', v: { d: new Decimal('1.50') } },
  { id: 25, what: 'tiny negative decimal', v: { d: new Decimal('-0.0000000001') } },
  { id: 26, what: 'boolean false', v: { b: false } },
  { id: 27, what: 'date 1900-01-01', v: { dt: date('1900-01-01') } },
  { id: 28, what: 'date 0001-01-01', v: { dt: date('0001-01-01') } },
  { id: 29, what: 'date 2024-02-29', v: { dt: date('2024-02-29') } },
  { id: 30, what: 'time 23:59:59.999999', v: { tm: time('23:59:59.999999') } },
  { id: 31, what: 'time 00:00:00', v: { tm: time('00:00:00') } },
  { id: 32, what: 'DST-gap wall time (America/New_York)', v: { ts: ts('2024-03-10T02:30:00') } },
  { id: 33, what: 'timestamp 1900', v: { ts: ts('1900-01-01T00:00:00') } },
  { id: 34, what: 'timestamp with microseconds', v: { ts: ts('2024-05-01T10:00:00.123456') } },
  { id: 35, what: 'timestamp 0001-01-01', v: { ts: ts('0001-01-01T00:00:00') } },
  { id: 36, what: 'datetime with a zone (+08:00)', v: { ts: tz('2024-05-01T02:00:00.123456Z') } },
  { id: 37, what: 'DST-overlap wall time with a microsecond', v: { ts: ts('2024-11-03T01:30:00.000001') } },
  { id: 38, what: 'timestamptz with microseconds', v: { tz: tz('2024-05-01T10:00:00.123456Z') } },
  { id: 39, what: 'timestamptz 1900', v: { tz: tz('1900-01-01T00:00:00Z') } },
  { id: 40, what: 'timestamptz at the New York DST gap', v: { tz: tz('2024-03-10T07:30:00Z') } },
  { id: 41, what: 'timestamptz 2038-01-19T03:14:07.999999Z', v: { tz: tz('2038-01-19T03:14:07.999999Z') } },
  { id: 42, what: 'empty binary', v: { bin: Buffer.alloc(0) } },
  { id: 43, what: '4 MiB binary', v: { bin: noise(4 * 1024 * 1024, 43) } },
  { id: BIG_ID, what: '16 MiB binary', v: { bin: noise(16 * 1024 * 1024, 44) } },
  {
    id: 45,
    what: 'JSON with big numbers inside',
    v: {
      j: new JsonText(
        '{"big": 12345678901234567890123, "neg": -9223372036854775809, "f": 1.50, "zh": "中文", "a": [1, {"x": null}]}',
      ),
    },
  },
  { id: 46, what: 'JSON empty array', v: { j: new JsonText('[]') } },
];

/** Text the source row 36 is written as where the source keeps text (the datetime with its zone as written). */
const ZONED_TEXT = '2024-05-01T10:00:00.123456+08:00';

const MARIADB_TS_MIN = '1970-01-01T00:00:01Z';
const MARIADB_TS_MAX = '2038-01-19T03:14:07.999999Z';

/**
 * The value a source of `kind` holds for an edge value (documented limits of each database, not of xchg):
 *  - SQLite: no NaN (it stores NULL); a REAL column stores −0 as 0.
 *  - PostgreSQL: text cannot hold NUL (the row holds NULL there); a timestamp column has no zone, so the
 *    datetime with a zone is held as its UTC wall clock.
 *  - MariaDB: DOUBLE has no NaN/±Infinity, and no −0 (every way of writing it stores 0); TIMESTAMP spans 1970-01-01 00:00:01–2038-01-19 03:14:07.999999
 *    UTC (outside: NULL); DATETIME has no zone (UTC wall clock, as PostgreSQL).
 *  - CSV, JSON-lines: every value (as text, typed by the fields).
 */
export function held(kind: Kind, col: Col, v: Value | undefined): Value {
  if (v === undefined || v === null) return null;
  if (kind === 'sqlite' && col === 'n' && typeof v === 'number') {
    if (Number.isNaN(v)) return null;
    if (Object.is(v, -0)) return 0;
  }
  if (kind === 'postgres' && typeof v === 'string' && v.includes('\u0000')) return null;
  if ((kind === 'postgres' || kind === 'mariadb') && col === 'ts' && v instanceof Temporal && v.kind === 'timestamptz')
    return utcWall(v);
  if (kind === 'mariadb' && col === 'n' && typeof v === 'number' && !Number.isFinite(v)) return null;
  if (kind === 'mariadb' && col === 'n' && Object.is(v, -0)) return 0;
  if (
    kind === 'mariadb' &&
    col === 'tz' &&
    v instanceof Temporal &&
    (v.text < MARIADB_TS_MIN || v.text > MARIADB_TS_MAX)
  )
    return null;
  return v;
}

/** A datetime with a zone in a column without one: its UTC wall clock (common/src/field-types.ts). */
export function utcWall(v: Temporal): Temporal {
  return new Temporal('timestamp', v.text.replace(/Z$/, ''));
}

/**
 * The value a sink of `kind` holds for a value it received (documented): a datetime with a zone in a
 * column without one lands as its UTC wall clock; SQLite REAL and MariaDB DOUBLE have no −0 and hold 0.
 */
export function landed(kind: Kind, col: Col, v: Value): Value {
  if ((kind === 'sqlite' || kind === 'mariadb') && col === 'n' && Object.is(v, -0)) return 0;
  if ((kind === 'postgres' || kind === 'mariadb') && col === 'ts' && v instanceof Temporal && v.kind === 'timestamptz')
    return utcWall(v);
  return v;
}

/** The edge row as source `kind` holds it. */
export function heldRow(kind: Kind, row: EdgeRow): Record<Col, Value> {
  return Object.fromEntries(COLS.map((c) => [c, held(kind, c, row.v[c])])) as Record<Col, Value>;
}

// ---- exact value text ---------------------------------------------------------------------------------

/** canonical() (values/value.ts) made strict where it is loose on purpose: −0 differs from 0. */
export function exact(v: unknown): string {
  return typeof v === 'number' && Object.is(v, -0) ? 'n-0' : canonical(v);
}

/** A value shown in a failure message: its exact text, clipped. */
export function show(v: unknown): string {
  const s = exact(v);
  return JSON.stringify(s.length > 70 ? `${s.slice(0, 70)}…(${s.length} chars)` : s);
}

// ---- writing the sources ------------------------------------------------------------------------------

export const SQLITE_DDL =
  'CREATE TABLE edge (id INTEGER PRIMARY KEY, s TEXT, i INTEGER, n REAL, d TEXT, b INTEGER, dt TEXT, tm TEXT, ts TEXT, tz TEXT, bin BLOB, j TEXT)';

function sqliteParam(col: Col, v: Value): unknown {
  if (v === null) return null;
  if (col === 'ts' && v instanceof Temporal && v.kind === 'timestamptz') return ZONED_TEXT;
  if (v instanceof Decimal || v instanceof Temporal || v instanceof JsonText) return v.text;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

export function writeSqliteSource(path: string): void {
  const db = new Database(path);
  db.exec(SQLITE_DDL);
  const ins = db.prepare(`INSERT INTO edge (id, ${COLS.join(', ')}) VALUES (?, ${COLS.map(() => '?').join(', ')})`);
  db.transaction(() => {
    for (const r of EDGE) {
      const h = heldRow('sqlite', r);
      ins.run(r.id, ...COLS.map((c) => sqliteParam(c, h[c])));
    }
  })();
  db.close();
}

export const POSTGRES_DDL =
  'CREATE TABLE edge (id bigint PRIMARY KEY, s text, i bigint, n double precision, d numeric, b boolean, dt date, tm time, ts timestamp, tz timestamptz, bin bytea, j json)';
const PG_CASTS: Record<Col, string> = {
  s: 'text',
  i: 'bigint',
  n: 'float8',
  d: 'numeric',
  b: 'boolean',
  dt: 'date',
  tm: 'time',
  ts: 'timestamp',
  tz: 'timestamptz',
  bin: 'bytea',
  j: 'json',
};

function textParam(v: Value): unknown {
  if (v === null || Buffer.isBuffer(v) || typeof v === 'string') return v;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Temporal) return v.text.replace('T', ' ');
  return String(v);
}

export async function writePostgresSource(pg: PostgresServer): Promise<void> {
  await pg.query(POSTGRES_DDL);
  for (const r of EDGE) {
    const h = heldRow('postgres', r);
    await pg.query(
      `INSERT INTO edge (id, ${COLS.join(', ')}) VALUES ($1, ${COLS.map((c, i) => `$${i + 2}::${PG_CASTS[c]}`).join(', ')})`,
      [r.id, ...COLS.map((c) => textParam(h[c]))],
    );
  }
}

export const MARIADB_DDL =
  'CREATE TABLE edge (id BIGINT PRIMARY KEY, s LONGTEXT, i BIGINT, n DOUBLE, d DECIMAL(65, 27), b BOOLEAN, dt DATE, tm TIME(6), ts DATETIME(6), tz TIMESTAMP(6) NULL DEFAULT NULL, bin LONGBLOB, j JSON) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin';

export async function writeMariadbSource(db: MariadbServer): Promise<void> {
  await db.query(MARIADB_DDL);
  for (const r of EDGE) {
    const h = heldRow('mariadb', r);
    // The test pool's session is in UTC (helpers/mariadb.ts), so a TIMESTAMP takes the instant's UTC text.
    const params = COLS.map((c) => {
      const v = h[c];
      if (v instanceof Temporal) return v.text.replace('T', ' ').replace(/Z$/, '');
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'bigint') return v.toString();
      return v instanceof Decimal || v instanceof JsonText ? v.text : v;
    });
    await db.query(`INSERT INTO edge (id, ${COLS.join(', ')}) VALUES (?, ${COLS.map(() => '?').join(', ')})`, [
      r.id,
      ...params,
    ]);
  }
}

/** A file written whole under a temporary name and renamed: the file sources read complete files only. */
function writeWhole(dir: string, name: string, text: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `.${name}.tmp`), text);
  renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

/** A value as CSV/JSON text: what xchg's own file sinks write (binary as \x-hex in CSV, base64 in JSON). */
function fileText(col: Col, v: Value, format: 'csv' | 'jsonl'): string {
  if (col === 'ts' && v instanceof Temporal && v.kind === 'timestamptz') return ZONED_TEXT;
  if (Buffer.isBuffer(v)) return format === 'csv' ? `\\x${v.toString('hex')}` : v.toString('base64');
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return String(v);
}

/** CSV as PostgreSQL COPY writes it: NULL unquoted empty, every other value quoted ("" is ''). */
export function writeCsvSource(dir: string): void {
  const lines = [['id', ...COLS].join(',')];
  for (const r of EDGE) {
    const h = heldRow('csv', r);
    lines.push(
      [
        String(r.id),
        ...COLS.map((c) => (h[c] === null ? '' : `"${fileText(c, h[c], 'csv').replaceAll('"', '""')}"`)),
      ].join(','),
    );
  }
  writeWhole(dir, 'edge-0001.csv', lines.join('\n') + '\n');
}

/** JSON-lines with the values as JSON's own types: integers and decimals as number literals, NaN/Infinity as strings, JSON documents embedded. */
export function writeJsonlSource(dir: string): void {
  const lines: string[] = [];
  for (const r of EDGE) {
    const h = heldRow('jsonl', r);
    const parts = [`"id":${r.id}`];
    for (const c of COLS) {
      const v = h[c];
      let text: string;
      if (v === null) text = 'null';
      else if (typeof v === 'bigint' || v instanceof Decimal) text = v.toString();
      else if (typeof v === 'number')
        text = Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : String(v)) : JSON.stringify(String(v));
      else if (typeof v === 'boolean') text = String(v);
      else if (v instanceof JsonText) text = v.text;
      else text = JSON.stringify(fileText(c, v, 'jsonl'));
      parts.push(`${JSON.stringify(c)}:${text}`);
    }
    lines.push(`{${parts.join(',')}}`);
  }
  writeWhole(dir, 'edge-0001.jsonl', lines.join('\n') + '\n');
}

// ---- typed read-back ----------------------------------------------------------------------------------

export interface ReadBack {
  /** Rows by id (exact text of the id), each value typed by the field types. */
  rows: Map<string, Record<string, Value>>;
  /** Values that the field type refused on the way back, as "id col: reason". */
  problems: string[];
  /** Column names seen that are not fields. */
  extraColumns: string[];
}

/**
 * Reads every row of a binding (a source table, a sink table or a sink directory) through the agent's own
 * reader of that kind, then types each value by the matrix's fields with the pipeline's coerce() (binary
 * text excepted: bytesOfText): the comparison is of values as a consumer with the field list receives
 * them. A value the type refuses (or a throw while typing it) is a problem, never silently NULL.
 */
export async function readBack(
  cfg: BindingConfig,
  fields: readonly { name: string; type: FieldType }[] = FIELDS,
): Promise<ReadBack> {
  const src = openSource('read-back', cfg);
  const rows = new Map<string, Record<string, Value>>();
  const problems: string[] = [];
  const extra = new Set<string>();
  try {
    let cursor = null as Parameters<typeof src.read>[0];
    for (;;) {
      const page = await src.read(cursor, 20);
      for (const [i, raw] of page.rows.entries()) {
        if (page.errors?.[i]) {
          problems.push(`unreadable row: ${page.errors[i]}`);
          continue;
        }
        const out: Record<string, Value> = {};
        for (const f of fields) {
          const x = raw[f.name];
          if (x === null || x === undefined) {
            out[f.name] = null;
            continue;
          }
          try {
            const c = f.type === 'binary' && typeof x === 'string' ? bytesOfText(x) : coerce(x, f.type);
            if (c.ok) out[f.name] = c.value;
            else {
              out[f.name] = null;
              problems.push(`id ${String(raw['id'])} ${f.name}: ${c.reason}`);
            }
          } catch (err) {
            out[f.name] = null;
            problems.push(`id ${String(raw['id'])} ${f.name}: typing the value threw ${String(err)}`);
          }
        }
        for (const k of Object.keys(raw)) if (!fields.some((f) => f.name === k) && k !== '_op') extra.add(k);
        if (page.ops[i] === 'd') rows.delete(exact(out['id']));
        else rows.set(exact(out['id']), out);
      }
      cursor = page.cursor;
      if (page.exhausted) break;
    }
  } finally {
    await src.close();
  }
  return { rows, problems, extraColumns: [...extra] };
}

/**
 * Bytes of a text file's binary value as xchg's file sinks write them (\\x-hex in CSV, base64 in JSON), decoded
 * here rather than by coerce(): the sinks' files are checked on their own, whatever coerce() does with
 * long text. The text must be exactly the encoding of the bytes (round trip), else it is refused.
 */
function bytesOfText(x: string): { ok: true; value: Buffer } | { ok: false; reason: string } {
  if (x.startsWith('\\x')) {
    const b = Buffer.from(x.slice(2), 'hex');
    return b.toString('hex') === x.slice(2).toLowerCase()
      ? { ok: true, value: b }
      : { ok: false, reason: `not \\x-hex: ${x.slice(0, 20)}…` };
  }
  const b = Buffer.from(x, 'base64');
  return b.toString('base64') === x ? { ok: true, value: b } : { ok: false, reason: `not base64: ${x.slice(0, 20)}…` };
}

/** Exact text of an id as readBack keys rows. */
export const idKey = (id: number): string => exact(id);
