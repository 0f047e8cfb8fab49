// AgentService over the wire: a real grpc-js server on port 0 (buildGrpcServer + listenGrpc) with central's
// real services on a temp SQLite file, called by a real grpc-js client built from loadXchgV1().
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, describe, it, expect } from 'vitest';
import { buildGrpcServer, listenGrpc } from '../../central/src/grpc/server.js';
import { loadXchgV1, type AgentServiceClient, type ReportItem } from '../../proto/index.js';
import type { EnrollResponse__Output, PollAssignmentsResponse__Output } from '../../proto/index.js';
import {
  centralDeps,
  enrollNode,
  seedDepartment,
  type CentralDeps,
  type CentralDepsOptions,
} from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

interface Harness {
  d: CentralDeps;
  server: grpc.Server;
  client: AgentServiceClient;
  port: number;
}

const running: Harness[] = [];
async function start(opts: CentralDepsOptions = {}): Promise<Harness> {
  const d = centralDeps(opts);
  const server = buildGrpcServer(d.grpc);
  const port = await listenGrpc(server, '127.0.0.1', 0);
  const client = new (loadXchgV1().AgentService)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const h = { d, server, client, port };
  running.push(h);
  return h;
}
afterEach(() => {
  for (const h of running.splice(0)) {
    h.client.close();
    h.d.assignments.wakeAll();
    h.server.forceShutdown();
    h.d.close();
  }
});
afterAll(removeTmpDirs);

/** Promise around a grpc-js unary call. */
function unary<T>(fn: (cb: grpc.requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}
/** The ServiceError a call fails with (fails the test when it succeeds). */
async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    const v = await p;
    throw new Error(`expected the call to fail, it returned ${JSON.stringify(v)}`);
  } catch (err) {
    if (err instanceof Error && 'code' in err) return err as grpc.ServiceError;
    throw err;
  }
}
function auth(nodeId: string, secret: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-xchg-node-id', nodeId);
  md.set('authorization', `Bearer ${secret}`);
  return md;
}
const deadline = (ms = 10_000): grpc.CallOptions => ({ deadline: Date.now() + ms });

async function enrollOverGrpc(h: Harness, nodeName = 'fe-01'): Promise<EnrollResponse__Output> {
  seedDepartment(h.d);
  const { token } = h.d.nodes.createToken({ departmentCode: 'gat', nodeName });
  return unary<EnrollResponse__Output>((cb) =>
    h.client.Enroll({ token, hostname: 'fe.example', agentVersion: '0.1.0', labels: { role: 'main' } }, deadline(), cb),
  );
}

describe('grpc Enroll', () => {
  it('enroll - a good token returns the node id, secret, place and data plane; the secret authenticates', async () => {
    const h = await start({ heartbeatTtlMs: 12_000 });
    const res = await enrollOverGrpc(h);
    expect(res.nodeId).toMatch(/^nd-/);
    expect(res.nodeSecret).toMatch(/^xns_/);
    expect(res).toMatchObject({
      nodeName: 'fe-01',
      departmentCode: 'gat',
      regionCode: '360000',
      heartbeatTtlMs: 12_000,
    });
    expect(res.dataPlane).toMatchObject({
      natsUrls: ['nats://127.0.0.1:4222'],
      subjectPrefix: 'xchg',
      stream: 'XCHG_DATA',
      homeCenter: 'province',
    });
    const node = h.d.nodes.authenticate(res.nodeId, res.nodeSecret);
    expect(node).toMatchObject({ hostname: 'fe.example', agentVersion: '0.1.0', labels: { role: 'main' } });
    expect(await h.d.metrics.registry.getSingleMetricAsString('xchg_enrollments_total')).toMatch(
      /outcome="enrolled"} 1/,
    );
  });

  it('enroll - a reused token is PERMISSION_DENIED naming the reason, and no second node appears', async () => {
    const h = await start();
    seedDepartment(h.d);
    const { token } = h.d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    const req = { token, hostname: 'fe.example', agentVersion: '0.1.0', labels: {} };
    await unary((cb) => h.client.Enroll(req, deadline(), cb));
    const err = await failure(unary((cb) => h.client.Enroll(req, deadline(), cb)));
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toMatch(/already used/);
    expect(err.metadata.get('x-xchg-error-code')).toEqual(['TOKEN_USED']);
    expect(h.d.nodes.list()).toHaveLength(1);
  });

  it('enroll - a forged token is UNAUTHENTICATED naming an unknown token', async () => {
    const h = await start();
    seedDepartment(h.d);
    const err = await failure(
      unary((cb) =>
        h.client.Enroll({ token: 'xet_forged', hostname: 'h', agentVersion: '0', labels: {} }, deadline(), cb),
      ),
    );
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).toMatch(/unknown/);
    expect(h.d.nodes.list()).toEqual([]);
    expect(await h.d.metrics.registry.getSingleMetricAsString('xchg_enrollments_total')).toMatch(
      /outcome="TOKEN_UNKNOWN"} 1/,
    );
  });

  it('enroll - a second token for an already enrolled name is ALREADY_EXISTS, not INTERNAL', async () => {
    const h = await start();
    seedDepartment(h.d);
    const a = h.d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    const b = h.d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
    await unary((cb) =>
      h.client.Enroll({ token: a.token, hostname: 'h', agentVersion: '0', labels: {} }, deadline(), cb),
    );
    const err = await failure(
      unary((cb) => h.client.Enroll({ token: b.token, hostname: 'h', agentVersion: '0', labels: {} }, deadline(), cb)),
    );
    expect(err.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(err.details).toMatch(/"fe-01" of gat is already enrolled/);
    expect(h.d.nodes.list()).toHaveLength(1);
  });

  it('enroll - an expired token is PERMISSION_DENIED naming the expiry', async () => {
    const h = await start();
    seedDepartment(h.d);
    const { token } = h.d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01', ttlMs: 1_000 });
    h.d.manual!.advance(1_000);
    const err = await failure(
      unary((cb) => h.client.Enroll({ token, hostname: 'h', agentVersion: '0', labels: {} }, deadline(), cb)),
    );
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toMatch(/expired/);
    expect(h.d.nodes.list()).toEqual([]);
  });
});

