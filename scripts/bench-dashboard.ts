// Bench phase `dashboard` (issue 12, Done means; --only dashboard): a province of 2,000 nodes and a year of history
// (scripts/bench-dashboard-gen.ts) under a real xchg-central process, and every dashboard read timed over real HTTP:
//   dashboard_p95_ms        the worst endpoint's p95 (ms), over both readers; dashboard_limit_ms (300) beside it
//   dashboard_endpoint_p95_ms  p95 per endpoint and reader: { "<path?query>": { province, city } }
//   dashboard_job_loop_block_ms  the longest time central's event loop was held while its start-up jobs ran (the
//                           clustering, sweeps, routes, alert rules; nothing else asked of it meanwhile), ms
//   dashboard_loop_block_max_ms  the same over the whole phase (requests and the minutely jobs included), ms
// Rounds: 30 (8 with --quick), and more until 75 s have passed (not with --quick): central's minutely sweeps run
// during the timing, as they do while anyone watches a dashboard.
// Endpoints: every GET under /api/v1/dashboard/ in central's OpenAPI document at run time (an enum query parameter
// gives one endpoint per value, path parameters take a sample of the city admin's city), plus GET /api/v1/traffic
// for one pair over a year, /api/v1/alerts and /api/v1/nodes. Each is called as the province admin and as the admin
// of one city, one request at a time, rounds interleaved (every endpoint once per round, so load on the shared
// machine falls on all alike), after one warm-up call each. Central runs with its jobs (the alert rules, the brain,
// sweeps), heartbeat TTL 1 h so that the generated online nodes stay online while it is measured.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateProvince, PROVINCE, type GeneratedProvince, type ProvinceSize } from './bench-dashboard-gen.js';
import { requireBuilt, startChild } from './lib.js';

export interface DashboardPhaseOptions {
  dir: string;
  quick: boolean;
  say: (s: string) => void;
  /** The province to generate (default PROVINCE, issue 12's size; tests pass a small one). */
  size?: ProvinceSize;
  /** Timed calls per endpoint and reader (default 30, 8 with quick). */
  rounds?: number;
  /**
   * Rounds go on until this long has passed too (default 75 s, 0 with quick), so that central's minutely jobs
   * (governance, reconcile and policy sweeps) run during the timing at least once.
   */
  minMeasureMs?: number;
  /** Called while central is up, after the timing (tests look at what the readers see). */
  inspect?: (baseUrl: string, g: GeneratedProvince) => Promise<void>;
}

export const DASHBOARD_LIMIT_MS = 300;

/** One endpoint to time: a path with its query, and a name for the report. */
export interface Endpoint {
  name: string;
  url: string;
}

