// The processing pipeline of one subscription (数据处理组件): row filters, field selection and renaming,
// type coercion, validation against the resource's field types, and masking of sensitive fields. Pure
// and synchronous; a record that fails is returned with the reason, never dropped silently.
import { FIELD_TYPES, type FieldType } from '../../../common/src/field-types.js';
import type { TaskField, TaskFilter, TaskParams } from '../../../common/src/task-params.js';
import { canonicalDecimal, Decimal, decimalParts, describeValue, doubleHolds, fromDriver, inInt64, instantOf, JsonText, normInt, parseDateTime, parseTime, Temporal, type Value } from '../values/value.js';
import { mask, parseMaskRule, type MaskRule } from './mask.js';

export { FIELD_TYPES, type FieldType };

/** One selected field (the task params' field spec, common/src/task-params.ts). */
export type FieldSpec = TaskField;
/** One row filter (common/src/task-params.ts). */
export type FilterSpec = TaskFilter;
/** The part of a task's params the pipeline reads: fields, filters, maxRecordBytes (default 64 KiB). */
export type PipelineSpec = Pick<TaskParams, 'fields' | 'filters' | 'maxRecordBytes'>;

export type ProcessResult =
  /** `columns`: the row's own column names, set only when the pipeline passes columns through. */
  | { ok: true; values: Value[]; columns?: string[] }
  | { ok: false; reason: string; field?: string }
  | { ok: 'skip' };

export interface Pipeline {
  /** Output column names (after renaming); undefined when the pipeline passes columns through. */
  readonly columns: string[] | undefined;
  /** Filters, selects, coerces, validates and masks one source row. */
  process(row: Record<string, unknown>): ProcessResult;
  /** Validation only (consumer side: verify what arrived against the resource's types). */
  verify(columns: string[], values: unknown[]): { ok: true; values: Value[] } | { ok: false; reason: string; field?: string };
}

interface CompiledField {
  from: string;
  to: string;
  type: FieldType | undefined;
  required: boolean;
  maxLength: number | undefined;
  mask: MaskRule | undefined;
}

/** Compiles a pipeline; throws with a message naming the bad part of the spec. */
export function compilePipeline(spec: PipelineSpec): Pipeline {
  const maxRecordBytes = spec.maxRecordBytes ?? 64 * 1024;
  const fields: CompiledField[] = (spec.fields ?? []).map((f, i) => {
    if (!f || typeof f.name !== 'string' || !f.name) throw new Error(`fields[${i}].name: required`);
    if (f.type !== undefined && !FIELD_TYPES.includes(f.type)) throw new Error(`fields[${i}].type: must be one of ${FIELD_TYPES.join(', ')}`);
    const m = f.mask === undefined ? undefined : parseMaskRule(f.mask);
    if (f.mask !== undefined && !m) throw new Error(`fields[${i}].mask: unknown rule ${JSON.stringify(f.mask)} (name, idcard, phone, redact, keep:A:B)`);
    return { from: f.name, to: f.as ?? f.name, type: f.type, required: f.required ?? false, maxLength: f.maxLength, mask: m };
  });
  const outNames = fields.map((f) => f.to);
  if (new Set(outNames).size !== outNames.length) throw new Error('fields: two fields map to the same output name');
  const filters = (spec.filters ?? []).map((f, i) => compileFilter(f, i));

  const check = (f: CompiledField, raw: unknown): { ok: true; value: Value } | { ok: false; reason: string; field: string } => {
    // NULL is no value; '' is a value of a text field (and of an untyped one), and no value of any other
    // type (an empty CSV cell in a number column): "required" means not NULL.
    if (raw === null || raw === undefined || (raw === '' && f.type !== undefined && f.type !== 'string' && f.type !== 'binary')) {
      if (f.required) return { ok: false, reason: `missing required field ${f.to}`, field: f.to };
      return { ok: true, value: null };
    }
    const c = f.type ? coerce(raw, f.type) : passthrough(raw);
    if (!c.ok) return { ok: false, reason: `field ${f.to}: ${c.reason}`, field: f.to };
    if (f.maxLength !== undefined && typeof c.value === 'string' && [...c.value].length > f.maxLength)
      return { ok: false, reason: `field ${f.to}: longer than ${f.maxLength} characters`, field: f.to };
    return { ok: true, value: f.mask ? (mask(c.value, f.mask) as Value) : c.value };
  };

  return {
    columns: fields.length ? outNames : undefined,
    process(row) {
      for (const flt of filters) if (!flt(row)) return { ok: 'skip' };
      let values: Value[];
      let columns: string[] | undefined;
      if (fields.length === 0) {
        // Untyped: the row's own columns, by name (rows of one source need not share an order or a set).
        columns = Object.keys(row);
        values = new Array<Value>(columns.length);
        for (let i = 0; i < columns.length; i++) {
          const c = passthrough(row[columns[i]!]);
          if (!c.ok) return { ok: false, reason: `field ${columns[i]}: ${c.reason}`, field: columns[i]! };
          values[i] = c.value;
        }
      } else {
        values = new Array<Value>(fields.length);
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i]!;
          const r = check(f, row[f.from]);
          if (!r.ok) return r;
          values[i] = r.value;
        }
      }
      if (maxRecordBytes && approxBytes(values, maxRecordBytes) > maxRecordBytes) return { ok: false, reason: `record larger than ${maxRecordBytes} bytes` };
      return columns ? { ok: true, values, columns } : { ok: true, values };
    },
    verify(columns, values) {
      if (fields.length === 0) return { ok: true, values: values as Value[] };
      const out = values.slice() as Value[];
      for (const f of fields) {
        const i = columns.indexOf(f.to);
        const r = check({ ...f, mask: undefined }, i < 0 ? undefined : values[i]);
        if (!r.ok) return r;
        if (i >= 0) out[i] = r.value;
      }
      return { ok: true, values: out };
    },
  };
}

