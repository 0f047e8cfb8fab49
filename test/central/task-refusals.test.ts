// A node's refusal of a task (issue 8, fault 11) on central's HTTP API with the real services: the task and
// its subscription read refused with the node and the reason until a later acknowledgement applies it, and
// one task_refused alert per task generation is raised and audited. The acknowledgements are recorded as
// the gRPC AckAssignment handler records them (AssignmentService.recordAck); test/e2e/refusals.test.ts
// does the same with a real agent.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../central/src/http/app.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const apps: { app: App; d: CentralDeps }[] = [];
afterEach(async () => {
  for (const { app, d } of apps.splice(0)) {
    await app.close();
    d.close();
  }
});
afterAll(removeTmpDirs);

async function ok<T = unknown>(app: App, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({
    method,
    url: `/api/v1${url}`,
    headers,
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body) as T;
}

interface Refusal {
  taskId: string;
  kind: string;
  nodeId: string;
  generation: number;
  reason: string;
  at: number;
}
interface TaskView {
  id: string;
  generation: number;
  state: string;
  refusal: Refusal | null;
}
interface SubView {
  id: string;
  status: string;
  state: string;
  refusals: Refusal[];
  syncTaskId: string;
  exchangeTaskId: string;
}

const REASON = 'binding guarded shares only under an agreement, and this task carries none';

async function world(): Promise<{ app: App; d: CentralDeps; gat: string; mzj: string; sub: SubView }> {
  const d = centralDeps();
  const app = await buildApp(d.http);
  apps.push({ app, d });
  await ok(app, 'POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
  await ok(app, 'POST', '/departments', { code: 'gat', name: '公安厅', regionCode: '360000' });
  await ok(app, 'POST', '/departments', { code: 'mzj', name: '民政厅', regionCode: '360000' });
  const node = async (dept: string): Promise<string> => {
    const { token } = await ok<{ token: string }>(app, 'POST', '/tokens', {
      departmentCode: dept,
      nodeName: `${dept}-01`,
    });
    return d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} }).node.id;
  };
  const gat = await node('gat');
  const mzj = await node('mzj');
  await ok(app, 'POST', '/resources', {
    code: 'R-DIST',
    name: '人口分布',
    providerDepartmentCode: 'gat',
    fields: [
      { name: 'id', type: 'integer', required: true },
      { name: 'district', type: 'string' },
    ],
    shareType: 'unconditional',
    shareMethods: ['database_sync'],
    binding: 'guarded',
    providerNodeId: gat,
  });
  await ok(app, 'POST', '/resources/R-DIST/publish');
  const sub = await ok<SubView>(app, 'POST', '/subscriptions', {
    resourceCode: 'R-DIST',
    consumerNodeId: mzj,
    sinkBinding: 'people',
  });
  return { app, d, gat, mzj, sub };
}

