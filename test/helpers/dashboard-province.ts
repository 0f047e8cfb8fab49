// A small province for the dashboard's browser tests: a real central process, regions 360000 (江西省) with the
// cities 360100 (南昌市) and 360200 (景德镇市), four departments, nodes enrolled over gRPC (three heartbeat, one
// never), today's hourly traffic imported for one pair per city, a city admin of 360100, and headless Chromium
// (Debian's /usr/bin/chromium through playwright-core) with sign-in, navigation and screenshot helpers.
// One start per test file: `const p = await DashboardProvince.start()` in beforeAll, `p.stop()` in afterAll.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { CentralClient } from '../../node-agent/src/control/central-client.js';
import { Api } from './api.js';
import { CentralProcess } from './central.js';
import { LIVE_DEPARTMENTS, LiveExchange, liveCentralEnv, seedApplications } from './dashboard-live.js';
import { NatsServer } from './nats-server.js';
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
  /**
   * Also live traffic (dashboard-live.ts): a nats-server, two real 南昌 agents exchanging R-NC-POP with three
   * records quarantined, applications, and health with a spool backlog (nc-gat critical, jdz-gat warning) so
   * that alerts fire. Default false: the province of enrolled nodes and imported traffic only.
   */
  live?: boolean;
}

/** The health the enrolled nodes report when live (nc-gat's backlog is critical, jdz-gat's a warning). */
const LIVE_HEALTH: Record<string, Record<string, number>> = {
  'nc-gat': {
    cpuPercent: 37.5,
    memRssBytes: 268_435_456,
    diskFreeBytes: 53_687_091_200,
    spoolDepth: 12_000,
    spoolBytes: 9_000_000,
    outboxDepth: 4,
  },
  'jdz-gat': {
    cpuPercent: 12.25,
    memRssBytes: 134_217_728,
    diskFreeBytes: 10_737_418_240,
    spoolDepth: 1_500,
    spoolBytes: 1_000_000,
    outboxDepth: 0,
  },
  sfgw: {
    cpuPercent: 3,
    memRssBytes: 100_000_000,
    diskFreeBytes: 20_000_000_000,
    spoolDepth: 0,
    spoolBytes: 0,
    outboxDepth: 0,
  },
};

export class DashboardProvince {
  central!: CentralProcess;
  /** With `live`: the nats-server and the two real agents. */
  nats: NatsServer | undefined;
  live: LiveExchange | undefined;
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
    if (opts.live) p.nats = await NatsServer.start();
    p.central = await CentralProcess.start({
      heartbeatTtlMs: opts.heartbeatTtlMs ?? 600_000,
      ...(p.nats && { natsUrls: [p.nats.url], env: liveCentralEnv() }),
    });
    p.admin = new Api(p.central.url, p.central.adminToken);
    await p.seed(opts.live ?? false);
    if (opts.live) {
      for (const d of LIVE_DEPARTMENTS)
        await p.admin.ok('POST', '/departments', { code: d.code, name: d.code, regionCode: d.region });
      p.live = await LiveExchange.start(p.central, p.admin);
      p.nodeIds['nc-sjj'] = p.live.providerId;
      p.nodeIds['nc-rsj'] = p.live.consumerId;
      await seedApplications(p.admin, (dept) => p.officer(dept));
    }
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

  /** A new officer of `dept` (users/<dept>-officer) and its client. */
  async officer(dept: string): Promise<Api> {
    const u = await this.admin.ok<{ token: string }>('POST', '/users', {
      name: `${dept}-officer`,
      role: 'officer',
      departmentCode: dept,
    });
    return new Api(this.central.url, u.token);
  }

  private async enroll(dept: string, online: boolean, health: Record<string, number> = {}): Promise<string> {
    const token = await this.admin.enrollToken(dept, 'fe-01');
    const client = new CentralClient(this.central.grpcAddress);
    try {
      const r = await client.enroll({ token, hostname: `${dept}.example`, agentVersion: '0.1.0', labels: {} });
      client.setCredentials({ nodeId: r.nodeId, nodeSecret: r.nodeSecret });
      if (online)
        await client.heartbeat({
          agentVersion: '0.1.0',
          uptimeS: 1,
          state: 'RUNNING',
          taskLags: [],
          ...health,
        } as never);
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

  private async seed(live: boolean): Promise<void> {
    const api = this.admin;
    await api.ok('POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
    await api.ok('POST', '/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
    await api.ok('POST', '/regions', { code: '360200', name: '景德镇市', level: 'city', parentCode: '360000' });
    for (const d of DEPARTMENTS)
      await api.ok('POST', '/departments', { code: d.code, name: d.code, regionCode: d.region });
    for (const d of DEPARTMENTS)
      this.nodeIds[d.code] = await this.enroll(d.code, d.online, live ? LIVE_HEALTH[d.code] : undefined);
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
   * Opens a fresh browser context (1440×900, zh-CN, the browser's time zone `timezoneId`, default the machine's),
   * signs in with `token` through the form and waits for the first page (`hash`, default the overview). Console
   * errors and API responses are recorded from the start.
   */
  async signIn(token: string, hash = '#/overview', timezoneId?: string): Promise<BrowserSession> {
    const context = await this.browser.newContext({
      viewport: { width: 1440, height: 900 },
      locale: 'zh-CN',
      ...(timezoneId && { timezoneId }),
    });
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
          () => ({ url: r.url(), status, body: UNREADABLE }),
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
    await this.live?.stop();
    await this.central?.stop();
    await this.nats?.stop();
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

/** Stands for a response body the browser could not hand over (expectNoneOf fails on it). */
const UNREADABLE = '\u0000unreadable';

/**
 * Fails when an API response of the session holds one of `needles`: in any string (key or value) of a JSON body,
 * anywhere in a body that is not JSON. A body that could not be read fails unless the status has none (204, 3xx).
 * Numbers in JSON are not searched (a needle of digits could match a timestamp by chance).
 */
export async function expectNoneOf(s: BrowserSession, needles: readonly string[]): Promise<void> {
  for (const r of await Promise.all(s.responses)) {
    if (r.body === UNREADABLE) {
      expect(r.status === 204 || (r.status >= 300 && r.status < 400), `${r.url}: body not readable`).toBe(true);
      continue;
    }
    let found: string[];
    try {
      found = strings(JSON.parse(r.body)).filter((v) => needles.some((n) => v.includes(n)));
    } catch {
      found = needles.filter((n) => r.body.includes(n));
    }
    expect(found, r.url).toEqual([]);
  }
}

/** The responses of a session with their bodies parsed (non-JSON bodies as undefined). */
export async function jsonResponses(s: BrowserSession): Promise<{ url: string; status: number; json: unknown }[]> {
  const all = await Promise.all(s.responses);
  return all.map((r) => {
    let json: unknown;
    try {
      json = r.body === UNREADABLE ? undefined : JSON.parse(r.body);
    } catch {
      json = undefined;
    }
    return { url: r.url, status: r.status, json };
  });
}