/**
 * Size of a record's values in their JSON wire form, in bytes, computed without building that form (a
 * 16 MiB binary would cost two more copies of ~22 MB per record, per task): text as its UTF-8 length
 * plus quotes (JSON escapes are not counted: an estimate, exact for text without control characters or
 * quotes), binary as base64, tagged values with their tag.
 */
function approxBytes(values: Value[], limit: number): number {
  // A cheap upper bound first (a UTF-16 unit is at most 3 UTF-8 bytes): most records are far below the limit.
  let bound = 2;
  for (const v of values) bound += typeof v === 'string' ? v.length * 3 + 3 : Buffer.isBuffer(v) ? v.length * 2 + 16 : v !== null && typeof v === 'object' ? v.text.length * 3 + 16 : 24;
  if (bound <= limit) return bound;
  let n = 2;
  for (const v of values) {
    if (typeof v === 'string') n += Buffer.byteLength(v, 'utf8') + 3;
    else if (Buffer.isBuffer(v)) n += Math.ceil(v.length / 3) * 4 + 16;
    else if (v !== null && typeof v === 'object') n += Buffer.byteLength(v.text, 'utf8') + 16;
    else n += 24;
  }
  return n;
}

type Coerced = { ok: true; value: Value } | { ok: false; reason: string };

/** Text the decoders produced from bytes that were not valid UTF-8 (U+FFFD) or with unpaired surrogates. */
function wellFormed(s: string): boolean {
  return s.isWellFormed() && !s.includes('\uFFFD');
}

/** An untyped value as the model holds it; text must be well-formed. */
function passthrough(v: unknown): Coerced {
  if (typeof v === 'string') return wellFormed(v) ? { ok: true, value: v } : { ok: false, reason: 'invalid UTF-8 text' };
  return { ok: true, value: fromDriver(v) };
}

const INT_RE = /^\s*[+-]?\d+\s*$/;
const BOOL_TEXT: Record<string, boolean> = { true: true, false: false, t: true, f: false, '1': true, '0': false, yes: true, no: false, y: true, n: false };

/**
 * Converts a value to a field type without changing what it means; refuses, with the reason, a value
 * the type cannot hold exactly (an integer beyond 64 bits, a decimal a double would round, 2026-11-31).
 */
