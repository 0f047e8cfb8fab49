// The value model of the data plane (值模型): every value a department database commonly holds, carried
// without loss from source to sink. Pure: no I/O, no clock, no time zone of the machine it runs on.
//
// Invariants (every connector keeps them when it reads, every sink relies on them when it writes):
//  - An integer is a `number` when it is a safe integer (|n| ≤ 2^53 − 1) and a `bigint` otherwise, never
//    a rounded double. `normInt()` puts a bigint in that form.
//  - A `number` that is not a safe integer is an IEEE-754 double the source itself held (REAL, float8);
//    NaN, ±Infinity and −0 are values too. An exact decimal is a `Decimal`, never a double.
//  - '' and NULL are different values: '' is the empty string, NULL is `null`.
//  - Text is any well-formed UTF-16 string, U+0000 included (a sink that cannot hold it refuses that
//    record alone).
//  - Binary is a Buffer. JSON documents are `JsonText` (their text, so big numbers inside stay exact).
//  - Dates and times are `Temporal`s holding ISO-8601 text, never a JS Date: a timestamp without time zone
//    is wall-clock text and is never reinterpreted in any zone; a timestamp with time zone is an instant,
//    normalised to UTC ('Z'); both keep microseconds. Proleptic Gregorian calendar, years 0001–9999; the
//    special values 'infinity' / '-infinity' (PostgreSQL) are kept as text.

import { isLosslessNumber, parse as losslessParse } from 'lossless-json';

/** An exact decimal number as text: `-?digits[.digits]`, or NaN / ±Infinity for PostgreSQL's numeric. */
export class Decimal {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

export type TemporalKind = 'date' | 'time' | 'timestamp' | 'timestamptz';

/**
 * A date or time as ISO-8601 text:
 *   date        YYYY-MM-DD
 *   time        HH:MM:SS[.ffffff]
 *   timestamp   YYYY-MM-DDTHH:MM:SS[.ffffff]       (no zone: wall-clock, never shifted)
 *   timestamptz YYYY-MM-DDTHH:MM:SS[.ffffff]Z      (an instant, always in UTC)
 * or 'infinity' / '-infinity'.
 */
export class Temporal {
  constructor(
    readonly kind: TemporalKind,
    readonly text: string,
  ) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

/** A JSON document (json/jsonb column, a JSON value in a JSON-lines record) as its text. */
export class JsonText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

export type Value = null | string | number | boolean | bigint | Buffer | Decimal | Temporal | JsonText;

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

/** A bigint as the model holds integers: a number when safe, else the bigint. */
export function normInt(b: bigint): number | bigint {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

export function inInt64(b: bigint): boolean {
  return b >= MIN_INT64 && b <= MAX_INT64;
}

function isValue(v: unknown): v is Value {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'boolean' ||
    typeof v === 'bigint' ||
    Buffer.isBuffer(v) ||
    v instanceof Decimal ||
    v instanceof Temporal ||
    v instanceof JsonText
  );
}

/** Short description of a value for error messages (type and a clipped rendering; never the whole text). */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `${v.length} bytes of binary`;
  if (v instanceof Decimal) return `decimal ${v.text}`;
  if (v instanceof Temporal) return `${v.kind} ${v.text}`;
  if (v instanceof JsonText) return `json ${clip(v.text)}`;
  if (typeof v === 'string') return `text ${JSON.stringify(clip(v))}`;
  if (typeof v === 'bigint') return `integer ${v}`;
  return `${typeof v} ${String(v)}`;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

// ---- exact decimal text -------------------------------------------------------------------------------

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parts of a decimal: sign, significant digits without leading/trailing zeros, and the power of ten of the last digit. */
export interface DecimalParts {
  negative: boolean;
  digits: string;
  exponent: number;
}

/** Parses decimal text (123, -1.50, .5, 1e21, 1.5E-7); undefined when it is not one. */
export function decimalParts(text: string): DecimalParts | undefined {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) return undefined;
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  if (int === '' && frac === '') return undefined;
  const exp = m[4] ? Number(m[4]) : 0;
  if (!Number.isSafeInteger(exp)) return undefined;
  let digits = (int + frac).replace(/^0+/, '');
  let exponent = exp - frac.length;
  const trimmed = digits.replace(/0+$/, '');
  exponent += digits.length - trimmed.length;
  digits = trimmed;
  if (digits === '') return { negative: false, digits: '0', exponent: 0 };
  return { negative: m[1] === '-', digits, exponent };
}

/** Canonical text of a decimal: no exponent, no leading or trailing zeros ("1.50" → "1.5", "1e3" → "1000"). */
export function canonicalDecimal(text: string): string | undefined {
  const p = decimalParts(text);
  if (!p)
    return /^[+-]?(nan|infinity|inf)$/i.test(text.trim())
      ? text
          .trim()
          .replace(/^\+/, '')
          .toLowerCase()
          .replace(/^(-?)inf$/, '$1infinity')
      : undefined;
  if (Math.abs(p.exponent) > 10_000) return undefined;
  let s: string;
  if (p.exponent >= 0) s = p.digits + '0'.repeat(p.exponent);
  else {
    const point = p.digits.length + p.exponent;
    s = point > 0 ? `${p.digits.slice(0, point)}.${p.digits.slice(point)}` : `0.${'0'.repeat(-point)}${p.digits}`;
  }
  return (p.negative ? '-' : '') + s;
}

/** Whether a double holds exactly the decimal written as `text` (the double's shortest rendering is that number). */
export function doubleHolds(text: string): number | undefined {
  const canon = canonicalDecimal(text);
  if (canon === undefined || /[a-z]/.test(canon)) return undefined;
  const n = Number(canon);
  if (!Number.isFinite(n)) return undefined;
  return canonicalDecimal(String(n)) === canon ? n : undefined;
}

// ---- calendar, without the machine's time zone ------------------------------------------------------------

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function leap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days in a month of the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  return month === 2 && leap(year) ? 29 : (DAYS[month - 1] ?? 0);
}

/** Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil, proleptic Gregorian). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Civil date of a day count since 1970-01-01 (inverse of daysFromCivil). */
function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

// YYYY-MM-DD, then optionally [T or space]HH:MM[:SS[.f]], then optionally a zone: Z, ±HH, ±HHMM, ±HH:MM[:SS].
const DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;

export type ParsedTemporal = { ok: true; value: Temporal } | { ok: false; reason: string };

/**
 * Parses date/time text without consulting any time zone. A value with an offset becomes an instant in UTC
 * (timestamptz); one without stays wall-clock (timestamp, or date when it has no time part). Refused, with
 * the reason: impossible dates (2026-11-31), hours past 23, fractions finer than a microsecond.
 */
export function parseDateTime(text: string): ParsedTemporal {
  const s = text.trim();
  if (/^[+-]?infinity$/i.test(s))
    return { ok: true, value: new Temporal('timestamp', s.toLowerCase().replace(/^\+/, '')) };
  const m = DATETIME_RE.exec(s);
  if (!m) return { ok: false, reason: `not a date-time: ${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)}` };
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1) return { ok: false, reason: `year ${m[1]} is outside 0001–9999` };
  if (mo < 1 || mo > 12) return { ok: false, reason: `no month ${m[2]} in ${s}` };
  if (d < 1 || d > daysInMonth(y, mo)) return { ok: false, reason: `no day ${m[3]} in ${m[1]}-${m[2]} (${s})` };
  if (m[4] === undefined) {
    if (m[8]) return { ok: false, reason: `a date with a time zone but no time: ${s}` };
    return { ok: true, value: new Temporal('date', `${m[1]}-${m[2]}-${m[3]}`) };
  }
  const t = clock(m[4], m[5]!, m[6], m[7], s);
  if (!t.ok) return t;
  if (!m[8]) return { ok: true, value: new Temporal('timestamp', `${m[1]}-${m[2]}-${m[3]}T${t.text}`) };
  // Zoned: shift the wall clock by the offset, with integer arithmetic (no Date: years < 1901, microseconds).
  const z = m[8];
  let offsetS = 0;
  if (z !== 'Z' && z !== 'z') {
    const digits = z.slice(1).replaceAll(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4) || '0');
    const os = Number(digits.slice(4, 6) || '0');
    if (oh > 15 || om > 59 || os > 59) return { ok: false, reason: `impossible time zone offset ${z} in ${s}` };
    offsetS = (z[0] === '-' ? -1 : 1) * (oh * 3600 + om * 60 + os);
  }
  let secs = daysFromCivil(y, mo, d) * 86400 + t.h * 3600 + t.mi * 60 + t.s - offsetS;
  const days = Math.floor(secs / 86400);
  secs -= days * 86400;
  const [yy, mm, dd] = civilFromDays(days);
  if (yy < 1 || yy > 9999) return { ok: false, reason: `${s} is outside the years 0001–9999 in UTC` };
  const hh = Math.floor(secs / 3600);
  const mi = Math.floor((secs % 3600) / 60);
  const ss = secs % 60;
  return {
    ok: true,
    value: new Temporal(
      'timestamptz',
      `${pad(yy, 4)}-${pad(mm)}-${pad(dd)}T${pad(hh)}:${pad(mi)}:${pad(ss)}${t.frac}Z`,
    ),
  };
}

