// The topology and brain pages in real headless Chromium against a real central process (the shared dashboard
// province, test/helpers/dashboard-province.ts), extended with three exchange centers (the province's, 南昌's,
// 景德镇's) and two links whose states come from probe windows a relay node keeps reporting over gRPC, tasks
// crossing centers (so routes are chosen), three weeks of hourly history for four pairs (one with a planted
// surge the import replay finds), the clustering run through the API and an operator's policy. As the province
// admin and as the city admin of 南昌: the figures on screen equal the API's JSON, the city admin's network
// responses hold nothing of 景德镇, the language switch turns both pages to English, no console errors, and
// screenshots of both pages in zh and en go to test-output/dashboard/.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterRunView, SurgeView } from '../../central/src/api/brain.js';
import type { Topology } from '../../central/src/api/dashboard-topology.js';
import type { PolicyView } from '../../central/src/api/policies.js';
import type { TrafficHistory } from '../../central/src/api/traffic.js';
import { CentralClient } from '../../node-agent/src/control/central-client.js';
import type { Api } from '../helpers/api.js';
import {
  DashboardProvince,
  goto,
  expectNoneOf,
  jsonResponses,
  strings,
  waitForRoute,
  type BrowserSession,
} from '../helpers/dashboard-province.js';
import { linkWindow } from '../helpers/probes.js';
import { waitFor } from '../helpers/wait-for.js';

const HOUR = 3_600_000;
const DAYS = 21;

let p: DashboardProvince;
let relay: CentralClient;
let probing: ReturnType<typeof setInterval> | undefined;
const links: Record<'nanchang' | 'jingdezhen', string> = { nanchang: '', jingdezhen: '' };

/** Hourly rows from DAYS days ago up to (excluding) `untilMs`; `records(t)` gives each hour's count. */
function historyCsv(untilMs: number, records: (t: number) => number): string {
  const rows = ['timestamp,records,bytes'];
  const end = Math.floor(untilMs / HOUR) * HOUR;
  for (let t = end - DAYS * 24 * HOUR; t < end; t += HOUR) {
    const n = Math.round(records(t));
    rows.push(`${new Date(t).toISOString()},${n},${n * 200}`);
  }
  return rows.join('\n');
}

/** Local hour (UTC+8) of an instant. */
const localHour = (t: number): number => new Date(t + 8 * HOUR).getUTCHours();
const office = (base: number) => (t: number) => (localHour(t) >= 9 && localHour(t) < 18 ? base : base / 20);
const nightly = (base: number) => (t: number) => (localHour(t) < 5 ? base : base / 50);

/** Probe windows of both links as a relay reports them: 南昌's answered (rtt 24 ms), 景德镇's losing 30 %. */
async function probe(): Promise<void> {
  const endMs = Date.now();
  await relay.report([
    linkWindow({ from: 'province', to: 'nanchang', linkId: links.nanchang, endMs, windowMs: 2_000, rttP50Ms: 24 }),
    linkWindow({
      from: 'province',
      to: 'jingdezhen',
      linkId: links.jingdezhen,
      endMs,
      windowMs: 2_000,
      rttP50Ms: 40,
      sent: 10,
      answered: 7,
    }),
  ]);
}

