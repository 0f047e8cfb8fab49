// The dashboard's node pages (GET /dashboard/nodes, /dashboard/nodes/:id): the node table with its last health
// (heartbeat age, version, outbox and spool backlog, CPU, memory, disk), filtered, sorted and paged; one node's
// tasks with their recent runs and quarantine, the quarantined records' reasons (no values), its open alerts.
import { Type, type Static } from 'typebox';
import { Alert } from './alerts.js';
import { Code, Nullable } from './common.js';
import { NodeStatus } from './nodes.js';

export const NODE_SORTS = [
  'department',
  'name',
  'status',
  'heartbeat',
  'version',
  'backlog',
  'cpu',
  'memory',
  'disk',
] as const;
export type NodeSort = (typeof NODE_SORTS)[number];

export const DashboardNodesQuery = Type.Object(
  {
    status: Type.Optional(NodeStatus),
    department: Type.Optional(Code),
    region: Type.Optional(Code),
    q: Type.Optional(Type.String({ maxLength: 100, description: 'part of the node id, name, hostname or department' })),
    sort: Type.Optional(Type.Enum([...NODE_SORTS], { description: 'default department' })),
    order: Type.Optional(Type.Enum(['asc', 'desc'], { description: 'default asc' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'rows (default 100)' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, description: 'rows skipped (default 0)' })),
  },
  { additionalProperties: false },
);
export type DashboardNodesQuery = Static<typeof DashboardNodesQuery>;

export const DashboardNodeRow = Type.Object({
  id: Type.String(),
  name: Type.String(),
  departmentCode: Type.String(),
  departmentName: Type.String(),
  regionCode: Type.String(),
  hostname: Type.String(),
  status: NodeStatus,
  enabled: Type.Boolean(),
  lastHeartbeatAt: Nullable(Type.Integer({ description: 'ms since epoch; null: never heard from' })),
  heartbeatAgeMs: Nullable(Type.Integer({ description: 'generatedAt − lastHeartbeatAt' })),
  agentVersion: Type.String(),
  outboxDepth: Nullable(Type.Integer({ description: 'reports waiting in the node’s outbox' })),
  spoolDepth: Nullable(Type.Integer({ description: 'data batches waiting in the spool (backlog)' })),
  spoolBytes: Nullable(Type.Integer()),
  cpuPercent: Nullable(Type.Number()),
  memRssBytes: Nullable(Type.Integer()),
  diskFreeBytes: Nullable(Type.Integer()),
  openAlerts: Type.Integer({ description: 'open alerts about the node itself' }),
});
export type DashboardNodeRow = Static<typeof DashboardNodeRow>;

export const DashboardNodes = Type.Object({
  generatedAt: Type.Integer(),
  total: Type.Integer({ description: 'nodes matching the filter (the page may hold fewer)' }),
  counts: Type.Object({ online: Type.Integer(), offline: Type.Integer() }, { description: 'of the matching nodes' }),
  offset: Type.Integer(),
  limit: Type.Integer(),
  nodes: Type.Array(DashboardNodeRow),
});
export type DashboardNodes = Static<typeof DashboardNodes>;

export const DashboardRun = Type.Object({
  runId: Type.String(),
  startedAt: Type.Integer(),
  finishedAt: Type.Integer(),
  status: Type.String(),
  records: Type.Integer(),
  batches: Type.Integer(),
  bytes: Type.Integer(),
  errors: Type.Integer(),
  quarantined: Type.Integer(),
  lagMs: Type.Integer(),
  error: Type.String({ description: 'quoted values taken out' }),
});
export type DashboardRun = Static<typeof DashboardRun>;

export const DashboardNodeTask = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  resourceCode: Type.String(),
  peerNodeId: Nullable(Type.String({ description: 'null: none, or a node outside the caller’s region' })),
  enabled: Type.Boolean(),
  lagMs: Nullable(Type.Integer({ description: 'from the node’s last heartbeat' })),
  runs: Type.Array(DashboardRun, { description: 'the newest runs, newest first (at most 5)' }),
  quarantined: Type.Integer({ description: 'records quarantined by this task on this node' }),
  quarantinedOpen: Type.Integer({ description: 'of them not yet resent' }),
});
export type DashboardNodeTask = Static<typeof DashboardNodeTask>;

export const DashboardQuarantined = Type.Object({
  taskId: Type.String(),
  side: Type.String(),
  rowIndex: Type.Integer(),
  field: Type.String(),
  reason: Type.String({ description: 'quoted values taken out' }),
  createdAt: Type.Integer(),
  resentAt: Nullable(Type.Integer()),
});
export type DashboardQuarantined = Static<typeof DashboardQuarantined>;

export const DashboardNodeDetail = Type.Object({
  generatedAt: Type.Integer(),
  node: DashboardNodeRow,
  tasks: Type.Array(DashboardNodeTask),
  quarantine: Type.Object({
    total: Type.Integer(),
    open: Type.Integer({ description: 'not yet resent' }),
    reasons: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer() }), {
      description: 'the most frequent reasons (at most 10), quoted values taken out',
    }),
    recent: Type.Array(DashboardQuarantined, { description: 'the newest quarantined records (at most 20)' }),
  }),
  alerts: Type.Array(Alert, { description: 'open alerts about the node or its tasks, newest first (at most 50)' }),
});
export type DashboardNodeDetail = Static<typeof DashboardNodeDetail>;
