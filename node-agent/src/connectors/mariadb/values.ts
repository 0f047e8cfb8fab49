// MariaDB values read into the model (see the mapping in mariadb/source.ts), and how a key or cursor
// column is read back as text and compared in its own type, so paging is exact.
import type * as mariadb from 'mariadb';
import {
  canonicalDecimal,
  Decimal,
  JsonText,
  Temporal,
  fromDriver,
  normInt,
  parseDateTime,
  parseTime,
  type Value,
} from '../../values/value.js';
import { ConnectorError } from '../types.js';
import type { ColumnInfo, RowsResult } from './connection.js';

// Column type codes of the protocol (mariadb/lib/const/field-type.js).
const T = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Decodes one driver value of a column into the model; throws a reason for a value that is not one (zero dates). */
type Decode = (v: unknown) => Value;

class BadValue extends Error {}

function zeroDate(text: string): boolean {
  return /^0000-00-00/.test(text) || /^\d{4}-(00-\d\d|\d\d-00)/.test(text);
}

function decodeDateTime(kind: 'date' | 'timestamp' | 'timestamptz', text: string): Value {
  if (zeroDate(text))
    throw new BadValue(`zero date ${JSON.stringify(text)} (MariaDB's placeholder for "no date") is not a date`);
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
        const s = String(v)
          .replace(/(\.\d*?)0+$/, '$1')
          .replace(/\.$/, '');
        const t = parseTime(s);
        return t.ok ? t.value : s; // beyond a day (or negative): TIME's own text
      };
    case T.BIT:
      return (v) => {
        if (typeof v === 'boolean') return v;
        if (Buffer.isBuffer(v))
          return m.columnLength === 1
            ? v.some((b) => b !== 0)
            : normInt(v.length ? BigInt('0x' + v.toString('hex')) : 0n);
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
export function decodeRows(res: RowsResult, extra: number): Decoded & { extras: unknown[][] } {
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

export interface Comparable {
  /** Expression reading the column back as text. */
  text: string;
  /** Expression turning a text parameter into the column's type. */
  param: string;
}

/** How a key or cursor column is read back as text and compared; throws for types that cannot page exactly. */
export function comparable(col: ColumnInfo, q: string, binding: string, role: string): Comparable {
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
      throw new ConnectorError(
        binding,
        `column ${col.name} (${col.columnType}) cannot be the ${role}: only integers, decimals, dates and times, text and binary page exactly (not floats, ENUM, SET or JSON)`,
      );
  }
}

/** A lookup value as the text a CAST parameter takes. */
export function paramText(v: unknown, cmp: Comparable): string {
  if (Buffer.isBuffer(v)) return cmp.param === 'UNHEX(?)' ? v.toString('hex') : v.toString('utf8');
  if (v instanceof Temporal) return v.text.replace('T', ' ').replace(/Z$/, '');
  if (typeof v === 'object' && v !== null && !(v instanceof Decimal) && !(v instanceof JsonText))
    return JSON.stringify(v);
  return String(v);
}

export function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

// ---- writing values ----------------------------------------------------------------------------------

/** How a batch value is sent for a column; throws (naming the column) for a value the column would round. */
export function converter(binding: string, name: string, col: ColumnInfo | undefined): (v: unknown) => unknown {
  const type = col?.dataType;
  const temporalColumn = type === 'date' || type === 'datetime' || type === 'timestamp' || type === 'time';
  const textColumn = type !== undefined && /char|text|enum|set/.test(type);
  const fracLimit =
    type === 'decimal' || type === 'numeric' ? col!.scale : temporalColumn ? (col!.datetimePrecision ?? 0) : undefined;
  const refuse = (what: string): never => {
    throw new ConnectorError(binding, `column ${name} (${col?.columnType ?? 'unknown'}): ${what}`);
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
      if (fracLimit !== undefined && (canon!.split('.')[1]?.length ?? 0) > fracLimit)
        refuse(`decimal ${v.text} has more than ${fracLimit} fractional digits: the column would round it`);
      return textColumn ? v.text : canon;
    }
    if (v instanceof Temporal) {
      if (textColumn) return v.text;
      if (/infinity/.test(v.text)) refuse(`${v.text} cannot be stored in MariaDB`);
      const s = v.text.replace('T', ' ').replace(/Z$/, '');
      const frac = /\.(\d+)$/.exec(s)?.[1]?.length ?? 0;
      if (type === 'date' && s.length > 10 && !/^.{10} 00:00:00(\.0*)?$/.test(s))
        refuse(`${v.kind} ${v.text} has a time of day: a DATE column would drop it`);
      if (temporalColumn && type !== 'date' && frac > fracLimit!)
        refuse(
          `${v.kind} ${v.text} is finer than the column's ${fracLimit} fractional digits: the column would cut it`,
        );
      return s;
    }
    if (v instanceof JsonText) return v.text;
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (v instanceof Date) return v.toISOString().replace('T', ' ').replace(/Z$/, '');
    return JSON.stringify(v);
  };
}
