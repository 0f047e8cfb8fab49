// Task params (交换任务参数): the one contract between central, which writes them when a subscription creates
// its tasks (or an operator writes a task), and the agent's runners and pipeline, which read them. Declared
// once as a TypeBox schema; both sides validate a task's params with parseTaskParams before using them.
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { FIELD_TYPES } from './field-types.js';

/** The masking rules of common/src/mask.ts (parseMaskRule accepts exactly these). */
export const MASK_RULE_PATTERN = '^(name|idcard|phone|redact|keep:\\d{1,3}:\\d{1,3})$';

/** Filter operators of the pipeline. `in` takes a list, `notnull` no value. */
export const FILTER_OPS = ['=', '!=', '>', '>=', '<', '<=', 'in', 'notnull', 'prefix'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** One field a task moves: read from a source column, sent under its published name. */
export const TaskFieldSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'column in the source' }),
    as: Type.Optional(Type.String({ minLength: 1, description: 'name at the destination (default: same as name)' })),
    type: Type.Optional(
      Type.Enum([...FIELD_TYPES], {
        description: 'field type (common/src/field-types.ts); absent: the value passes unchecked',
      }),
    ),
    required: Type.Optional(Type.Boolean({ description: 'NULL is refused (default false)' })),
    maxLength: Type.Optional(Type.Integer({ minimum: 0, description: 'longest text, in characters (code points)' })),
    mask: Type.Optional(
      Type.String({ pattern: MASK_RULE_PATTERN, description: 'masking rule: name, idcard, phone, redact, keep:A:B' }),
    ),
  },
  { additionalProperties: false },
);

/** A row filter: a row passes when every filter holds. */
export const TaskFilterSchema = Type.Object(
  {
    field: Type.String({ minLength: 1, description: 'source column tested' }),
    op: Type.Enum([...FILTER_OPS]),
    value: Type.Optional(Type.Unknown({ description: 'compared value; a list for in, none for notnull' })),
  },
  { additionalProperties: false },
);

/**
 * A task's params. Keys not listed here are carried unchanged and read by no one (operators' tasks have
 * carried notes such as `table`); the listed ones are checked.
 */
export const TaskParamsSchema = Type.Object(
  {
    fields: Type.Optional(
      Type.Array(TaskFieldSchema, {
        description: 'selected fields in output order; empty or absent passes every column through unchecked',
      }),
    ),
    filters: Type.Optional(Type.Array(TaskFilterSchema)),
    maxRecordBytes: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'largest record, as bytes of its JSON wire form (default 64 KiB; 0: no limit)',
      }),
    ),
    batchRecords: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "records per batch of a sync task (default: the agent's dataPlane.batchRecords)",
      }),
    ),
    pollIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "source poll interval of a sync task when the task has no intervalMs (default: the agent's setting)",
      }),
    ),
    agreementId: Type.Optional(
      Type.String({ description: "the agreement (协议) the data moves under; '' or absent: none" }),
    ),
    allowedFields: Type.Optional(
      Type.Array(Type.String(), { description: 'published field names the agreement covers; empty: not restricted' }),
    ),
    agreementValidUntil: Type.Optional(
      Type.Integer({ minimum: 0, description: 'end of the agreement, ms since epoch; 0 or absent: no end given' }),
    ),
    _resendQuarantine: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "set by central (ms since epoch) when an operator asks to re-send a task's quarantined records; a new value is a new request",
      }),
    ),
  },
  { additionalProperties: true },
);

export type TaskField = Static<typeof TaskFieldSchema>;
export type TaskFilter = Static<typeof TaskFilterSchema>;
export type TaskParams = Static<typeof TaskParamsSchema>;

/** What parseTaskParams found: the params, or every problem, each naming its field (`fields[1].type: ...`). */
export type TaskParamsResult = { ok: true; params: TaskParams } | { ok: false; errors: string[] };

const validator = Compile(TaskParamsSchema);

/**
 * Validates a task's params, given as their JSON text (as the control plane carries them) or as a parsed
 * value. '' means no params ({}). The problems are reported at once (up to TypeBox's maxErrors, 8).
 */
export function parseTaskParams(input: unknown): TaskParamsResult {
  let value: unknown = input;
  if (typeof input === 'string') {
    if (input.trim() === '') return { ok: true, params: {} };
    try {
      value = JSON.parse(input);
    } catch (err) {
      return { ok: false, errors: [`(params): not JSON: ${(err as Error).message}`] };
    }
  }
  if (!validator.Check(value)) return { ok: false, errors: schemaErrors(value) };
  const params = value as TaskParams;
  const errors = meaningErrors(params);
  return errors.length ? { ok: false, errors } : { ok: true, params };
}

/** Problems a schema does not express: two fields under one name, `in` without a list. */
function meaningErrors(p: TaskParams): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const [i, f] of (p.fields ?? []).entries()) {
    const out = f.as ?? f.name;
    if (seen.has(out))
      errors.push(`fields[${i}]: a second field sent as ${out} (two fields map to the same output name)`);
    seen.add(out);
  }
  for (const [i, f] of (p.filters ?? []).entries())
    if (f.op === 'in' && !Array.isArray(f.value)) errors.push(`filters[${i}].value: "in" needs a list`);
  return errors;
}

/** One line per problem, the field named as a path (`fields[0].mask`). */
function schemaErrors(value: unknown): string[] {
  const out: string[] = [];
  for (const e of validator.Errors(value)) {
    if (e.keyword === 'boolean') continue; // reported by its additionalProperties twin
    const path = pathOf(e.instancePath);
    if (e.keyword === 'additionalProperties') {
      for (const p of (e.params as { additionalProperties?: string[] }).additionalProperties ?? [])
        out.push(`${path ? path + '.' : ''}${p}: unknown key`);
      continue;
    }
    out.push(`${path || '(params)'}: ${messageOf(e.keyword, path, e.message)}`);
  }
  return [...new Set(out)];
}

function messageOf(keyword: string, path: string, message: string): string {
  if (keyword === 'pattern' && path.endsWith('.mask'))
    return 'unknown masking rule (name, idcard, phone, redact, keep:A:B)';
  if (keyword === 'enum' && path.endsWith('.type')) return `must be one of ${FIELD_TYPES.join(', ')}`;
  if (keyword === 'enum' && path.endsWith('.op')) return `must be one of ${FILTER_OPS.join(' ')}`;
  return message;
}

/** `/fields/0/type` → `fields[0].type`. */
function pathOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, k) => (/^\d+$/.test(k) ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');
}
