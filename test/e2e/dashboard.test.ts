// The dashboard in real headless Chromium (Debian's /usr/bin/chromium through playwright-core) against a real
// central process (the province of test/helpers/dashboard-province.ts: two cities and the province seeded through
// the API, nodes enrolled and heartbeating over gRPC, today's traffic imported). The province admin and a city
// admin sign in with their tokens; the cards show the API's figures, the trend the API's sums, a city admin's
// network responses hold nothing of the other city, the language switch works and persists, no console errors.
// Screenshots go to test-output/dashboard/ (paths printed).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSummary, DashboardTrend } from '../../central/src/api/dashboard.js';
import type { Api } from '../helpers/api.js';
import {
  CITY_RECORDS_PER_HOUR,
  DashboardProvince,
  expectNoneOf,
  jsonResponses,
  OTHER_RECORDS_PER_HOUR,
  strings,
} from '../helpers/dashboard-province.js';

let p: DashboardProvince;

beforeAll(async () => {
  p = await DashboardProvince.start();
}, 180_000);

afterAll(async () => {
  await p?.stop();
});

const fmt = (n: number): string => n.toLocaleString('zh-CN');
const text = async (page: Page, id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? '';

async function expectCards(page: Page, s: DashboardSummary): Promise<void> {
  expect(await text(page, 'card-departments-value')).toBe(fmt(s.departments.connected));
  expect(await text(page, 'card-departments-sub')).toContain(fmt(s.departments.total));
  expect(await text(page, 'card-nodes-value')).toBe(fmt(s.nodes.online));
  expect(await text(page, 'card-nodes-sub')).toContain(`${((s.nodes.onlineRate ?? 0) * 100).toFixed(1)}%`);
  expect(await text(page, 'card-exchanges-value')).toBe(fmt(s.today.batches));
  expect(await text(page, 'card-exchanges-sub')).toContain(fmt(s.today.records));
  expect(await text(page, 'card-resources-value')).toBe(fmt(s.resources.published));
  expect(await text(page, 'card-applications-value')).toBe(fmt(s.applications.pending));
  expect(await text(page, 'card-alerts-value')).toBe(fmt(s.alerts.open));
}

async function expectTrend(page: Page, api: Api, range: 'today' | '7d' | '30d'): Promise<void> {
  if (range !== 'today') await page.getByTestId(`range-${range}`).click();
  const box = page.locator(`[data-testid="trend"][data-range="${range}"]`);
  await box.waitFor();
  const trend = await api.ok<DashboardTrend>('GET', `/dashboard/trend?range=${range}`);
  const sum = trend.buckets.reduce((n, b) => n + b.records, 0);
  expect(await box.getAttribute('data-records')).toBe(String(sum));
  expect(await box.getAttribute('data-steps')).toBe(String(trend.buckets.length));
  await page.locator('[data-testid="trend-chart"] canvas').first().waitFor();
}

describe('dashboard in headless Chromium', () => {
  it('the province admin sees the whole province: cards equal the API, the trend its sums', async () => {
    const s = await p.signIn(p.central.adminToken);
    const summary = await p.admin.ok<DashboardSummary>('GET', '/dashboard/summary');
    expect(summary.nodes).toEqual({ total: 4, online: 3, onlineRate: 0.75 });
    expect(summary.departments).toEqual({ total: 4, connected: 3 });
    expect(summary.today.records).toBe(p.hours.length * (CITY_RECORDS_PER_HOUR + OTHER_RECORDS_PER_HOUR));
    await expectCards(s.page, summary);
    expect(await text(s.page, 'who')).toContain('省级管理员');
    expect(await s.page.getByTestId('nav-overview').getAttribute('class')).toBe('active');
    await expectTrend(s.page, p.admin, 'today');
    await p.shot(s.page, 'province-zh-today');
    await expectTrend(s.page, p.admin, '7d');
    await p.shot(s.page, 'province-zh-7d');
    expect(s.errors).toEqual([]);
    await s.close();
  }, 120_000);

  it('a city admin sees its city only, in the page and in every API response', async () => {
    const city = p.city;
    const s = await p.signIn(p.cityToken);
    const summary = await city.ok<DashboardSummary>('GET', '/dashboard/summary');
    expect(summary.regionCode).toBe('360100');
    expect(summary.nodes).toEqual({ total: 2, online: 1, onlineRate: 0.5 });
    expect(summary.departments).toEqual({ total: 2, connected: 1 });
    expect(summary.today.records).toBe(p.hours.length * CITY_RECORDS_PER_HOUR);
    await expectCards(s.page, summary);
    await expectTrend(s.page, city, 'today');
    await expectTrend(s.page, city, '30d');
    await p.shot(s.page, 'city-360100-zh-30d');
    const responses = await jsonResponses(s);
    const paths = responses.map((r) => new URL(r.url).pathname);
    for (const path of ['/dashboard/session', '/api/v1/dashboard/summary', '/api/v1/dashboard/trend'])
      expect(paths).toContain(path);
    // The other city's codes and node ids, looked for in every string of every body (numbers are checked
    // as figures above: a needle of digits could match a timestamp by chance).
    const other = p.outsideNeedles;
    await expectNoneOf(s, other);
    // The needles are real: an unscoped reader of that pair's history does see them.
    const [from, to] = [p.nodeIds['jdz-gat']!, p.nodeIds['sfgw']!];
    const pair = await p.admin.call('GET', `/traffic?from=${from}&to=${to}&since=${Date.now() - 86_400_000}`);
    expect(pair.status).toBe(200);
    expect(strings(pair.body)).toContain(from);
    expect(s.errors).toEqual([]);
    await s.close();
  }, 120_000);

  it('the language switch turns the page to English and back, and is remembered', async () => {
    const s = await p.signIn(p.cityToken);
    expect(await s.page.getByTestId('card-nodes').locator('h3').textContent()).toBe('在线节点');
    await s.page.getByTestId('lang-switch').click();
    await s.page.getByText('Nodes online').waitFor();
    expect(await s.page.evaluate('localStorage.getItem("xchg.lang")')).toBe('en');
    expect(await s.page.evaluate('document.documentElement.lang')).toBe('en');
    await s.page.reload();
    await s.page.locator('[data-testid="dashboard"][data-page="overview"]').waitFor();
    expect(await s.page.getByTestId('card-nodes').locator('h3').textContent()).toBe('Nodes online');
    await expectTrend(s.page, p.city, 'today');
    await p.shot(s.page, 'city-360100-en-today');
    await s.page.getByTestId('lang-switch').click();
    await s.page.getByText('在线节点').waitFor();
    await s.page.getByTestId('logout').click();
    await s.page.getByTestId('login-form').waitFor();
    expect(s.errors).toEqual([]);
    await s.close();
  }, 120_000);
});