export function coerce(v: unknown, type: FieldType): Coerced {
  const no = (what: string): Coerced => ({ ok: false, reason: `expected ${what}, got ${describe(v)}` });
  switch (type) {
    case 'string': {
      if (typeof v === 'string') return wellFormed(v) ? { ok: true, value: v } : { ok: false, reason: 'invalid UTF-8 text' };
      if (typeof v === 'number') return { ok: true, value: String(v) };
      if (typeof v === 'bigint' || typeof v === 'boolean') return { ok: true, value: String(v) };
      if (v instanceof Decimal || v instanceof Temporal || v instanceof JsonText) return { ok: true, value: v.text };
      if (v instanceof Date) return { ok: true, value: instantOf(v).text };
      return no('text');
    }
    case 'integer': {
      if (typeof v === 'number' && Number.isSafeInteger(v)) return { ok: true, value: v };
      let b: bigint | undefined;
      if (typeof v === 'number') b = Number.isInteger(v) ? BigInt(v) : undefined;
      else if (typeof v === 'bigint') b = v;
      else if (typeof v === 'string' && INT_RE.test(v)) b = BigInt(v.trim());
      else if (v instanceof Decimal) {
        const c = canonicalDecimal(v.text);
        b = c !== undefined && /^-?\d+$/.test(c) ? BigInt(c) : undefined;
      } else if (typeof v === 'boolean') b = v ? 1n : 0n;
      if (b === undefined) return no('an integer');
      if (typeof v === 'number' && !Number.isSafeInteger(v)) return { ok: false, reason: `integer ${v} was already rounded by a double (beyond 2^53)` };
      if (!inInt64(b)) return { ok: false, reason: `integer ${b} is outside the 64-bit range` };
      return { ok: true, value: normInt(b) };
    }
    case 'number': {
      if (typeof v === 'number') return { ok: true, value: v };
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) || BigInt(Number(v)) === v ? { ok: true, value: Number(v) } : { ok: false, reason: `${v} cannot be held exactly by a double (use decimal or integer)` };
      const text = typeof v === 'string' ? v.trim() : v instanceof Decimal ? v.text : undefined;
      if (text === undefined || text === '') return no('a number');
      if (/^[+-]?(nan|infinity|inf)$/i.test(text)) return { ok: true, value: Number(text.replace(/inf$/i, 'Infinity').replace(/^([+-]?)infinity$/i, '$1Infinity').replace(/^nan$/i, 'NaN')) };
      if (!decimalParts(text)) return no('a number');
      // A negative zero is a double of its own (IEEE 754); canonical decimal text has no sign for zero.
      if (/^-/.test(text) && decimalParts(text)!.digits === '0') return { ok: true, value: -0 };
      const n = doubleHolds(text);
      return n === undefined ? { ok: false, reason: `${text} cannot be held exactly by a double (use decimal)` } : { ok: true, value: n };
    }
    case 'decimal': {
      if (v instanceof Decimal) return { ok: true, value: v };
      if (typeof v === 'bigint') return { ok: true, value: new Decimal(v.toString()) };
      if (typeof v === 'number') return Number.isFinite(v) ? { ok: true, value: new Decimal(canonicalDecimal(String(v)) ?? String(v)) } : { ok: true, value: new Decimal(String(v)) };
      if (typeof v === 'string' && decimalParts(v)) return { ok: true, value: new Decimal(v.trim()) };
      return no('a decimal number');
    }
    case 'boolean': {
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 1 || v === 0 || v === 1n || v === 0n) return { ok: true, value: v === 1 || v === 1n };
      if (typeof v === 'string') {
        const b = BOOL_TEXT[v.trim().toLowerCase()];
        if (b !== undefined) return { ok: true, value: b };
      }
      return no('true/false');
    }
    case 'date': {
      if (v instanceof Temporal && v.kind === 'date') return { ok: true, value: v };
      if (typeof v === 'string' && DATE_RE.test(v.trim())) {
        const p = parseDateTime(v);
        return p.ok ? p : { ok: false, reason: `expected a date YYYY-MM-DD, got ${describe(v)}: ${p.reason}` };
      }
      return no('a date YYYY-MM-DD');
    }
    case 'time': {
      if (v instanceof Temporal && v.kind === 'time') return { ok: true, value: v };
      if (typeof v === 'string') {
        const p = parseTime(v);
        return p.ok ? p : { ok: false, reason: `expected a time of day, got ${describe(v)}: ${p.reason}` };
      }
      return no('a time of day HH:MM:SS');
    }
    case 'datetime': {
      if (v instanceof Temporal) return v.kind === 'timestamp' || v.kind === 'timestamptz' ? { ok: true, value: v } : v.kind === 'date' ? { ok: true, value: new Temporal('timestamp', `${v.text}T00:00:00`) } : no('a date-time');
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? no('a date-time') : { ok: true, value: instantOf(v) };
      if (typeof v === 'string') {
        const p = parseDateTime(v);
        if (!p.ok) return { ok: false, reason: `expected a date-time, got ${describe(v)}: ${p.reason}` };
        return p.value.kind === 'date' ? { ok: true, value: new Temporal('timestamp', `${p.value.text}T00:00:00`) } : p;
      }
      return no('a date-time');
    }
    case 'timestamptz': {
      if (v instanceof Temporal) return v.kind === 'timestamptz' ? { ok: true, value: v } : { ok: false, reason: `expected an instant (a date-time with a time zone), got ${describe(v)}` };
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? no('an instant') : { ok: true, value: instantOf(v) };
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: instantOf(new Date(v)) };
      if (typeof v === 'string') {
        const p = parseDateTime(v);
        if (!p.ok) return { ok: false, reason: `expected an instant, got ${describe(v)}: ${p.reason}` };
        return p.value.kind === 'timestamptz' ? p : { ok: false, reason: `expected an instant, got ${describe(v)} without a time zone (ambiguous)` };
      }
      return no('an instant (a date-time with a time zone)');
    }
    case 'binary': {
      if (Buffer.isBuffer(v)) return { ok: true, value: v };
      if (v instanceof Uint8Array) return { ok: true, value: Buffer.from(v) };
      if (typeof v === 'string') {
        // Text sources carry bytes as PostgreSQL's hex form (\x…) or base64; anything else is refused.
        // Flat character-class tests: a grouped, repeated pattern overflows the regex stack on megabytes.
        const t = v.trim();
        if (t.startsWith('\\x') && t.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(t.slice(2))) return { ok: true, value: Buffer.from(t.slice(2), 'hex') };
        if (t.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(t)) return { ok: true, value: Buffer.from(t, 'base64') };
      }
      return no('binary (bytes, or text as \\x-hex or base64)');
    }
    case 'json': {
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
      if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Temporal)) return { ok: true, value: fromDriver(v) };
      return no('a JSON document');
    }
  }
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return describeValue(v);
}