async function extend(api: Api): Promise<void> {
  const ids = p.nodeIds;
  await api.ok('PATCH', '/centers/province', { name: '省交换中心', regionCode: '360000' });
  for (const [code, name, region] of [
    ['nanchang', '南昌交换中心', '360100'],
    ['jingdezhen', '景德镇交换中心', '360200'],
  ] as const) {
    await api.ok('POST', '/centers', {
      code,
      name,
      regionCode: region,
      level: 'city',
      natsUrls: ['nats://127.0.0.1:9'],
      check: false,
    });
    links[code] = (
      await api.ok<{ id: string }>('POST', '/links', { a: 'province', b: code, capacityBps: 10_000_000, check: false })
    ).id;
  }
  for (const [dept, center] of [
    ['nc-gat', 'nanchang'],
    ['nc-wjw', 'nanchang'],
    ['jdz-gat', 'jingdezhen'],
  ] as const)
    await api.ok('PUT', `/nodes/${ids[dept]}/center`, { center });
  // The relay of the province's center (a node of sfgw) reports the probe windows, every 2 s like a relay.
  const token = await api.enrollToken('sfgw', 'relay-01');
  relay = new CentralClient(p.central.grpcAddress);
  const r = await relay.enroll({ token, hostname: 'relay.example', agentVersion: '0.1.0', labels: {} });
  relay.setCredentials({ nodeId: r.nodeId, nodeSecret: r.nodeSecret });
  await probe();
  probing = setInterval(() => void probe().catch(() => undefined), 2_000);
  // Flows crossing centers: their tasks make central choose routes.
  for (const [from, to, sub] of [
    ['nc-gat', 'sfgw', 'sub-nc'],
    ['jdz-gat', 'sfgw', 'sub-jdz'],
  ] as const)
    await api.ok('POST', '/tasks', {
      name: `${from}-sync`,
      kind: 'sync',
      nodeId: ids[from],
      peerNodeId: ids[to],
      binding: 'db',
      subscriptionId: sub,
    });
  const now = Date.now();
  const surgeAt = Math.floor(now / HOUR) * HOUR - 2 * 24 * HOUR - 6 * HOUR;
  const ncShape = office(600);
  // Three weeks of history; the fixture imported today's hours of nc-gat → nc-wjw and jdz-gat → sfgw already.
  for (const [from, to, csv] of [
    ['nc-gat', 'sfgw', historyCsv(now, (t) => (t >= surgeAt && t < surgeAt + 3 * HOUR ? 12 * ncShape(t) : ncShape(t)))],
    ['sfgw', 'nc-wjw', historyCsv(now, nightly(4_000))],
    ['nc-wjw', 'nc-gat', historyCsv(now, office(50))],
    ['jdz-gat', 'sfgw', historyCsv(p.hours[0]!, nightly(9_000))],
  ] as const)
    await api.ok('POST', '/traffic/import', { from: ids[from], to: ids[to], csv });
  // The import replay finds the planted surge; routes are chosen once the links were evaluated healthy.
  await waitFor(async () => (await api.ok<SurgeView[]>('GET', `/surges?from=${ids['nc-gat']}`)).length > 0, 60_000);
  // Routes settle one evaluation after their first choice: a route over a degraded link first reads "cheapest
  // route", then "every route is degraded or down; keeping the cheapest" (domain/routing.ts chooseRoute).
  await waitFor(async () => {
    const t = await api.ok<Topology>('GET', '/dashboard/topology');
    const settled = t.routes.filter((r) => r.state === 'up' || r.reason.startsWith('every route is degraded'));
    return settled.length === 4 && t.links.every((l) => l.state !== 'down');
  }, 60_000);
  await api.ok('POST', '/clusters/run', {});
  const [task] = await api.ok<{ id: string }[]>('GET', `/tasks?node=${ids['nc-gat']}`);
  await api.ok('POST', '/policies', {
    kind: 'static',
    taskIds: [task!.id],
    windows: [{ startMinute: 540, endMinute: 1080, knobs: { transfer: 'open', batchRecords: 2000, concurrency: 2 } }],
    reason: 'office hours: 95 % of records move 09:00-18:00; the 南昌 link answers in 12 ms',
    evidence: [
      { kind: 'history', name: 'office_share', value: 0.95 },
      { kind: 'probe', name: 'latency_p50_ms', value: 12, unit: 'ms' },
    ],
  });
}

beforeAll(async () => {
  p = await DashboardProvince.start();
  await extend(p.admin);
}, 180_000);

afterAll(async () => {
  if (probing) clearInterval(probing);
  relay?.close();
  await p?.stop();
});

