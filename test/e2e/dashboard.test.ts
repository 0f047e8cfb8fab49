// The dashboard in real headless Chromium (Debian's /usr/bin/chromium through playwright-core) against a
// real central process: two cities and the province seeded through the API, nodes enrolled and heartbeating
// over gRPC, today's traffic imported. The province admin and a city admin sign in with their tokens; the
// cards show the API's figures, the trend the API's sums, a city admin's network responses hold nothing of
// the other city, the language switch works and persists, no console errors. Screenshots go to
// test-output/dashboard/ (paths printed).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardSummary, DashboardTrend } from '../../central/src/api/dashboard.js';
import { CentralClient } from '../../node-agent/src/control/central-client.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const SHOTS = join(process.cwd(), 'test-output', 'dashboard');
const HOUR = 3_600_000;

let central: CentralProcess;
let admin: Api;
let browser: Browser;
let cityToken = '';
const nodeIds: Record<string, string> = {};

async function enroll(api: Api, dept: string, online: boolean): Promise<string> {
  const token = await api.enrollToken(dept, 'fe-01');
  const client = new CentralClient(central.grpcAddress);
  try {
    const r = await client.enroll({ token, hostname: `${dept}.example`, agentVersion: '0.1.0', labels: {} });
    client.setCredentials({ nodeId: r.nodeId, nodeSecret: r.nodeSecret });
    if (online) await client.heartbeat({ agentVersion: '0.1.0', uptimeS: 1, state: 'RUNNING', taskLags: [] } as never);
    return r.nodeId;
  } finally {
    client.close();
  }
}

/** Start of today in central's default traffic time zone, Asia/Shanghai (UTC+8, no daylight saving). */
const todayStart = (now: number): number => Math.floor((now + 8 * HOUR) / (24 * HOUR)) * 24 * HOUR - 8 * HOUR;
/** Today's hours up to the current one, at most 6 (so that every imported row is today's, at any hour). */
const HOURS_TODAY = ((): number[] => {
  const now = Date.now();
  const out: number[] = [];
  for (let t = Math.floor(now / HOUR) * HOUR; t >= todayStart(now) && out.length < 6; t -= HOUR) out.unshift(t);
  return out;
})();

/** Hourly rows of HOURS_TODAY: `records` each, bytes 100 per record. */
function todayCsv(records: number): string {
  return [
    'timestamp,records,bytes',
    ...HOURS_TODAY.map((t) => `${new Date(t).toISOString()},${records},${records * 100}`),
  ].join('\n');
}

async function seed(): Promise<void> {
  await admin.ok('POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
  await admin.ok('POST', '/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  await admin.ok('POST', '/regions', { code: '360200', name: '景德镇市', level: 'city', parentCode: '360000' });
  for (const [code, region] of [
    ['nc-gat', '360100'],
    ['nc-wjw', '360100'],
    ['jdz-gat', '360200'],
    ['sfgw', '360000'],
  ] as const)
    await admin.ok('POST', '/departments', { code, name: code, regionCode: region });
  nodeIds['nc-gat'] = await enroll(admin, 'nc-gat', true);
  nodeIds['nc-wjw'] = await enroll(admin, 'nc-wjw', false);
  nodeIds['jdz-gat'] = await enroll(admin, 'jdz-gat', true);
  nodeIds['sfgw'] = await enroll(admin, 'sfgw', true);
  await admin.ok('POST', '/traffic/import', { from: nodeIds['nc-gat'], to: nodeIds['nc-wjw'], csv: todayCsv(120) });
  await admin.ok('POST', '/traffic/import', { from: nodeIds['jdz-gat'], to: nodeIds['sfgw'], csv: todayCsv(7_000) });
  const u = await admin.ok<{ token: string }>('POST', '/users', {
    name: 'nc-admin',
    role: 'city_admin',
    regionCode: '360100',
  });
  cityToken = u.token;
}

beforeAll(async () => {
  // A long heartbeat TTL: the nodes that heartbeated once stay online for the whole test.
  central = await CentralProcess.start({ heartbeatTtlMs: 600_000 });
  admin = new Api(central.url, central.adminToken);
  await seed();
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await central?.stop();
  removeTmpDirs();
});

interface Session {
  page: Page;
  errors: string[];
  /** Every API and session response the page received, with its body (awaited when checked). */
  responses: Promise<{ url: string; body: string }>[];
}

async function signIn(token: string): Promise<Session> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const s: Session = { page, errors: [], responses: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') s.errors.push(m.text());
  });
  page.on('pageerror', (e) => s.errors.push(String(e)));
  page.on('response', (r) => {
    if (!r.url().includes('/api/v1/') && !r.url().includes('/dashboard/session')) return;
    s.responses.push(
      r.text().then(
        (body) => ({ url: r.url(), body }),
        () => ({ url: r.url(), body: '' }),
      ),
    );
  });
  await page.goto(`${central.url}/dashboard`);
  await page.getByTestId('login-form').waitFor();
  await page.getByTestId('token').fill(token);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('dashboard').waitFor();
  return s;
}

