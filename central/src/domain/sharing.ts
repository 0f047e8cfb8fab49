// Sharing rules (共享申请, 协议), pure: who may obtain a resource and how, the application's states
// (pending → approved | rejected, never approved by the clock), whether it is overdue, and whether an
// agreement still holds at a given instant.
import type { ShareType } from '../api/catalog.js';
import type { AgreementState, ApplicationState } from '../api/sharing.js';

// The states are part of the API's vocabulary, declared with its records.
export { AGREEMENT_STATES, APPLICATION_STATES } from '../api/sharing.js';
export type { AgreementState, ApplicationState } from '../api/sharing.js';

/** How a consumer obtains a resource of a share type. */
export type Access = { kind: 'subscribe' } | { kind: 'apply' } | { kind: 'refused'; reason: string };

export function accessFor(r: { code: string; shareType: ShareType; legalBasis: string }): Access {
  if (r.shareType === 'unconditional') return { kind: 'subscribe' };
  if (r.shareType === 'conditional') return { kind: 'apply' };
  return { kind: 'refused', reason: `resource ${r.code} is not shared (不予共享); legal basis: ${r.legalBasis}` };
}

/** Why an application in `state` cannot be answered, or undefined when it can. */
export function answerProblem(state: ApplicationState): string | undefined {
  return state === 'pending' ? undefined : `application was already ${state}; an answer is final`;
}

/** A pending application past its deadline: shown as overdue and alarmed, never approved automatically. */
export function isOverdue(a: { status: ApplicationState; deadlineAt: number }, now: number): boolean {
  return a.status === 'pending' && now >= a.deadlineAt;
}

/** Answered within the deadline (for evaluation): undefined while unanswered. */
export function answeredOnTime(a: { answeredAt: number | null; deadlineAt: number }): boolean | undefined {
  return a.answeredAt === null ? undefined : a.answeredAt < a.deadlineAt;
}

/** The agreement's state at `now`: an active one past its end is expired even before the sweep records it. */
export function agreementStateAt(
  a: { status: AgreementState; validFrom: number; validUntil: number },
  now: number,
): AgreementState {
  if (a.status !== 'active') return a.status;
  return now >= a.validUntil ? 'expired' : 'active';
}

/** Why the approved fields are not acceptable for an application that requested `requested`, or undefined. */
export function approvedFieldsProblem(requested: readonly string[], approved: readonly string[]): string | undefined {
  if (approved.length === 0) return 'approve at least one field (or reject the application)';
  const extra = approved.filter((f) => !requested.includes(f));
  if (extra.length)
    return `not requested by the applicant: ${extra.join(', ')} (approve a subset of ${requested.join(', ')})`;
  if (new Set(approved).size !== approved.length) return 'a field appears twice';
  return undefined;
}

/** What the task guard knows of a task that would move a catalog resource. */
export interface TaskGrant {
  kind: 'sync' | 'exchange';
  nodeId: string;
  binding: string;
  /** Department of the node that runs the task, and of its peer (null when there is no peer). */
  nodeDepartmentCode: string;
  peerDepartmentCode: string | null;
  /** Published names of params.fields (their `as`, else their column) and of params.allowedFields; empty when the task names none (every column would pass). */
  fieldNames: readonly string[];
  /** What each of params.fields reads: its source column and the published name it is sent under. */
  reads?: readonly { column: string; published: string }[];
  agreementId: string;
}

export interface GrantResource {
  code: string;
  status: 'draft' | 'published' | 'retired';
  shareType: ShareType;
  legalBasis: string;
  providerDepartmentCode: string;
  providerNodeId: string | null;
  binding: string;
  fields: readonly { name: string; column?: string }[];
}

export interface GrantAgreement {
  id: string;
  resourceCode: string;
  consumerDepartmentCode: string;
  fields: readonly string[];
  status: AgreementState;
  validFrom: number;
  validUntil: number;
}

/** Why a task may not move a resource: the error code, the field named and the problem. */
export interface GrantProblem {
  code: 'PERMISSION_DENIED' | 'INVALID_ARGUMENT' | 'FAILED_PRECONDITION';
  field: string;
  problem: string;
}

/**
 * Why central must refuse an enabled task that moves `resource` (the data of a conditional resource leaves
 * its provider only under an active agreement, and only the fields agreed), or undefined when it may run.
 * `code` says whether the caller lacks a right (PERMISSION_DENIED) or gave a malformed task (INVALID_ARGUMENT).
 */
