// Sharing (共享): applications for conditional resources (共享申请), the agreements approval creates
// (共享协议), and subscriptions (订阅) — a resource flowing to a consumer node — as the API shows them,
// with the bodies that apply, approve, reject, revoke and subscribe (/api/v1/applications, /agreements,
// /subscriptions).
import { Type, type Static } from 'typebox';
import { SHARE_METHODS } from './catalog.js';
import { Code, Id, Nullable, ResourceCode } from './common.js';
import { TaskRefusal } from './tasks.js';

export const APPLICATION_STATES = ['pending', 'approved', 'rejected'] as const;
export type ApplicationState = (typeof APPLICATION_STATES)[number];
export const AGREEMENT_STATES = ['active', 'revoked', 'expired'] as const;
export type AgreementState = (typeof AGREEMENT_STATES)[number];
export const SUBSCRIPTION_STATES = ['active', 'stopped'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];
/**
 * Where a subscription's flow stands at this instant: stopped (its status), refused (a node refuses one of
 * its tasks), pending (a task's current generation not acknowledged yet) or active (both tasks applied).
 */
export const SUBSCRIPTION_FLOW_STATES = ['active', 'pending', 'refused', 'stopped'] as const;
export type SubscriptionFlowState = (typeof SUBSCRIPTION_FLOW_STATES)[number];

const applicationProperties = {
  id: Type.String(),
  resourceCode: Type.String(),
  resourceVersion: Type.Integer(),
  providerDepartmentCode: Type.String(),
  consumerDepartmentCode: Type.String(),
  applicant: Type.String(),
  purpose: Type.String(),
  requestedFields: Type.Array(Type.String()),
  status: Type.Enum([...APPLICATION_STATES]),
  submittedAt: Type.Integer(),
  deadlineAt: Type.Integer(),
  answeredAt: Nullable(Type.Integer()),
  answeredBy: Nullable(Type.String()),
  reason: Type.String(),
  approvedFields: Nullable(Type.Array(Type.String())),
  agreementId: Nullable(Type.String()),
};
export const Application = Type.Object(applicationProperties);
export type Application = Static<typeof Application>;

/** An application as the API returns it: with whether it is pending past its deadline. */
export const ApplicationView = Type.Object({
  ...applicationProperties,
  overdue: Type.Boolean({ description: 'pending and past its deadline' }),
});
export type ApplicationView = Static<typeof ApplicationView>;

// An agreement's properties in two parts, so the view can put its state right after its status.
const agreementHead = {
  id: Type.String(),
  applicationId: Type.String(),
  resourceCode: Type.String(),
  providerDepartmentCode: Type.String(),
  consumerDepartmentCode: Type.String(),
  fields: Type.Array(Type.String()),
  purpose: Type.String(),
  validFrom: Type.Integer(),
  validUntil: Type.Integer(),
  status: Type.Enum([...AGREEMENT_STATES]),
};
const agreementTail = {
  createdAt: Type.Integer(),
  endedAt: Nullable(Type.Integer()),
  endedBy: Nullable(Type.String()),
  endReason: Type.String(),
};
export const Agreement = Type.Object({ ...agreementHead, ...agreementTail });
export type Agreement = Static<typeof Agreement>;

/** An agreement as the API returns it: with its state at this instant (active past validUntil reads expired). */
export const AgreementView = Type.Object({
  ...agreementHead,
  state: Type.Enum([...AGREEMENT_STATES], {
    description: 'status at this instant (active past validUntil reads expired)',
  }),
  ...agreementTail,
});
export type AgreementView = Static<typeof AgreementView>;

const subscriptionProperties = {
  id: Type.String(),
  resourceCode: Type.String(),
  agreementId: Nullable(Type.String()),
  providerDepartmentCode: Type.String(),
  consumerDepartmentCode: Type.String(),
  providerNodeId: Type.String(),
  consumerNodeId: Type.String(),
  sinkBinding: Type.String(),
  method: Type.String(),
  fields: Type.Array(Type.String()),
  syncTaskId: Type.String(),
  exchangeTaskId: Type.String(),
  status: Type.Enum([...SUBSCRIPTION_STATES]),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  stoppedAt: Nullable(Type.Integer()),
  stopReason: Type.String(),
};
export const Subscription = Type.Object(subscriptionProperties);
export type Subscription = Static<typeof Subscription>;