const fmt = (n: number): string => n.toLocaleString('zh-CN');
const text = async (page: Page, id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? '';

/** The topology page of `range` shows the API's counts, each flow's records and route, each link's state. */
async function expectTopology(page: Page, api: Api, range: '24h' | '7d'): Promise<Topology> {
  if ((await page.getByTestId('topology').getAttribute('data-range')) !== range)
    await page.getByTestId(`topo-range-${range}`).click();
  let box = page.locator(`[data-testid="topology"][data-range="${range}"]`);
  await box.waitFor();
  let t = await api.ok<Topology>('GET', `/dashboard/topology?range=${range}`);
  if ((await box.getAttribute('data-since')) !== String(t.sinceMs)) {
    // An hour began between the page's answer and ours (the range moved on): show the range again.
    await page.getByTestId(`topo-range-${range}`).click();
    box = page.locator(`[data-testid="topology"][data-range="${range}"][data-since="${t.sinceMs}"]`);
    await box.waitFor();
    t = await api.ok<Topology>('GET', `/dashboard/topology?range=${range}`);
  }
  expect(await box.getAttribute('data-flows')).toBe(String(t.flows.length));
  expect(await box.getAttribute('data-records')).toBe(String(t.flows.reduce((n, f) => n + f.records, 0)));
  expect(await box.getAttribute('data-centers')).toBe(String(t.centers.length));
  expect(await box.getAttribute('data-links')).toBe(String(t.links.length));
  for (const [i, f] of t.flows.entries()) {
    expect(await text(page, `flow-${i}-records`)).toBe(fmt(f.records));
    if (f.route && f.route.length > 1) expect(await text(page, `flow-${i}-route`)).toBe(f.route.join(' → '));
  }
  for (const l of t.links)
    expect(await page.getByTestId(`link-${l.id}`).locator('.badge').getAttribute('data-state')).toBe(l.state);
  await page.locator('[data-testid="topology-chart"] canvas').first().waitFor();
  return t;
}

/** The brain page shows the API's clusters (sizes), policies (reasons), surges (peaks), routes and forecast. */
async function expectBrain(page: Page, api: Api): Promise<void> {
  const run = await api.ok<ClusterRunView>('GET', '/clusters');
  expect(await page.getByTestId('clusters').getAttribute('data-pairs')).toBe(String(run.pairs));
  for (const c of run.clusters) expect(await text(page, `cluster-${c.clusterId}-size`)).toBe(fmt(c.size));
  const policies = await api.ok<PolicyView[]>('GET', '/policies?limit=50');
  expect(await page.getByTestId('policies').getAttribute('data-count')).toBe(String(policies.length));
  for (const pol of policies) expect(await text(page, `policy-${pol.id}-reason`)).toBe(pol.reason);
  const surges = await api.ok<SurgeView[]>('GET', `/surges?since=${Date.now() - 7 * 86_400_000}`);
  expect(surges.length).toBeGreaterThan(0);
  expect(await page.getByTestId('surges').getAttribute('data-count')).toBe(String(surges.length));
  for (const s of surges) expect(await text(page, `surge-${s.surgeId}-peak`)).toBe(fmt(s.peak));
  const topo = await api.ok<Topology>('GET', '/dashboard/topology?range=7d');
  expect(await page.getByTestId('routes').getAttribute('data-count')).toBe(String(topo.routes.length));
  for (const r of topo.routes) expect(await text(page, `route-${r.from}-${r.to}-reason`)).toBe(r.reason);
  const box = page.locator('[data-testid="forecast"][data-pair]');
  await box.waitFor();
  const [from, to] = (await box.getAttribute('data-pair'))!.split('|');
  const since = await box.getAttribute('data-since');
  const h = await api.ok<TrafficHistory>('GET', `/traffic?from=${from}&to=${to}&since=${since}&step=1h`);
  expect(await box.getAttribute('data-records')).toBe(String(h.totals.records));
  expect(await box.getAttribute('data-points')).toBe(String(h.buckets.length));
  expect(await box.getAttribute('data-forecast')).toBe(String(h.forecast?.buckets.length ?? 0));
}

async function brainPage(s: BrowserSession): Promise<void> {
  await goto(s.page, '#/brain');
  await s.page.locator('[data-testid="forecast"][data-pair]').waitFor();
}

describe('dashboard topology and brain pages in headless Chromium', () => {
  it('the province admin sees every center, link and flow, and the brain’s clusters, policies, surges, routes, forecast', async () => {
    const s = await p.signIn(p.central.adminToken, '#/topology');
    const day = await expectTopology(s.page, p.admin, '24h');
    expect(day.centers.map((c) => c.code)).toEqual(['jingdezhen', 'nanchang', 'province']);
    expect(day.links.map((l) => l.state).sort()).toEqual(['degraded', 'up']);
    expect(day.flows.find((f) => f.fromDepartment === 'nc-gat' && f.toDepartment === 'sfgw')?.route).toEqual([
      'nanchang',
      'province',
    ]);
    await p.shot(s.page, 'topology-province-zh-24h');
    const week = await expectTopology(s.page, p.admin, '7d');
    expect(week.flowsTotal).toBe(5);
    await p.shot(s.page, 'topology-province-zh-7d');
    await brainPage(s);
    await expectBrain(s.page, p.admin);
    expect(await s.page.getByTestId('forecast').getAttribute('data-forecast')).not.toBe('0');
    await p.shot(s.page, 'brain-province-zh');
    // English: the nav, headings and states switch; the figures stay.
    await s.page.getByTestId('lang-switch').click();
    await waitForRoute(s.page, '#/brain');
    await s.page.getByText('Traffic clusters').waitFor();
    await s.page.locator('[data-testid="forecast"][data-pair]').waitFor();
    expect(await s.page.getByTestId('nav-brain').textContent()).toBe('Brain');
    await p.shot(s.page, 'brain-province-en');
    await goto(s.page, '#/topology');
    await s.page.getByText('Link states (probes)').waitFor();
    await expectTopology(s.page, p.admin, '24h');
    expect(await s.page.getByTestId('nav-topology').textContent()).toBe('Topology');
    await p.shot(s.page, 'topology-province-en-24h');
    await s.page.getByTestId('lang-switch').click();
    await s.page.getByText('链路状态（测试粒子）').waitFor();
    expect(s.errors).toEqual([]);
    await s.close();
  }, 120_000);

  it('the city admin of 南昌 sees its flows, the centers and links on them, its brain output: nothing of 景德镇', async () => {
    const city = p.city;
    const s = await p.signIn(p.cityToken, '#/topology');
    const t = await expectTopology(s.page, city, '7d');
    expect(t.regionCode).toBe('360100');
    expect(t.centers.map((c) => c.code)).toEqual(['nanchang', 'province']);
    expect(t.links.map((l) => l.id)).toEqual([links.nanchang]);
    expect(t.flows.every((f) => [f.fromDepartment, f.toDepartment].some((d) => d.startsWith('nc-')))).toBe(true);
    await p.shot(s.page, 'topology-city-360100-zh-7d');
    await brainPage(s);
    await expectBrain(s.page, city);
    await p.shot(s.page, 'brain-city-360100-zh');
    const responses = await jsonResponses(s);
    const paths = responses.map((r) => new URL(r.url).pathname);
    for (const path of [
      '/api/v1/dashboard/topology',
      '/api/v1/dashboard/clusters',
      '/api/v1/policies',
      '/api/v1/surges',
      '/api/v1/traffic',
    ])
      expect(paths).toContain(path);
    const other = ['360200', 'jdz-gat', 'jingdezhen', p.nodeIds['jdz-gat']!, links.jingdezhen];
    await expectNoneOf(s, other);
    // The needles are real: the province admin's topology and policies hold them.
    const all = strings([
      await p.admin.ok('GET', '/dashboard/topology?range=7d'),
      await p.admin.ok('GET', '/policies'),
    ]);
    for (const n of other)
      expect(
        all.some((v) => v.includes(n)),
        n,
      ).toBe(true);
    expect(s.errors).toEqual([]);
    await s.close();
  }, 120_000);
});
