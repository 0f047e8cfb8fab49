// Who sees which record values (quarantined records, report bodies, run errors), pure. Record values are
// the provider's data: its raw source rows are seen by the provider department's officers, province
// administrators and auditors only; a consumer's officer sees its own side's records restricted to the
// fields of its grant, masked as cataloged; other callers entitled to the task see metadata without values;
// the rest are refused. Invariant: every view but raw passes values only through grantedRecord() or
// withholdValues(), never verbatim.
import { mask, parseMaskRule, type MaskRule } from '../../../common/src/mask.js';
import type { TaskKind, ValueView } from '../api/tasks.js';
import { Role, type Actor } from './roles.js';

export type { ValueView } from '../api/tasks.js';

/** A field a consumer's grant covers: its published name and the mask applied to it (none when not sensitive). */
export interface GrantedField {
  name: string;
  mask?: MaskRule;
}

/** What the access rule needs to know of a task. */
export interface TaskParties {
  taskId: string;
  kind: TaskKind;
  /** Department of the node that runs the task (the provider for sync, the consumer for exchange). */
  nodeDepartmentCode: string;
  /** Department of the node at the other end, or null. */
  peerDepartmentCode: string | null;
  /** The task's node lies in the caller's region subtree (only read for a city_admin). */
  inCallerRegion: boolean;
}

/** The view a caller gets of a task's record values, or why it gets none. */
export type RecordAccess = { view: ValueView } | { view: 'refused'; problem: string };

/**
 * The view `actor` gets of the record values of task `t`: province_admin and auditor raw (their reads are
 * audited by the caller); operator, a city_admin whose region holds the task's node, and the provider's
 * officer looking at the consumer side withheld; the provider's officer raw on its own sync task; a
 * consumer's officer granted on its own exchange task and refused on the provider side; anyone else refused.
 */
export function recordAccess(actor: Actor, t: TaskParties): RecordAccess {
  switch (actor.role) {
    case Role.PROVINCE_ADMIN:
    case Role.AUDITOR:
      return { view: 'raw' };
    case Role.OPERATOR:
      return { view: 'withheld' };
    case Role.CITY_ADMIN:
      return t.inCallerRegion
        ? { view: 'withheld' }
        : {
            view: 'refused',
            problem: `city_admin ${actor.name} administers region ${actor.regionCode ?? '(none)'}; task ${t.taskId} runs on a node outside it`,
          };
    case Role.OFFICER: {
      const dept = actor.departmentCode ?? '';
      if (dept && dept === t.nodeDepartmentCode) return { view: t.kind === 'sync' ? 'raw' : 'granted' };
      if (dept && dept === t.peerDepartmentCode) {
        if (t.kind === 'exchange') return { view: 'withheld' };
        return {
          view: 'refused',
          problem:
            `task ${t.taskId} is the provider side (sync task) of ${t.nodeDepartmentCode}: its quarantine holds the provider's source rows, ` +
            `seen only by ${t.nodeDepartmentCode}'s officers, province administrators and auditors; officer ${actor.name} of ${dept} sees its own side (the exchange task)`,
        };
      }
      return {
        view: 'refused',
        problem: `officer ${actor.name} of ${dept || '(none)'} is not a party to task ${t.taskId} (${t.kind === 'sync' ? `${t.nodeDepartmentCode} → ${t.peerDepartmentCode ?? '-'}` : `${t.peerDepartmentCode ?? '-'} → ${t.nodeDepartmentCode}`})`,
      };
    }
  }
}

/**
 * The fields a consumer's exchange task is granted, with their masks. When the task moves a catalog
 * resource, the grant is the subscription's (else the task's allowed) fields that the resource has, masked
 * by the resource's rules (a sensitive field without a rule is redacted); a task outside the catalog is
 * granted the fields its params name, with their masks.
 */
export function grantedFields(input: {
  /** The subscription's fields (an agreement's or, unconditional, all the resource's), when the task has one. */
  subscriptionFields?: readonly string[];
  params: Record<string, unknown>;
  resourceFields?: readonly { name: string; sensitive: boolean; mask?: string }[];
}): GrantedField[] {
  const specs = (Array.isArray(input.params['fields']) ? input.params['fields'] : []).map((f) => {
    const { name, as, mask: m } = (f ?? {}) as { name?: unknown; as?: unknown; mask?: unknown };
    return {
      name: String(typeof as === 'string' && as ? as : (name ?? '')),
      mask: typeof m === 'string' ? m : undefined,
    };
  });
  const allowed = Array.isArray(input.params['allowedFields']) ? input.params['allowedFields'].map(String) : undefined;
  const names = input.subscriptionFields ?? allowed ?? specs.map((s) => s.name);
  const rule = (r: string | undefined): MaskRule | undefined =>
    r === undefined ? undefined : (parseMaskRule(r) ?? 'redact');
  if (input.resourceFields) {
    const byName = new Map(input.resourceFields.map((f) => [f.name, f]));
    return names.flatMap((n) => {
      const f = byName.get(n);
      if (!f) return [];
      const m = f.sensitive ? rule(f.mask ?? 'redact') : undefined;
      return [{ name: n, ...(m && { mask: m }) }];
    });
  }
  const maskOf = new Map(specs.map((s) => [s.name, s.mask]));
  return names.map((n) => {
    const m = rule(maskOf.get(n));
    return { name: n, ...(m && { mask: m }) };
  });
}

/** A record value masked by `rule`; a value in wire form ({"$": tag, "v": text}) is masked as its text, binary redacted. */
export function maskValue(value: unknown, rule: MaskRule): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { v?: unknown }).v === 'string') {
    const w = value as { $?: unknown; v: string };
    return w.$ === 'b' ? '***' : mask(w.v, rule);
  }
  return mask(value, rule);
}

/** The granted view of a record: only the granted fields it holds, in grant order, each masked by its rule. */
export function grantedRecord(
  record: Record<string, unknown>,
  fields: readonly GrantedField[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!Object.hasOwn(record, f.name)) continue;
    const v = record[f.name];
    out[f.name] = f.mask ? maskValue(v, f.mask) : v;
  }
  return out;
}

/**
 * Free text (a quarantine reason, a run's error, an event message) with the values it may quote taken
 * out: quoted strings, the value after "got <type>", a database's key detail "(col)=(value)", and runs of
 * eight or more digits (ID card and phone numbers). What is left names the problem, the field and the type.
 */
export function withholdValues(text: string): string {
  return text
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/\bgot (string|number|bigint|boolean|object) (?!["'])[^\s,;)]+/g, 'got $1 …')
    .replace(/=\([^()]*\)/g, '=(…)')
    .replace(/\d{8,}[Xx]?/g, '…');
}

/** A quarantine origin without values: a cursor position ("cursor:<value>") keeps only its kind; a batch id stays. */
export function withholdOrigin(origin: string): string {
  return origin.startsWith('cursor:') ? 'cursor:…' : withholdValues(origin);
}