describe('task refusals - visible on the task, the subscription and as an alert', () => {
  it('task refusals - a new subscription is pending until both nodes acknowledge; applied makes it active', async () => {
    const { app, d, gat, mzj, sub } = await world();
    expect([sub.state, sub.refusals]).toEqual(['pending', []]);
    d.assignments.recordAck(mzj, { assignmentId: sub.exchangeTaskId, generation: 1, outcome: 'applied', reason: '' });
    expect((await ok<SubView>(app, 'GET', `/subscriptions/${sub.id}`)).state).toBe('pending');
    d.assignments.recordAck(gat, { assignmentId: sub.syncTaskId, generation: 1, outcome: 'applied', reason: '' });
    expect((await ok<SubView>(app, 'GET', `/subscriptions/${sub.id}`)).state).toBe('active');
    expect((await ok<TaskView[]>(app, 'GET', '/tasks')).map((t) => [t.id, t.state, t.refusal])).toEqual([
      [sub.exchangeTaskId, 'applied', null],
      [sub.syncTaskId, 'applied', null],
    ]);
    expect(await ok(app, 'GET', '/alerts?kind=task_refused')).toEqual([]);
  });

  it('task refusals - a refusal shows on task and subscription with node and reason, raises one alert per generation, and clears when applied', async () => {
    const { app, d, gat, mzj, sub } = await world();
    const at = d.clock();
    d.assignments.recordAck(mzj, { assignmentId: sub.exchangeTaskId, generation: 1, outcome: 'applied', reason: '' });
    d.assignments.recordAck(gat, { assignmentId: sub.syncTaskId, generation: 1, outcome: 'rejected', reason: REASON });
    d.assignments.recordAck(gat, { assignmentId: sub.syncTaskId, generation: 1, outcome: 'rejected', reason: REASON }); // the agent restarted and refused again
    const refusal = { taskId: sub.syncTaskId, kind: 'sync', nodeId: gat, generation: 1, reason: REASON, at };
    const task = await ok<TaskView>(app, 'GET', `/tasks/${sub.syncTaskId}`);
    expect([task.state, task.refusal]).toEqual(['refused', refusal]);
    const s = await ok<SubView>(app, 'GET', `/subscriptions/${sub.id}`);
    expect([s.status, s.state, s.refusals]).toEqual(['active', 'refused', [refusal]]);
    expect((await ok<SubView[]>(app, 'GET', '/subscriptions')).map((x) => [x.id, x.state])).toEqual([
      [sub.id, 'refused'],
    ]);
    const alerts = await ok<{ kind: string; entityId: string; departmentCode: string; message: string; at: number }[]>(
      app,
      'GET',
      '/alerts',
    );
    expect(
      alerts.map(({ kind, entityId, departmentCode, message, at: t }) => ({
        kind,
        entityId,
        departmentCode,
        message,
        at: t,
      })),
    ).toEqual([
      {
        kind: 'task_refused',
        entityId: `${sub.syncTaskId}@1`,
        departmentCode: 'gat',
        message: `node gat-01 (${gat}) of gat refused sync task ${sub.syncTaskId} of resource R-DIST, subscription ${sub.id} at generation 1: ${REASON}`,
        at,
      },
    ]);
    const audit = await ok<{ actor: string; entityId: string; details: Record<string, unknown> }[]>(
      app,
      'GET',
      '/audit?action=task.refused',
    );
    expect(audit.map((e) => [e.actor, e.entityId, e.details])).toEqual([
      [`node:${gat}`, sub.syncTaskId, { generation: 1, nodeId: gat, reason: REASON, subscriptionId: sub.id }],
    ]);

    // A later acknowledgement that applies the same generation (the binding was fixed and the agent restarted) clears it.
    d.manual!.advance(60_000);
    d.assignments.recordAck(gat, { assignmentId: sub.syncTaskId, generation: 1, outcome: 'applied', reason: '' });
    expect(await ok<TaskView>(app, 'GET', `/tasks/${sub.syncTaskId}`)).toMatchObject({
      state: 'applied',
      refusal: null,
    });
    expect(await ok<SubView>(app, 'GET', `/subscriptions/${sub.id}`)).toMatchObject({ state: 'active', refusals: [] });
    expect((await ok<unknown[]>(app, 'GET', '/alerts?kind=task_refused')).length).toBe(1); // the alarm stays as what happened
  });

  it('task refusals - a new generation is pending again; a refusal of a stale generation raises nothing; a disabled task reads disabled', async () => {
    const { app, d, gat, sub } = await world();
    d.assignments.recordAck(gat, { assignmentId: sub.syncTaskId, generation: 1, outcome: 'rejected', reason: REASON });
    const patched = await ok<TaskView>(app, 'PATCH', `/tasks/${sub.syncTaskId}`, { intervalMs: 5_000 });
    expect([patched.generation, patched.state, patched.refusal]).toEqual([2, 'pending', null]);
    expect((await ok<SubView>(app, 'GET', `/subscriptions/${sub.id}`)).state).toBe('pending');
    // The refusal of generation 1 arriving late (after the change) is no refusal of the current one.
    d.assignments.recordAck(gat, { assignmentId: sub.syncTaskId, generation: 1, outcome: 'rejected', reason: 'late' });
    expect((await ok<TaskView>(app, 'GET', `/tasks/${sub.syncTaskId}`)).state).toBe('pending');
    d.assignments.recordAck(gat, {
      assignmentId: sub.syncTaskId,
      generation: 2,
      outcome: 'rejected',
      reason: `${REASON} (2)`,
    });
    expect((await ok<{ entityId: string }[]>(app, 'GET', '/alerts?kind=task_refused')).map((a) => a.entityId)).toEqual([
      `${sub.syncTaskId}@2`,
      `${sub.syncTaskId}@1`,
    ]);
    const disabled = await ok<TaskView>(app, 'PATCH', `/tasks/${sub.syncTaskId}`, { enabled: false });
    expect([disabled.state, disabled.refusal]).toEqual(['disabled', null]);
  });
});