interface OpenApiParam {
  name: string;
  in: string;
  required?: boolean;
  schema?: { enum?: unknown[]; anyOf?: { const?: unknown; enum?: unknown[] }[] };
}
interface OpenApiDoc {
  paths: Record<string, Record<string, { parameters?: OpenApiParam[] }>>;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The p-th percentile (nearest rank) of xs. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** Values for path and required query parameters, by name (the city admin's city, so both readers may see them). */
function sampleValue(name: string, g: GeneratedProvince): string | undefined {
  const s = g.samples;
  const byName: Record<string, string> = {
    id: s.nodeId,
    nodeId: s.nodeId,
    node: s.nodeId,
    departmentCode: s.departmentCode,
    department: s.departmentCode,
    code: s.departmentCode,
    resourceCode: s.resourceCode,
    resource: s.resourceCode,
    taskId: s.taskId,
    task: s.taskId,
    center: s.centerCode,
    centerCode: s.centerCode,
    region: g.cityCode,
    regionCode: g.cityCode,
    from: g.cityPair.from,
    to: g.cityPair.to,
  };
  return byName[name];
}

/**
 * Every GET operation under /api/v1/dashboard/ in the OpenAPI document, as endpoints: one per value of the first enum
 * query parameter (and one without it when it is optional and says no default); path and required query parameters from sampleValue. Operations with a parameter it cannot fill
 * are returned in `skipped`.
 */
export function dashboardEndpoints(
  doc: OpenApiDoc,
  g: GeneratedProvince,
): { endpoints: Endpoint[]; skipped: string[] } {
  const endpoints: Endpoint[] = [];
  const skipped: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths).sort(([a], [b]) => a.localeCompare(b))) {
    const get = ops['get'];
    if (!get || !path.startsWith('/api/v1/dashboard/')) continue;
    const params = get.parameters ?? [];
    let url = path;
    const query: string[] = [];
    let missing: string | undefined;
    for (const p of params) {
      if (p.in === 'path') {
        const v = sampleValue(p.name, g);
        if (v === undefined) missing = p.name;
        else url = url.replace(`{${p.name}}`, encodeURIComponent(v));
      } else if (p.in === 'query' && p.required && enumOf(p) === undefined) {
        const v = sampleValue(p.name, g);
        if (v === undefined) missing = p.name;
        else query.push(`${p.name}=${encodeURIComponent(v)}`);
      }
    }
    if (missing !== undefined) {
      skipped.push(`${path} (no sample for ${missing})`);
      continue;
    }
    const variant = params.find((p) => p.in === 'query' && enumOf(p) !== undefined);
    // An optional filter's default (none: e.g. every node) is a page of its own.
    const values = variant ? enumOf(variant)!.map((v) => `${variant.name}=${encodeURIComponent(String(v))}`) : [''];
    if (variant && !variant.required && !/\bdefault\b/.test(JSON.stringify(variant))) values.unshift('');
    for (const v of values) {
      const q = [...query, ...(v ? [v] : [])].join('&');
      endpoints.push({ name: `${path}${q ? `?${q}` : ''}`, url: `${url}${q ? `?${q}` : ''}` });
    }
  }
  return { endpoints, skipped };
}

function enumOf(p: OpenApiParam): unknown[] | undefined {
  if (p.schema?.enum) return p.schema.enum;
  const consts = p.schema?.anyOf?.map((s) => s.const).filter((c) => c !== undefined);
  return consts && consts.length > 0 ? consts : undefined;
}

/** The reads beside the dashboard's own: a year of one pair's traffic, the alerts and the nodes lists. */
function otherEndpoints(g: GeneratedProvince): Endpoint[] {
  const since = g.nowMs - 365 * 86_400_000;
  const traffic = `/api/v1/traffic?from=${g.cityPair.from}&to=${g.cityPair.to}&since=${since}&until=${g.nowMs}`;
  return [
    { name: '/api/v1/traffic?from&to&since=-365d', url: traffic },
    { name: '/api/v1/alerts', url: '/api/v1/alerts' },
    { name: '/api/v1/nodes', url: '/api/v1/nodes' },
  ];
}

export type DashboardFigures = Record<string, unknown>;

