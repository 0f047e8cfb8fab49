// The shapes of central's HTTP API (/api/v1) as the CLI reads them. Declared here rather than imported:
// the CLI depends on the wire contract only, never on central's store or services.

export type RegionLevel = 'province' | 'city' | 'county';

export interface Region {
  code: string;
  name: string;
  level: RegionLevel;
  parentCode: string | null;
  createdAt: number;
}

export interface Department {
  code: string;
  name: string;
  regionCode: string;
  createdAt: number;
}

/** Last health a node reported with its heartbeat (proto NodeHealth, camelCase); every field may be missing. */
export interface NodeHealth {
  agentVersion?: string;
  uptimeS?: number;
  cpuPercent?: number;
  memRssBytes?: number;
  diskFreeBytes?: number;
  spoolDepth?: number;
  spoolBytes?: number;
  taskLags?: { taskId: string; lagMs: number; pendingBatches: number }[];
  state?: string;
  assignmentVersion?: number;
  outboxDepth?: number;
  sentAtMs?: number;
}

export interface Node {
  id: string;
  name: string;
  departmentCode: string;
  regionCode: string;
  hostname: string;
  agentVersion: string;
  labels: Record<string, string>;
  status: 'online' | 'offline';
  enabled: boolean;
  enrolledAt: number;
  lastHeartbeatAt: number | null;
  health: NodeHealth | null;
  assignmentVersion: number;
}

export interface NodeEvent {
  id: number;
  nodeId: string;
  at: number;
  kind: string;
  reason: string;
}

export interface AssignmentAck {
  nodeId: string;
  assignmentId: string;
  generation: number;
  outcome: 'applied' | 'rejected';
  reason: string;
  at: number;
}

/** GET /nodes/:id: the node with its recent events and assignment acknowledgements. */
export interface NodeDetail extends Node {
  events: NodeEvent[];
  acks: AssignmentAck[];
}

export interface EnrollmentToken {
  id: string;
  departmentCode: string;
  nodeName: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  usedByNodeId: string | null;
  revokedAt: number | null;
}

/** POST /tokens: the secret (shown once) and its record. */
export interface IssuedToken {
  token: string;
  record: EnrollmentToken;
}

export type TaskKind = 'sync' | 'exchange';

export interface Task {
  id: string;
  name: string;
  kind: TaskKind;
  nodeId: string;
  peerNodeId: string | null;
  resourceCode: string;
  subscriptionId: string;
  binding: string;
  params: Record<string, unknown>;
  intervalMs: number;
  enabled: boolean;
  generation: number;
  createdAt: number;
  updatedAt: number;
}

export interface TaskRun {
  runId: string;
  taskId: string;
  nodeId: string;
  startedAt: number;
  finishedAt: number;
  status: string;
  records: number;
  bytes: number;
  batches: number;
  errors: number;
  lagMs: number;
  quarantined: number;
  error: string;
}

export interface Report {
  reportId: string;
  nodeId: string;
  seq: number;
  kind: string;
  observedAt: number;
  receivedAt: number;
  body: unknown;
}

/** Every error answer: `{ error: { code, message, field? } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}
