// The audit log (事前审批 · 事中留痕 · 事后追溯): append-only, hash-chained entries and the verdict of
// recomputing the chain (/api/v1/audit).
import { Type, type Static } from 'typebox';
import { Code, Details, ResourceCode } from './common.js';

export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  at: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Type.String(),
  /** The department the change belongs to ('' when none). */
  departmentCode: Type.String(),
  /** The other party, e.g. the consumer of a delivery ('' when none). */
  peerDepartmentCode: Type.String(),
  resourceCode: Type.String(),
  details: Details,
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntry>;

/** GET /audit/verify: the hash chain recomputed. */
export const AuditVerdict = Type.Object({
  ok: Type.Boolean(),
  /** Entries checked. */
  entries: Type.Integer(),
  /** Hash of the last entry (the chain head) when ok. */
  headHash: Type.String(),
  checkedAt: Type.Integer(),
  /** The first entry that does not hold, and why. */
  firstBroken: Type.Optional(Type.Object({ seq: Type.Integer(), problem: Type.String() })),
});
export type AuditVerdict = Static<typeof AuditVerdict>;

/** GET /audit; `department` matches either party. */
export const AuditQuery = Type.Object(
  {
    department: Type.Optional(Code),
    resource: Type.Optional(ResourceCode),
    action: Type.Optional(
      Type.String({ maxLength: 64, description: 'an action (task.create) or a prefix of actions (task)' }),
    ),
    entity: Type.Optional(Type.String({ maxLength: 64 })),
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch, inclusive' })),
    until: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch, exclusive' })),
    afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
