// The dashboard's counts that the store makes (HTTP app over the real services and SQLite, fastify inject): the node
// table's open alerts per node whatever the number of open alerts in the province, and the cities' today and week
// records from one scan of the week's pair volumes.
import { afterAll, describe, expect, it } from 'vitest';
import type { DashboardNodes } from '../../central/src/api/dashboard-nodes.js';
import type { DashboardCities } from '../../central/src/api/dashboard-pages.js';
import { SYSTEM_ACTOR } from '../../central/src/domain/roles.js';
import { buildApp } from '../../central/src/http/app.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

afterAll(removeTmpDirs);
const DAY = 86_400_000;

/** 南昌 (nc-gaj, nc-wjw) and 景德镇 (jdz-gaj), a node each; a city admin of 南昌. */
function province(d: CentralDeps) {
  const r = d.registry;
  r.createRegion({ code: '360000', name: '江西省', level: 'province' });
  r.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  r.createRegion({ code: '360200', name: '景德镇市', level: 'city', parentCode: '360000' });
  for (const [code, region] of [
    ['nc-gaj', '360100'],
    ['nc-wjw', '360100'],
    ['jdz-gaj', '360200'],
  ] as const)
    r.createDepartment({ code, name: code, regionCode: region });
  const enroll = (dept: string): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    return d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} }).node.id;
  };
  const node = { ncGaj: enroll('nc-gaj'), ncWjw: enroll('nc-wjw'), jdzGaj: enroll('jdz-gaj') };
  const cityToken = d.users.create({ name: 'nc-admin', role: 'city_admin', regionCode: '360100' }, SYSTEM_ACTOR).token;
  return { node, cityToken };
}

let seq = 0;
/** A traffic report of `records` from `from` to `to` in the 5-minute bucket starting `daysAgo` days before now. */
function traffic(d: CentralDeps, from: string, to: string, records: number, daysAgo: number): void {
  seq += 1;
  const at = d.clock();
  const body = {
    sourceNodeId: from,
    destinationNodeId: to,
    resourceCode: 'R-X',
    bucketMs: 300_000,
    bucketStartMs: Math.floor((at - daysAgo * DAY - 600_000) / 300_000) * 300_000,
    batches: 1,
    records,
    bytes: records * 10,
    errors: 0,
    latencyP50Ms: 20,
    latencyP99Ms: 40,
  };
  d.reports.ingest(to, [{ reportId: `t-${seq}`, seq, observedAtMs: at, kind: 'traffic', body }]);
}

async function withApp<T>(fn: (d: CentralDeps, get: <B>(url: string, token?: string) => Promise<B>) => Promise<T>) {
  const d = centralDeps();
  const app = await buildApp(d.http);
  const get = async <B>(url: string, token = TEST_ADMIN_TOKEN): Promise<B> => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return JSON.parse(res.body) as B;
  };
  try {
    return await fn(d, get);
  } finally {
    await app.close();
    d.close();
  }
}

describe('dashboard counts', () => {
  it('dashboard nodes - open alerts per node are counted whatever the number of open alerts (100,005 of tasks)', async () => {
    await withApp(async (d, get) => {
      const p = province(d);
      const at = d.clock();
      d.alerts.raise({ kind: 'node_offline', entityId: p.node.ncGaj, departmentCode: 'nc-gaj', message: 'x', at });
      d.alerts.raise({ kind: 'spool_backlog', entityId: p.node.ncGaj, departmentCode: 'nc-gaj', message: 'x', at });
      d.alerts.raise({ kind: 'node_offline', entityId: p.node.jdzGaj, departmentCode: 'jdz-gaj', message: 'x', at });
      // Resolved alerts do not count.
      d.alerts.raise({ kind: 'node_offline', entityId: p.node.ncWjw, departmentCode: 'nc-wjw', message: 'x', at });
      d.alerts.resolve('node_offline', p.node.ncWjw, 'back', at);
      // Newer open alerts of tasks, more than a listing of alerts returns (the table once counted a listing).
      d.store.db
        .prepare(
          `WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < 100005)
           INSERT INTO alerts (kind, entity_id, department_code, message, severity, state, started_at, last_seen_at)
           SELECT 'task_failing', 'tsk-' || n, CASE n % 2 WHEN 0 THEN 'nc-gaj' ELSE 'jdz-gaj' END, 'x', 'warning',
             'firing', ?, ? FROM i`,
        )
        .run(at, at);
      const open = (nodes: DashboardNodes) => Object.fromEntries(nodes.nodes.map((n) => [n.id, n.openAlerts]));
      expect(open(await get<DashboardNodes>('/dashboard/nodes'))).toEqual({
        [p.node.ncGaj]: 2,
        [p.node.ncWjw]: 0,
        [p.node.jdzGaj]: 1,
      });
      expect(open(await get<DashboardNodes>('/dashboard/nodes', p.cityToken))).toEqual({
        [p.node.ncGaj]: 2,
        [p.node.ncWjw]: 0,
      });
    });
  }, 60_000);

  it('dashboard cities - today and the week per city: flows with either end in it, once, from one scan', async () => {
    await withApp(async (d, get) => {
      const p = province(d);
      traffic(d, p.node.ncGaj, p.node.ncWjw, 1_000, 0);
      traffic(d, p.node.ncGaj, p.node.ncWjw, 200, 3);
      traffic(d, p.node.ncGaj, p.node.jdzGaj, 30, 0); // across the cities: counted in both
      traffic(d, p.node.jdzGaj, p.node.ncWjw, 4, 5);
      traffic(d, p.node.ncGaj, p.node.ncWjw, 50_000, 9); // before the week
      const { cities } = await get<DashboardCities>('/dashboard/cities');
      const byCode = Object.fromEntries(cities.map((c) => [c.regionCode, [c.todayRecords, c.weekRecords]]));
      expect(byCode).toEqual({
        '360000': [0, 0],
        '360100': [1_030, 1_234],
        '360200': [30, 34],
      });
      const summary = await get<{ today: { records: number } }>('/dashboard/summary');
      expect(summary.today.records).toBe(1_030);
    });
  }, 60_000);
});
