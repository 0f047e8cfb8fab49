// The processing pipeline of one subscription (数据处理组件): row filters, field selection and renaming,
// type coercion, validation against the resource's field types, and masking of sensitive fields. Pure
// and synchronous; a record that fails is returned with the reason, never dropped silently.
import { mask, parseMaskRule, type MaskRule } from './mask.js';

export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'date', 'datetime'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldSpec {
  /** Column in the source. */
  name: string;
  /** Name at the destination (default: same). */
  as?: string;
  type?: FieldType;
  required?: boolean;
  maxLength?: number;
  mask?: string;
}

export interface FilterSpec {
  field: string;
  op: '=' | '!=' | '>' | '>=' | '<' | '<=' | 'in' | 'notnull' | 'prefix';
  value?: unknown;
}

export interface PipelineSpec {
  /** Selected fields, in output order; empty or absent passes every column through unchecked. */
  fields?: FieldSpec[];
  filters?: FilterSpec[];
  /** Largest record accepted, as JSON bytes (default 64 KiB). */
  maxRecordBytes?: number;
}

export type ProcessResult =
  | { ok: true; values: unknown[] }
  | { ok: false; reason: string; field?: string }
  | { ok: 'skip' };

export interface Pipeline {
  /** Output column names (after renaming); undefined when the pipeline passes columns through. */
  readonly columns: string[] | undefined;
  /** Filters, selects, coerces, validates and masks one source row. */
  process(row: Record<string, unknown>): ProcessResult;
  /** Validation only (consumer side: verify what arrived against the resource's types). */
  verify(columns: string[], values: unknown[]): { ok: true; values: unknown[] } | { ok: false; reason: string; field?: string };
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

  const check = (f: CompiledField, raw: unknown): { ok: true; value: unknown } | { ok: false; reason: string; field: string } => {
    if (raw === null || raw === undefined || raw === '') {
      if (f.required) return { ok: false, reason: `missing required field ${f.to}`, field: f.to };
      return { ok: true, value: null };
    }
    const c = f.type ? coerce(raw, f.type) : passthrough(raw);
    if (!c.ok) return { ok: false, reason: `field ${f.to}: ${c.reason}`, field: f.to };
    if (f.maxLength !== undefined && typeof c.value === 'string' && [...c.value].length > f.maxLength)
      return { ok: false, reason: `field ${f.to}: longer than ${f.maxLength} characters`, field: f.to };
    return { ok: true, value: f.mask ? mask(c.value, f.mask) : c.value };
  };

  return {
    columns: fields.length ? outNames : undefined,
    process(row) {
      for (const flt of filters) if (!flt(row)) return { ok: 'skip' };
      let values: unknown[];
      if (fields.length === 0) {
        values = Object.values(row);
        for (const [i, v] of values.entries()) {
          const c = passthrough(v);
          if (!c.ok) return { ok: false, reason: `field ${Object.keys(row)[i]}: ${c.reason}` };
        }
      } else {
        values = new Array<unknown>(fields.length);
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i]!;
          const r = check(f, row[f.from]);
          if (!r.ok) return r;
          values[i] = r.value;
        }
      }
      if (maxRecordBytes && approxBytes(values) > maxRecordBytes) return { ok: false, reason: `record larger than ${maxRecordBytes} bytes` };
      return { ok: true, values };
    },
    verify(columns, values) {
      if (fields.length === 0) return { ok: true, values };
      const out = values.slice();
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

function approxBytes(values: unknown[]): number {
  let n = 0;
  for (const v of values) n += typeof v === 'string' ? v.length * 3 : 8;
  return n > 16 * 1024 ? Buffer.byteLength(JSON.stringify(values)) : n;
}

type Coerced = { ok: true; value: unknown } | { ok: false; reason: string };

function wellFormed(s: string): boolean {
  return s.isWellFormed() && !s.includes('\uFFFD');
}

function passthrough(v: unknown): Coerced {
  if (typeof v === 'string' && !wellFormed(v)) return { ok: false, reason: 'invalid UTF-8 text' };
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? { ok: true, value: Number(v) } : { ok: true, value: v.toString() };
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { ok: false, reason: 'binary value where a record field was expected' };
  if (v instanceof Date) return { ok: true, value: v.toISOString() };
  return { ok: true, value: v };
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function coerce(v: unknown, type: FieldType): Coerced {
  switch (type) {
    case 'string': {
      if (typeof v === 'string') return wellFormed(v) ? { ok: true, value: v } : { ok: false, reason: 'invalid UTF-8 text' };
      if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return { ok: true, value: String(v) };
      if (v instanceof Date) return { ok: true, value: v.toISOString() };
      return { ok: false, reason: `expected text, got ${describe(v)}` };
    }
    case 'integer': {
      if (typeof v === 'number' && Number.isSafeInteger(v)) return { ok: true, value: v };
      if (typeof v === 'bigint' && Number.isSafeInteger(Number(v))) return { ok: true, value: Number(v) };
      if (typeof v === 'string' && /^\s*-?\d{1,15}\s*$/.test(v)) return { ok: true, value: Number(v) };
      return { ok: false, reason: `expected an integer, got ${describe(v)}` };
    }
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'bigint' ? Number(v) : NaN;
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, reason: `expected a number, got ${describe(v)}` };
    }
    case 'boolean': {
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 1 || v === '1' || v === 'true') return { ok: true, value: true };
      if (v === 0 || v === '0' || v === 'false') return { ok: true, value: false };
      return { ok: false, reason: `expected true/false, got ${describe(v)}` };
    }
    case 'date': {
      const s = v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
      const m = DATE_RE.exec(s);
      if (m) {
        const d = new Date(`${s}T00:00:00Z`);
        if (!Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s) return { ok: true, value: s };
      }
      return { ok: false, reason: `expected a date YYYY-MM-DD, got ${describe(v)}` };
    }
    case 'datetime': {
      const d = v instanceof Date ? v : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(v) ? new Date(v.replace(' ', 'T')) : typeof v === 'number' ? new Date(v) : undefined;
      return d && !Number.isNaN(d.getTime()) ? { ok: true, value: d.toISOString() } : { ok: false, reason: `expected a date-time, got ${describe(v)}` };
    }
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `${v.length} bytes of binary`;
  const s = typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : String(v);
  return `${typeof v} ${s}`;
}

function compileFilter(f: FilterSpec, i: number): (row: Record<string, unknown>) => boolean {
  if (!f || typeof f.field !== 'string') throw new Error(`filters[${i}].field: required`);
  const { field, value } = f;
  switch (f.op) {
    case '=':
      return (r) => r[field] == value; // eslint-disable-line eqeqeq -- "1" = 1 as an operator expects
    case '!=':
      return (r) => r[field] != value; // eslint-disable-line eqeqeq
    case '>':
      return (r) => (r[field] as number) > (value as number);
    case '>=':
      return (r) => (r[field] as number) >= (value as number);
    case '<':
      return (r) => (r[field] as number) < (value as number);
    case '<=':
      return (r) => (r[field] as number) <= (value as number);
    case 'in': {
      if (!Array.isArray(value)) throw new Error(`filters[${i}].value: "in" needs a list`);
      const set = new Set(value.map(String));
      return (r) => set.has(String(r[field]));
    }
    case 'notnull':
      return (r) => r[field] !== null && r[field] !== undefined;
    case 'prefix':
      return (r) => typeof r[field] === 'string' && (r[field] as string).startsWith(String(value));
    default:
      throw new Error(`filters[${i}].op: unknown operator ${JSON.stringify(f.op)}`);
  }
}