/** Generates the province, starts central over it, times every endpoint; the figures of the phase. */
export async function dashboardPhase(o: DashboardPhaseOptions): Promise<DashboardFigures> {
  const size = o.size ?? PROVINCE;
  mkdirSync(join(o.dir, 'logs'), { recursive: true });
  o.say(`dashboard: generating a province (${size.nodes} nodes, ${size.pairs} pairs, ${size.historyDays} days)`);
  const t0 = performance.now();
  const db = join(o.dir, 'central.db');
  const g = generateProvince(db, size, Date.now());
  const generateS = (performance.now() - t0) / 1000;
  const dbMb = statSync(db).size / 2 ** 20;
  const config = join(o.dir, 'central.json');
  writeFileSync(config, JSON.stringify({ heartbeatTtlMs: 3_600_000 }));
  const central = startChild(
    'central',
    process.execPath,
    [requireBuilt('bin/xchg-central.js'), '--data-dir', o.dir, '--http-port', '0', '--grpc-port', '0'],
    join(o.dir, 'logs', 'central.log'),
    { XCHG_CENTRAL_CONFIG: config, XCHG_CENTRAL_HTTP_HOST: '127.0.0.1', XCHG_CENTRAL_GRPC_HOST: '127.0.0.1' },
  );
  try {
    const t1 = performance.now();
    const up = await central.waitFor((l) => l['msg'] === 'central listening', 300_000);
    const startS = (performance.now() - t1) / 1000;
    const base = `http://127.0.0.1:${String(up['httpPort'])}`;
    const jobLoopBlockMs = await startJobsLoopBlock(base);
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as OpenApiDoc;
    const { endpoints, skipped } = dashboardEndpoints(doc, g);
    const all = [...endpoints, ...otherEndpoints(g)];
    const rounds = o.rounds ?? (o.quick ? 8 : 30);
    o.say(
      `dashboard: ${all.length} endpoints x 2 readers x ${rounds} rounds (central started in ${startS.toFixed(1)} s)`,
    );
    const minMs = o.minMeasureMs ?? (o.quick ? 0 : 75_000);
    const timed = await timeEndpoints(base, all, g, rounds, minMs);
    await o.inspect?.(base, g);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const jobs = jobRuns(metrics);
    let worst = 0;
    let worstName = '';
    for (const [name, by] of Object.entries(timed.p95))
      for (const [reader, p95] of Object.entries(by))
        if (p95 > worst) [worst, worstName] = [p95, `${name} (${reader})`];
    return {
      dashboard_p95_ms: worst,
      dashboard_limit_ms: DASHBOARD_LIMIT_MS,
      dashboard_worst_endpoint: worstName,
      dashboard_endpoint_p95_ms: timed.p95,
      dashboard_first_call_max_ms: timed.firstMaxMs,
      dashboard_first_call_max: timed.firstMax,
      dashboard_city_forbidden: timed.forbidden,
      dashboard_central_jobs: jobs,
      dashboard_job_loop_block_ms: jobLoopBlockMs,
      dashboard_loop_block_max_ms: loopDelayMaxMs(metrics),
      dashboard_endpoints: all.length,
      dashboard_skipped: skipped,
      dashboard_rounds: timed.rounds,
      dashboard_measure_s: timed.measureS,
      dashboard_generate_s: round1(generateS),
      dashboard_central_start_s: round1(startS),
      dashboard_db_mb: round1(dbMb),
      dashboard_daily_build_s: round1(g.dailyBuildS),
      dashboard_rows: g.rows,
      dashboard_province:
        `${size.cities} cities x ${1 + 3} regions each, ${size.departments} departments, ${size.nodes} nodes (~6 % offline), ` +
        `${size.pairs} active pairs with ${size.historyDays} days of hourly history (their shapes' active hours only), ` +
        `${Math.round(size.liveShare * 100)} % of them live with ${size.baseDays} days of 5-min buckets; ` +
        `city admin of ${g.cityCode} (${g.cityNodeIds.length} nodes)`,
    };
  } finally {
    await central.stop();
  }
}

/**
 * Central's periodic jobs since its start (its /metrics: xchg_job_duration_seconds): runs, mean and runs over 0.25 s
 * per job. A job runs on the event loop that answers HTTP: a request arriving during a long run waits for it.
 */
export function jobRuns(metrics: string): Record<string, { runs: number; mean_ms: number; over_250ms: number }> {
  const out: Record<string, { runs: number; mean_ms: number; over_250ms: number }> = {};
  const sums: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    const m =
      /^xchg_job_duration_seconds_(sum|count|bucket)\{(?:le="([^"]+)",)?job="([^"]+)"(?:,le="([^"]+)")?\} (\S+)$/.exec(
        line,
      );
    if (!m) continue;
    const [, kind, le1, job, le2, value] = m as unknown as [
      string,
      string,
      string | undefined,
      string,
      string | undefined,
      string,
    ];
    const j = (out[job] ??= { runs: 0, mean_ms: 0, over_250ms: 0 });
    if (kind === 'count') j.runs = Number(value);
    else if (kind === 'sum') sums[job] = Number(value);
    else if ((le1 ?? le2) === '0.25') j.over_250ms = -Number(value);
  }
  for (const [job, j] of Object.entries(out)) {
    j.over_250ms += j.runs;
    j.mean_ms = j.runs ? round1(((sums[job] ?? 0) * 1000) / j.runs) : 0;
  }
  return out;
}