describe('grpc Heartbeat', () => {
  it('heartbeat - a known node is marked online with its health and told the TTL', async () => {
    const h = await start({ heartbeatTtlMs: 9_000 });
    const e = await enrollOverGrpc(h);
    const res = await unary<{ ttlMs: number; status: string; serverTimeMs: number }>((cb) =>
      h.client.Heartbeat(
        { health: { agentVersion: '0.2.0', spoolDepth: 7, state: 'RUNNING' }, sentAtMs: 123 },
        auth(e.nodeId, e.nodeSecret),
        deadline(),
        cb,
      ),
    );
    expect(res).toMatchObject({ ttlMs: 9_000, status: 'online' });
    expect(Math.abs(res.serverTimeMs - Date.now())).toBeLessThan(60_000);
    const node = h.d.nodes.get(e.nodeId);
    expect(node).toMatchObject({ status: 'online', agentVersion: '0.2.0' });
    expect(node.health).toMatchObject({ spoolDepth: 7, state: 'RUNNING', sentAtMs: 123 });
    expect(h.d.nodes.events(e.nodeId).map((x) => x.kind)).toEqual(['enrolled', 'online']);
  });

  it('heartbeat - an unknown node id is NOT_FOUND (the agent re-enrolls on it)', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    const err = await failure(
      unary((cb) => h.client.Heartbeat({}, auth('nd-000000000000', e.nodeSecret), deadline(), cb)),
    );
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toContain('nd-000000000000');
    expect(err.metadata.get('x-xchg-error-code')).toEqual(['NODE_UNKNOWN']);
  });

  it('heartbeat - a wrong secret is UNAUTHENTICATED and the node stays offline', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    const err = await failure(
      unary((cb) => h.client.Heartbeat({}, auth(e.nodeId, e.nodeSecret + 'x'), deadline(), cb)),
    );
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(h.d.nodes.get(e.nodeId).status).toBe('offline');
  });

  it('heartbeat - no credentials at all is UNAUTHENTICATED naming the missing metadata', async () => {
    const h = await start();
    const err = await failure(unary((cb) => h.client.Heartbeat({}, new grpc.Metadata(), deadline(), cb)));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).toMatch(/x-xchg-node-id/);
  });

  it('heartbeat - a disabled node is PERMISSION_DENIED', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    h.d.nodes.setEnabled(e.nodeId, false, 'test');
    const err = await failure(unary((cb) => h.client.Heartbeat({}, auth(e.nodeId, e.nodeSecret), deadline(), cb)));
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toMatch(/disabled/);
    expect(h.d.nodes.get(e.nodeId).status).toBe('offline');
  });

  it('heartbeat - calls are counted by method and status code in the metrics', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    await unary((cb) => h.client.Heartbeat({}, auth(e.nodeId, e.nodeSecret), deadline(), cb));
    await failure(unary((cb) => h.client.Heartbeat({}, auth(e.nodeId, 'bad'), deadline(), cb)));
    const text = await h.d.metrics.registry.getSingleMetricAsString('xchg_grpc_requests_total');
    expect(text).toContain('xchg_grpc_requests_total{method="Heartbeat",code="OK"} 1');
    expect(text).toContain('xchg_grpc_requests_total{method="Heartbeat",code="UNAUTHENTICATED"} 1');
    expect(text).toContain('xchg_grpc_requests_total{method="Enroll",code="OK"} 1');
  });
});

