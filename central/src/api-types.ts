// The records of central's HTTP API (/api/v1) as it returns them, and the vocabularies (enumerations) they
// use, declared once for both sides: the store, domain and services build their records with these types and
// the CLI reads the answers with them. Imports nothing, so the CLI depends on the wire contract only.

// ── Regions (行政区划) and departments (部门) ──

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

// ── Nodes (前置节点), enrollment tokens ──

export type NodeStatus = 'online' | 'offline';

/**
 * Last health a node reported with its heartbeat (proto NodeHealth, camelCase); every field may be missing.
 * A type rather than an interface: it is also a Record<string, unknown> (the route's response schema).
 */
export type NodeHealth = {
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
};

export interface Node {
  id: string;
  name: string;
  departmentCode: string;
  regionCode: string;
  hostname: string;
  agentVersion: string;
  labels: Record<string, string>;
  status: NodeStatus;
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
  kind: 'enrolled' | 'online' | 'offline' | 'disabled' | 'enabled';
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

// ── Tasks (交换任务), their runs and the reports agents deliver ──

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

/**
 * What became of a task's current generation at its node (level-triggered: the latest acknowledgement):
 * pending (not acknowledged yet), applied, refused (the agent rejected it, with a reason), or disabled.
 */
export const TASK_STATES = ['pending', 'applied', 'refused', 'disabled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** An agent's refusal of a task generation (AckAssignment with outcome rejected). */
export interface TaskRefusal {
  taskId: string;
  kind: TaskKind;
  /** The node that refused. */
  nodeId: string;
  generation: number;
  reason: string;
  /** ms since epoch, by central's clock. */
  at: number;
}

/** GET /tasks, /tasks/:id: a task with what its node made of the current generation. */
export interface TaskView extends Task {
  state: TaskState;
  /** Set while the node refuses the current generation; null once a later acknowledgement applies it. */
  refusal: TaskRefusal | null;
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

/** What a report's kind can be: the members of ReportItem's `oneof body` (proto/xchg/v1/agent.proto). */
export const REPORT_KINDS = ['task_run', 'metrics', 'traffic', 'quarantine', 'event'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** A report from an agent, stored once per reportId. */
export interface Report {
  reportId: string;
  nodeId: string;
  /** The node's own sequence number (its outbox order). */
  seq: number;
  /** One of REPORT_KINDS. */
  kind: string;
  /** ms since epoch, by the agent's clock. */
  observedAt: number;
  /** ms since epoch, by central's clock. */
  receivedAt: number;
  body: unknown;
}

/** GET /tasks/:id/quarantine: a record a node could not process or verify, with its original values. */
export interface QuarantinedRecord {
  nodeId: string;
  /** The record's id in that node's spool. */
  agentId: number;
  taskId: string;
  side: string;
  origin: string;
  rowIndex: number;
  reason: string;
  field: string;
  record: Record<string, unknown>;
  createdAt: number;
  resentAt: number | null;
}

/**
 * How much of a record's values a caller sees (central/src/domain/record-access.ts): raw (as the node
 * reported them), granted (only the fields of the caller's grant, masked as cataloged) or withheld (no
 * values: the reason without quoted values, the field and column names only).
 */
export const VALUE_VIEWS = ['raw', 'granted', 'withheld'] as const;
export type ValueView = (typeof VALUE_VIEWS)[number];

/** GET /tasks/:id/quarantine: a quarantined record as the caller may see it. */
export interface QuarantineView extends Omit<QuarantinedRecord, 'record'> {
  view: ValueView;
  /** Names of the record's columns the caller may know of (all for raw and withheld, the granted ones for granted). */
  columns: string[];
  /** The values in this view; null when withheld. */
  record: Record<string, unknown> | null;
}

// ── Errors ──

/** Every error answer: `{ error: { code, message, field? } }`. */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

// ── Users and roles ──

export const Role = {
  PROVINCE_ADMIN: 'province_admin',
  CITY_ADMIN: 'city_admin',
  OPERATOR: 'operator',
  OFFICER: 'officer',
  AUDITOR: 'auditor',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.values(Role);

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

/** GET /users/me: who the presented token stands for. */
export interface Whoami {
  name: string;
  role: Role;
  regionCode?: string;
  departmentCode?: string;
}

// ── The resource catalog (信息资源目录) ──

export { FIELD_TYPES, type FieldType } from '../../common/src/field-types.js';
import type { FieldType } from '../../common/src/field-types.js';
export const SHARE_TYPES = ['unconditional', 'conditional', 'not_shared'] as const;
/** 无条件共享 · 有条件共享 · 不予共享. */
export type ShareType = (typeof SHARE_TYPES)[number];
export const SHARE_METHODS = ['database_sync', 'file_transfer', 'online_query'] as const;
/** 库表同步 · 文件传输 · 联机查询. */
export type ShareMethod = (typeof SHARE_METHODS)[number];
export const UPDATE_CYCLES = ['realtime', 'hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular'] as const;
export type UpdateCycle = (typeof UPDATE_CYCLES)[number];
export const RESOURCE_STATES = ['draft', 'published', 'retired'] as const;
export type ResourceState = (typeof RESOURCE_STATES)[number];

export interface ResourceField {
  /** The field's name as published and as consumers receive it (letters, digits, _), e.g. a standard data element name. */
  name: string;
  /** Column in the provider's source when it differs from `name` (e.g. id_no published as sfzh). */
  column?: string;
  type: FieldType;
  description: string;
  required: boolean;
  /** Personal or otherwise protected data: masked on the way out. */
  sensitive: boolean;
  /** Masking rule for a sensitive field (name, idcard, phone, redact, keep:A:B); 'redact' when absent. */
  mask?: string;
}

/** What a catalog entry says (编目): everything but its identity, owner and life-cycle state. */
export interface ResourceContent {
  name: string;
  description: string;
  fields: ResourceField[];
  format: string;
  shareType: ShareType;
  /** Conditions of use of a conditional resource (required for conditional). */
  conditions: string;
  /** Law or regulation a not-shared resource rests on (required for not_shared). */
  legalBasis: string;
  shareMethods: ShareMethod[];
  updateCycle: UpdateCycle;
  /** Source name in the provider agent's config. */
  binding: string;
  /** Node of the provider department that reads the source. */
  providerNodeId: string | null;
}

export interface Resource extends ResourceContent {
  code: string;
  providerDepartmentCode: string;
  status: ResourceState;
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

/** GET /resources/:code: the resource with every version of its content. */
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

// ── Applications (共享申请), agreements (共享协议), subscriptions (订阅), alarms ──

export const APPLICATION_STATES = ['pending', 'approved', 'rejected'] as const;
export type ApplicationState = (typeof APPLICATION_STATES)[number];
export const AGREEMENT_STATES = ['active', 'revoked', 'expired'] as const;
export type AgreementState = (typeof AGREEMENT_STATES)[number];

export interface Application {
  id: string;
  resourceCode: string;
  resourceVersion: number;
  providerDepartmentCode: string;
  consumerDepartmentCode: string;
  applicant: string;
  purpose: string;
  requestedFields: string[];
  status: ApplicationState;
  submittedAt: number;
  deadlineAt: number;
  answeredAt: number | null;
  answeredBy: string | null;
  reason: string;
  approvedFields: string[] | null;
  agreementId: string | null;
}

/** An application as the API returns it: with whether it is pending past its deadline. */
export interface ApplicationView extends Application {
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
  status: AgreementState;
  createdAt: number;
  endedAt: number | null;
  endedBy: string | null;
  endReason: string;
}

/** An agreement as the API returns it: with its state at this instant (active past validUntil reads expired). */
export interface AgreementView extends Agreement {
  state: AgreementState;
}

export type SubscriptionState = 'active' | 'stopped';

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
  status: SubscriptionState;
  createdAt: number;
  createdBy: string;
  stoppedAt: number | null;
  stopReason: string;
}

/**
 * Where a subscription's flow stands at this instant: stopped (its status), refused (a node refuses one of
 * its tasks), pending (a task's current generation not acknowledged yet) or active (both tasks applied).
 */
export const SUBSCRIPTION_FLOW_STATES = ['active', 'pending', 'refused', 'stopped'] as const;
export type SubscriptionFlowState = (typeof SUBSCRIPTION_FLOW_STATES)[number];

/** GET /subscriptions, /subscriptions/:id: a subscription with the state of its flow. */
export interface SubscriptionView extends Subscription {
  state: SubscriptionFlowState;
  /** The refusals of its tasks' current generations (empty unless state is refused). */
  refusals: TaskRefusal[];
}

export interface Alert {
  id: number;
  kind: string;
  entityId: string;
  departmentCode: string;
  message: string;
  at: number;
}

// ── Objections (疑义/纠错) ──

export type ObjectionResult = 'corrected' | 'confirmed_correct';

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
  result: ObjectionResult | null;
  answerNote: string;
  answeredBy: string | null;
  answeredAt: number | null;
}

// ── The audit log ──

export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  /** The department the change belongs to ('' when none). */
  departmentCode: string;
  /** The other party, e.g. the consumer of a delivery ('' when none). */
  peerDepartmentCode: string;
  resourceCode: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** GET /audit/verify: the hash chain recomputed. */
export interface AuditVerdict {
  ok: boolean;
  /** Entries checked. */
  entries: number;
  /** Hash of the last entry (the chain head) when ok. */
  headHash: string;
  checkedAt: number;
  /** The first entry that does not hold, and why. */
  firstBroken?: { seq: number; problem: string };
}

// ── Evaluation (考核) ──

export interface Period {
  since: number;
  until: number;
}

/** What a department did in a period, counted. */
export interface DepartmentCounts {
  departmentCode: string;
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
}

export interface DepartmentReport extends DepartmentCounts {
  name: string;
  regionCode: string;
  /** Answered on time / received; null when nothing was received. */
  onTimeRate: number | null;
  /** Objections the department received that were answered / received. */
  objectionResolutionRate: number | null;
}

export interface RegionReport {
  regionCode: string;
  name: string;
  level: RegionLevel;
  /** Nodes of departments in the region and the regions under it. */
  nodes: number;
  onlineMs: number;
  observedMs: number;
  /** Online time / observed time of those nodes over the period; null when none was observed. */
  onlineRate: number | null;
}
