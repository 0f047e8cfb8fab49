// A small province for the dashboard's browser tests: a real central process, regions 360000 (江西省) with the
// cities 360100 (南昌市) and 360200 (景德镇市), four departments, nodes enrolled over gRPC (three heartbeat, one
// never), today's hourly traffic imported for one pair per city, a city admin of 360100, and headless Chromium
// (Debian's /usr/bin/chromium through playwright-core) with sign-in, navigation and screenshot helpers.
// One start per test file: `const p = await DashboardProvince.start()` in beforeAll, `p.stop()` in afterAll.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CentralClient } from '../../node-agent/src/control/central-client.js';
import { Api } from './api.js';
import { CentralProcess } from './central.js';
import { removeTmpDirs } from './tmp.js';

/** Where screenshots go (ignored by git). */
export const SHOTS = join(process.cwd(), 'test-output', 'dashboard');
const HOUR = 3_600_000;

/** The departments: code → region, and whether its node heartbeats (online). */
export const DEPARTMENTS = [
  { code: 'nc-gat', region: '360100', online: true },
  { code: 'nc-wjw', region: '360100', online: false },
  { code: 'jdz-gat', region: '360200', online: true },
  { code: 'sfgw', region: '360000', online: true },
] as const;
/** The city admin's city, and what of the rest of the province a city admin must never receive. */
export const CITY = '360100';
export const CITY_DEPARTMENTS = ['nc-gat', 'nc-wjw'] as const;
export const OUTSIDE_DEPARTMENTS = ['jdz-gat', 'sfgw'] as const;
export const OUTSIDE_REGIONS = ['360200'] as const;
/** Records per imported hour: the 南昌 pair nc-gat → nc-wjw, the other pair jdz-gat → sfgw (bytes 100 a record). */
export const CITY_RECORDS_PER_HOUR = 120;
export const OTHER_RECORDS_PER_HOUR = 7_000;

/** Start of today in central's default traffic time zone, Asia/Shanghai (UTC+8, no daylight saving). */
export const todayStart = (now: number): number => Math.floor((now + 8 * HOUR) / (24 * HOUR)) * 24 * HOUR - 8 * HOUR;

/** Today's hours up to the current one, at most 6 (so that every imported row is today's, at any hour). */
export function hoursToday(now = Date.now()): number[] {
  const out: number[] = [];
  for (let t = Math.floor(now / HOUR) * HOUR; t >= todayStart(now) && out.length < 6; t -= HOUR) out.unshift(t);
  return out;
}

/** A signed-in browser page and what it saw: console errors and every API/session response. */
export interface BrowserSession {
  page: Page;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
  /** Every /api/v1 and /dashboard/session response the page received, with its body (await when checked). */
  responses: Promise<{ url: string; status: number; body: string }>[];
  close(): Promise<void>;
}

/** Every string (values and keys) in a JSON value. */
export function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

export interface DashboardProvinceOptions {
  /** Central's heartbeat TTL; long by default so the nodes that heartbeated once stay online the whole file. */
  heartbeatTtlMs?: number;
}

export class DashboardProvince {
  central!: CentralProcess;
  /** The province admin's client (central's admin token). */
  admin!: Api;
  browser!: Browser;
  /** The token of `nc-admin`, city admin of CITY. */
  cityToken = '';
  /** Department code → its node id. */
  readonly nodeIds: Record<string, string> = {};
  /** The hours of today the traffic was imported for (see hoursToday()). */
  readonly hours = hoursToday();

