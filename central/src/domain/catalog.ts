// The resource catalog's rules (信息资源目录), pure: what a resource must say for its share type, field
// specs, the draft → published → retired life cycle, which changes a new version records, and the task
// fields an approved set of fields becomes.

export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'date', 'datetime'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const SHARE_TYPES = ['unconditional', 'conditional', 'not_shared'] as const;
/** 无条件共享 · 有条件共享 · 不予共享. */
export type ShareType = (typeof SHARE_TYPES)[number];
export const SHARE_METHODS = ['database_sync', 'file_transfer', 'online_query'] as const;
/** 库表同步 · 文件传输 · 联机查询. */
export type ShareMethod = (typeof SHARE_METHODS)[number];
export const UPDATE_CYCLES = ['realtime', 'hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular'] as const;
export type UpdateCycle = (typeof UPDATE_CYCLES)[number];
export const RESOURCE_STATES = ['draft', 'published', 'retired'] as const;
export type ResourceState = (typeof RESOURCE_STATES)[number];

export interface ResourceField {
  /** Column in the provider's source (letters, digits, _). */
  name: string;
  type: FieldType;
  description: string;
  required: boolean;
  /** Personal or otherwise protected data: masked on the way out. */
  sensitive: boolean;
  /** Masking rule for a sensitive field (name, idcard, phone, redact, keep:A:B); 'redact' when absent. */
  mask?: string;
}

/** What a catalog entry says (编目): everything but its identity, owner and life-cycle state. */
export interface ResourceContent {
  name: string;
  description: string;
  fields: ResourceField[];
  format: string;
  shareType: ShareType;
  /** Conditions of use of a conditional resource (required for conditional). */
  conditions: string;
  /** Law or regulation a not-shared resource rests on (required for not_shared). */
  legalBasis: string;
  shareMethods: ShareMethod[];
  updateCycle: UpdateCycle;
  /** Source name in the provider agent's config. */
  binding: string;
  /** Node of the provider department that reads the source. */
  providerNodeId: string | null;
}

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MASK_RULE = /^(name|idcard|phone|redact|keep:\d{1,3}:\d{1,3})$/;

/** The first problem with a resource's content, as { field, problem }, or undefined when it is sound. */
export function resourceProblem(c: ResourceContent): { field: string; problem: string } | undefined {
  if (!c.name.trim()) return { field: 'name', problem: 'must not be blank' };
  if (c.fields.length === 0) return { field: 'fields', problem: 'a resource has at least one field' };
  const seen = new Set<string>();
  for (const [i, f] of c.fields.entries()) {
    if (!FIELD_NAME.test(f.name)) return { field: `fields[${i}].name`, problem: `${JSON.stringify(f.name)} is not a column name (letters, digits and _, not starting with a digit)` };
    if (seen.has(f.name)) return { field: `fields[${i}].name`, problem: `field ${f.name} appears twice` };
    seen.add(f.name);
    if (!(FIELD_TYPES as readonly string[]).includes(f.type)) return { field: `fields[${i}].type`, problem: `must be one of ${FIELD_TYPES.join(', ')}` };
    if (f.mask !== undefined) {
      if (!MASK_RULE.test(f.mask)) return { field: `fields[${i}].mask`, problem: `unknown rule ${JSON.stringify(f.mask)} (name, idcard, phone, redact, keep:A:B)` };
      if (!f.sensitive) return { field: `fields[${i}].mask`, problem: `only a sensitive field is masked: set sensitive on ${f.name}` };
    }
  }
  if (c.shareType === 'conditional' && !c.conditions.trim())
    return { field: 'conditions', problem: 'a conditional resource (有条件共享) states its conditions of use' };
  if (c.shareType === 'not_shared' && !c.legalBasis.trim())
    return { field: 'legalBasis', problem: 'a not-shared resource (不予共享) states the law or regulation it rests on' };
  if (c.shareType !== 'not_shared' && c.shareMethods.length === 0) return { field: 'shareMethods', problem: 'a shared resource names at least one share method' };
  if (c.shareType === 'not_shared' && c.shareMethods.length > 0) return { field: 'shareMethods', problem: 'a not-shared resource has no share methods' };
  if (new Set(c.shareMethods).size !== c.shareMethods.length) return { field: 'shareMethods', problem: 'a method appears twice' };
  return undefined;
}

const TRANSITIONS: Record<ResourceState, readonly ResourceState[]> = { draft: ['published', 'retired'], published: ['retired'], retired: [] };

/** Why a resource in state `from` cannot move to `to`, or undefined when it can. */
export function transitionProblem(from: ResourceState, to: ResourceState): string | undefined {
  if (TRANSITIONS[from].includes(to)) return undefined;
  if (from === to) return `resource is already ${to}`;
  return `a ${from} resource cannot become ${to}${from === 'retired' ? ' (retired is final)' : ''}`;
}

/** Content keys whose values differ between two versions (what a version note and a consumer notice list). */
export function changedKeys(before: ResourceContent, after: ResourceContent): (keyof ResourceContent)[] {
  const keys = Object.keys(after) as (keyof ResourceContent)[];
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/** A field of an agent task (the pipeline's FieldSpec). */
export interface TaskField {
  name: string;
  type: FieldType;
  required: boolean;
  mask?: string;
}

/**
 * The task fields of an approved set: the resource's fields that were approved, in catalog order; a
 * sensitive field is masked with its own rule, else redacted entirely.
 */
export function taskFields(fields: readonly ResourceField[], approved: readonly string[]): TaskField[] {
  const allowed = new Set(approved);
  return fields
    .filter((f) => allowed.has(f.name))
    .map((f) => ({ name: f.name, type: f.type, required: f.required, ...(f.sensitive && { mask: f.mask ?? 'redact' }) }));
}

/** Names in `wanted` that are not fields of the resource. */
export function unknownFields(fields: readonly ResourceField[], wanted: readonly string[]): string[] {
  const names = new Set(fields.map((f) => f.name));
  return wanted.filter((w) => !names.has(w));
}
