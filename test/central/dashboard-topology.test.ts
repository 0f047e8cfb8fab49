// GET /api/v1/dashboard/topology with the real services and the HTTP app: three centers (province, 南昌's,
// 景德镇's) and two links whose states come from probe windows, flows from imported hourly history summed
// per department pair with the route each crosses, the 24 h and 7 d ranges, the limit, a city admin's scope
// (only flows with an end in its city, the centers and links on them, nothing of the other city) and a bad
// range refused with a clear 400.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Topology } from '../../central/src/api/dashboard-topology.js';
import { SYSTEM_ACTOR } from '../../central/src/domain/roles.js';
import { buildApp, type App } from '../../central/src/http/app.js';
import { FLOW_CACHE_MS } from '../../central/src/services/dashboard-topology.js';
import { importHistory } from '../../central/src/services/traffic-files.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { linkWindow } from '../helpers/probes.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const HOUR = 3_600_000;

interface World {
  d: CentralDeps;
  app: App;
  node: Record<'sfgw' | 'ncGaj' | 'ncWjw' | 'jdzGaj', string>;
  links: { nc: string; jdz: string };
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

/** `records` every hour for the `hours` hours before the current one and the current one itself. */
function hourlyCsv(now: number, hours: number, records: number): string {
  const last = Math.floor(now / HOUR) * HOUR;
  const rows = ['timestamp,records,bytes'];
  for (let t = last - (hours - 1) * HOUR; t <= last; t += HOUR)
    rows.push(`${new Date(t).toISOString()},${records},${records * 10}`);
  return rows.join('\n');
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
  await d.centers.update('province', { regionCode: '360000', name: '省交换中心' });
  await d.centers.create({
    code: 'nanchang',
    name: '南昌交换中心',
    regionCode: '360100',
    level: 'city',
    natsUrls: ['nats://127.0.0.1:1'],
    check: false,
  });
  await d.centers.create({
    code: 'jdz',
    name: '景德镇交换中心',
    regionCode: '360200',
    level: 'city',
    natsUrls: ['nats://127.0.0.1:2'],
    check: false,
  });
  const nc = await d.links.create({ a: 'province', b: 'nanchang', capacityBps: 1_000_000, check: false });
  const jdz = await d.links.create({ a: 'jdz', b: 'province', capacityBps: 1_000_000, check: false });
  const enroll = (dept: string, center: string): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    const id = d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} }).node.id;
    d.centers.moveNode(id, center);
    return id;
  };
  const node = {
    sfgw: enroll('sfgw', 'province'),
    ncGaj: enroll('nc-gaj', 'nanchang'),
    ncWjw: enroll('nc-wjw', 'nanchang'),
    jdzGaj: enroll('jdz-gaj', 'jdz'),
  };
  // Tasks crossing centers make their center pairs needed: routing chooses their routes.
  for (const [from, to] of [
    [node.ncGaj, node.sfgw],
    [node.jdzGaj, node.sfgw],
  ] as const)
    d.assignments.createTask({ name: 'sync', kind: 'sync', nodeId: from, peerNodeId: to, binding: 'db' });
  const now = d.clock();
  importHistory(d.traffic, { from: node.ncGaj, to: node.sfgw, csv: hourlyCsv(now, 30, 100) });
  importHistory(d.traffic, { from: node.ncGaj, to: node.ncWjw, csv: hourlyCsv(now, 30, 10) });
  importHistory(d.traffic, { from: node.jdzGaj, to: node.sfgw, csv: hourlyCsv(now, 8 * 24, 5_000) });
  // Probe windows: province–nanchang answered (p50 rtt 20 ms), jdz–province losing 40 %.
  const windows = [
    linkWindow({ from: 'province', to: 'nanchang', linkId: nc.id, endMs: now - 1_000, windowMs: 5_000, rttP50Ms: 20 }),
    linkWindow({
      from: 'jdz',
      to: 'province',
      linkId: jdz.id,
      endMs: now - 1_000,
      windowMs: 5_000,
      rttP50Ms: 30,
      sent: 10,
      answered: 6,
    }),
  ];
  d.store.tx(() => {
    for (const w of windows) d.probes.ingest(node.sfgw, w.reportId!, w.probe as Record<string, unknown>, now, 'probe');
  });
  d.routing.evaluate();
  const cityToken = d.users.create({ name: 'nc-admin', role: 'city_admin', regionCode: '360100' }, SYSTEM_ACTOR).token;
  const w = { d, app, node, links: { nc: nc.id, jdz: jdz.id }, cityToken, get };
  worlds.push(w);
  return w;
}

