// Scheduling policies (策略) in central with the real services, the HTTP app and a real gRPC server on port 0:
// validation naming the bad field, audit of every change, delivery as typed PolicySpecs in the poll answer
// of the nodes of its tasks only (a parked long-poll is woken), acknowledgements shown per node, replace and
// expire, and a city admin's scope.
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../central/src/http/app.js';
import { buildGrpcServer, listenGrpc } from '../../central/src/grpc/server.js';
import type { PolicyView } from '../../central/src/api/policies.js';
import { loadXchgV1, type AgentServiceClient, type PollAssignmentsResponse__Output } from '../../proto/index.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

interface World {
  d: CentralDeps;
  app: App;
  server: grpc.Server;
  client: AgentServiceClient;
  /** Node id → secret. */
  nodes: { prov: { id: string; secret: string }; city: { id: string; secret: string } };
  tasks: { prov: string; city: string };
  call<T = unknown>(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
}

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) {
    w.client.close();
    w.d.assignments.wakeAll();
    w.server.forceShutdown();
    await w.app.close();
    w.d.close();
  }
});
afterAll(removeTmpDirs);

async function world(): Promise<World> {
  const d = centralDeps({ pollTimeoutMs: 20_000 });
  const app = await buildApp(d.http);
  const server = buildGrpcServer(d.grpc);
  const port = await listenGrpc(server, '127.0.0.1', 0);
  const client = new (loadXchgV1().AgentService)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = async <T>(method: string, url: string, body?: unknown, token = TEST_ADMIN_TOKEN) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers,
      ...(body !== undefined && { payload: JSON.stringify(body) }),
    });
    return { status: res.statusCode, body: (res.body ? JSON.parse(res.body) : null) as T };
  };
  d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
  d.registry.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  d.registry.createDepartment({ code: 'gat', name: '公安厅', regionCode: '360000' });
  d.registry.createDepartment({ code: 'nc-gaj', name: '南昌市公安局', regionCode: '360100' });
  const enroll = (dept: string): { id: string; secret: string } => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    const r = d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} });
    return { id: r.node.id, secret: r.secret };
  };
  const nodes = { prov: enroll('gat'), city: enroll('nc-gaj') };
  const task = (nodeId: string, peer: string): string =>
    d.assignments.createTask({
      name: 'sync',
      kind: 'sync',
      nodeId,
      peerNodeId: peer,
      binding: 'db',
      subscriptionId: 'sub-1',
    }).id;
  const tasks = { prov: task(nodes.prov.id, nodes.city.id), city: task(nodes.city.id, nodes.prov.id) };
  const w = { d, app, server, client, nodes, tasks, call };
  worlds.push(w);
  return w;
}

function md(n: { id: string; secret: string }): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('x-xchg-node-id', n.id);
  m.set('authorization', `Bearer ${n.secret}`);
  return m;
}

function poll(
  w: World,
  n: { id: string; secret: string },
  knownVersion: number,
): Promise<PollAssignmentsResponse__Output> {
  return new Promise((resolve, reject) =>
    w.client.PollAssignments({ knownVersion }, md(n), { deadline: Date.now() + 20_000 }, (err, v) =>
      err ? reject(err) : resolve(v!),
    ),
  );
}

function ack(
  w: World,
  n: { id: string; secret: string },
  a: { id: string; generation: number },
  applied: boolean,
  reason = '',
) {
  return new Promise<void>((resolve, reject) =>
    w.client.AckAssignment(
      {
        assignmentId: a.id,
        generation: a.generation,
        outcome: applied ? 'ASSIGNMENT_OUTCOME_APPLIED' : 'ASSIGNMENT_OUTCOME_REJECTED',
        reason,
      },
      md(n),
      { deadline: Date.now() + 5_000 },
      (err) => (err ? reject(err) : resolve()),
    ),
  );
}

/** Night transfer window 22:00-06:00 CST with 5000-record batches; closed outside. */
const NIGHT = {
  kind: 'static',
  windows: [{ startMinute: 1320, endMinute: 1800, knobs: { transfer: 'open', batchRecords: 5000, concurrency: 2 } }],
  outside: { transfer: 'closed' },
  reason: 'nightly bulk: 92 % of records move 22:00-06:00',
  evidence: [
    { kind: 'cluster', name: 'label', text: 'nightly bulk' },
    { kind: 'forecast', name: 'peak_records', value: 12_000, unit: 'records/bucket' },
  ],
};