/** A model value as filters compare it: decimals as numbers, temporals and JSON as their text. */
function scalar(v: unknown): unknown {
  if (v instanceof Decimal) return Number(v.text);
  if (v instanceof Temporal || v instanceof JsonText) return v.text;
  return v;
}

function compileFilter(f: FilterSpec, i: number): (row: Record<string, unknown>) => boolean {
  if (!f || typeof f.field !== 'string') throw new Error(`filters[${i}].field: required`);
  const { field, value } = f;
  const test = compileTest(f, i, value);
  return (row) => test(scalar(row[field]));
}

/** The test of one filter on a field's value (as scalar() gives it). */
function compileTest(f: FilterSpec, i: number, value: unknown): (v: unknown) => boolean {
  switch (f.op) {
    case '=':
      return (v) => v == value; // eslint-disable-line eqeqeq -- "1" = 1 as an operator expects
    case '!=':
      return (v) => v != value; // eslint-disable-line eqeqeq
    case '>':
      return (v) => (v as number) > (value as number);
    case '>=':
      return (v) => (v as number) >= (value as number);
    case '<':
      return (v) => (v as number) < (value as number);
    case '<=':
      return (v) => (v as number) <= (value as number);
    case 'in': {
      if (!Array.isArray(value)) throw new Error(`filters[${i}].value: "in" needs a list`);
      const set = new Set(value.map(String));
      return (v) => set.has(String(v));
    }
    case 'notnull':
      return (v) => v !== null && v !== undefined;
    case 'prefix':
      return (v) => typeof v === 'string' && v.startsWith(String(value));
    default:
      throw new Error(`filters[${i}].op: unknown operator ${JSON.stringify(f.op)}`);
  }
}