/** Every string (keys and values) in a JSON value. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

describe('dashboard topology', () => {
  it('topology - centers, links with their probe state, flows per department pair with their routes', async () => {
    const w = await world();
    const { status, body: t } = await w.get<Topology>('/dashboard/topology');
    expect(status).toBe(200);
    expect(t.range).toBe('24h');
    expect(t.untilMs - t.sinceMs).toBe(24 * HOUR);
    expect(t.centers.map((c) => c.code)).toEqual(['jdz', 'nanchang', 'province']);
    const link = (id: string) => t.links.find((l) => l.id === id)!;
    expect(link(w.links.nc)).toMatchObject({ state: 'up', latencyP50Ms: 10, loss: 0, a: 'province', b: 'nanchang' });
    expect(link(w.links.jdz)).toMatchObject({ state: 'degraded', latencyP50Ms: 15, loss: 0.4 });
    expect(link(w.links.jdz).reason).toMatch(/loss 40/);
    expect(t.flowsTotal).toBe(3);
    expect(t.flows.map((f) => [f.fromDepartment, f.toDepartment, f.records, f.bytes])).toEqual([
      ['jdz-gaj', 'sfgw', 24 * 5_000, 24 * 50_000],
      ['nc-gaj', 'sfgw', 24 * 100, 24 * 1_000],
      ['nc-gaj', 'nc-wjw', 24 * 10, 24 * 100],
    ]);
    const [jdzFlow, ncFlow, local] = t.flows;
    expect(ncFlow).toMatchObject({ fromCenter: 'nanchang', toCenter: 'province', route: ['nanchang', 'province'] });
    expect(ncFlow!.routeState).toBe('up');
    expect(jdzFlow).toMatchObject({ route: ['jdz', 'province'], routeState: 'degraded', pairs: 1 });
    expect(local).toMatchObject({ route: ['nanchang'], routeReason: 'within one center' });
    expect(t.departments.map((d) => d.code)).toEqual(['jdz-gaj', 'nc-gaj', 'nc-wjw', 'sfgw']);
    // Routes (both directions are needed: data one way, receipts back), each with why it was chosen.
    expect(t.routes.map((r) => `${r.from}>${r.to}`).sort()).toEqual([
      'jdz>province',
      'nanchang>province',
      'province>jdz',
      'province>nanchang',
    ]);
    for (const r of t.routes) expect(r.reason.length).toBeGreaterThan(0);

    // 7 days: the whole local days from traffic_daily (kept: Asia/Shanghai has a fixed offset), the edges by hour.
    expect(w.d.store.traffic.dailyOffset()).toBe(8 * HOUR);
    const week = (await w.get<Topology>('/dashboard/topology?range=7d')).body;
    expect(week.untilMs - week.sinceMs).toBe(7 * 24 * HOUR);
    expect(week.flows.map((f) => f.records)).toEqual([7 * 24 * 5_000, 30 * 100, 30 * 10]);

    const one = (await w.get<Topology>('/dashboard/topology?limit=1')).body;
    expect(one.flows.map((f) => f.fromDepartment)).toEqual(['jdz-gaj']);
    expect(one.flowsTotal).toBe(3);
    // A city admin's routes are those of every flow in its scope, also past the limit: a larger flow within
    // 南昌's center is shown alone, the route of the flow to the province's center is still listed.
    importHistory(w.d.traffic, { from: w.node.ncWjw, to: w.node.ncGaj, csv: hourlyCsv(w.d.clock(), 5, 1_000) });
    const cityOne = (await w.get<Topology>('/dashboard/topology?limit=1', w.cityToken)).body;
    expect(cityOne.flows.map((f) => `${f.fromDepartment}>${f.toDepartment}`)).toEqual(['nc-wjw>nc-gaj']);
    expect(cityOne.routes.map((r) => `${r.from}>${r.to}`)).toEqual(['nanchang>province']);
  });

  it('topology - a city admin sees the flows with an end in its city and only the centers and links on them', async () => {
    const w = await world();
    const { status, body: t } = await w.get<Topology>('/dashboard/topology?range=7d', w.cityToken);
    expect(status).toBe(200);
    expect(t.regionCode).toBe('360100');
    expect(t.flows.map((f) => `${f.fromDepartment}>${f.toDepartment}`)).toEqual(['nc-gaj>sfgw', 'nc-gaj>nc-wjw']);
    expect(t.flowsTotal).toBe(2);
    expect(t.centers.map((c) => c.code)).toEqual(['nanchang', 'province']);
    expect(t.links.map((l) => l.id)).toEqual([w.links.nc]);
    expect(t.routes.map((r) => `${r.from}>${r.to}`)).toEqual(['nanchang>province']);
    expect(t.departments.map((d) => d.code)).toEqual(['nc-gaj', 'nc-wjw', 'sfgw']);
    const other = ['360200', 'jdz', 'jdz-gaj', w.node.jdzGaj, w.links.jdz];
    expect(strings(t).filter((s) => other.some((o) => s.includes(o)))).toEqual([]);
    // Flow sums are reused for FLOW_CACHE_MS per range and scope: new traffic shows after at most that.
    const before = t.flows.find((f) => f.toDepartment === 'nc-wjw')!.records;
    importHistory(w.d.traffic, { from: w.node.ncGaj, to: w.node.ncWjw, csv: hourlyCsv(w.d.clock(), 60, 20) });
    const cached = (await w.get<Topology>('/dashboard/topology?range=7d', w.cityToken)).body;
    expect(cached.flows.find((f) => f.toDepartment === 'nc-wjw')!.records).toBe(before);
    w.d.manual!.advance(FLOW_CACHE_MS);
    const fresh = (await w.get<Topology>('/dashboard/topology?range=7d', w.cityToken)).body;
    expect(fresh.flows.find((f) => f.toDepartment === 'nc-wjw')!.records).toBe(60 * 20);
    // The needles are real: the province admin's answer holds them.
    const all = strings((await w.get<Topology>('/dashboard/topology?range=7d')).body);
    for (const o of ['360200', 'jdz-gaj', w.links.jdz]) expect(all.some((s) => s.includes(o))).toBe(true);
  });

  it('topology - a bad range or limit is refused with a 400 naming it', async () => {
    const w = await world();
    const bad = await w.get<{ error: { code: string; message: string } }>('/dashboard/topology?range=1y');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_ARGUMENT');
    expect(bad.body.error.message).toMatch(/range/);
    expect(bad.body.error.message).toMatch(/24h/);
    const limit = await w.get<{ error: { message: string } }>('/dashboard/topology?limit=0');
    expect(limit.status).toBe(400);
    expect(limit.body.error.message).toMatch(/limit/);
    const extra = await w.get<{ error: { message: string } }>('/dashboard/topology?region=360200');
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/region/);
  });
});