describe('grpc PollAssignments', () => {
  const poll = (
    h: Harness,
    e: EnrollResponse__Output,
    knownVersion: number,
    ms = 20_000,
  ): Promise<PollAssignmentsResponse__Output> =>
    unary<PollAssignmentsResponse__Output>((cb) =>
      h.client.PollAssignments({ knownVersion }, auth(e.nodeId, e.nodeSecret), deadline(ms), cb),
    );

  it('poll - returns at once with the full set when the known version differs', async () => {
    const h = await start({ pollTimeoutMs: 20_000 });
    const e = await enrollOverGrpc(h);
    const task = h.d.assignments.createTask({
      name: 'sync people',
      kind: 'sync',
      nodeId: e.nodeId,
      binding: 'hr-db',
      params: { table: 'people' },
      intervalMs: 5_000,
    });
    const t0 = performance.now();
    const res = await poll(h, e, 0);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(res).toMatchObject({ version: 2, changed: true });
    expect(res.assignments).toHaveLength(1);
    expect(res.assignments[0]).toMatchObject({
      id: task.id,
      generation: 1,
      spec: 'task',
      task: {
        taskId: task.id,
        name: 'sync people',
        kind: 'sync',
        binding: 'hr-db',
        enabled: true,
        intervalMs: 5_000,
        schemaVersion: 1,
      },
    });
    expect(JSON.parse(res.assignments[0]!.task!.paramsJson)).toEqual({ table: 'people' });
  });

  it('poll - a parked poll wakes when a task is created, well before the poll timeout, with changed=true and the task', async () => {
    const pollTimeoutMs = 10_000;
    const h = await start({ pollTimeoutMs });
    const e = await enrollOverGrpc(h);
    const pending = poll(h, e, 1);
    await waitFor(() => h.d.assignments.parkedPolls === 1, 5_000, 10, 'the poll to park');
    const t0 = performance.now();
    const task = h.d.assignments.createTask({ name: 'sync people', kind: 'sync', nodeId: e.nodeId, binding: 'hr-db' });
    const res = await pending;
    const wakeMs = performance.now() - t0;
    expect(wakeMs).toBeLessThan(pollTimeoutMs / 10);
    expect(res.changed).toBe(true);
    expect(res.version).toBe(2);
    expect(res.assignments.map((a) => a.task?.taskId)).toEqual([task.id]);
    expect(h.d.assignments.parkedPolls).toBe(0);
  });

  it('poll - with nothing changing it answers after the poll timeout with changed=false and the same version', async () => {
    const h = await start({ pollTimeoutMs: 300 });
    const e = await enrollOverGrpc(h);
    const t0 = performance.now();
    const res = await poll(h, e, 1);
    const elapsed = performance.now() - t0;
    expect(res).toMatchObject({ version: 1, changed: false, assignments: [] });
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('poll - a client that gives up is unparked on the server', async () => {
    const h = await start({ pollTimeoutMs: 30_000 });
    const e = await enrollOverGrpc(h);
    const call = h.client.PollAssignments(
      { knownVersion: 1 },
      auth(e.nodeId, e.nodeSecret),
      deadline(30_000),
      () => undefined,
    );
    await waitFor(() => h.d.assignments.parkedPolls === 1, 5_000, 10, 'the poll to park');
    call.cancel();
    await waitFor(() => h.d.assignments.parkedPolls === 0, 5_000, 10, 'the poll to be unparked');
    expect(h.d.assignments.parkedPolls).toBe(0);
  });

  it('poll - a wrong secret is UNAUTHENTICATED without parking', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    const err = await failure(
      unary((cb) => h.client.PollAssignments({ knownVersion: 1 }, auth(e.nodeId, 'xns_wrong'), deadline(), cb)),
    );
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(h.d.assignments.parkedPolls).toBe(0);
  });
});

describe('grpc AckAssignment', () => {
  it('ack - an applied outcome is stored per assignment; an unspecified outcome is INVALID_ARGUMENT', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    const task = h.d.assignments.createTask({ name: 't', kind: 'sync', nodeId: e.nodeId, binding: 'hr-db' });
    await unary((cb) =>
      h.client.AckAssignment(
        { assignmentId: task.id, generation: 1, outcome: 'ASSIGNMENT_OUTCOME_REJECTED', reason: 'no binding hr-db' },
        auth(e.nodeId, e.nodeSecret),
        deadline(),
        cb,
      ),
    );
    expect(h.d.assignments.acks(e.nodeId)).toEqual([
      expect.objectContaining({
        assignmentId: task.id,
        generation: 1,
        outcome: 'rejected',
        reason: 'no binding hr-db',
      }),
    ]);
    const err = await failure(
      unary((cb) =>
        h.client.AckAssignment({ assignmentId: task.id, generation: 1 }, auth(e.nodeId, e.nodeSecret), deadline(), cb),
      ),
    );
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/outcome/);
    expect(h.d.assignments.acks(e.nodeId)).toHaveLength(1);
  });
});