/** Every string (values and keys) in a JSON value. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

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

async function shot(page: Page, name: string): Promise<void> {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

describe('dashboard in headless Chromium', () => {
  it('the province admin sees the whole province: cards equal the API, the trend its sums', async () => {
    const s = await signIn(central.adminToken);
    const summary = await admin.ok<DashboardSummary>('GET', '/dashboard/summary');
    expect(summary.nodes).toEqual({ total: 4, online: 3, onlineRate: 0.75 });
    expect(summary.departments).toEqual({ total: 4, connected: 3 });
    expect(summary.today.records).toBe(HOURS_TODAY.length * (120 + 7_000));
    await expectCards(s.page, summary);
    expect(await text(s.page, 'who')).toContain('省级管理员');
    await expectTrend(s.page, admin, 'today');
    await shot(s.page, 'province-zh-today');
    await expectTrend(s.page, admin, '7d');
    await shot(s.page, 'province-zh-7d');
    expect(s.errors).toEqual([]);
    await s.page.context().close();
  }, 120_000);

  it('a city admin sees its city only, in the page and in every API response', async () => {
    const city = new Api(central.url, cityToken);
    const s = await signIn(cityToken);
    const summary = await city.ok<DashboardSummary>('GET', '/dashboard/summary');
    expect(summary.regionCode).toBe('360100');
    expect(summary.nodes).toEqual({ total: 2, online: 1, onlineRate: 0.5 });
    expect(summary.departments).toEqual({ total: 2, connected: 1 });
    expect(summary.today.records).toBe(HOURS_TODAY.length * 120);
    await expectCards(s.page, summary);
    await expectTrend(s.page, city, 'today');
    await expectTrend(s.page, city, '30d');
    await shot(s.page, 'city-360100-zh-30d');
    const responses = await Promise.all(s.responses);
    const paths = responses.map((r) => new URL(r.url).pathname);
    for (const p of ['/dashboard/session', '/api/v1/dashboard/summary', '/api/v1/dashboard/trend'])
      expect(paths).toContain(p);
    // The other city's codes and node ids, looked for in every string of every body (numbers are checked
    // as figures above: a needle of digits could match a timestamp by chance).
    const other = ['360200', 'jdz-gat', 'sfgw', nodeIds['jdz-gat']!, nodeIds['sfgw']!];
    for (const r of responses) {
      const found = strings(JSON.parse(r.body)).filter((v) => other.some((n) => v.includes(n)));
      expect(found, r.url).toEqual([]);
    }
    // The needles are real: an unscoped reader of that pair's history does see them.
    const pair = await admin.call(
      'GET',
      `/traffic?from=${nodeIds['jdz-gat']}&to=${nodeIds['sfgw']}&since=${Date.now() - 86_400_000}`,
    );
    expect(pair.status).toBe(200);
    expect(strings(pair.body)).toContain(nodeIds['jdz-gat']!);
    expect(s.errors).toEqual([]);
    await s.page.context().close();
  }, 120_000);

  it('the language switch turns the page to English and back, and is remembered', async () => {
    const s = await signIn(cityToken);
    expect(await s.page.getByTestId('card-nodes').locator('h3').textContent()).toBe('在线节点');
    await s.page.getByTestId('lang-switch').click();
    await s.page.getByText('Nodes online').waitFor();
    expect(await s.page.evaluate('localStorage.getItem("xchg.lang")')).toBe('en');
    expect(await s.page.evaluate('document.documentElement.lang')).toBe('en');
    await s.page.reload();
    await s.page.getByTestId('dashboard').waitFor();
    expect(await s.page.getByTestId('card-nodes').locator('h3').textContent()).toBe('Nodes online');
    await expectTrend(s.page, new Api(central.url, cityToken), 'today');
    await shot(s.page, 'city-360100-en-today');
    await s.page.getByTestId('lang-switch').click();
    await s.page.getByText('在线节点').waitFor();
    await s.page.getByTestId('logout').click();
    await s.page.getByTestId('login-form').waitFor();
    expect(s.errors).toEqual([]);
    await s.page.context().close();
  }, 120_000);
});
