// The dashboard's pages beyond the first (issue 12, DASH-A) in real headless Chromium against a live province
// (test/helpers/dashboard-province.ts with live: real 南昌 agents exchanging R-NC-POP with three records
// quarantined, imported traffic, applications, spool backlogs firing alerts). As the province admin and as a
// city admin: every figure on screen equals the JSON the page received; the city admin's responses hold nothing
// of another city; an alert acknowledged from the page shows in `xchg alert list -o json`; the language switch
// works on each page; no console errors. Screenshots of every page in zh and en go to test-output/dashboard/.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../central/src/api/alerts.js';
import type { DashboardNodeDetail, DashboardNodes } from '../../central/src/api/dashboard-nodes.js';
import type {
  DashboardApprovals,
  DashboardCities,
  DashboardEvaluation,
  DashboardRankings,
} from '../../central/src/api/dashboard-pages.js';
import { cliJson } from '../helpers/cli.js';
import { BAD_ROWS, LIVE_RESOURCE, LIVE_ROWS } from '../helpers/dashboard-live.js';
import {
  DashboardProvince,
  goto,
  expectNoneOf,
  jsonResponses,
  waitForRoute,
  type BrowserSession,
} from '../helpers/dashboard-province.js';
import { waitFor } from '../helpers/wait-for.js';

let p: DashboardProvince;

beforeAll(async () => {
  p = await DashboardProvince.start({ live: true });
  // Live figures first: every good record delivered, the bad ones quarantined and reported, traffic counted,
  // both backlog alerts firing.
  const consumer = p.live!.consumerId;
  await waitFor(async () => {
    const d = await p.admin.ok<DashboardNodeDetail>('GET', `/dashboard/nodes/${consumer}`);
    const r = await p.admin.ok<DashboardRankings>('GET', '/dashboard/rankings');
    const alerts = await p.admin.ok<Alert[]>('GET', '/alerts?state=open&kind=spool_backlog');
    return (
      p.live!.sinkCount() === LIVE_ROWS - BAD_ROWS.length &&
      d.quarantine.total === BAD_ROWS.length &&
      r.resources.some((x) => x.resourceCode === LIVE_RESOURCE && x.records === LIVE_ROWS - BAD_ROWS.length) &&
      alerts.length === 2
    );
  }, 60_000);
}, 180_000);

afterAll(async () => {
  await p?.stop();
});