  static async start(opts: DashboardProvinceOptions = {}): Promise<DashboardProvince> {
    const p = new DashboardProvince();
    p.central = await CentralProcess.start({ heartbeatTtlMs: opts.heartbeatTtlMs ?? 600_000 });
    p.admin = new Api(p.central.url, p.central.adminToken);
    await p.seed();
    mkdirSync(SHOTS, { recursive: true });
    p.browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000,
    });
    return p;
  }

  /** The city admin's API client. */
  get city(): Api {
    return new Api(this.central.url, this.cityToken);
  }

  /** The strings a city admin's responses must never hold: the other city's region, departments and node ids. */
  get outsideNeedles(): string[] {
    return [...OUTSIDE_REGIONS, ...OUTSIDE_DEPARTMENTS, ...OUTSIDE_DEPARTMENTS.map((d) => this.nodeIds[d]!)];
  }

  private async enroll(dept: string, online: boolean): Promise<string> {
    const token = await this.admin.enrollToken(dept, 'fe-01');
    const client = new CentralClient(this.central.grpcAddress);
    try {
      const r = await client.enroll({ token, hostname: `${dept}.example`, agentVersion: '0.1.0', labels: {} });
      client.setCredentials({ nodeId: r.nodeId, nodeSecret: r.nodeSecret });
      if (online)
        await client.heartbeat({ agentVersion: '0.1.0', uptimeS: 1, state: 'RUNNING', taskLags: [] } as never);
      return r.nodeId;
    } finally {
      client.close();
    }
  }

  /** Hourly rows of `hours`: `records` each, bytes 100 per record. */
  private todayCsv(records: number): string {
    const rows = this.hours.map((t) => `${new Date(t).toISOString()},${records},${records * 100}`);
    return ['timestamp,records,bytes', ...rows].join('\n');
  }

  private async seed(): Promise<void> {
    const api = this.admin;
    await api.ok('POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
    await api.ok('POST', '/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
    await api.ok('POST', '/regions', { code: '360200', name: '景德镇市', level: 'city', parentCode: '360000' });
    for (const d of DEPARTMENTS)
      await api.ok('POST', '/departments', { code: d.code, name: d.code, regionCode: d.region });
    for (const d of DEPARTMENTS) this.nodeIds[d.code] = await this.enroll(d.code, d.online);
    const ids = this.nodeIds;
    await api.ok('POST', '/traffic/import', {
      from: ids['nc-gat'],
      to: ids['nc-wjw'],
      csv: this.todayCsv(CITY_RECORDS_PER_HOUR),
    });
    await api.ok('POST', '/traffic/import', {
      from: ids['jdz-gat'],
      to: ids['sfgw'],
      csv: this.todayCsv(OTHER_RECORDS_PER_HOUR),
    });
    const u = await api.ok<{ token: string }>('POST', '/users', {
      name: 'nc-admin',
      role: 'city_admin',
      regionCode: CITY,
    });
    this.cityToken = u.token;
  }

  /**
   * Opens a fresh browser context (1440×900, zh-CN), signs in with `token` through the form and waits for the
   * first page (`hash`, default the overview). Console errors and API responses are recorded from the start.
   */
  async signIn(token: string, hash = '#/overview'): Promise<BrowserSession> {
    const context = await this.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const s: BrowserSession = { page, errors: [], responses: [], close: () => context.close() };
    page.on('console', (m) => {
      if (m.type() === 'error') s.errors.push(m.text());
    });
    page.on('pageerror', (e) => s.errors.push(String(e)));
    page.on('response', (r) => {
      if (!r.url().includes('/api/v1/') && !r.url().includes('/dashboard/session')) return;
      const status = r.status();
      s.responses.push(
        r.text().then(
          (body) => ({ url: r.url(), status, body }),
          () => ({ url: r.url(), status, body: '' }),
        ),
      );
    });
    await page.goto(`${this.central.url}/dashboard${hash}`);
    await page.getByTestId('login-form').waitFor();
    await page.getByTestId('token').fill(token);
    await page.getByTestId('login-submit').click();
    await waitForRoute(page, hash);
    return s;
  }

  /** Saves a full-page screenshot as test-output/dashboard/<name>.png and answers its path. */
  async shot(page: Page, name: string): Promise<string> {
    const path = join(SHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
    return path;
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await this.central?.stop();
    removeTmpDirs();
  }
}

/** Waits until the shell shows the page of `hash` (main[data-route] is set once its render answered). */
export async function waitForRoute(page: Page, hash: string): Promise<void> {
  await page.locator(`[data-testid="dashboard"][data-route="${hash}"]`).waitFor();
}

/** Goes to `hash` (e.g. '#/nodes') by the address bar and waits until its page shows. */
export async function goto(page: Page, hash: string): Promise<void> {
  // A string, not a function: the test project has no DOM types.
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await waitForRoute(page, hash);
}

/** The responses of a session with their bodies parsed (non-JSON bodies as undefined). */
export async function jsonResponses(s: BrowserSession): Promise<{ url: string; status: number; json: unknown }[]> {
  const all = await Promise.all(s.responses);
  return all.map((r) => {
    let json: unknown;
    try {
      json = JSON.parse(r.body);
    } catch {
      json = undefined;
    }
    return { url: r.url, status: r.status, json };
  });
}