export function taskGrantProblem(
  t: TaskGrant,
  resource: GrantResource,
  agreement: GrantAgreement | undefined,
  now: number,
): GrantProblem | undefined {
  if (resource.status !== 'published')
    return {
      code: 'FAILED_PRECONDITION',
      field: 'resourceCode',
      problem: `resource ${resource.code} is ${resource.status}: it starts no flows`,
    };
  const access = accessFor(resource);
  if (access.kind === 'refused') return { code: 'PERMISSION_DENIED', field: 'resourceCode', problem: access.reason };
  const providerSide = t.kind === 'sync' ? t.nodeDepartmentCode : t.peerDepartmentCode;
  if (providerSide !== null && providerSide !== resource.providerDepartmentCode)
    return {
      code: 'INVALID_ARGUMENT',
      field: t.kind === 'sync' ? 'nodeId' : 'peerNodeId',
      problem: `resource ${resource.code} is provided by ${resource.providerDepartmentCode}, not by ${providerSide}`,
    };
  if (
    t.kind === 'sync' &&
    resource.providerNodeId &&
    (t.nodeId !== resource.providerNodeId || t.binding !== resource.binding)
  )
    return {
      code: 'INVALID_ARGUMENT',
      field: 'binding',
      problem: `resource ${resource.code} is read from binding ${resource.binding} on node ${resource.providerNodeId}`,
    };
  const fields = taskFieldsProblem(t, resource);
  if (fields) return fields;
  if (access.kind === 'subscribe' && !t.agreementId) return undefined;
  return agreementProblem(t, resource, agreement, now);
}

/** The task's fields against the catalog: named, fields of the resource, each read from its own column. */
function taskFieldsProblem(t: TaskGrant, resource: GrantResource): GrantProblem | undefined {
  if (t.fieldNames.length === 0)
    return {
      code: 'INVALID_ARGUMENT',
      field: 'params.fields',
      problem: `a task of catalog resource ${resource.code} names the fields it moves`,
    };
  const known = new Set(resource.fields.map((f) => f.name));
  const unknown = t.fieldNames.filter((f) => !known.has(f));
  if (unknown.length)
    return {
      code: 'INVALID_ARGUMENT',
      field: 'params.fields',
      problem: `not fields of resource ${resource.code}: ${unknown.join(', ')}`,
    };
  // A published field is read from its cataloged column only (no other column under its name).
  const columnOf = new Map(resource.fields.map((f) => [f.name, f.column ?? f.name]));
  const misread = (t.reads ?? []).find((r) => columnOf.get(r.published) !== r.column);
  if (misread)
    return {
      code: 'INVALID_ARGUMENT',
      field: 'params.fields',
      problem: `field ${misread.published} of resource ${resource.code} is read from column ${columnOf.get(misread.published)}, not ${misread.column}`,
    };
  return undefined;
}

/** The task's agreement: named, of this resource, active at `now`, held by the consumer, covering the fields. */
function agreementProblem(
  t: TaskGrant,
  resource: GrantResource,
  agreement: GrantAgreement | undefined,
  now: number,
): GrantProblem | undefined {
  if (!t.agreementId)
    return {
      code: 'PERMISSION_DENIED',
      field: 'params.agreementId',
      problem: `resource ${resource.code} is conditional (有条件共享): its data moves only under an approved agreement`,
    };
  if (!agreement || agreement.resourceCode !== resource.code)
    return {
      code: 'PERMISSION_DENIED',
      field: 'params.agreementId',
      problem: `agreement ${t.agreementId} does not exist for resource ${resource.code}`,
    };
  const state = agreementStateAt(agreement, now);
  if (state !== 'active')
    return { code: 'PERMISSION_DENIED', field: 'params.agreementId', problem: `agreement ${agreement.id} is ${state}` };
  const consumerSide = t.kind === 'exchange' ? t.nodeDepartmentCode : t.peerDepartmentCode;
  if (consumerSide !== null && consumerSide !== agreement.consumerDepartmentCode)
    return {
      code: 'PERMISSION_DENIED',
      field: t.kind === 'exchange' ? 'nodeId' : 'peerNodeId',
      problem: `agreement ${agreement.id} is held by ${agreement.consumerDepartmentCode}, not by ${consumerSide}`,
    };
  const beyond = t.fieldNames.filter((f) => !agreement.fields.includes(f));
  if (beyond.length)
    return {
      code: 'PERMISSION_DENIED',
      field: 'params.fields',
      problem: `agreement ${agreement.id} does not cover: ${beyond.join(', ')}`,
    };
  return undefined;
}
