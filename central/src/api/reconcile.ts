// Reconciliation (对账): verification runs of a subscription — what the consumer's agent found and
// repaired — and its verification schedule (/api/v1/subscriptions/:id/verify…, /api/v1/verifications/:id).
import { Type, type Static } from 'typebox';
import type { VerificationResult as SharedVerificationResult } from '../../../common/src/verification-result.js';
import { Nullable } from './common.js';

const KeyList = Type.Array(Type.Record(Type.String(), Type.Unknown()));
/** What the consumer's agent found (common/src/verification-result.ts declares it for the agent too). */
export const VerificationResult = Type.Object({
  rowsSource: Type.Integer(),
  rowsSink: Type.Integer(),
  rowsCompared: Type.Integer(),
  /** Source rows the pipeline refuses (they are in the provider's quarantine, not compared). */
  sourceRejected: Type.Integer(),
  buckets: Type.Integer(),
  bucketsDiffering: Type.Integer(),
  missing: Type.Integer(),
  extra: Type.Integer(),
  different: Type.Integer(),
  /** Up to 100 keys of each class, as objects of key column → value (wire form). */
  samples: Type.Object({ missing: KeyList, extra: KeyList, different: KeyList }),
  durationMs: Type.Integer(),
  rowsPerSecond: Type.Number(),
  repair: Type.Optional(Type.Object({ upserts: Type.Integer(), tombstones: Type.Integer(), rejected: Type.Integer() })),
});
export type VerificationResult = Static<typeof VerificationResult>;
// The schema and the agent's declaration must say the same: each is assignable to the other.
const _agentToApi = (r: SharedVerificationResult): VerificationResult => r;
const _apiToAgent = (r: VerificationResult): SharedVerificationResult => r;
void _agentToApi;
void _apiToAgent;

/** Life of a verification run: central creates it, the consumer's agent reports it running and then its end. */
export const VERIFICATION_STATES = ['requested', 'running', 'done', 'failed'] as const;
export type VerificationState = (typeof VERIFICATION_STATES)[number];
export const VERIFICATION_TRIGGERS = ['manual', 'scheduled'] as const;
export type VerificationTrigger = (typeof VERIFICATION_TRIGGERS)[number];

export const Verification = Type.Object({
  id: Type.String(),
  subscriptionId: Type.String(),
  exchangeTaskId: Type.String(),
  consumerNodeId: Type.String(),
  providerNodeId: Type.String(),
  repair: Type.Boolean(),
  trigger: Type.Enum([...VERIFICATION_TRIGGERS]),
  state: Type.Enum([...VERIFICATION_STATES]),
  requestedBy: Type.String(),
  requestedAt: Type.Integer(),
  startedAt: Nullable(Type.Integer()),
  finishedAt: Nullable(Type.Integer()),
  error: Type.String(),
  result: Nullable(VerificationResult),
});
export type Verification = Static<typeof Verification>;

export const VerifySchedule = Type.Object({
  subscriptionId: Type.String(),
  /** 0: never verified on a schedule. */
  intervalMs: Type.Integer(),
  /** 'subscription' when set for it, 'default' when central's default applies. */
  source: Type.Enum(['subscription', 'default']),
});
export type VerifySchedule = Static<typeof VerifySchedule>;

/** POST /subscriptions/:id/verify (the body is optional: no repair). */
export const VerifyBody = Type.Optional(
  Type.Object({ repair: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
);
/** PUT /subscriptions/:id/verify-schedule: 0 never, null central's default. */
export const VerifyScheduleBody = Type.Object(
  { intervalMs: Type.Union([Type.Integer({ minimum: 0, maximum: 366 * 24 * 3_600_000 }), Type.Null()]) },
  { additionalProperties: false },
);
export type VerifyScheduleBody = Static<typeof VerifyScheduleBody>;
/** GET /subscriptions/:id/verifications. */
export const VerificationQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);
