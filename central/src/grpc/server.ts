// AgentService adapter: decode → authenticate → services → encode; XchgError → gRPC status with the
// reason in the message. No business rule lives here.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadXchgV1, type AgentServiceHandlers } from '../../../proto/index.js';
import type { NodeHealth__Output, TaskSpec } from '../../../proto/index.js';
import { ErrorCode, XchgError } from '../errors.js';
import { GRPC_STATUS } from './status.js';
import type { CentralMetrics } from '../metrics.js';
import type { AssignmentService } from '../services/assignments.js';
import type { CenterService } from '../services/centers.js';
import type { NodeService } from '../services/nodes.js';
import type { PolicyService } from '../services/policies.js';
import type { ReportService } from '../services/reports.js';
import type { ReconcileService } from '../services/reconcile.js';
import type { RoutingService } from '../services/routing.js';
import type { AllocatedTask, ShardService } from '../services/shards.js';
import type { NodeRecord, TaskRecord } from '../store/index.js';

export interface GrpcDeps {
  nodes: NodeService;
  assignments: AssignmentService;
  reports: ReportService;
  metrics: CentralMetrics;
  logger: Logger;
  pollTimeoutMs: number;
  /** The data plane of a node's home center, handed out at enrollment and with every poll answer. */
  centers: Pick<CenterService, 'dataPlaneFor'>;
  /** Open verification runs (对账) join the consumer node's assignment set. */
  reconcile?: Pick<ReconcileService, 'assignmentsFor'>;
  /** RouteSpecs (one per other center the node exchanges with) and, for a relay, its RelaySpec. */
  routing?: Pick<RoutingService, 'assignmentsFor'>;
  /** Length of the traffic buckets agents count, ms (config traffic.bucketMs); 0 or absent: not announced. */
  trafficBucketMs?: number;
  /** PolicySpecs of the node's tasks (scheduling policies, 策略). */
  policies?: Pick<PolicyService, 'assignmentsFor'>;
  /** Shard plans (dynamic node allocation): a spread task's ShardSpec, a standby's shards, a consumer's sources. */
  shards?: Pick<ShardService, 'allocated'>;
}

/** Limits that bound what a caller can make central hold (the message limit is announced in every poll reply). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
const MAX_REPORT_ITEMS = 1000;

export function buildGrpcServer(deps: GrpcDeps): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  const log = deps.logger.child({ component: 'grpc' });
  const unary = unaryWith(deps, log);
  const handlers: AgentServiceHandlers = {
    Enroll: unary('Enroll', (call) => enroll(deps, log, call)),
    Heartbeat: unary('Heartbeat', (call) => heartbeat(deps, call)),
    PollAssignments: unary('PollAssignments', (call) => pollAssignments(deps, call)),
    AckAssignment: unary('AckAssignment', (call) => ackAssignment(deps, log, call)),
    Report: unary('Report', (call) => report(deps, call)),
  };
  server.addService(loadXchgV1().AgentService.service, handlers);
  return server;
}

/** The call an RPC's handler receives. */
type Call<K extends keyof AgentServiceHandlers> = Parameters<AgentServiceHandlers[K]>[0];

/** The node a call comes from, by its id and secret in the metadata. */
function auth(deps: GrpcDeps, call: grpc.ServerUnaryCall<unknown, unknown>): NodeRecord {
  const nodeId = String(call.metadata.get('x-xchg-node-id')[0] ?? '');
  const authz = String(call.metadata.get('authorization')[0] ?? '');
  const secret = authz.startsWith('Bearer ') ? authz.slice(7) : '';
  return deps.nodes.authenticate(nodeId, secret);
}

/** Wraps a handler body: one place for metrics and error mapping. */
function unaryWith(deps: GrpcDeps, log: Logger) {
  return function unary<Req, Res>(
    method: string,
    body: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = process.hrtime.bigint();
      const count = (code: string): void => {
        deps.metrics.grpcRequests.inc({ method, code });
        deps.metrics.grpcDuration.observe({ method, code }, Number(process.hrtime.bigint() - started) / 1e9);
      };
      Promise.resolve()
        .then(() => body(call))
        .then(
          (res) => {
            count('OK');
            callback(null, res);
          },
          (err: unknown) => {
            const e = toStatus(err);
            count(grpc.status[e.code]);
            if (e.code === grpc.status.INTERNAL) log.error({ err, method }, 'agent call failed');
            else log.debug({ method, code: grpc.status[e.code], reason: e.details }, 'agent call refused');
            callback(e);
          },
        );
    };
  };
}

function enroll(deps: GrpcDeps, log: Logger, call: Call<'Enroll'>) {
  const r = call.request;
  try {
    const { node, secret } = deps.nodes.enroll({
      token: r.token,
      hostname: r.hostname,
      agentVersion: r.agentVersion,
      labels: r.labels,
    });
    deps.metrics.enrollments.inc({ outcome: 'enrolled' });
    log.info({ nodeId: node.id, name: node.name, department: node.departmentCode }, 'node enrolled');
    return {
      nodeId: node.id,
      nodeSecret: secret,
      nodeName: node.name,
      departmentCode: node.departmentCode,
      regionCode: node.regionCode,
      heartbeatTtlMs: deps.nodes.heartbeatTtlMs,
      dataPlane: deps.centers.dataPlaneFor(node),
    };
  } catch (err) {
    deps.metrics.enrollments.inc({ outcome: err instanceof XchgError ? err.code : 'error' });
    throw err;
  }
}

