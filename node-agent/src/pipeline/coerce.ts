// Type coercion of the pipeline: one small converter per field type, each refusing (with the reason) a
// value the type cannot hold exactly. Pure; called once per value on the provider's hot path.
import type { FieldType } from '../../../common/src/field-types.js';
import {
  canonicalDecimal,
  Decimal,
  decimalParts,
  describeValue,
  doubleHolds,
  fromDriver,
  inInt64,
  instantOf,
  JsonText,
  normInt,
  parseDateTime,
  parseTime,
  Temporal,
  type Value,
} from '../values/value.js';

/** A converted value, or the reason it cannot be converted exactly. */
export type Coerced = { ok: true; value: Value } | { ok: false; reason: string };

/**
 * Converts a value to a field type without changing what it means; refuses, with the reason, a value
 * the type cannot hold exactly (an integer beyond 64 bits, a decimal a double would round, 2026-11-31).
 */
export function coerce(v: unknown, type: FieldType): Coerced {
  return COERCERS[type](v);
}

/** An untyped value as the model holds it; text must be well-formed. */
export function passthrough(v: unknown): Coerced {
  if (typeof v === 'string')
    return wellFormed(v) ? { ok: true, value: v } : { ok: false, reason: 'invalid UTF-8 text' };
  return { ok: true, value: fromDriver(v) };
}

/** Text the decoders produced from bytes that were not valid UTF-8 (U+FFFD) or with unpaired surrogates. */
export function wellFormed(s: string): boolean {
  return s.isWellFormed() && !s.includes('\uFFFD');
}

function no(v: unknown, what: string): Coerced {
  return { ok: false, reason: `expected ${what}, got ${describe(v)}` };
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return describeValue(v);
}

const INT_RE = /^\s*[+-]?\d+\s*$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const BOOL_TEXT: Record<string, boolean> = {
  true: true,
  false: false,
  t: true,
  f: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  y: true,
  n: false,
};

function toString(v: unknown): Coerced {
  if (typeof v === 'string')
    return wellFormed(v) ? { ok: true, value: v } : { ok: false, reason: 'invalid UTF-8 text' };
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return { ok: true, value: String(v) };
  if (v instanceof Decimal || v instanceof Temporal || v instanceof JsonText) return { ok: true, value: v.text };
  if (v instanceof Date) return { ok: true, value: instantOf(v).text };
  return no(v, 'text');
}

function toInteger(v: unknown): Coerced {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return { ok: true, value: v };
  let b: bigint | undefined;
  if (typeof v === 'number') b = Number.isInteger(v) ? BigInt(v) : undefined;
  else if (typeof v === 'bigint') b = v;
  else if (typeof v === 'string' && INT_RE.test(v)) b = BigInt(v.trim());
  else if (v instanceof Decimal) {
    const c = canonicalDecimal(v.text);
    b = c !== undefined && /^-?\d+$/.test(c) ? BigInt(c) : undefined;
  } else if (typeof v === 'boolean') b = v ? 1n : 0n;
  if (b === undefined) return no(v, 'an integer');
  if (typeof v === 'number' && !Number.isSafeInteger(v))
    return { ok: false, reason: `integer ${v} was already rounded by a double (beyond 2^53)` };
  if (!inInt64(b)) return { ok: false, reason: `integer ${b} is outside the 64-bit range` };
  return { ok: true, value: normInt(b) };
}

function toNumber(v: unknown): Coerced {
  if (typeof v === 'number') return { ok: true, value: v };
  if (typeof v === 'bigint')
    return Number.isSafeInteger(Number(v)) || BigInt(Number(v)) === v
      ? { ok: true, value: Number(v) }
      : { ok: false, reason: `${v} cannot be held exactly by a double (use decimal or integer)` };
  const text = typeof v === 'string' ? v.trim() : v instanceof Decimal ? v.text : undefined;
  if (text === undefined || text === '') return no(v, 'a number');
  if (/^[+-]?(nan|infinity|inf)$/i.test(text)) {
    const js = text
      .replace(/inf$/i, 'Infinity')
      .replace(/^([+-]?)infinity$/i, '$1Infinity')
      .replace(/^nan$/i, 'NaN');
    return { ok: true, value: Number(js) };
  }
  const parts = decimalParts(text);
  if (!parts) return no(v, 'a number');
  // A negative zero is a double of its own (IEEE 754); canonical decimal text has no sign for zero.
  if (/^-/.test(text) && parts.digits === '0') return { ok: true, value: -0 };
  const n = doubleHolds(text);
  return n === undefined
    ? { ok: false, reason: `${text} cannot be held exactly by a double (use decimal)` }
    : { ok: true, value: n };
}

function toDecimal(v: unknown): Coerced {
  if (v instanceof Decimal) return { ok: true, value: v };
  if (typeof v === 'bigint') return { ok: true, value: new Decimal(v.toString()) };
  if (typeof v === 'number')
    return Number.isFinite(v)
      ? { ok: true, value: new Decimal(canonicalDecimal(String(v)) ?? String(v)) }
      : { ok: true, value: new Decimal(String(v)) };
  if (typeof v === 'string' && decimalParts(v)) return { ok: true, value: new Decimal(v.trim()) };
  return no(v, 'a decimal number');
}

