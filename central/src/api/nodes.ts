// Nodes (前置节点) as the API shows them — liveness, last health, events, assignment acknowledgements —
// enrollment tokens, and the reports agents deliver (/api/v1/nodes, /api/v1/tokens, /api/v1/reports).
import { Type, type Static } from 'typebox';
import { Code, Id, Name, Nullable } from './common.js';

export const NODE_STATUSES = ['online', 'offline'] as const;
export const NodeStatus = Type.Enum([...NODE_STATUSES]);
export type NodeStatus = Static<typeof NodeStatus>;

/**
 * Last health a node reported with its heartbeat (proto NodeHealth, camelCase); every field may be missing,
 * and fields a newer agent adds pass through (additionalProperties).
 */
export const NodeHealth = Type.Object(
  {
    agentVersion: Type.Optional(Type.String()),
    uptimeS: Type.Optional(Type.Number()),
    cpuPercent: Type.Optional(Type.Number()),
    memRssBytes: Type.Optional(Type.Number()),
    diskFreeBytes: Type.Optional(Type.Number()),
    spoolDepth: Type.Optional(Type.Number()),
    spoolBytes: Type.Optional(Type.Number()),
    taskLags: Type.Optional(
      Type.Array(Type.Object({ taskId: Type.String(), lagMs: Type.Number(), pendingBatches: Type.Number() })),
    ),
    state: Type.Optional(Type.String()),
    assignmentVersion: Type.Optional(Type.Number()),
    outboxDepth: Type.Optional(Type.Number()),
    sentAtMs: Type.Optional(Type.Number()),
  },
  { additionalProperties: true },
);
export type NodeHealth = Static<typeof NodeHealth>;

export const Node = Type.Object({
  id: Id,
  name: Type.String(),
  departmentCode: Type.String(),
  regionCode: Type.String(),
  hostname: Type.String(),
  agentVersion: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  status: NodeStatus,
  enabled: Type.Boolean(),
  enrolledAt: Type.Integer(),
  lastHeartbeatAt: Nullable(Type.Integer()),
  health: Nullable(NodeHealth),
  assignmentVersion: Type.Integer(),
  homeCenter: Nullable(
    Type.String({ description: 'code of the exchange center (交换中心) the node attaches to; null: not assigned yet' }),
  ),
});
export type Node = Static<typeof Node>;

export const NODE_EVENT_KINDS = ['enrolled', 'online', 'offline', 'disabled', 'enabled'] as const;
export const NodeEvent = Type.Object({
  id: Type.Integer(),
  nodeId: Type.String(),
  at: Type.Integer(),
  kind: Type.Enum([...NODE_EVENT_KINDS]),
  reason: Type.String(),
});
export type NodeEvent = Static<typeof NodeEvent>;

/** A node's latest acknowledgement of an assignment (level-triggered: one per assignment). */
export const AssignmentAck = Type.Object({
  nodeId: Type.String(),
  assignmentId: Type.String(),
  generation: Type.Integer(),
  outcome: Type.Enum(['applied', 'rejected']),
  reason: Type.String(),
  at: Type.Integer(),
});
export type AssignmentAck = Static<typeof AssignmentAck>;

/** GET /nodes/:id: the node with its recent events and assignment acknowledgements. */
export const NodeDetail = Type.Object({
  ...Node.properties,
  events: Type.Array(NodeEvent, { description: 'recent liveness and enable/disable events, newest first' }),
  acks: Type.Array(AssignmentAck),
});
export type NodeDetail = Static<typeof NodeDetail>;

/** GET /nodes. */
export const NodeQuery = Type.Object(
  { region: Type.Optional(Code), department: Type.Optional(Code), status: Type.Optional(NodeStatus) },
  { additionalProperties: false },
);

export const EnrollmentToken = Type.Object({
  id: Type.String(),
  departmentCode: Type.String(),
  nodeName: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  usedAt: Nullable(Type.Integer()),
  usedByNodeId: Nullable(Type.String()),
  revokedAt: Nullable(Type.Integer()),
});
export type EnrollmentToken = Static<typeof EnrollmentToken>;

/** POST /tokens: the secret (shown once) and its record. */
export const IssuedToken = Type.Object({ token: Type.String(), record: EnrollmentToken });
export type IssuedToken = Static<typeof IssuedToken>;

/** POST /tokens. */
export const CreateTokenBody = Type.Object(
  {
    departmentCode: Code,
    nodeName: Name,
    ttlMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 366 * 24 * 3600_000 })),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

/** What a report's kind can be: the members of ReportItem's `oneof body` (proto/xchg/v1/agent.proto). */
export const REPORT_KINDS = ['task_run', 'metrics', 'traffic', 'quarantine', 'event'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** A report from an agent, stored once per reportId. */
export const Report = Type.Object({
  reportId: Type.String(),
  nodeId: Type.String(),
  seq: Type.Integer({ description: "the node's own sequence number (its outbox order)" }),
  kind: Type.String({ description: REPORT_KINDS.join(', ') }),
  observedAt: Type.Integer({ description: "ms since epoch, by the agent's clock" }),
  receivedAt: Type.Integer({ description: "ms since epoch, by central's clock" }),
  body: Type.Unknown(),
});
export type Report = Static<typeof Report>;

/** GET /reports: reports per page unless ?limit= says otherwise, and the most one page may hold. */
export const REPORTS_DEFAULT_LIMIT = 1000;
export const REPORTS_MAX_LIMIT = 10_000;

/** GET /reports. */
export const ReportQuery = Type.Object(
  {
    node: Type.Optional(Id),
    kind: Type.Optional(Type.Enum([...REPORT_KINDS])),
    afterSeq: Type.Optional(
      Type.Integer({ minimum: 0, description: 'only reports whose per-node sequence number is above this' }),
    ),
    before: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'a report id: only reports older than it in this order (the last report of the previous page)',
      }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: REPORTS_MAX_LIMIT,
        default: REPORTS_DEFAULT_LIMIT,
        description: 'at most this many reports',
      }),
    ),
  },
  { additionalProperties: false },
);
