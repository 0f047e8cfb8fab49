// JSON-lines values, exactly. Reading: an integer literal as a number when safe, a bigint up to int64, a
// Decimal beyond; any other number as a number when a double holds it exactly, else a Decimal. A nested
// object or array is JsonText (minified, key order and number text kept). Lines whose numbers cannot lose
// anything in a double (no run of 16+ digits or dots, no 3-digit exponent) and that hold no nested value
// take JSON.parse; only the others take the lossless parser (lossless-json): reading 100k lines measured
// 288 ms (JSON.parse path; 233 ms before this check) and 545 ms when every line has a big integer.
// Writing: bigint and Decimal as their exact digits, Temporal as its ISO text, binary as base64 text,
// JsonText embedded; NaN/±Infinity as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
import { isLosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { Decimal, JsonText, Temporal, canonicalDecimal, doubleHolds, inInt64, normInt } from '../../values/value.js';
import type { SinkBatch } from '../types.js';

/** Field (JSON) or column (CSV) whose value "d" marks a tombstone. */
export const OP_FIELD = '_op';

/**
 * Whether JSON.parse might change a number of this line: only a number with 16 or more significant digits
 * (a run of 16+ digits or dots from a digit) or an exponent of three digits (overflow, underflow) can lose anything in
 * a double; any decimal of at most 15 significant digits survives the round trip (DBL_DIG = 15). Digits
 * inside strings match too: then the line merely takes the slow path.
 */
// Both alternatives start with a digit: measured ~1.7× faster than starting the second one at [eE].
const MAYBE_INEXACT = /[0-9][0-9.]{15}|[0-9][eE][+-]?[0-9]{3}/;
const INTEGER_LITERAL = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * A JSON number token in the value model: an integer literal as a number when safe, a bigint within int64,
 * a Decimal beyond; any other as a number when a double holds it exactly, else a Decimal (its text as
 * written, or without the exponent when it had one). Throws when the exponent is beyond ±10000.
 */
export function jsonNumber(text: string): number | bigint | Decimal {
  if (INTEGER_LITERAL.test(text)) {
    if (text.length <= 16) {
      const n = Number(text);
      if (Number.isSafeInteger(n)) return n;
    }
    const b = BigInt(text);
    return inInt64(b) ? normInt(b) : new Decimal(text);
  }
  if (doubleHolds(text) !== undefined) return Number(text);
  if (!/[eE]/.test(text)) return new Decimal(text);
  const plain = canonicalDecimal(text);
  if (plain === undefined)
    throw new Error(`number ${text.length > 40 ? text.slice(0, 40) + '…' : text} is out of range`);
  return new Decimal(plain);
}

export type JsonRecordResult =
  { ok: true; row: Record<string, unknown> } | { ok: false; reason: string; notObject?: true };

/**
 * One JSON-lines record as model values, exactly (see the file's top comment). JSON.parse when nothing can
 * be lost, else lossless-json. Duplicate keys: JSON.parse keeps the last, lossless-json refuses the line
 * (then it is malformed).
 */
export function parseJsonRecord(text: string): JsonRecordResult {
  if (!MAYBE_INEXACT.test(text)) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      return { ok: false, reason: 'not a JSON object', notObject: true };
    const row = v as Record<string, unknown>;
    let nested = false;
    for (const k in row) {
      const x = row[k];
      if (x !== null && typeof x === 'object') {
        nested = true;
        break;
      }
    }
    if (!nested) return { ok: true, row };
  }
  let v: unknown;
  try {
    v = losslessParse(text);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || isLosslessNumber(v))
    return { ok: false, reason: 'not a JSON object', notObject: true };
  const row = v as Record<string, unknown>;
  try {
    // In place: an own '__proto__' key (lossless-json defines it as a data property) is assigned as data.
    for (const k of Object.keys(row)) {
      const x = row[k];
      if (isLosslessNumber(x)) row[k] = jsonNumber(x.value);
      else if (x !== null && typeof x === 'object') row[k] = new JsonText(losslessStringify(x) ?? 'null');
    }
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  return { ok: true, row };
}

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * A model value as JSON text: bigint and Decimal as raw number literals (exact digits; a Decimal NaN or
 * ±Infinity, and a double NaN/±Infinity, as the strings "NaN", "Infinity", "-Infinity"), Temporal as its
 * ISO text, binary as a base64 string, JsonText embedded as JSON (on one line). Throws on a JsonText that
 * is not JSON.
 */
function jsonOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : String(v)) : JSON.stringify(String(v));
    case 'bigint':
    case 'boolean':
      return String(v);
  }
  if (v instanceof Decimal) {
    if (JSON_NUMBER.test(v.text)) return v.text;
    const plain = canonicalDecimal(v.text);
    if (plain !== undefined && JSON_NUMBER.test(plain)) return plain;
    return JSON.stringify(
      /^-?inf/i.test(v.text)
        ? v.text.startsWith('-')
          ? '-Infinity'
          : 'Infinity'
        : /^nan$/i.test(v.text)
          ? 'NaN'
          : v.text,
    );
  }
  if (v instanceof Temporal) return JSON.stringify(v.text);
  if (v instanceof JsonText) {
    try {
      JSON.parse(v.text);
    } catch {
      throw new Error(`a JSON value that is not JSON: ${JSON.stringify(v.text.slice(0, 40))}`);
    }
    // Raw line breaks in JSON text can only be whitespace between tokens (in strings they are escaped).
    return /[\r\n]/.test(v.text) ? v.text.replace(/[\r\n]+/g, ' ') : v.text;
  }
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64'));
  if (v instanceof Uint8Array)
    return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null';
}

/** Row `i` as one JSON object and its '\n', keys in the batch's column order, with "_op":"d" on a tombstone. */
export function jsonLine(b: SinkBatch, i: number): string {
  const row = b.rows[i]!;
  let line = '{';
  for (let j = 0; j < b.columns.length; j++) {
    try {
      line += (j ? ',' : '') + JSON.stringify(b.columns[j]) + ':' + jsonOf(row[j]);
    } catch (err) {
      throw new Error(`column ${b.columns[j]}: ${(err as Error).message}`);
    }
  }
  if (b.ops[i] === 'd') line += (b.columns.length ? ',' : '') + `"${OP_FIELD}":"d"`;
  return line + '}\n';
}