function toBoolean(v: unknown): Coerced {
  if (typeof v === 'boolean') return { ok: true, value: v };
  if (v === 1 || v === 0 || v === 1n || v === 0n) return { ok: true, value: v === 1 || v === 1n };
  if (typeof v === 'string') {
    const b = BOOL_TEXT[v.trim().toLowerCase()];
    if (b !== undefined) return { ok: true, value: b };
  }
  return no(v, 'true/false');
}

function toDate(v: unknown): Coerced {
  if (v instanceof Temporal && v.kind === 'date') return { ok: true, value: v };
  if (typeof v === 'string' && DATE_RE.test(v.trim())) {
    const p = parseDateTime(v);
    return p.ok ? p : { ok: false, reason: `expected a date YYYY-MM-DD, got ${describe(v)}: ${p.reason}` };
  }
  return no(v, 'a date YYYY-MM-DD');
}

function toTime(v: unknown): Coerced {
  if (v instanceof Temporal && v.kind === 'time') return { ok: true, value: v };
  if (typeof v === 'string') {
    const p = parseTime(v);
    return p.ok ? p : { ok: false, reason: `expected a time of day, got ${describe(v)}: ${p.reason}` };
  }
  return no(v, 'a time of day HH:MM:SS');
}

/** A date alone becomes midnight of that date (a date-time without a zone). */
function midnightOf(date: Temporal): Temporal {
  return new Temporal('timestamp', `${date.text}T00:00:00`);
}

function toDateTime(v: unknown): Coerced {
  if (v instanceof Temporal) {
    if (v.kind === 'timestamp' || v.kind === 'timestamptz') return { ok: true, value: v };
    return v.kind === 'date' ? { ok: true, value: midnightOf(v) } : no(v, 'a date-time');
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? no(v, 'a date-time') : { ok: true, value: instantOf(v) };
  if (typeof v === 'string') {
    const p = parseDateTime(v);
    if (!p.ok) return { ok: false, reason: `expected a date-time, got ${describe(v)}: ${p.reason}` };
    return p.value.kind === 'date' ? { ok: true, value: midnightOf(p.value) } : p;
  }
  return no(v, 'a date-time');
}

function toInstant(v: unknown): Coerced {
  if (v instanceof Temporal)
    return v.kind === 'timestamptz'
      ? { ok: true, value: v }
      : { ok: false, reason: `expected an instant (a date-time with a time zone), got ${describe(v)}` };
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? no(v, 'an instant') : { ok: true, value: instantOf(v) };
  if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: instantOf(new Date(v)) };
  if (typeof v === 'string') {
    const p = parseDateTime(v);
    if (!p.ok) return { ok: false, reason: `expected an instant, got ${describe(v)}: ${p.reason}` };
    return p.value.kind === 'timestamptz'
      ? p
      : { ok: false, reason: `expected an instant, got ${describe(v)} without a time zone (ambiguous)` };
  }
  return no(v, 'an instant (a date-time with a time zone)');
}

function toBinary(v: unknown): Coerced {
  if (Buffer.isBuffer(v)) return { ok: true, value: v };
  if (v instanceof Uint8Array) return { ok: true, value: Buffer.from(v) };
  if (typeof v === 'string') {
    // Text sources carry bytes as PostgreSQL's hex form (\x…) or base64; anything else is refused.
    // Flat character-class tests: a grouped, repeated pattern overflows the regex stack on megabytes.
    const t = v.trim();
    if (t.startsWith('\\x') && t.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(t.slice(2)))
      return { ok: true, value: Buffer.from(t.slice(2), 'hex') };
    if (t.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(t)) return { ok: true, value: Buffer.from(t, 'base64') };
  }
  return no(v, 'binary (bytes, or text as \\x-hex or base64)');
}

function toJson(v: unknown): Coerced {
  if (v instanceof JsonText) return { ok: true, value: v };
  if (typeof v === 'string') {
    try {
      JSON.parse(v);
      return { ok: true, value: new JsonText(v) };
    } catch (err) {
      return { ok: false, reason: `expected a JSON document: ${(err as Error).message}` };
    }
  }
  if (typeof v === 'number' || typeof v === 'boolean') return { ok: true, value: new JsonText(JSON.stringify(v)) };
  if (typeof v === 'bigint' || v instanceof Decimal) return { ok: true, value: new JsonText(String(v)) };
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Temporal))
    return { ok: true, value: fromDriver(v) };
  return no(v, 'a JSON document');
}

const COERCERS: Readonly<Record<FieldType, (v: unknown) => Coerced>> = {
  string: toString,
  integer: toInteger,
  number: toNumber,
  decimal: toDecimal,
  boolean: toBoolean,
  date: toDate,
  time: toTime,
  datetime: toDateTime,
  timestamptz: toInstant,
  binary: toBinary,
  json: toJson,
};
