// The brain's reads as a city admin sees them through the HTTP app: clusters narrowed to the pairs with a node
// in its region (sizes and the run's pair count included), one cluster's members, the static policies the
// clustering wrote (a flow with an end in the city) and the surges of its pairs — nothing of the other city.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ClusterDetail, ClusterRunView, DashboardClusters, SurgeView } from '../../central/src/api/brain.js';
import type { PolicyView } from '../../central/src/api/policies.js';
import { SYSTEM_ACTOR } from '../../central/src/domain/roles.js';
import { HOUR_MS } from '../../central/src/domain/traffic.js';
import { buildApp, type App } from '../../central/src/http/app.js';
import { CHINA_CALENDAR_2025_2026, generateProvince } from '../../scripts/sim/generate.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const START_MS = Date.parse('2025-08-31T16:00:00Z');
const DAYS = 21;

const opened: { d: CentralDeps; app: App }[] = [];
afterEach(async () => {
  for (const { d, app } of opened.splice(0)) {
    await app.close();
    d.close();
  }
});
afterAll(removeTmpDirs);

/** Every string (keys and values) in a JSON value. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

async function world() {
  const d = centralDeps({ calendar: CHINA_CALENDAR_2025_2026 });
  const app = await buildApp(d.http);
  opened.push({ d, app });
  d.manual!.nowMs = START_MS + DAYS * 24 * HOUR_MS;
  d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
  d.registry.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  d.registry.createRegion({ code: '360200', name: '景德镇市', level: 'city', parentCode: '360000' });
  for (const [code, region] of [
    ['sfgw', '360000'],
    ['nc-gaj', '360100'],
    ['jdz-gaj', '360200'],
  ] as const)
    d.registry.createDepartment({ code, name: code, regionCode: region });
  const enroll = (dept: string): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    return d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} }).node.id;
  };
  const node = { sfgw: enroll('sfgw'), nc: enroll('nc-gaj'), jdz: enroll('jdz-gaj') };
  // 24 simulated pairs; the first two become real flows into the province's department, one per city.
  const sim = generateProvince({
    pairs: 24,
    days: DAYS,
    startMs: START_MS,
    seed: 3,
    calendar: CHINA_CALENDAR_2025_2026,
  });
  const flows = [
    [node.nc, node.sfgw],
    [node.jdz, node.sfgw],
  ] as const;
  flows.forEach(([from, to], i) => {
    Object.assign(sim.pairs[i]!, { fromNode: from, toNode: to, resource: '' });
    d.assignments.createTask({ name: 'sync', kind: 'sync', nodeId: from, peerNodeId: to, binding: 'db' });
  });
  d.store.tx(() => {
    for (const p of sim.pairs) {
      const rows = p.series.values.map((records, i) => ({
        startMs: p.series.startMs + i * p.series.bucketMs,
        batches: Math.ceil(records / p.recordsPerBatch),
        records,
        bytes: records * p.bytesPerRecord,
        latencyP50Ms: null,
        latencyP99Ms: null,
        errors: 0,
        origin: 'import' as const,
      }));
      d.store.traffic.put('traffic_buckets', p, rows);
      d.store.traffic.rollupHours(p, START_MS, START_MS + DAYS * 24 * HOUR_MS);
    }
  });
  for (const [i, [from, to]] of flows.entries())
    d.store.brain.upsertSurge({
      surgeId: `srg-${i}`,
      fromNode: from,
      toNode: to,
      resource: '',
      origin: 'live',
      startMs: START_MS + 10 * 24 * HOUR_MS,
      endMs: START_MS + 10 * 24 * HOUR_MS + HOUR_MS,
      detectedAtMs: START_MS + 10 * 24 * HOUR_MS + 300_000,
      peak: 900,
      expected: 100,
      evidence: { rule: 'test' },
      actions: [],
    });
  const cityToken = d.users.create({ name: 'nc-admin', role: 'city_admin', regionCode: '360100' }, SYSTEM_ACTOR).token;
  const get = async <T>(url: string, token = TEST_ADMIN_TOKEN) => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.statusCode, body: JSON.parse(res.body) as T };
  };
  return { d, node, cityToken, get };
}

describe('brain scope', () => {
  it('brain scope - a city admin sees the clusters, policies and surges of pairs with a node in its city only', async () => {
    const w = await world();
    // Before the first run the dashboard's answer is an empty board, not GET /clusters' 404.
    expect((await w.get<DashboardClusters>('/dashboard/clusters', w.cityToken)).body).toEqual({ run: null });
    expect((await w.get('/clusters', w.cityToken)).status).toBe(404);
    const summary = w.d.clusters.run();
    expect(summary.run!.pairs).toBe(24);
    expect(summary.policies.created).toBe(2);

    const all = (await w.get<ClusterRunView>('/clusters')).body;
    expect(all.pairs).toBe(24);
    const city = await w.get<ClusterRunView>('/clusters', w.cityToken);
    expect(city.status).toBe(200);
    expect(city.body.pairs).toBe(1);
    expect(city.body.clusters.map((c) => c.size)).toEqual([1]);
    const id = city.body.clusters[0]!.clusterId;
    const detail = await w.get<ClusterDetail>(`/clusters/${id}`, w.cityToken);
    expect(detail.body.members.map((m) => [m.fromNode, m.toNode])).toEqual([[w.node.nc, w.node.sfgw]]);
    const big = all.clusters.find((c) => c.size > 1)!;
    const few = await w.get<ClusterDetail>(`/clusters/${big.clusterId}?limit=1`);
    expect([few.body.size, few.body.members.length]).toEqual([big.size, 1]);
    const board = (await w.get<DashboardClusters>('/dashboard/clusters?members=1', w.cityToken)).body.run!;
    expect([board.pairs, board.clusters.map((c) => [c.clusterId, c.size, c.members.length])]).toEqual([
      1,
      [[id, 1, 1]],
    ]);
    const wide = (await w.get<DashboardClusters>('/dashboard/clusters?members=1')).body.run!;
    expect(wide.clusters.map((c) => [c.size, c.members.length])).toEqual(all.clusters.map((c) => [c.size, 1]));
    const hidden = all.clusters.find((c) => c.clusterId !== id)!;
    expect((await w.get(`/clusters/${hidden.clusterId}`, w.cityToken)).status).toBe(404);

    const policies = await w.get<PolicyView[]>('/policies', w.cityToken);
    expect(policies.body.map((p) => p.nodeIds)).toEqual([[w.node.nc]]);
    expect((await w.get<PolicyView[]>('/policies')).body).toHaveLength(2);
    expect((await w.get<PolicyView[]>('/policies?limit=1')).body).toHaveLength(1);

    const surges = await w.get<SurgeView[]>('/surges', w.cityToken);
    expect(surges.body.map((s) => s.surgeId)).toEqual(['srg-0']);

    const other = [w.node.jdz, 'jdz-gaj', '360200'];
    for (const body of [city.body, detail.body, board, policies.body, surges.body])
      expect(strings(body).filter((s) => other.some((o) => s.includes(o)))).toEqual([]);
    // The needle is real: the province admin's answers hold it.
    expect(strings((await w.get('/surges')).body)).toContain(w.node.jdz);
  });

  it('brain scope - a department officer sees the clusters, policies and surges of its department’s pairs only', async () => {
    const w = await world();
    const officer = (dept: string) =>
      w.d.users.create({ name: `${dept}-officer`, role: 'officer', departmentCode: dept }, SYSTEM_ACTOR).token;
    const [nc, sfgw] = [officer('nc-gaj'), officer('sfgw')];
    w.d.clusters.run();
    const run = await w.get<ClusterRunView>('/clusters', nc);
    expect([run.status, run.body.pairs]).toEqual([200, 1]);
    const id = run.body.clusters[0]!.clusterId;
    const detail = await w.get<ClusterDetail>(`/clusters/${id}`, nc);
    expect(detail.body.members.map((m) => [m.fromNode, m.toNode])).toEqual([[w.node.nc, w.node.sfgw]]);
    const board = (await w.get<DashboardClusters>('/dashboard/clusters?members=1', nc)).body.run!;
    expect(board.pairs).toBe(1);
    const policies = (await w.get<PolicyView[]>('/policies', nc)).body;
    expect(policies.map((p) => p.nodeIds)).toEqual([[w.node.nc]]);
    const surges = (await w.get<SurgeView[]>('/surges', nc)).body;
    expect(surges.map((s) => s.surgeId)).toEqual(['srg-0']);
    const other = [w.node.jdz, 'jdz-gaj'];
    for (const body of [run.body, detail.body, board, policies, surges])
      expect(strings(body).filter((s) => other.some((o) => s.includes(o)))).toEqual([]);
    // The receiving department sees both flows into it: their other ends are in two cities.
    expect((await w.get<ClusterRunView>('/clusters', sfgw)).body.pairs).toBe(2);
    expect((await w.get<SurgeView[]>('/surges', sfgw)).body.map((s) => s.surgeId).sort()).toEqual(['srg-0', 'srg-1']);
  });
});