/** Parses a time of day HH:MM[:SS[.ffffff]]. */
export function parseTime(text: string): ParsedTemporal {
  const s = text.trim();
  const m = TIME_RE.exec(s);
  if (!m) return { ok: false, reason: `not a time of day: ${JSON.stringify(s.slice(0, 40))}` };
  const t = clock(m[1]!, m[2]!, m[3], m[4], s);
  return t.ok ? { ok: true, value: new Temporal('time', t.text) } : t;
}

function clock(
  h: string,
  mi: string,
  sec: string | undefined,
  frac: string | undefined,
  whole: string,
): { ok: true; text: string; h: number; mi: number; s: number; frac: string } | { ok: false; reason: string } {
  const [H, M, S] = [Number(h), Number(mi), Number(sec ?? '0')];
  if (H > 23 || M > 59 || S > 59) return { ok: false, reason: `impossible time of day in ${whole}` };
  if (frac !== undefined && frac.length > 6 && /[1-9]/.test(frac.slice(6)))
    return { ok: false, reason: `${whole} is finer than a microsecond` };
  const f = frac === undefined ? '' : frac.slice(0, 6).replace(/0+$/, '');
  const fracText = f ? `.${f}` : '';
  return { ok: true, text: `${h}:${mi}:${sec ?? '00'}${fracText}`, h: H, mi: M, s: S, frac: fracText };
}

/** Epoch milliseconds of an instant (timestamptz) or of a wall-clock timestamp read as UTC; undefined for infinities. */
export function temporalEpochMs(t: Temporal): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?/.exec(t.text);
  if (!m) return undefined;
  const days = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
  const ms = Number(((m[7] ?? '') + '000').slice(0, 3));
  return days * 86400000 + Number(m[4] ?? 0) * 3600000 + Number(m[5] ?? 0) * 60000 + Number(m[6] ?? 0) * 1000 + ms;
}

/** A JS Date (an instant, millisecond precision) as a timestamptz. */
export function instantOf(d: Date): Temporal {
  return new Temporal(
    'timestamptz',
    d
      .toISOString()
      .replace(/\.000Z$/, 'Z')
      .replace(/(\.\d*?)0+Z$/, '$1Z'),
  );
}

// ---- canonical text: equality across databases ------------------------------------------------------------

/**
 * Canonical text of a value, equal for two values that mean the same thing whatever database held them:
 * numbers, decimals and booleans as canonical decimal text (true = 1), text as itself, binary as hex,
 * temporals as their ISO text, JSON as its text re-serialised with sorted keys. Used to compare a sink
 * with its source (reconciliation, tests); prefixed by a class letter so that '1' (text) ≠ 1 (number).
 * −0 equals 0 here (IEEE 754 equality): SQLite and MariaDB store −0 as 0, and a reconciliation must not
 * call that a difference forever.
 */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) return 'N';
  if (typeof v === 'string') return 's' + v;
  if (typeof v === 'boolean') return v ? 'n1' : 'n0';
  if (typeof v === 'bigint') return 'n' + v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nnan';
    if (!Number.isFinite(v)) return v > 0 ? 'ninfinity' : 'n-infinity';
    return 'n' + (canonicalDecimal(String(v)) ?? String(v));
  }
  if (v instanceof Decimal) return 'n' + (canonicalDecimal(v.text) ?? v.text);
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 'b' + Buffer.from(v).toString('hex');
  if (v instanceof Temporal) return 't' + v.text;
  if (v instanceof JsonText) {
    try {
      // Parsed keeping every digit (JSON.parse would round 12345678901234567890123 and call it equal).
      return 'j' + sortedJson(losslessParse(v.text));
    } catch {
      return 'j' + v.text;
    }
  }
  return 'j' + sortedJson(v);
}

function sortedJson(v: unknown): string {
  if (isLosslessNumber(v)) return canonicalDecimal(v.value) ?? v.value;
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** Any JS value a driver may hand over, in the model: Date → timestamptz, plain objects and arrays → JSON text. */
export function fromDriver(v: unknown): Value {
  if (v === undefined) return null;
  if (isValue(v)) return typeof v === 'bigint' ? normInt(v) : v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : instantOf(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return new JsonText(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
}