describe('policies - central', () => {
  it('policies - bad input is refused naming the field; nothing is stored', async () => {
    const w = await world();
    const bad = async (body: Record<string, unknown>): Promise<[number, string, string | undefined]> => {
      const r = await w.call<{ error: { message: string; field?: string } }>('POST', '/policies', {
        ...NIGHT,
        taskIds: [w.tasks.prov],
        ...body,
      });
      return [r.status, r.body.error.message, r.body.error.field];
    };
    expect(await bad({ windows: [{ startMinute: 600, endMinute: 540, knobs: {} }] })).toEqual([
      400,
      'windows[0].endMinute: 540 is not after startMinute 600',
      'windows[0].endMinute',
    ]);
    expect(await bad({ windows: [{ startMinute: 1500, endMinute: 1600, knobs: {} }] })).toEqual([
      400,
      'windows[0].startMinute: 1500 is outside 0..1439',
      'windows[0].startMinute',
    ]);
    expect(await bad({ outside: { batchRecords: 0 } })).toEqual([
      400,
      'outside.batchRecords: 0 is outside 1..100000',
      'outside.batchRecords',
    ]);
    expect(await bad({ taskIds: [w.tasks.prov, 'tsk-nope'] })).toEqual([
      400,
      'taskIds[1]: task "tsk-nope" not found',
      'taskIds[1]',
    ]);
    const exchange = w.d.assignments.createTask({
      name: 'in',
      kind: 'exchange',
      nodeId: w.nodes.city.id,
      peerNodeId: w.nodes.prov.id,
      binding: 'db',
    });
    expect(await bad({ taskIds: [exchange.id] })).toEqual([
      400,
      `taskIds[0]: task ${exchange.id} is an exchange task; policies shape the provider's sync task`,
      'taskIds[0]',
    ]);
    expect(await bad({ subscriptionId: 'sub-2' })).toEqual([
      400,
      `taskIds[0]: task ${w.tasks.prov} belongs to subscription "sub-1", not sub-2`,
      'taskIds[0]',
    ]);
    expect((await w.call<unknown[]>('GET', '/policies?all=true')).body).toEqual([]);
    expect(w.d.audit.list({ action: 'policy' })).toEqual([]);
  });

  it('policies - a new policy wakes the parked poll of its node only, typed, and the acks show per node', async () => {
    const w = await world();
    const first = await poll(w, w.nodes.prov, 0);
    const other = await poll(w, w.nodes.city, 0);
    const parked = poll(w, w.nodes.prov, first.version);
    const parkedOther = poll(w, w.nodes.city, other.version);
    await waitFor(() => w.d.assignments.parkedPolls === 2, 5_000, 10, 'both polls to park');
    const created = await w.call<PolicyView>('POST', '/policies', { ...NIGHT, taskIds: [w.tasks.prov] });
    expect(created.status).toBe(201);
    const res = await parked;
    expect(res.changed).toBe(true);
    expect(res.version).toBe(first.version + 1);
    const a = res.assignments.find((x) => x.spec === 'policy');
    expect(a).toMatchObject({ id: created.body.id, generation: 1 });
    expect(a!.policy).toMatchObject({
      policyId: created.body.id,
      kind: 'static',
      taskIds: [w.tasks.prov],
      subscriptionId: '',
      utcOffsetMinutes: 480,
      windows: [
        {
          dayType: '',
          weekdays: [],
          startMinute: 1320,
          endMinute: 1800,
          knobs: { transfer: 'open', batchRecords: 5000, concurrency: 2, pollIntervalMs: 0 },
        },
      ],
      outside: { transfer: 'closed', batchRecords: 0 },
      reason: NIGHT.reason,
      generatedBy: 'operator',
    });
    expect(a!.policy!.evidence.map((e) => [e.kind, e.name, e.value, e.text])).toEqual([
      ['cluster', 'label', 0, 'nightly bulk'],
      ['forecast', 'peak_records', 12_000, ''],
    ]);
    // The other node's poll is still parked (its set did not change).
    expect(w.d.assignments.parkedPolls).toBe(1);
    expect(w.d.assignments.desired(w.nodes.city.id).version).toBe(other.version);
    w.d.assignments.wakeAll();
    expect((await parkedOther).changed).toBe(false);

    expect(created.body.delivery).toEqual([{ nodeId: w.nodes.prov.id, outcome: 'pending', reason: '', at: null }]);
    await ack(
      w,
      w.nodes.prov,
      { id: created.body.id, generation: 1 },
      false,
      'windows[0].knobs.concurrency: 9 too high',
    );
    const shown = (await w.call<PolicyView>('GET', `/policies/${created.body.id}`)).body;
    expect(shown.delivery).toMatchObject([{ nodeId: w.nodes.prov.id, outcome: 'rejected' }]);
    expect(shown.delivery[0]!.reason).toBe('windows[0].knobs.concurrency: 9 too high');
    await ack(w, w.nodes.prov, { id: created.body.id, generation: 1 }, true);
    expect((await w.call<PolicyView>('GET', `/policies/${created.body.id}`)).body.delivery[0]!.outcome).toBe('applied');
  });

  it('policies - replace bumps the generation, delete withdraws it; each change audited; listings filter', async () => {
    const w = await world();
    const p = (await w.call<PolicyView>('POST', '/policies', { ...NIGHT, taskIds: [w.tasks.prov] })).body;
    const surge = (
      await w.call<PolicyView>('POST', '/policies', {
        kind: 'dynamic',
        taskIds: [w.tasks.prov],
        validFromMs: w.d.clock() - 1000,
        validUntilMs: w.d.clock() + 3_600_000,
        windows: [],
        outside: { transfer: 'open', batchRecords: 20_000 },
        reason: 'surge: 4.2 x the forecast for 2 buckets',
        generatedBy: 'brain',
      })
    ).body;
    expect(surge).toMatchObject({ state: 'active', generatedBy: 'brain', generation: 1 });
    // The surge overrides the night policy's knobs now, whatever the hour.
    expect(surge.inForce).toEqual([
      {
        taskId: w.tasks.prov,
        knobs: expect.objectContaining({ transfer: 'open', batchRecords: 20_000 }) as unknown,
        policyIds: [p.id, surge.id],
        nextChangeMs: expect.any(Number) as unknown,
      },
    ]);
    const v0 = w.d.assignments.desired(w.nodes.prov.id).version;
    const replaced = await w.call<PolicyView>('PUT', `/policies/${p.id}`, {
      ...NIGHT,
      taskIds: [w.tasks.prov, w.tasks.city],
    });
    expect(replaced.body).toMatchObject({ generation: 2, nodeIds: [w.nodes.prov.id, w.nodes.city.id] });
    expect(w.d.assignments.desired(w.nodes.prov.id).version).toBe(v0 + 1);
    const cityPoll = await poll(w, w.nodes.city, 0);
    const forCity = cityPoll.assignments.find((a) => a.id === p.id)!;
    expect([forCity.generation, forCity.policy!.taskIds]).toEqual([2, [w.tasks.city]]);

    expect((await w.call<PolicyView[]>('GET', '/policies?kind=dynamic')).body.map((x) => x.id)).toEqual([surge.id]);
    expect((await w.call<PolicyView[]>(`GET`, `/policies?task=${w.tasks.city}`)).body.map((x) => x.id)).toEqual([p.id]);
    expect((await w.call('DELETE', `/policies/${surge.id}`)).status).toBe(204);
    const again = await w.call<{ error: { message: string } }>('DELETE', `/policies/${surge.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(new RegExp(`^policy ${surge.id} expired at `));
    const provPoll = await poll(w, w.nodes.prov, 0);
    expect(provPoll.assignments.filter((a) => a.spec === 'policy').map((a) => a.id)).toEqual([p.id]);
    expect((await w.call<PolicyView[]>('GET', '/policies')).body.map((x) => x.id)).toEqual([p.id]);
    const all = (await w.call<PolicyView[]>('GET', '/policies?all=true')).body;
    expect(all.map((x) => [x.id, x.state])).toEqual([
      [surge.id, 'expired'],
      [p.id, 'active'],
    ]);
    const audit = w.d.audit.list({ action: 'policy' });
    expect(audit.map((e) => [e.action, e.entityId, e.actor])).toEqual([
      ['policy.create', p.id, 'admin'],
      ['policy.create', surge.id, 'admin'],
      ['policy.replace', p.id, 'admin'],
      ['policy.expire', surge.id, 'admin'],
    ]);
    expect(audit[1]!.details).toMatchObject({
      generatedBy: 'brain',
      reason: 'surge: 4.2 x the forecast for 2 buckets',
    });
  });

  it('policies - a lapsed policy is withdrawn by the sweep: audited, and the parked poll answers without it', async () => {
    const w = await world();
    const now = w.d.clock();
    const surge = (
      await w.call<PolicyView>('POST', '/policies', {
        kind: 'dynamic',
        taskIds: [w.tasks.prov],
        validUntilMs: now + 60_000,
        windows: [],
        outside: { batchRecords: 20_000 },
        reason: 'surge',
      })
    ).body;
    expect(w.d.http.policies.expireLapsed()).toEqual([]);
    const held = await poll(w, w.nodes.prov, 0);
    expect(held.assignments.some((a) => a.id === surge.id)).toBe(true);
    const parked = poll(w, w.nodes.prov, held.version);
    await waitFor(() => w.d.assignments.parkedPolls === 1, 5_000, 10, 'the poll to park');
    w.d.manual!.advance(60_000);
    expect((await w.call<PolicyView>('GET', `/policies/${surge.id}`)).body.state).toBe('lapsed');
    expect(w.d.http.policies.expireLapsed()).toEqual([surge.id]);
    const res = await parked;
    expect(res.changed).toBe(true);
    expect(res.assignments.filter((a) => a.spec === 'policy')).toEqual([]);
    expect((await w.call<PolicyView>('GET', `/policies/${surge.id}`)).body.state).toBe('expired');
    expect(w.d.audit.list({ action: 'policy.lapse' }).map((e) => [e.entityId, e.actor])).toEqual([
      [surge.id, 'system'],
    ]);
  });

  it('policies - a city admin sees only the policies of flows with an end in its region and may not write', async () => {
    const w = await world();
    // A provincial task without a peer in the city: its policy is none of the city's business.
    const alone = w.d.assignments.createTask({
      name: 'local',
      kind: 'sync',
      nodeId: w.nodes.prov.id,
      binding: 'db',
    }).id;
    const other = (await w.call<PolicyView>('POST', '/policies', { ...NIGHT, taskIds: [alone] })).body;
    // The provincial provider's task towards the city's node: the city is the flow's consumer end.
    const prov = (await w.call<PolicyView>('POST', '/policies', { ...NIGHT, taskIds: [w.tasks.prov] })).body;
    const city = (await w.call<PolicyView>('POST', '/policies', { ...NIGHT, taskIds: [w.tasks.city] })).body;
    const { token } = (
      await w.call<{ token: string }>('POST', '/users', { name: 'nc', role: 'city_admin', regionCode: '360100' })
    ).body;
    expect((await w.call<PolicyView[]>('GET', '/policies', undefined, token)).body.map((p) => p.id)).toEqual([
      city.id,
      prov.id,
    ]);
    const onProv = await w.call<PolicyView[]>('GET', `/policies?node=${w.nodes.prov.id}`, undefined, token);
    expect(onProv.body.map((p) => p.id)).toEqual([prov.id]);
    const all = await w.call<PolicyView[]>('GET', '/policies');
    expect(all.body.map((p) => p.id)).toEqual([city.id, prov.id, other.id]);
    const hidden = await w.call<{ error: { message: string } }>('GET', `/policies/${other.id}`, undefined, token);
    expect([hidden.status, hidden.body.error.message]).toEqual([
      403,
      `city_admin nc sees the policies of flows with an end in region 360100 and below only, not ${other.id}`,
    ]);
    expect((await w.call('GET', `/policies/${prov.id}`, undefined, token)).status).toBe(200);
    expect((await w.call('GET', `/policies/${city.id}`, undefined, token)).status).toBe(200);
    expect((await w.call('DELETE', `/policies/${city.id}`, undefined, token)).status).toBe(403);
    expect((await w.call('POST', '/policies', { ...NIGHT, taskIds: [w.tasks.city] }, token)).status).toBe(403);
  });
});