const fmt = (n: number): string => n.toLocaleString('zh-CN');
const pct = (r: number | null): string => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
const dec1 = (n: number | null): string =>
  n === null ? '—' : n.toLocaleString('zh-CN', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** The body of the last response to `path` (pathname, query ignored) the page received. */
async function received<T>(s: BrowserSession, path: string): Promise<T> {
  const all = await jsonResponses(s);
  const hit = all.filter((r) => new URL(r.url).pathname === path).at(-1);
  if (!hit) throw new Error(`the page never fetched ${path}`);
  return hit.json as T;
}

/** The text of cell `col` in the row `data-<attr>="<key>"` of table `table`. */
async function cell(page: Page, table: string, key: string, col: string, attr = 'code'): Promise<string> {
  return (await grid(page, table, attr))(key, col);
}

/** Every data-col cell of table `table` read at once (one round trip): (row key, col) → its text. */
async function grid(page: Page, table: string, attr = 'code'): Promise<(key: string, col: string) => string> {
  const rows = await page
    .locator(`[data-testid="${table}"] tbody tr[data-${attr}]`)
    .evaluateAll(
      (trs, a) =>
        trs.map((tr) => [
          tr.getAttribute(`data-${a}`) ?? '',
          Object.fromEntries(
            [...tr.querySelectorAll('td[data-col]')].map((td) => [
              td.getAttribute('data-col') ?? '',
              (td.textContent ?? '').trim(),
            ]),
          ),
        ]),
      attr,
    );
  const byKey = new Map(rows as [string, Record<string, string>][]);
  return (key, col) => byKey.get(key)?.[col] ?? `(no cell ${key}/${col} in ${table})`;
}

async function rowKeys(page: Page, table: string, attr = 'code'): Promise<string[]> {
  return page
    .locator(`[data-testid="${table}"] tbody tr[data-${attr}]`)
    .evaluateAll((rows, a) => rows.map((r) => r.getAttribute(`data-${a}`) ?? ''), attr);
}

/** Switches to English, saves `name`-en, checks `english` shows, and switches back to Chinese. */
async function inEnglish(s: BrowserSession, hash: string, name: string, english: string): Promise<void> {
  await s.page.getByTestId('lang-switch').click();
  await s.page.getByText(english, { exact: true }).first().waitFor();
  await waitForRoute(s.page, hash);
  await p.shot(s.page, `${name}-en`);
  await s.page.getByTestId('lang-switch').click();
  await s.page.getByTestId('lang-switch').filter({ hasText: 'English' }).waitFor();
  await waitForRoute(s.page, hash);
}

async function expectRankings(page: Page, r: DashboardRankings): Promise<void> {
  for (const [table, rows] of [
    ['rank-providers', r.providers],
    ['rank-consumers', r.consumers],
  ] as const) {
    expect(await rowKeys(page, table)).toEqual(rows.map((x) => x.departmentCode));
    const g = await grid(page, table);
    for (const x of rows) expect(g(x.departmentCode, 'records')).toBe(fmt(x.records));
  }
  expect(await rowKeys(page, 'rank-resources')).toEqual(r.resources.map((x) => x.resourceCode));
  const res = await grid(page, 'rank-resources');
  for (const x of r.resources) expect(res(x.resourceCode, 'records')).toBe(fmt(x.records));
}

async function expectOverview(page: Page, s: BrowserSession): Promise<void> {
  await expectRankings(page, await received<DashboardRankings>(s, '/api/v1/dashboard/rankings'));
  const a = await received<DashboardApprovals>(s, '/api/v1/dashboard/approvals');
  expect(await page.getByTestId('ap-received').textContent()).toBe(fmt(a.overall.received));
  expect(await page.getByTestId('ap-median').textContent()).toBe(dec1(a.overall.medianWorkingDays));
  expect(await page.getByTestId('ap-ontime').textContent()).toBe(pct(a.overall.onTimeShare));
  expect(await page.getByTestId('ap-pending').textContent()).toBe(fmt(a.overall.pending));
  expect(await rowKeys(page, 'ap-departments')).toEqual(a.departments.map((d) => d.departmentCode));
  const ap = await grid(page, 'ap-departments');
  for (const d of a.departments) expect(ap(d.departmentCode, 'ontime')).toBe(pct(d.onTimeShare));
  const e = await received<DashboardEvaluation>(s, '/api/v1/dashboard/evaluation');
  expect(await rowKeys(page, 'ev-departments')).toEqual(e.departments.map((d) => d.departmentCode));
  const ev = await grid(page, 'ev-departments');
  for (const d of e.departments) {
    expect(ev(d.departmentCode, 'provided')).toBe(fmt(d.providedRecords));
    expect(ev(d.departmentCode, 'used')).toBe(fmt(d.usedRecords));
  }
}

/** Every API response of the session holds none of the other city's codes or node ids. */
async function expectScoped(s: BrowserSession): Promise<void> {
  const needles = p.outsideNeedles;
  expect((await jsonResponses(s)).length).toBeGreaterThan(10);
  await expectNoneOf(s, needles);
}

describe('dashboard pages in headless Chromium', () => {
  it('province admin - overview panels (cities, rankings, approvals, evaluation) equal the API, in zh and en', async () => {
    const s = await p.signIn(p.central.adminToken);
    const page = s.page;
    const c = await received<DashboardCities>(s, '/api/v1/dashboard/cities');
    expect(c.cities.map((x) => x.regionCode)).toEqual(['360000', '360100', '360200']);
    expect(c.cities[1]).toMatchObject({ departments: 4, nodes: 4, nodesOnline: 3 });
    const ct = await grid(page, 'cities-table');
    for (const x of c.cities) {
      expect(ct(x.regionCode, 'nodes')).toBe(`${fmt(x.nodesOnline)} / ${fmt(x.nodes)}`);
      expect(ct(x.regionCode, 'online')).toBe(pct(x.onlineRate));
      expect(ct(x.regionCode, 'today')).toBe(fmt(x.todayRecords));
      expect(ct(x.regionCode, 'ontime')).toBe(pct(x.approvalsOnTimeShare));
    }
    const r = await received<DashboardRankings>(s, '/api/v1/dashboard/rankings');
    expect(r.providers.map((x) => x.departmentCode)).toContain('nc-sjj');
    expect(r.resources[0]).toMatchObject({ resourceCode: LIVE_RESOURCE, providerDepartmentCode: 'nc-sjj' });
    await expectOverview(page, s);
    const a = await received<DashboardApprovals>(s, '/api/v1/dashboard/approvals');
    expect(a.overall).toMatchObject({ received: 2, answered: 1, answeredOnTime: 1, pending: 1, medianWorkingDays: 0 });
    await p.shot(page, 'overview-province-zh');
    await page.getByTestId('rank-range-30d').click();
    await page.locator('[data-testid="rankings"][data-range="30d"]').waitFor();
    await expectRankings(page, await received<DashboardRankings>(s, '/api/v1/dashboard/rankings'));
    await inEnglish(s, '#/overview', 'overview-province', 'Department rankings');
    expect(s.errors).toEqual([]);
    await s.close();
  }, 120_000);

  it('province admin - the node table (sort, filter) and a node drill-down (runs, quarantine reasons) equal the API', async () => {
    const s = await p.signIn(p.central.adminToken, '#/nodes');
    const page = s.page;
    const list = await received<DashboardNodes>(s, '/api/v1/dashboard/nodes');
    expect(list.total).toBe(6);
    expect(await rowKeys(page, 'nodes-table', 'id')).toEqual(list.nodes.map((n) => n.id));
    const nt = await grid(page, 'nodes-table', 'id');
    for (const n of list.nodes) {
      expect(nt(n.id, 'department')).toBe(`${n.departmentName} (${n.departmentCode})`);
      expect(nt(n.id, 'cpu')).toBe(n.cpuPercent === null ? '—' : `${dec1(n.cpuPercent)}%`);
      expect(nt(n.id, 'alerts')).toBe(fmt(n.openAlerts));
    }
    const gat = list.nodes.find((n) => n.departmentCode === 'nc-gat')!;
    expect(gat).toMatchObject({ spoolDepth: 12_000, cpuPercent: 37.5, openAlerts: 1 });
    expect(await cell(page, 'nodes-table', gat.id, 'backlog', 'id')).toMatch(/^12,000 · /);
    await p.shot(page, 'nodes-province-zh');
    // Sorted by CPU, highest first (a second click), then only the offline ones.
    await page.getByTestId('sort-cpu').click();
    await page.locator('[data-testid="nodes-box"][data-query*="sort=cpu&order=asc"]').waitFor();
    await page.getByTestId('sort-cpu').click();
    await page.locator('[data-testid="nodes-box"][data-query*="sort=cpu&order=desc"]').waitFor();
    const byCpu = await received<DashboardNodes>(s, '/api/v1/dashboard/nodes');
    // Highest first, unknown last (the real agents' CPU varies, so the order is checked, not who leads).
    const cpus = byCpu.nodes.map((n) => n.cpuPercent ?? -1);
    expect(cpus).toEqual([...cpus].sort((x, y) => y - x));
    expect(byCpu.nodes.at(-1)!.cpuPercent).toBeNull();
    expect(await rowKeys(page, 'nodes-table', 'id')).toEqual(byCpu.nodes.map((n) => n.id));
    await page.getByTestId('nodes-status').selectOption('offline');
    await page.locator('[data-testid="nodes-box"][data-query*="status=offline"]').waitFor();
    const offline = await received<DashboardNodes>(s, '/api/v1/dashboard/nodes');
    expect(offline.nodes.map((n) => n.departmentCode)).toEqual(['nc-wjw']);
    expect(await rowKeys(page, 'nodes-table', 'id')).toEqual([p.nodeIds['nc-wjw']]);
    await page.getByTestId('nodes-status').selectOption('');
    await page.locator('[data-testid="nodes-box"]:not([data-query*="status="])').waitFor();

    const consumer = p.live!.consumerId;
    await page.getByTestId(`node-link-${consumer}`).click();
    await waitForRoute(page, `#/nodes/${consumer}`);
    const d = await received<DashboardNodeDetail>(s, `/api/v1/dashboard/nodes/${consumer}`);
    expect(d.quarantine.total).toBe(BAD_ROWS.length);
    expect(d.quarantine.reasons.map((x) => x.reason).join()).toMatch(/NOT NULL/);
    expect(await page.getByTestId('nd-title').textContent()).toContain(consumer);
    const task = d.tasks[0]!;
    expect(task.runs.length).toBeGreaterThan(0);
    expect(await rowKeys(page, `runs-${task.id}`, 'run')).toEqual(task.runs.map((r) => r.runId));
    const runs = await grid(page, `runs-${task.id}`, 'run');
    for (const run of task.runs) expect(runs(run.runId, 'records')).toBe(fmt(run.records));
    expect(await page.getByTestId(`task-quarantine-${task.id}`).textContent()).toContain(fmt(task.quarantined));
    const reasons = page.locator('[data-testid="nd-reasons"] tbody tr');
    expect(await reasons.count()).toBe(d.quarantine.reasons.length);
    expect(await reasons.first().locator('td[data-col="count"]').textContent()).toBe(
      fmt(d.quarantine.reasons[0]!.count),
    );
    expect(await page.locator('[data-testid="nd-recent"] td[data-col="row"]').allTextContents()).toEqual(
      d.quarantine.recent.map((q) => String(q.rowIndex)),
    );
    await p.shot(page, 'node-detail-province-zh');
    await inEnglish(s, `#/nodes/${consumer}`, 'node-detail-province', 'Tasks and recent runs');
    await goto(page, '#/nodes');
    await inEnglish(s, '#/nodes', 'nodes-province', 'Front-end nodes');
    expect(s.errors).toEqual([]);
    await s.close();
  }, 120_000);

  it('city admin - every page scoped to 南昌 in the API responses; an alert acknowledged from the page shows in xchg alert list', async () => {
    const s = await p.signIn(p.cityToken);
    const page = s.page;
    expect(await page.getByTestId('cities').count()).toBe(0);
    await expectOverview(page, s);
    await p.shot(page, 'overview-city-zh');
    await inEnglish(s, '#/overview', 'overview-city', 'Department rankings');

    await goto(page, '#/nodes');
    const list = await received<DashboardNodes>(s, '/api/v1/dashboard/nodes');
    expect(list.nodes.map((n) => n.departmentCode).sort()).toEqual(['nc-gat', 'nc-rsj', 'nc-sjj', 'nc-wjw']);
    expect(await rowKeys(page, 'nodes-table', 'id')).toEqual(list.nodes.map((n) => n.id));
    await p.shot(page, 'nodes-city-zh');
    const gat = p.nodeIds['nc-gat']!;
    await page.getByTestId(`node-link-${gat}`).click();
    await waitForRoute(page, `#/nodes/${gat}`);
    const d = await received<DashboardNodeDetail>(s, `/api/v1/dashboard/nodes/${gat}`);
    expect(d.alerts.map((a) => a.kind)).toEqual(['spool_backlog']);
    expect(await page.locator('[data-testid="nd-alerts"] tbody tr[data-alert]').count()).toBe(1);

    await goto(page, '#/alerts');
    const open = await received<Alert[]>(s, '/api/v1/alerts');
    expect(open.map((a) => [a.kind, a.departmentCode, a.severity])).toEqual([['spool_backlog', 'nc-gat', 'critical']]);
    expect(await rowKeys(page, 'alerts-table', 'testid')).toEqual(open.map((a) => `alert-row-${a.id}`));
    await p.shot(page, 'alerts-city-zh');
    await inEnglish(s, '#/alerts', 'alerts-city', 'Acknowledge');
    const id = open[0]!.id;
    await page.getByTestId(`ack-${id}`).click();
    await page.locator(`[data-testid="alert-row-${id}"][data-state="acknowledged"]`).waitFor();
    expect(await cell(page, 'alerts-table', `alert-row-${id}`, 'ack', 'testid')).toMatch(/^nc-admin 于 /);
    const cli = await cliJson<Alert[]>(p.central.url, p.central.adminToken, ['alert', 'list']);
    expect(cli.find((a) => a.id === id)).toMatchObject({ state: 'acknowledged', acknowledgement: { by: 'nc-admin' } });
    // The filter: acknowledged ones, then critical ones of any state.
    await page.getByTestId('alerts-state').selectOption('acknowledged');
    await page.locator('[data-testid="alerts-box"][data-query*="state=acknowledged"]').waitFor();
    expect(await rowKeys(page, 'alerts-table', 'testid')).toEqual([`alert-row-${id}`]);
    await p.shot(page, 'alerts-city-acknowledged-zh');
    await expectScoped(s);
    // The needles are real: the province admin's alert list does hold the other city's backlog alert.
    const all = await p.admin.ok<Alert[]>('GET', '/alerts?state=open');
    expect(all.map((a) => a.departmentCode)).toContain('jdz-gat');
    expect(s.errors).toEqual([]);
    await s.close();
  }, 120_000);
});
