// The dashboard pages' APIs with the real services and the HTTP app (fastify inject): rankings and top
// resources from traffic reports, approval response times in working days against the deadline, evaluation per
// department, the cities compared (province-wide roles only), the node table (filter, sort, page) and a node's
// drill-down (runs, quarantine without values, open alerts). A city admin's answers hold nothing of another city;
// unknown or out-of-scope ids are 404 with a clear message; bad queries 400 naming the field.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DashboardNodeDetail, DashboardNodes } from '../../central/src/api/dashboard-nodes.js';
import type {
  DashboardApprovals,
  DashboardCities,
  DashboardEvaluation,
  DashboardRankings,
} from '../../central/src/api/dashboard-pages.js';
import { Role, SYSTEM_ACTOR, type Actor } from '../../central/src/domain/roles.js';
import { buildApp, type App } from '../../central/src/http/app.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { strings } from '../helpers/dashboard-province.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const DAY = 86_400_000;
const ADMIN: Actor = { name: 'admin', role: Role.PROVINCE_ADMIN };
/** Applies for the consumers (an application is answered by someone other than its applicant). */
const CLERK: Actor = { name: 'clerk', role: Role.PROVINCE_ADMIN };

interface World {
  d: CentralDeps;
  app: App;
  node: Record<'sfgw' | 'ncGaj' | 'ncWjw' | 'jdzGaj', string>;
  task: string;
  cityToken: string;
  get<T>(url: string, token?: string): Promise<{ status: number; body: T }>;
}

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await w.app.close();
    w.d.close();
  }
});
afterAll(removeTmpDirs);

const resource = (code: string, provider: string, shareType: 'conditional' | 'unconditional') => ({
  code,
  name: `${code} 资源`,
  providerDepartmentCode: provider,
  fields: [{ name: 'id', type: 'integer' as const, required: true }],
  shareType,
  ...(shareType === 'conditional' && { conditions: '审核' }),
});

/** Applications to nc-gaj answered after 1 and 4 working days and one left pending past its deadline. */
function applications(d: CentralDeps): void {
  const clock = d.manual!;
  d.catalog.create(resource('R-NC-C', 'nc-gaj', 'conditional'), ADMIN);
  d.catalog.publish('R-NC-C', ADMIN);
  d.catalog.create(resource('R-JDZ', 'jdz-gaj', 'conditional'), ADMIN);
  d.catalog.publish('R-JDZ', ADMIN);
  const apply = (code: string, consumer: string) =>
    d.sharing.apply({ resourceCode: code, consumerDepartmentCode: consumer, purpose: '核查' }, CLERK).id;
  // 1_700_000_000_000 is Wednesday 2023-11-15 06:13 in UTC+8.
  const [a, b] = [apply('R-NC-C', 'nc-wjw'), apply('R-NC-C', 'nc-wjw')];
  apply('R-NC-C', 'nc-wjw'); // never answered
  d.sharing.reject(apply('R-JDZ', 'sfgw'), '不符合', ADMIN); // the same day: 0 working days
  clock.advance(DAY); // Thursday: 1 working day
  d.sharing.approve(a, {}, ADMIN);
  clock.advance(5 * DAY); // Tuesday 11-21: Thu, Fri, Mon, Tue
  d.sharing.approve(b, {}, ADMIN);
  clock.advance(14 * DAY); // 12-05: the pending one is past its 10 working days
}

function traffic(d: CentralDeps, from: string, to: string, resourceCode: string, records: number, seq: number): void {
  const at = d.clock();
  const body = {
    sourceNodeId: from,
    destinationNodeId: to,
    resourceCode,
    bucketMs: 300_000,
    bucketStartMs: Math.floor((at - 600_000) / 300_000) * 300_000,
    batches: records / 100,
    records,
    bytes: records * 10,
    errors: 0,
    latencyP50Ms: 20,
    latencyP99Ms: 40,
  };
  d.reports.ingest(to, [{ reportId: `t-${seq}`, seq, observedAtMs: at, kind: 'traffic', body }]);
}

