// The processing pipeline of one subscription (数据处理组件): row filters, field selection and renaming,
// type coercion, validation against the resource's field types, and masking of sensitive fields. Pure
// and synchronous; a record that fails is returned with the reason, never dropped silently.
import { FIELD_TYPES, type FieldType } from '../../../common/src/field-types.js';
import type { TaskField, TaskFilter, TaskParams } from '../../../common/src/task-params.js';
import { Decimal, JsonText, Temporal, type Value } from '../values/value.js';
import { coerce, passthrough, wellFormed } from './coerce.js';
import { mask, parseMaskRule, type MaskRule } from './mask.js';

export { FIELD_TYPES, type FieldType };
export { coerce };

/** One selected field (the task params' field spec, common/src/task-params.ts). */
export type FieldSpec = TaskField;
/** One row filter (common/src/task-params.ts). */
export type FilterSpec = TaskFilter;
/** The part of a task's params the pipeline reads: fields, filters, maxRecordBytes (default 64 KiB). */
export type PipelineSpec = Pick<TaskParams, 'fields' | 'filters' | 'maxRecordBytes'>;

export type ProcessResult =
  /** `columns`: the row's own column names, set only when the pipeline passes columns through. */
  { ok: true; values: Value[]; columns?: string[] } | { ok: false; reason: string; field?: string } | { ok: 'skip' };

export interface Pipeline {
  /** Output column names (after renaming); undefined when the pipeline passes columns through. */
  readonly columns: string[] | undefined;
  /** Filters, selects, coerces, validates and masks one source row. */
  process(row: Record<string, unknown>): ProcessResult;
  /**
   * Validation only (consumer side: verify what arrived against the resource's types). `values` of the
   * answer is the given array itself when no value changed (callers must not rely on a copy).
   */
  verify(
    columns: string[],
    values: unknown[],
  ): { ok: true; values: Value[] } | { ok: false; reason: string; field?: string };
}

interface CompiledField {
  from: string;
  to: string;
  type: FieldType | undefined;
  required: boolean;
  maxLength: number | undefined;
  mask: MaskRule | undefined;
}

/** One field of the spec, checked; throws naming `fields[i]` and what is wrong. */
function compileField(f: FieldSpec, i: number): CompiledField {
  if (!f || typeof f.name !== 'string' || !f.name) throw new Error(`fields[${i}].name: required`);
  if (f.type !== undefined && !FIELD_TYPES.includes(f.type))
    throw new Error(`fields[${i}].type: must be one of ${FIELD_TYPES.join(', ')}`);
  const m = f.mask === undefined ? undefined : parseMaskRule(f.mask);
  if (f.mask !== undefined && !m)
    throw new Error(
      `fields[${i}].mask: unknown rule ${JSON.stringify(f.mask)} (name, idcard, phone, redact, keep:A:B)`,
    );
  return {
    from: f.name,
    to: f.as ?? f.name,
    type: f.type,
    required: f.required ?? false,
    maxLength: f.maxLength,
    mask: m,
  };
}

/** A field's value refused by checkField, with the reason (a class, so that no result object is built per value). */
class FieldRefusal {
  constructor(
    readonly reason: string,
    readonly field: string,
  ) {}
}

/**
 * One field's value: NULL rules, coercion to its type, length, then masking. Returns the value, or a
 * FieldRefusal. Called for every value of every record on both agents: a text value of a text or
 * untyped field and a safe integer of an integer field (the commonest) take a path that allocates
 * nothing, with the same answer coerce() gives.
 */
function checkField(f: CompiledField, raw: unknown): Value | FieldRefusal {
  // NULL is no value; '' is a value of a text field (and of an untyped one), and no value of any other
  // type (an empty CSV cell in a number column): "required" means not NULL.
  if (
    raw === null ||
    raw === undefined ||
    (raw === '' && f.type !== undefined && f.type !== 'string' && f.type !== 'binary')
  ) {
    if (f.required) return new FieldRefusal(`missing required field ${f.to}`, f.to);
    return null;
  }
  let value: Value;
  if (typeof raw === 'string' && (f.type === 'string' || f.type === undefined) && wellFormed(raw)) value = raw;
  else if (typeof raw === 'number' && f.type === 'integer' && Number.isSafeInteger(raw)) value = raw;
  else {
    const c = f.type ? coerce(raw, f.type) : passthrough(raw);
    if (!c.ok) return new FieldRefusal(`field ${f.to}: ${c.reason}`, f.to);
    value = c.value;
  }
  if (f.maxLength !== undefined && typeof value === 'string' && codePoints(value, f.maxLength) > f.maxLength)
    return new FieldRefusal(`field ${f.to}: longer than ${f.maxLength} characters`, f.to);
  return f.mask ? (mask(value, f.mask) as Value) : value;
}

/** Characters (code points) of `s`, counted only when its UTF-16 length exceeds `limit` (never fewer than that length / 2). */
function codePoints(s: string, limit: number): number {
  if (s.length <= limit) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length) {
      const l = s.charCodeAt(i + 1);
      if (l >= 0xdc00 && l <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

function refused(r: FieldRefusal): { ok: false; reason: string; field: string } {
  return { ok: false, reason: r.reason, field: r.field };
}

/** Compiles a pipeline; throws with a message naming the bad part of the spec. */
export function compilePipeline(spec: PipelineSpec): Pipeline {
  const maxRecordBytes = spec.maxRecordBytes ?? 64 * 1024;
  const fields = (spec.fields ?? []).map(compileField);
  const outNames = fields.map((f) => f.to);
  if (new Set(outNames).size !== outNames.length) throw new Error('fields: two fields map to the same output name');
  const filters = (spec.filters ?? []).map((f, i) => compileFilter(f, i));
  // verify() checks types and lengths only: the same fields without masks, built once.
  const unmasked = fields.map((f) => ({ ...f, mask: undefined }));
  // Where each field sits in the last `columns` verify() was given (a batch's rows share one array).
  let lastColumns: string[] | undefined;
  let lastIndex: number[] = [];

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
          const r = checkField(f, row[f.from]);
          if (r instanceof FieldRefusal) return refused(r);
          values[i] = r;
        }
      }
      if (maxRecordBytes && approxBytes(values, maxRecordBytes) > maxRecordBytes)
        return { ok: false, reason: `record larger than ${maxRecordBytes} bytes` };
      return columns ? { ok: true, values, columns } : { ok: true, values };
    },
    verify(columns, values) {
      if (fields.length === 0) return { ok: true, values: values as Value[] };
      if (columns !== lastColumns) {
        lastIndex = unmasked.map((f) => columns.indexOf(f.to));
        lastColumns = columns;
      }
      // Copied only when a value changes (a numeric string of an integer field): most records verify as they are.
      let out: Value[] | undefined;
      for (let j = 0; j < unmasked.length; j++) {
        const i = lastIndex[j]!;
        const before = i < 0 ? undefined : values[i];
        const r = checkField(unmasked[j]!, before);
        if (r instanceof FieldRefusal) return refused(r);
        if (i >= 0 && r !== before) (out ??= values.slice() as Value[])[i] = r;
      }
      return { ok: true, values: out ?? (values as Value[]) };
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
  for (const v of values)
    bound +=
      typeof v === 'string'
        ? v.length * 3 + 3
        : Buffer.isBuffer(v)
          ? v.length * 2 + 16
          : v !== null && typeof v === 'object'
            ? v.text.length * 3 + 16
            : 24;
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