describe('grpc Report', () => {
  const report = (h: Harness, e: EnrollResponse__Output, items: ReportItem[]): Promise<{ ackedReportIds: string[] }> =>
    unary((cb) => h.client.Report({ items }, auth(e.nodeId, e.nodeSecret), deadline(), cb));
  const event = (reportId: string, seq: number): ReportItem => ({
    reportId,
    seq,
    observedAtMs: 1_000 + seq,
    event: { severity: 'warn', code: 'SPOOL_FULL', message: 'm' },
  });

  it('report - duplicate report ids are stored once and all acknowledged', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    expect((await report(h, e, [event('r1', 1), event('r2', 2)])).ackedReportIds).toEqual(['r1', 'r2']);
    // The agent retries after a lost reply, together with a new one.
    expect((await report(h, e, [event('r1', 1), event('r2', 2), event('r3', 3)])).ackedReportIds).toEqual([
      'r1',
      'r2',
      'r3',
    ]);
    const stored = h.d.reports.list({ nodeId: e.nodeId });
    expect(stored.map((r) => r.reportId)).toEqual(['r3', 'r2', 'r1']);
    expect(stored[0]!.body).toMatchObject({ severity: 'warn', code: 'SPOOL_FULL' });
    expect(await h.d.metrics.registry.getSingleMetricAsString('xchg_reports_duplicate_total')).toMatch(
      /xchg_reports_duplicate_total 2$/m,
    );
  });

  it('report - a task run report is stored under kind task_run and becomes one task run, even when retried', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    const item: ReportItem = {
      reportId: 'r-run-1',
      seq: 1,
      observedAtMs: 5,
      taskRun: {
        taskId: 'tsk-1',
        runId: 'run-1',
        startedAtMs: 100,
        finishedAtMs: 250,
        status: 'ok',
        records: 1_000,
        bytes: 65_536,
        batches: 3,
        lagMs: 40,
      },
    };
    await report(h, e, [item]);
    await report(h, e, [item]);
    expect(h.d.reports.list({ nodeId: e.nodeId }).map((r) => [r.reportId, r.kind])).toEqual([['r-run-1', 'task_run']]);
    expect(h.d.reports.taskRuns({ taskId: 'tsk-1' })).toEqual([
      expect.objectContaining({
        runId: 'run-1',
        nodeId: e.nodeId,
        startedAt: 100,
        finishedAt: 250,
        status: 'ok',
        records: 1_000,
        bytes: 65_536,
        batches: 3,
        lagMs: 40,
      }),
    ]);
    expect(await h.d.metrics.registry.getSingleMetricAsString('xchg_reports_received_total')).toContain(
      'xchg_reports_received_total{kind="task_run"} 1',
    );
  });

  it('report - an item without a body is INVALID_ARGUMENT naming it and nothing of the call is stored', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    const err = await failure(report(h, e, [event('ok', 1), { reportId: 'empty', seq: 2, observedAtMs: 2 }]));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/items\[1\]\.body/);
    expect(h.d.reports.list({})).toEqual([]);
  });

  it('report - more than 1000 items in one call is INVALID_ARGUMENT', async () => {
    const h = await start();
    const e = await enrollOverGrpc(h);
    const items = Array.from({ length: 1001 }, (_, i) => event(`r${i}`, i));
    const err = await failure(report(h, e, items));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/at most 1000/);
    expect(h.d.reports.list({})).toEqual([]);
  });

  it('report - a report from an unknown node is NOT_FOUND and stores nothing', async () => {
    const h = await start();
    const { secret } = enrollNode(h.d);
    const err = await failure(
      unary((cb) => h.client.Report({ items: [event('r1', 1)] }, auth('nd-ffffffffffff', secret), deadline(), cb)),
    );
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(h.d.reports.list({})).toEqual([]);
  });
});