async function world(): Promise<World> {
  const d = centralDeps();
  const app = await buildApp(d.http);
  const get = async <T>(url: string, token = TEST_ADMIN_TOKEN) => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.statusCode, body: JSON.parse(res.body) as T };
  };
  const r = d.registry;
  r.createRegion({ code: '360000', name: '江西省', level: 'province' });
  r.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  r.createRegion({ code: '360200', name: '景德镇市', level: 'city', parentCode: '360000' });
  for (const [code, region] of [
    ['sfgw', '360000'],
    ['nc-gaj', '360100'],
    ['nc-wjw', '360100'],
    ['jdz-gaj', '360200'],
  ] as const)
    r.createDepartment({ code, name: `${code} 部门`, regionCode: region });
  applications(d);
  const enroll = (dept: string, health?: Record<string, unknown>): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    const node = d.nodes.enroll({ token, hostname: `${dept}.host`, agentVersion: '0.1.0', labels: {} }).node;
    if (health) d.nodes.heartbeat(node, health, '0.2.0');
    return node.id;
  };
  const node = {
    sfgw: enroll('sfgw', { cpuPercent: 5, memRssBytes: 100, diskFreeBytes: 9e9, spoolDepth: 0, outboxDepth: 0 }),
    ncGaj: enroll('nc-gaj', { cpuPercent: 42.5, memRssBytes: 300, diskFreeBytes: 1e9, spoolDepth: 12, outboxDepth: 3 }),
    ncWjw: enroll('nc-wjw'),
    jdzGaj: enroll('jdz-gaj', { cpuPercent: 80, memRssBytes: 200, diskFreeBytes: 5e9, spoolDepth: 7, outboxDepth: 1 }),
  };
  traffic(d, node.ncGaj, node.ncWjw, 'R-NC', 1_000, 1);
  traffic(d, node.jdzGaj, node.sfgw, 'R-JDZ', 5_000, 2);
  traffic(d, node.ncGaj, node.sfgw, 'R-NC', 300, 3);
  const task = d.assignments.createTask({
    name: 'nc-out',
    kind: 'sync',
    nodeId: node.ncGaj,
    peerNodeId: node.sfgw,
    binding: 'db',
  }).id;
  const now = d.clock();
  const run = (runId: string, status: string, error: string, finishedAtMs: number) => ({
    taskId: task,
    runId,
    status,
    error,
    records: 10,
    batches: 1,
    bytes: 100,
    quarantined: 1,
    startedAtMs: finishedAtMs - 100,
    finishedAtMs,
  });
  const quarantined = (id: number, reason: string) => ({
    id,
    side: 'provider',
    origin: 'batch-1',
    rowIndex: id,
    reason,
    field: 'v',
    recordJson: JSON.stringify({ id, v: 'secret-value' }),
    createdAtMs: now - 1_000 + id,
  });
  d.reports.ingest(node.ncGaj, [
    { reportId: 'r-1', seq: 1, observedAtMs: now, kind: 'task_run', body: run('run-1', 'ok', '', now - 2_000) },
    {
      reportId: 'r-2',
      seq: 2,
      observedAtMs: now,
      kind: 'task_run',
      body: run('run-2', 'failed', 'value "secret-value" too long', now - 1_000),
    },
    {
      reportId: 'r-3',
      seq: 3,
      observedAtMs: now,
      kind: 'quarantine',
      body: {
        taskId: task,
        records: [
          quarantined(1, 'value "secret-value" too long'),
          quarantined(2, 'value "other-secret" too long'),
          quarantined(3, 'NOT NULL constraint failed: t.v'),
        ],
      },
    },
  ]);
  d.alerts.raise({
    kind: 'spool_backlog',
    entityId: node.ncGaj,
    departmentCode: 'nc-gaj',
    message: 'backlog',
    at: now,
  });
  d.alerts.raise({ kind: 'task_failing', entityId: task, departmentCode: 'nc-gaj', message: 'failing', at: now });
  d.alerts.raise({ kind: 'spool_backlog', entityId: node.jdzGaj, departmentCode: 'jdz-gaj', message: 'b', at: now });
  const cityToken = d.users.create({ name: 'nc-admin', role: 'city_admin', regionCode: '360100' }, SYSTEM_ACTOR).token;
  const w = { d, app, node, task, cityToken, get };
  worlds.push(w);
  return w;
}

/** The other city's and the province's own codes and node ids: never in a 南昌 city admin's answers. */
const outside = (w: World): string[] => ['360200', 'jdz-gaj', 'sfgw', 'R-JDZ', w.node.jdzGaj, w.node.sfgw];
const leaks = (w: World, body: unknown): string[] => strings(body).filter((s) => outside(w).some((n) => s.includes(n)));