/** GET /subscriptions, /subscriptions/:id: a subscription with the state of its flow. */
export const SubscriptionView = Type.Object({
  ...subscriptionProperties,
  state: Type.Enum([...SUBSCRIPTION_FLOW_STATES], {
    description:
      'where the flow stands: stopped (status), refused (a node refuses one of its tasks, see refusals), pending (not acknowledged yet), active',
  }),
  refusals: Type.Array(TaskRefusal, {
    description: "its tasks' current generations that a node refuses, with the node's reason",
  }),
});
export type SubscriptionView = Static<typeof SubscriptionView>;

/** GET /agreements/:id: one agreement with its subscriptions. */
export const AgreementDetail = Type.Object({
  ...AgreementView.properties,
  subscriptions: Type.Array(SubscriptionView),
});
export type AgreementDetail = Static<typeof AgreementDetail>;

/** POST /applications/:id/approve: the application, now approved, and the agreement it created. */
export const Approval = Type.Object({ application: ApplicationView, agreement: AgreementView });
export type Approval = Static<typeof Approval>;

// ── Requests ──

const FieldNames = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 500 });
const Reason = Type.String({ minLength: 1, maxLength: 2000 });

/** Filters of the three listings; `department` matches either party. */
const partyQuery = { resource: Type.Optional(ResourceCode), department: Type.Optional(Code) };

/** GET /applications. */
export const ApplicationQuery = Type.Object(
  { ...partyQuery, status: Type.Optional(Type.Enum([...APPLICATION_STATES])), overdue: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
/** GET /agreements. */
export const AgreementQuery = Type.Object(
  { ...partyQuery, status: Type.Optional(Type.Enum([...AGREEMENT_STATES])) },
  { additionalProperties: false },
);
/** GET /subscriptions. */
export const SubscriptionQuery = Type.Object(
  { ...partyQuery, status: Type.Optional(Type.Enum([...SUBSCRIPTION_STATES])), agreement: Type.Optional(Id) },
  { additionalProperties: false },
);

/** POST /applications: apply for a conditional resource with a purpose (fields default to all). */
export const ApplyBody = Type.Object(
  {
    resourceCode: ResourceCode,
    consumerDepartmentCode: Type.Optional(Code),
    purpose: Type.String({ minLength: 1, maxLength: 2000, description: 'what the data is for (申请用途)' }),
    fields: Type.Optional(FieldNames),
  },
  { additionalProperties: false },
);
export type ApplyBody = Static<typeof ApplyBody>;

/** POST /applications/:id/approve (the body is optional: all requested fields, central's default validity). */
export const ApproveBody = Type.Object(
  {
    fields: Type.Optional(FieldNames),
    validUntil: Type.Optional(Type.Integer({ minimum: 0, description: 'end of validity, ms since epoch' })),
    validDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ApproveBody = Static<typeof ApproveBody>;

/** POST /applications/:id/reject, POST /agreements/:id/revoke: the reason is required. */
export const ReasonBody = Type.Object({ reason: Reason }, { additionalProperties: false });
export type ReasonBody = Static<typeof ReasonBody>;

/** A row filter of a subscription (applied by the provider's pipeline). */
export const FlowFilter = Type.Object(
  {
    field: Type.String({ minLength: 1, maxLength: 64 }),
    op: Type.Enum(['=', '!=', '>', '>=', '<', '<=', 'in', 'notnull', 'prefix']),
    value: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type FlowFilter = Static<typeof FlowFilter>;

/** POST /subscriptions: subscribe a consumer node (unconditional resource, or on an agreement). */
export const SubscribeBody = Type.Object(
  {
    resourceCode: Type.Optional(ResourceCode),
    agreementId: Type.Optional(Id),
    consumerNodeId: Id,
    sinkBinding: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_.-]+$',
      description: "sink name in the consumer agent's config",
    }),
    method: Type.Optional(Type.Enum([...SHARE_METHODS])),
    intervalMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600_000 })),
    filters: Type.Optional(Type.Array(FlowFilter, { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type SubscribeBody = Static<typeof SubscribeBody>;
