// The resource catalog's rules (信息资源目录), pure: what a resource must say for its share type, field
// specs, the draft → published → retired life cycle, which changes a new version records, and the task
// fields an approved set of fields becomes.
import {
  FIELD_TYPES,
  type FieldType,
  type ResourceContent,
  type ResourceField,
  type ResourceState,
} from '../api/catalog.js';

// The catalog's vocabularies and records are part of the API, declared with its other records.
export { FIELD_TYPES, RESOURCE_STATES, SHARE_METHODS, SHARE_TYPES, UPDATE_CYCLES } from '../api/catalog.js';
export type {
  FieldType,
  ResourceContent,
  ResourceField,
  ResourceState,
  ShareMethod,
  ShareType,
  UpdateCycle,
} from '../api/catalog.js';

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MASK_RULE = /^(name|idcard|phone|redact|keep:\d{1,3}:\d{1,3})$/;

/** The first problem with a resource's content, as { field, problem }, or undefined when it is sound. */
export function resourceProblem(c: ResourceContent): { field: string; problem: string } | undefined {
  if (!c.name.trim()) return { field: 'name', problem: 'must not be blank' };
  if (c.fields.length === 0) return { field: 'fields', problem: 'a resource has at least one field' };
  const seen = new Set<string>();
  const columns = new Set<string>();
  for (const [i, f] of c.fields.entries()) {
    if (!FIELD_NAME.test(f.name))
      return {
        field: `fields[${i}].name`,
        problem: `${JSON.stringify(f.name)} is not a column name (letters, digits and _, not starting with a digit)`,
      };
    if (seen.has(f.name)) return { field: `fields[${i}].name`, problem: `field ${f.name} appears twice` };
    seen.add(f.name);
    if (f.column !== undefined && !FIELD_NAME.test(f.column))
      return {
        field: `fields[${i}].column`,
        problem: `${JSON.stringify(f.column)} is not a column name (letters, digits and _, not starting with a digit)`,
      };
    const col = f.column ?? f.name;
    if (columns.has(col)) return { field: `fields[${i}].column`, problem: `source column ${col} is published twice` };
    columns.add(col);
    if (!(FIELD_TYPES as readonly string[]).includes(f.type))
      return { field: `fields[${i}].type`, problem: `must be one of ${FIELD_TYPES.join(', ')}` };
    if (f.mask !== undefined) {
      if (!MASK_RULE.test(f.mask))
        return {
          field: `fields[${i}].mask`,
          problem: `unknown rule ${JSON.stringify(f.mask)} (name, idcard, phone, redact, keep:A:B)`,
        };
      if (!f.sensitive)
        return { field: `fields[${i}].mask`, problem: `only a sensitive field is masked: set sensitive on ${f.name}` };
    }
  }
  if (c.shareType === 'conditional' && !c.conditions.trim())
    return { field: 'conditions', problem: 'a conditional resource (有条件共享) states its conditions of use' };
  if (c.shareType === 'not_shared' && !c.legalBasis.trim())
    return {
      field: 'legalBasis',
      problem: 'a not-shared resource (不予共享) states the law or regulation it rests on',
    };
  if (c.shareType !== 'not_shared' && c.shareMethods.length === 0)
    return { field: 'shareMethods', problem: 'a shared resource names at least one share method' };
  if (c.shareType === 'not_shared' && c.shareMethods.length > 0)
    return { field: 'shareMethods', problem: 'a not-shared resource has no share methods' };
  if (new Set(c.shareMethods).size !== c.shareMethods.length)
    return { field: 'shareMethods', problem: 'a method appears twice' };
  return undefined;
}

const TRANSITIONS: Record<ResourceState, readonly ResourceState[]> = {
  draft: ['published', 'retired'],
  published: ['retired'],
  retired: [],
};

/** Why a resource in state `from` cannot move to `to`, or undefined when it can. */
export function transitionProblem(from: ResourceState, to: ResourceState): string | undefined {
  if (TRANSITIONS[from].includes(to)) return undefined;
  if (from === to) return `it is already ${to}`;
  return `a ${from} resource cannot become ${to}${from === 'retired' ? ' (retired is final)' : ''}`;
}

/** Content keys whose values differ between two versions (what a version note and a consumer notice list). */
export function changedKeys(before: ResourceContent, after: ResourceContent): (keyof ResourceContent)[] {
  const keys = Object.keys(after) as (keyof ResourceContent)[];
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/** A field of an agent task (the pipeline's FieldSpec). */
export interface TaskField {
  /** Source column. */
  name: string;
  /** Name sent (the published name) when it differs from the column. */
  as?: string;
  type: FieldType;
  required: boolean;
  mask?: string;
}

/**
 * The task fields of an approved set: the resource's fields that were approved, in catalog order, read
 * from their source column and sent under their published name; a sensitive field is masked with its
 * own rule, else redacted entirely.
 */
export function taskFields(fields: readonly ResourceField[], approved: readonly string[]): TaskField[] {
  const allowed = new Set(approved);
  return fields
    .filter((f) => allowed.has(f.name))
    .map((f) => ({
      // The provider's agent reads the source column and sends it under the published name.
      name: f.column ?? f.name,
      ...(f.column !== undefined && f.column !== f.name && { as: f.name }),
      type: f.type,
      required: f.required,
      ...(f.sensitive && { mask: f.mask ?? 'redact' }),
    }));
}

/** Names in `wanted` that are not fields of the resource. */
export function unknownFields(fields: readonly ResourceField[], wanted: readonly string[]): string[] {
  const names = new Set(fields.map((f) => f.name));
  return wanted.filter((w) => !names.has(w));
}