function heartbeat(deps: GrpcDeps, call: Call<'Heartbeat'>) {
  const node = auth(deps, call);
  const h: Partial<NodeHealth__Output> = call.request.health ?? {};
  deps.nodes.heartbeat(node, { ...h, sentAtMs: call.request.sentAtMs }, String(h.agentVersion ?? ''));
  return { ttlMs: deps.nodes.heartbeatTtlMs, serverTimeMs: Date.now(), status: 'online' };
}

async function pollAssignments(deps: GrpcDeps, call: Call<'PollAssignments'>) {
  const node = auth(deps, call);
  const known = Number(call.request.knownVersion ?? 0);
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  if (call.cancelled) ac.abort(); // cancelled before the listener was attached
  const set = await deps.assignments.waitForChange(node.id, known, deps.pollTimeoutMs, ac.signal);
  // Read with the set, after the wait: a move during the wait bumped the version and changed the center.
  const dataPlane = deps.centers.dataPlaneFor(deps.nodes.get(node.id));
  return {
    version: set.version,
    changed: set.version !== known,
    assignments: [
      ...(deps.shards?.allocated(node.id, set.tasks) ?? set.tasks.map((task): AllocatedTask => ({ task }))).map(
        (a) => ({
          id: a.task.id,
          generation: a.task.generation,
          task: { ...toTaskSpec(a.task, peerCenterOf(deps, a.task)), shard: a.shard, sourceNodes: a.sourceNodes ?? [] },
          spec: 'task' as const,
        }),
      ),
      ...(deps.reconcile?.assignmentsFor(node.id) ?? []),
      ...(deps.routing?.assignmentsFor(node.id) ?? []),
      ...(deps.policies?.assignmentsFor(node.id) ?? []),
    ],
    nextPollDelayMs: 0,
    heartbeatTtlMs: deps.nodes.heartbeatTtlMs,
    // Announced so agents size their Report calls to what this server accepts.
    maxMessageBytes: MAX_MESSAGE_BYTES,
    dataPlane,
    trafficBucketMs: deps.trafficBucketMs ?? 0,
  };
}

function ackAssignment(deps: GrpcDeps, log: Logger, call: Call<'AckAssignment'>) {
  const node = auth(deps, call);
  const r = call.request;
  const outcome =
    r.outcome === 'ASSIGNMENT_OUTCOME_APPLIED'
      ? 'applied'
      : r.outcome === 'ASSIGNMENT_OUTCOME_REJECTED'
        ? 'rejected'
        : undefined;
  if (!outcome)
    throw new XchgError(ErrorCode.INVALID_ARGUMENT, 'outcome: must be APPLIED or REJECTED', { field: 'outcome' });
  if (outcome === 'rejected')
    log.warn({ nodeId: node.id, assignmentId: r.assignmentId, reason: r.reason }, 'assignment rejected by node');
  deps.assignments.recordAck(node.id, {
    assignmentId: r.assignmentId,
    generation: Number(r.generation),
    outcome,
    reason: r.reason,
  });
  return {};
}

function report(deps: GrpcDeps, call: Call<'Report'>) {
  const node = auth(deps, call);
  const items = call.request.items ?? [];
  if (items.length > MAX_REPORT_ITEMS)
    throw new XchgError(
      ErrorCode.INVALID_ARGUMENT,
      `items: at most ${MAX_REPORT_ITEMS} per call, got ${items.length}`,
      {
        field: 'items',
      },
    );
  const res = deps.reports.ingest(
    node.id,
    items.map((it) => {
      const oneof = it.body ?? '';
      const body = (oneof ? (it as unknown as Record<string, unknown>)[oneof] : {}) as Record<string, unknown>;
      // The loader camel-cases the oneof member ("taskRun"); the stored kind is the proto field name
      // ("task_run"), which ReportService keys task runs on and the HTTP API filters by.
      const kind = oneof.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      return {
        reportId: it.reportId,
        seq: Number(it.seq),
        observedAtMs: Number(it.observedAtMs),
        kind,
        body: body ?? {},
      };
    }),
  );
  for (const kind of res.freshKinds) deps.metrics.reportsReceived.inc({ kind });
  if (res.duplicates) deps.metrics.reportsDuplicate.inc(res.duplicates);
  return { ackedReportIds: res.acked };
}

/** The home center of a task's peer node ("" when it has none or is unknown: the agents' direct path). */
function peerCenterOf(deps: GrpcDeps, t: TaskRecord): string {
  if (!t.peerNodeId) return '';
  try {
    return deps.nodes.get(t.peerNodeId).homeCenter ?? '';
  } catch {
    return '';
  }
}

export function toTaskSpec(t: TaskRecord, peerCenter = ''): TaskSpec {
  return {
    taskId: t.id,
    name: t.name,
    kind: t.kind,
    enabled: t.enabled,
    resourceCode: t.resourceCode,
    subscriptionId: t.subscriptionId,
    binding: t.binding,
    peerNodeId: t.peerNodeId ?? '',
    paramsJson: JSON.stringify(t.params),
    schemaVersion: 1,
    intervalMs: t.intervalMs,
    peerCenter,
  };
}

function toStatus(err: unknown): grpc.ServiceError {
  if (err instanceof XchgError) {
    const e = new Error(err.message) as grpc.ServiceError;
    e.code = GRPC_STATUS[err.code];
    e.details = err.message;
    e.metadata = new grpc.Metadata();
    e.metadata.set('x-xchg-error-code', err.code);
    return e;
  }
  const e = new Error('internal error') as grpc.ServiceError;
  e.code = grpc.status.INTERNAL;
  e.details = 'internal error';
  return e;
}

/** Binds the server; resolves with the port actually bound (for port 0). */
export function listenGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
}