/** Jobs central runs at start (runAtStart): their first runs are what dashboard_job_loop_block_ms covers. */
const START_JOBS = ['brain-cluster', 'governance-sweep', 'policy-sweep', 'route-evaluate', 'alert-rules'];

/** xchg_central_event_loop_delay_max_seconds of a /metrics text, in ms (undefined: not exported, an older central). */
export function loopDelayMaxMs(metrics: string): number | undefined {
  const m = /^xchg_central_event_loop_delay_max_seconds (\S+)$/m.exec(metrics);
  return m ? round1(Number(m[1]) * 1000) : undefined;
}

/**
 * The longest time central's event loop was held while its start-up jobs ran, ms: /metrics is read every second,
 * and nothing else is asked of central, until every START_JOBS job has run once (at most 10 min); then its
 * xchg_central_event_loop_delay_max_seconds. Undefined from a central that does not export it.
 */
async function startJobsLoopBlock(base: string): Promise<number | undefined> {
  const deadline = performance.now() + 600_000;
  for (;;) {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const runs = jobRuns(metrics);
    if (START_JOBS.every((j) => (runs[j]?.runs ?? 0) > 0) || performance.now() > deadline)
      return loopDelayMaxMs(metrics);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** What timeEndpoints measured. */
interface Timings {
  /** p95 (ms) per endpoint and reader. */
  p95: Record<string, Record<string, number>>;
  /** The slowest warm-up (first) call, ms, and its endpoint and reader. */
  firstMaxMs: number;
  firstMax: string;
  /** Endpoints the city admin is refused (403: province-wide pages), as "<endpoint> (city)". */
  forbidden: string[];
  /** Rounds timed (at least the rounds asked) and how long they took, s. */
  rounds: number;
  measureS: number;
}

/**
 * Times every endpoint as each reader; throws naming the endpoint when a call does not answer 200 (a city admin's
 * 403 on every call of an endpoint is a province-only page, listed in `forbidden`).
 */
async function timeEndpoints(
  base: string,
  endpoints: readonly Endpoint[],
  g: GeneratedProvince,
  rounds: number,
  minMs: number,
): Promise<Timings> {
  const readers = { province: g.provinceAdminToken, city: g.cityAdminToken };
  const call = async (e: Endpoint, token: string): Promise<number> => {
    const t = performance.now();
    const res = await fetch(base + e.url, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.arrayBuffer();
    const ms = performance.now() - t;
    if (res.status === 403 && token === g.cityAdminToken) return NaN;
    if (res.status !== 200)
      throw new Error(`GET ${e.url}: ${res.status} ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
    return ms;
  };
  const times = new Map<string, number[]>();
  const t: Timings = { p95: {}, firstMaxMs: 0, firstMax: '', forbidden: [], rounds: 0, measureS: 0 };
  for (const e of endpoints)
    for (const [r, token] of Object.entries(readers)) {
      const first = await call(e, token); // the warm-up call is not counted
      if (first > t.firstMaxMs) [t.firstMaxMs, t.firstMax] = [round1(first), `${e.name} (${r})`];
      times.set(`${e.name}|${r}`, []);
    }
  const t0 = performance.now();
  for (t.rounds = 0; t.rounds < rounds || performance.now() - t0 < minMs; t.rounds++)
    for (const e of endpoints)
      for (const [r, token] of Object.entries(readers)) times.get(`${e.name}|${r}`)!.push(await call(e, token));
  t.measureS = round1((performance.now() - t0) / 1000);
  for (const [key, list] of times) {
    const [name, reader] = key.split('|') as [string, string];
    const refused = list.filter((ms) => Number.isNaN(ms)).length;
    if (refused === list.length) t.forbidden.push(`${name} (${reader})`);
    else if (refused > 0) throw new Error(`GET ${name}: the city admin was refused ${refused} of ${list.length} calls`);
    else (t.p95[name] ??= {})[reader] = round1(percentile(list, 95));
  }
  return t;
}
