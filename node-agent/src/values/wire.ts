// Wire form of model values inside JSON (record batches, quarantine, online-query answers). JSON carries
// null, strings, booleans and finite doubles exactly; every other value travels as a one-key-tagged object
//   {"$":"i","v":"9007199254740993"}   integer outside the safe range (bigint)
//   {"$":"f","v":"NaN"}                 NaN, Infinity, -Infinity, -0
//   {"$":"n","v":"-1.50"}               Decimal (text as the source wrote it)
//   {"$":"b","v":"<base64>"}            binary
//   {"$":"d"|"t"|"ts"|"tz","v":"…"}     Temporal date / time / timestamp / timestamptz
//   {"$":"j","v":"<json text>"}         JSON document
// A plain JSON object never appears as a value (JSON documents are tagged), so the tag is unambiguous.
// Encoding copies a row only when it holds a tagged value; the common all-text-and-numbers row is passed
// through to JSON.stringify untouched (the hot path).
import { Decimal, JsonText, Temporal, normInt, type TemporalKind, type Value } from './value.js';

/** Version of the records payload this code writes (`enc` in the payload); 0/absent: plain JSON values. */
export const RECORDS_ENCODING = 1;

const TAG_OF: Record<TemporalKind, string> = { date: 'd', time: 't', timestamp: 'ts', timestamptz: 'tz' };
const KIND_OF: Record<string, TemporalKind> = { d: 'date', t: 'time', ts: 'timestamp', tz: 'timestamptz' };

interface Tagged {
  $: string;
  v: string;
}

function needsTag(v: unknown): boolean {
  if (v === null) return false;
  const t = typeof v;
  if (t === 'string' || t === 'boolean') return false;
  if (t === 'number') return !Number.isFinite(v) || Object.is(v, -0);
  return true;
}

/** One value in its wire form. Throws on a value outside the model (a bug in a connector, not bad data). */
export function toWire(v: unknown): unknown {
  if (!needsTag(v)) return v;
  if (v === undefined) return null;
  if (typeof v === 'number') return { $: 'f', v: Object.is(v, -0) ? '-0' : String(v) };
  if (typeof v === 'bigint')
    return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : { $: 'i', v: v.toString() };
  if (v instanceof Decimal) return { $: 'n', v: v.text };
  if (v instanceof Temporal) return { $: TAG_OF[v.kind], v: v.text };
  if (v instanceof JsonText) return { $: 'j', v: v.text };
  if (Buffer.isBuffer(v)) return { $: 'b', v: v.toString('base64') };
  if (v instanceof Uint8Array)
    return { $: 'b', v: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  throw new TypeError(`value outside the record model: ${Object.prototype.toString.call(v)}`);
}

/** A row in wire form: the same array when nothing needs a tag, else a copy. */
export function rowToWire(row: readonly unknown[]): unknown[] {
  for (let i = 0; i < row.length; i++) {
    if (needsTag(row[i])) {
      const out = row.slice();
      for (let j = i; j < out.length; j++) out[j] = toWire(out[j]);
      return out;
    }
  }
  return row as unknown[];
}

/** One wire value back in the model; throws with a reason on a malformed tag. */
export function fromWire(w: unknown): Value {
  if (w === null || typeof w !== 'object') return w as Value;
  const t = w as Partial<Tagged>;
  const s = t.v;
  if (typeof s !== 'string') throw new Error(`malformed tagged value ${JSON.stringify(w).slice(0, 60)}`);
  switch (t.$) {
    case 'i':
      if (!/^-?\d+$/.test(s)) throw new Error(`malformed integer ${JSON.stringify(s.slice(0, 40))}`);
      return normInt(BigInt(s));
    case 'f':
      return s === '-0' ? -0 : Number(s);
    case 'n':
      return new Decimal(s);
    case 'b':
      return Buffer.from(s, 'base64');
    case 'j':
      return new JsonText(s);
    default: {
      const kind = KIND_OF[t.$ ?? ''];
      if (!kind) throw new Error(`unknown value tag ${JSON.stringify(t.$)}`);
      return new Temporal(kind, s);
    }
  }
}

/** Decodes a wire row in place (rows come fresh from JSON.parse) and returns it. */
export function rowFromWire(row: unknown[]): Value[] {
  for (let i = 0; i < row.length; i++) {
    const w = row[i];
    if (w !== null && typeof w === 'object') row[i] = fromWire(w);
  }
  return row as Value[];
}

/** A record (column → value) in wire form, for JSON documents such as quarantine reports. */
export function recordToWire(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k] = toWire(v);
  return out;
}

/** Inverse of recordToWire; a value that is not a valid tag is kept as JSON text rather than dropped. */
export function recordFromWire(r: Record<string, unknown>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(r)) {
    try {
      out[k] = fromWire(v);
    } catch {
      out[k] = new JsonText(JSON.stringify(v));
    }
  }
  return out;
}
