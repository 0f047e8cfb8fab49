// Whether a consumer node may subscribe to a resource (订阅), pure: given the facts the service looked up
// (the agreement and resource named, the node, its active subscriptions of the resource) and `now`, the
// plan of the subscription or the first reason to refuse it, in a fixed order of checks.
import type { ShareMethod, ShareType } from '../api/catalog.js';
import { actForProblem, type Actor } from './roles.js';
import { accessFor, agreementStateAt, type AgreementState } from './sharing.js';

/** What the caller asked for. */
export interface SubscribeRequest {
  resourceCode?: string;
  agreementId?: string;
  consumerNodeId: string;
  sinkBinding: string;
  method?: string;
}

export interface SubscribeAgreement {
  id: string;
  resourceCode: string;
  consumerDepartmentCode: string;
  fields: string[];
  status: AgreementState;
  validFrom: number;
  validUntil: number;
}

export interface SubscribeResource {
  code: string;
  status: 'draft' | 'published' | 'retired';
  shareType: ShareType;
  legalBasis: string;
  providerDepartmentCode: string;
  providerNodeId: string | null;
  binding: string;
  shareMethods: ShareMethod[];
  fields: readonly { name: string }[];
}

/** Everything the decision rests on; lookups that found nothing are undefined. */
export interface SubscribeFacts<
  A extends SubscribeAgreement = SubscribeAgreement,
  R extends SubscribeResource = SubscribeResource,
> {
  request: SubscribeRequest;
  actor: Actor;
  /** The agreement request.agreementId names. */
  agreement: A | undefined;
  /** The resource request.resourceCode names, else the agreement's. */
  resource: R | undefined;
  node: { id: string; departmentCode: string } | undefined;
  /** The node's active subscriptions of the resource (a second one into the same sink is refused). */
  active: readonly { id: string; sinkBinding: string }[];
}

/** The subscription to create: both ends, the method and the fields (the agreement's, else all). */
export interface SubscribePlan<A, R> {
  ok: true;
  agreement: A | undefined;
  resource: R;
  providerNodeId: string;
  node: { id: string; departmentCode: string };
  method: string;
  fields: string[];
}

/** Why not: an error code of errors.ts, the full message, and the field it names (when it names one). */
export interface SubscribeRefusal {
  ok: false;
  code: 'NOT_FOUND' | 'FAILED_PRECONDITION' | 'PERMISSION_DENIED' | 'INVALID_ARGUMENT' | 'ALREADY_EXISTS';
  message: string;
  field?: string;
}

const refuse = (code: SubscribeRefusal['code'], field: string | undefined, message: string): SubscribeRefusal => ({
  ok: false,
  code,
  message,
  ...(field !== undefined && { field }),
});
const invalid = (field: string, problem: string): SubscribeRefusal =>
  refuse('INVALID_ARGUMENT', field, `${field}: ${problem}`);

/** The agreement's and the resource's part of the checks; the resource when they pass. */
function checkResource<A extends SubscribeAgreement, R extends SubscribeResource>(
  f: SubscribeFacts<A, R>,
  now: number,
): SubscribeRefusal | { ok: true; resource: R } {
  const req = f.request;
  const ag = req.agreementId ? f.agreement : undefined;
  if (req.agreementId) {
    if (!ag)
      return refuse('NOT_FOUND', 'agreementId', `agreementId: agreement ${JSON.stringify(req.agreementId)} not found`);
    const state = agreementStateAt(ag, now);
    if (state !== 'active')
      return refuse('FAILED_PRECONDITION', 'agreementId', `agreementId: agreement ${ag.id} is ${state}; apply again`);
    if (req.resourceCode && req.resourceCode !== ag.resourceCode)
      return invalid('resourceCode', `agreement ${ag.id} is for resource ${ag.resourceCode}, not ${req.resourceCode}`);
  }
  const code = req.resourceCode ?? ag?.resourceCode;
  if (!code) return invalid('resourceCode', 'required: name the resource (or the agreement it is granted by)');
  const r = f.resource;
  if (!r) return refuse('NOT_FOUND', 'resourceCode', `resourceCode: resource ${JSON.stringify(code)} not found`);
  if (r.status !== 'published')
    return refuse(
      'FAILED_PRECONDITION',
      'resourceCode',
      `resourceCode: resource ${r.code} is ${r.status}; only a published resource is subscribed to`,
    );
  const access = accessFor(r);
  if (access.kind === 'refused') return refuse('PERMISSION_DENIED', 'resourceCode', `resourceCode: ${access.reason}`);
  if (access.kind === 'apply' && !ag)
    return refuse(
      'FAILED_PRECONDITION',
      'agreementId',
      `agreementId: resource ${r.code} is conditional (有条件共享): apply for it and subscribe on the agreement its approval creates`,
    );
  return { ok: true, resource: r };
}

/**
 * The plan of the subscription, or the first reason to refuse it, checked in this order: the agreement
 * (exists, active at `now`, for this resource), the resource (named, exists, published, shared; conditional
 * only on an agreement), the node (exists, the actor acts for its department, it holds the agreement), the
 * provider's node and binding, the method, and no active subscription into the same sink.
 */
export function subscribePlan<A extends SubscribeAgreement, R extends SubscribeResource>(
  f: SubscribeFacts<A, R>,
  now: number,
): SubscribePlan<A, R> | SubscribeRefusal {
  const checked = checkResource(f, now);
  if (!checked.ok) return checked;
  const r = checked.resource;
  const { request: req, node } = f;
  const ag = req.agreementId ? f.agreement : undefined;
  if (!node) return invalid('consumerNodeId', `node ${JSON.stringify(req.consumerNodeId)} not found`);
  const actProblem = actForProblem(f.actor, node.departmentCode);
  if (actProblem) return refuse('PERMISSION_DENIED', undefined, actProblem);
  if (ag && node.departmentCode !== ag.consumerDepartmentCode)
    return refuse(
      'PERMISSION_DENIED',
      'consumerNodeId',
      `consumerNodeId: node ${node.id} belongs to ${node.departmentCode}; agreement ${ag.id} is held by ${ag.consumerDepartmentCode}`,
    );
  if (!r.providerNodeId || !r.binding)
    return refuse(
      'FAILED_PRECONDITION',
      'resourceCode',
      `resource ${r.code} names no provider node and binding yet; its provider sets providerNodeId and binding`,
    );
  const method = req.method ?? r.shareMethods[0] ?? 'database_sync';
  if (!(r.shareMethods as string[]).includes(method))
    return invalid('method', `resource ${r.code} is shared by ${r.shareMethods.join(', ')}, not ${method}`);
  const dup = f.active.find((s) => s.sinkBinding === req.sinkBinding);
  if (dup)
    return refuse(
      'ALREADY_EXISTS',
      'subscription',
      `subscription ${JSON.stringify(`${r.code} → ${node.id}/${req.sinkBinding} (${dup.id})`)} already exists`,
    );
  const fields = ag ? ag.fields : r.fields.map((x) => x.name);
  return { ok: true, agreement: ag, resource: r, providerNodeId: r.providerNodeId, node, method, fields };
}
