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

export type Role = 'province_admin' | 'city_admin' | 'operator' | 'officer' | 'auditor';

export interface User {
  id: string;
  name: string;
  role: Role;
  regionCode: string | null;
  departmentCode: string | null;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

/** POST /users: the bearer token (shown once) and the user. */
export interface IssuedUser {
  token: string;
  user: User;
}

export interface Whoami {
  name: string;
  role: Role;
  regionCode?: string;
  departmentCode?: string;
}

export interface ResourceField {
  name: string;
  type: string;
  description: string;
  required: boolean;
  sensitive: boolean;
  mask?: string;
}

export interface ResourceContent {
  name: string;
  description: string;
  fields: ResourceField[];
  format: string;
  shareType: 'unconditional' | 'conditional' | 'not_shared';
  conditions: string;
  legalBasis: string;
  shareMethods: string[];
  updateCycle: string;
  binding: string;
  providerNodeId: string | null;
}

export interface Resource extends ResourceContent {
  code: string;
  providerDepartmentCode: string;
  status: 'draft' | 'published' | 'retired';
  version: number;
  createdAt: number;
  updatedAt: number;
  publishedAt: number | null;
  retiredAt: number | null;
}

export interface ResourceVersion {
  resourceCode: string;
  version: number;
  content: ResourceContent;
  changedKeys: string[];
  note: string;
  at: number;
  by: string;
}

export interface ResourceDetail extends Resource {
  versions: ResourceVersion[];
}

export interface Notification {
  id: number;
  departmentCode: string;
  kind: string;
  resourceCode: string;
  version: number;
  message: string;
  details: Record<string, unknown>;
  createdAt: number;
}

export interface Application {
  id: string;
  resourceCode: string;
  resourceVersion: number;
  providerDepartmentCode: string;
  consumerDepartmentCode: string;
  applicant: string;
  purpose: string;
  requestedFields: string[];
  status: 'pending' | 'approved' | 'rejected';
  submittedAt: number;
  deadlineAt: number;
  answeredAt: number | null;
  answeredBy: string | null;
  reason: string;
  approvedFields: string[] | null;
  agreementId: string | null;
  overdue: boolean;
}

export interface Agreement {
  id: string;
  applicationId: string;
  resourceCode: string;
  providerDepartmentCode: string;
  consumerDepartmentCode: string;
  fields: string[];
  purpose: string;
  validFrom: number;
  validUntil: number;
  status: 'active' | 'revoked' | 'expired';
  state: 'active' | 'revoked' | 'expired';
  createdAt: number;
  endedAt: number | null;
  endedBy: string | null;
  endReason: string;
}

export interface Subscription {
  id: string;
  resourceCode: string;
  agreementId: string | null;
  providerDepartmentCode: string;
  consumerDepartmentCode: string;
  providerNodeId: string;
  consumerNodeId: string;
  sinkBinding: string;
  method: string;
  fields: string[];
  syncTaskId: string;
  exchangeTaskId: string;
  status: 'active' | 'stopped';
  createdAt: number;
  createdBy: string;
  stoppedAt: number | null;
  stopReason: string;
}

export interface Alert {
  id: number;
  kind: string;
  entityId: string;
  departmentCode: string;
  message: string;
  at: number;
}

export interface Objection {
  id: string;
  resourceCode: string;
  providerDepartmentCode: string;
  consumerDepartmentCode: string;
  recordKey: string;
  note: string;
  raisedBy: string;
  raisedAt: number;
  status: 'open' | 'answered';
  result: 'corrected' | 'confirmed_correct' | null;
  answerNote: string;
  answeredBy: string | null;
  answeredAt: number | null;
}

export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  departmentCode: string;
  peerDepartmentCode: string;
  resourceCode: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditVerdict {
  ok: boolean;
  entries: number;
  headHash: string;
  checkedAt: number;
  firstBroken?: { seq: number; problem: string };
}

export interface Period {
  since: number;
  until: number;
}

export interface DepartmentReport {
  departmentCode: string;
  name: string;
  regionCode: string;
  resourcesPublished: number;
  resourcesTotal: number;
  applicationsReceived: number;
  applicationsAnswered: number;
  applicationsAnsweredOnTime: number;
  applicationsPending: number;
  applicationsOverdue: number;
  applicationsMade: number;
  providedRecords: number;
  providedBatches: number;
  usedRecords: number;
  usedBatches: number;
  objectionsRaised: number;
  objectionsRaisedResolved: number;
  objectionsReceived: number;
  objectionsResolved: number;
  onTimeRate: number | null;
  objectionResolutionRate: number | null;
}

export interface RegionReport {
  regionCode: string;
  name: string;
  level: string;
  nodes: number;
  onlineMs: number;
  observedMs: number;
  onlineRate: number | null;
}
