// Scheduling policies (策略) as the API shows them (/api/v1/policies): what a policy sets and when, why
// (reason and evidence), where it is delivered and what each node made of it. The policy itself is the
// one contract of common/src/policy.ts.
import { Type, type Static } from 'typebox';
import {
  GENERATED_BY,
  POLICY_KINDS,
  PolicyBodySchema,
  PolicyEvidenceSchema,
  PolicyKnobsSchema,
  PolicyWindowSchema,
} from '../../../common/src/policy.js';
import { Id, Nullable } from './common.js';

export const PolicyKind = Type.Enum([...POLICY_KINDS]);
export const GeneratedBy = Type.Enum([...GENERATED_BY]);
export type GeneratedBy = Static<typeof GeneratedBy>;

/** POST /policies and PUT /policies/:id: the policy, and who wrote it (default operator). */
export const PolicyInputBody = Type.Object(
  {
    ...PolicyBodySchema.properties,
    generatedBy: Type.Optional(GeneratedBy),
  },
  { additionalProperties: false },
);
export type PolicyInputBody = Static<typeof PolicyInputBody>;

/**
 * active: delivered and valid now; scheduled: delivered, valid later; lapsed: its validity ended (still
 * delivered until withdrawn: the agent ignores it); expired: withdrawn (xchg policy delete), not delivered.
 */
export const PolicyState = Type.Enum(['active', 'scheduled', 'lapsed', 'expired']);
export type PolicyState = Static<typeof PolicyState>;

/** What a node made of the policy's current generation. */
export const PolicyDelivery = Type.Object({
  nodeId: Type.String(),
  outcome: Type.Enum(['pending', 'applied', 'rejected']),
  reason: Type.String(),
  at: Nullable(Type.Integer()),
});

/** The knobs in force now for one task of the policy, from every live policy of that task. */
export const KnobsNow = Type.Object({
  taskId: Type.String(),
  knobs: PolicyKnobsSchema,
  /** The policies that set them, in the order applied (statics, then dynamics). */
  policyIds: Type.Array(Type.String()),
  nextChangeMs: Nullable(Type.Integer()),
});

export const PolicyView = Type.Object({
  id: Id,
  kind: PolicyKind,
  generation: Type.Integer(),
  state: PolicyState,
  taskIds: Type.Array(Type.String()),
  nodeIds: Type.Array(Type.String()),
  subscriptionId: Type.String(),
  validFromMs: Type.Integer(),
  validUntilMs: Type.Integer(),
  utcOffsetMinutes: Type.Integer(),
  windows: Type.Array(PolicyWindowSchema),
  outside: PolicyKnobsSchema,
  holidays: Type.Array(Type.String()),
  makeUpWorkdays: Type.Array(Type.String()),
  reason: Type.String(),
  evidence: Type.Array(PolicyEvidenceSchema),
  generatedBy: GeneratedBy,
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  expiredAt: Nullable(Type.Integer()),
  delivery: Type.Array(PolicyDelivery),
  inForce: Type.Array(KnobsNow),
});
export type PolicyView = Static<typeof PolicyView>;

/** GET /policies filters. */
export const PolicyQuery = Type.Object(
  {
    task: Type.Optional(Type.String({ minLength: 1 })),
    node: Type.Optional(Type.String({ minLength: 1 })),
    kind: Type.Optional(PolicyKind),
    /** Include expired (withdrawn) policies (default false). */
    all: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'at most this many, newest first' })),
  },
  { additionalProperties: false },
);
export type PolicyQuery = Static<typeof PolicyQuery>;