describe('dashboard pages API', () => {
  it('dashboard rankings - providers, consumers and resources by records, scoped for a city admin', async () => {
    const w = await world();
    const all = (await w.get<DashboardRankings>('/dashboard/rankings?range=7d')).body;
    expect(all.providers.map((p) => [p.departmentCode, p.records, p.batches, p.bytes])).toEqual([
      ['jdz-gaj', 5_000, 50, 50_000],
      ['nc-gaj', 1_300, 13, 13_000],
    ]);
    expect(all.consumers.map((p) => [p.departmentCode, p.records])).toEqual([
      ['sfgw', 5_300],
      ['nc-wjw', 1_000],
    ]);
    expect(all.resources.map((r) => [r.resourceCode, r.name, r.providerDepartmentCode, r.records])).toEqual([
      ['R-JDZ', 'R-JDZ 资源', 'jdz-gaj', 5_000],
      ['R-NC', null, null, 1_300],
    ]);
    expect((await w.get<DashboardRankings>('/dashboard/rankings?range=30d&limit=1')).body.providers).toHaveLength(1);
    const city = await w.get<DashboardRankings>('/dashboard/rankings?range=30d', w.cityToken);
    expect(city.body.providers.map((p) => [p.departmentCode, p.records])).toEqual([['nc-gaj', 1_300]]);
    expect(city.body.consumers.map((p) => [p.departmentCode, p.records])).toEqual([['nc-wjw', 1_000]]);
    expect(city.body.resources.map((r) => [r.resourceCode, r.records])).toEqual([['R-NC', 1_300]]);
    expect(leaks(w, city.body)).toEqual([]);
    const bad = await w.get<{ error: { message: string } }>('/dashboard/rankings?range=1y');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/range/);
  });

  it('dashboard approvals - median and p90 in working days, on-time share against the deadline, per department', async () => {
    const w = await world();
    const all = (await w.get<DashboardApprovals>('/dashboard/approvals')).body;
    expect(all.deadlineWorkingDays).toBe(10);
    expect(all.overall).toEqual({
      received: 4,
      answered: 3,
      answeredOnTime: 3,
      pending: 1,
      overdue: 1,
      medianWorkingDays: 1,
      p90WorkingDays: 4,
      onTimeShare: 0.75,
    });
    const nc = all.departments.find((x) => x.departmentCode === 'nc-gaj')!;
    expect(nc).toMatchObject({ received: 3, answered: 2, medianWorkingDays: 2.5, p90WorkingDays: 4, overdue: 1 });
    expect(nc.onTimeShare).toBeCloseTo(2 / 3, 10);
    expect(all.departments.map((x) => x.departmentCode)).toEqual(['nc-gaj', 'jdz-gaj']);
    const city = (await w.get<DashboardApprovals>('/dashboard/approvals?range=30d', w.cityToken)).body;
    expect(city.overall).toMatchObject({ received: 3, answered: 2, overdue: 1, medianWorkingDays: 2.5 });
    expect(city.departments.map((x) => x.departmentCode)).toEqual(['nc-gaj']);
    expect(leaks(w, city)).toEqual([]);
  });

  it('dashboard evaluation and cities - per department in scope; cities compared for the province only (403 for a city admin)', async () => {
    const w = await world();
    const all = (await w.get<DashboardEvaluation>('/dashboard/evaluation')).body;
    expect(all.total).toBe(4);
    const nc = all.departments.find((x) => x.departmentCode === 'nc-gaj')!;
    expect(nc).toMatchObject({ applicationsReceived: 3, applicationsAnsweredOnTime: 2, providedRecords: 20 });
    const city = (await w.get<DashboardEvaluation>('/dashboard/evaluation?range=7d', w.cityToken)).body;
    expect(city.departments.map((x) => x.departmentCode).sort()).toEqual(['nc-gaj', 'nc-wjw']);
    expect(leaks(w, city)).toEqual([]);

    const cities = (await w.get<DashboardCities>('/dashboard/cities')).body.cities;
    expect(
      cities.map((c) => [c.regionCode, c.departments, c.nodes, c.nodesOnline, c.todayRecords, c.weekRecords]),
    ).toEqual([
      ['360000', 1, 1, 1, 5_300, 5_300],
      ['360100', 2, 2, 1, 1_300, 1_300],
      ['360200', 1, 1, 1, 5_000, 5_000],
    ]);
    expect(cities[1]).toMatchObject({ onlineRate: 0.5, approvalsReceived: 3 });
    expect(cities[1]!.approvalsOnTimeShare).toBeCloseTo(2 / 3, 10);
    // The 南昌 row's records today equal what its city admin's summary counts.
    const summary = await w.get<{ today: { records: number } }>('/dashboard/summary', w.cityToken);
    expect(summary.body.today.records).toBe(cities[1]!.todayRecords);
    const denied = await w.get<{ error: { code: string; message: string } }>('/dashboard/cities', w.cityToken);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(/city_admin may not/);
  });

  it('dashboard nodes - health columns, filter, sort and paging; a city admin sees its nodes only', async () => {
    const w = await world();
    const all = (await w.get<DashboardNodes>('/dashboard/nodes')).body;
    expect(all.total).toBe(4);
    expect(all.counts).toEqual({ online: 3, offline: 1 });
    const nc = all.nodes.find((n) => n.id === w.node.ncGaj)!;
    expect(nc).toMatchObject({
      departmentCode: 'nc-gaj',
      departmentName: 'nc-gaj 部门',
      regionCode: '360100',
      status: 'online',
      agentVersion: '0.2.0',
      cpuPercent: 42.5,
      memRssBytes: 300,
      diskFreeBytes: 1e9,
      spoolDepth: 12,
      outboxDepth: 3,
      openAlerts: 1,
    });
    expect(nc.heartbeatAgeMs).toBe(w.d.clock() - nc.lastHeartbeatAt!);
    const never = all.nodes.find((n) => n.id === w.node.ncWjw)!;
    expect(never).toMatchObject({ status: 'offline', lastHeartbeatAt: null, heartbeatAgeMs: null, cpuPercent: null });
    const byCpu = (await w.get<DashboardNodes>('/dashboard/nodes?sort=cpu&order=desc')).body.nodes;
    expect(byCpu.map((n) => n.cpuPercent)).toEqual([80, 42.5, 5, null]);
    const page = (await w.get<DashboardNodes>('/dashboard/nodes?sort=cpu&order=desc&limit=2&offset=1')).body;
    expect([page.total, page.nodes.map((n) => n.cpuPercent)]).toEqual([4, [42.5, 5]]);
    const offline = (await w.get<DashboardNodes>('/dashboard/nodes?status=offline')).body.nodes;
    expect(offline.map((n) => n.id)).toEqual([w.node.ncWjw]);
    expect((await w.get<DashboardNodes>('/dashboard/nodes?q=JDZ')).body.nodes.map((n) => n.id)).toEqual([
      w.node.jdzGaj,
    ]);
    expect((await w.get<DashboardNodes>('/dashboard/nodes?region=360200')).body.total).toBe(1);
    const city = (await w.get<DashboardNodes>('/dashboard/nodes', w.cityToken)).body;
    expect(city.nodes.map((n) => n.id).sort()).toEqual([w.node.ncGaj, w.node.ncWjw].sort());
    expect(leaks(w, city)).toEqual([]);
    const unknown = await w.get<{ error: { message: string } }>('/dashboard/nodes?region=999999');
    expect([unknown.status, unknown.body.error.message]).toEqual([404, 'region "999999" not found']);
    expect((await w.get('/dashboard/nodes?sort=colour')).status).toBe(400);
  });

  it('dashboard node detail - tasks with newest runs, quarantine counts and reasons without values, open alerts; 404 outside the scope', async () => {
    const w = await world();
    const res = await w.get<DashboardNodeDetail>(`/dashboard/nodes/${w.node.ncGaj}`, w.cityToken);
    expect(res.status).toBe(200);
    const d = res.body;
    expect(d.node.id).toBe(w.node.ncGaj);
    expect(d.tasks).toHaveLength(1);
    const t = d.tasks[0]!;
    expect(t).toMatchObject({ id: w.task, kind: 'sync', peerNodeId: null, quarantined: 3, quarantinedOpen: 3 });
    expect(t.runs.map((r) => [r.runId, r.status, r.error])).toEqual([
      ['run-2', 'failed', 'value "…" too long'],
      ['run-1', 'ok', ''],
    ]);
    expect(d.quarantine.total).toBe(3);
    expect(d.quarantine.reasons).toEqual([
      { reason: 'value "…" too long', count: 2 },
      { reason: 'NOT NULL constraint failed: t.v', count: 1 },
    ]);
    expect(d.quarantine.recent.map((q) => q.rowIndex)).toEqual([3, 2, 1]);
    expect(JSON.stringify(d)).not.toContain('secret');
    expect(d.alerts.map((a) => a.kind).sort()).toEqual(['spool_backlog', 'task_failing']);
    expect(leaks(w, d)).toEqual([]);
    // The province admin sees the peer (the province's node).
    const admin = (await w.get<DashboardNodeDetail>(`/dashboard/nodes/${w.node.ncGaj}`)).body;
    expect(admin.tasks[0]!.peerNodeId).toBe(w.node.sfgw);
    const other = await w.get<{ error: { code: string; message: string } }>(
      `/dashboard/nodes/${w.node.jdzGaj}`,
      w.cityToken,
    );
    expect([other.status, other.body.error.message]).toEqual([404, `node "${w.node.jdzGaj}" not found`]);
    const unknown = await w.get<{ error: { code: string; message: string } }>('/dashboard/nodes/nope');
    expect([unknown.status, unknown.body.error]).toEqual([
      404,
      { code: 'NOT_FOUND', message: 'node "nope" not found', field: 'node' },
    ]);
  });
});
