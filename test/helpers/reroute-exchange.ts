// Three exchange centers with two candidate routes between the cities, everything across centers chosen by
// central: the province (province) and two cities, 南昌市 (nanchang, the provider's home) and 赣州市 (ganzhou,
// the consumer's home), each its own nats-server; links nanchang–province, province–ganzhou and a direct
// nanchang–ganzhou, each direction through its own TCP proxy with a base one-way latency (so a one-link
// route is clearly cheaper than a two-link one); central with the centers and links registered over its
// HTTP API, a relay agent at every center made the center's relay by central (RelaySpec), probe rounds
// every PROBE_INTERVAL_MS and short routing holds. The agents' config has no routes or relay: RouteSpecs,
// RelaySpecs and TaskSpec.peer_center come from central. Each node is enrolled while central's default
// center is its home center (central restarted with that default), so no node needs to move.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LinkView, RouteDetail, RouteSummary } from '../../central/src/api/routing.js';
import { PERSON_FIELDS, seedPopulation } from '../../scripts/synthetic.js';
import { AgentProcess, FAST_AGENT } from './agent.js';
import { Api } from './api.js';
import { CentralProcess } from './central.js';
import { Centers } from './centers.js';
import { distFile } from './proc.js';
import { tmpDir } from './tmp.js';

export const PROVINCE = 'province';
export const CITY_A = 'nanchang';
export const CITY_B = 'ganzhou';
/** Probe interval central hands the relays, and its route-evaluation interval (ms). */
export const PROBE_INTERVAL_MS = 500;
/** One-way latency every link proxy adds (ms): a one-link route costs ~10 ms, a two-link route ~20 ms. */
export const BASE_DELAY_MS = 10;
/** Each link's configured capacity: 100 Mbit/s in bytes per second. */
export const LINK_CAPACITY_BPS = 12_500_000;
/**
 * Central's routing settings for tests: a 3 s window (a degradation shows within one probe round), links
 * stale after 2 s, and moving back onto a recovered route only after 20 s healthy plus 5 s cheaper. A link
 * is degraded by loss only above 30 %: at 500 ms rounds a probe times out after 200 ms, and a loaded 2-core
 * machine (the suite runs two files at once) loses the odd one — 2 of 36 would pass the default 5 %. The
 * scenarios degrade a link by latency (+500 ms) and by killing a center (every probe lost).
 */
export const ROUTING = {
  probeIntervalMs: PROBE_INTERVAL_MS,
  windowMs: 3_000,
  degradedLoss: 0.3,
  staleAfterMs: 2_000,
  recoverHoldMs: 20_000,
  switchHoldMs: 5_000,
};

const FAST_DP = { receiptTimeoutMs: 2_000, runReportIntervalMs: 500, pollIntervalMs: 100, batchRecords: 500 };

/** One flow: its own source file at the provider and sink file at the consumer. */
export interface Flow {
  name: string;
  /** Rows the source holds once fed (feed()); `initialRows` of them are there from the start. */
  rows: number;
  initialRows: number;
  sourcePath: string;
  sinkPath: string;
  subscriptionId: string;
  /** The provider's sync task id once subscribed (the last token of its data subject). */
  syncTaskId: string;
}

/** The link names the test uses: 'nanchang-ganzhou' etc. (a-b as registered). */
export type LinkName = `${string}-${string}`;

export class RerouteExchange {
  centers!: Centers;
  central!: CentralProcess;
  api!: Api;
  readonly relays = new Map<string, AgentProcess>();
  provider!: AgentProcess;
  consumer!: AgentProcess;
  providerId = '';
  consumerId = '';
  /** Link ids by name ('nanchang-ganzhou', 'nanchang-province', 'province-ganzhou'). */
  readonly linkIds = new Map<string, string>();
  readonly flows = new Map<string, Flow>();
  readonly dir = tmpDir('xchg-reroute-');
  private readonly centralConfig = join(this.dir, 'central.json');
  private routing = ROUTING;

  /** `routing` overrides central's ROUTING settings (e.g. to check a test fails without hysteresis). */
  static async start(
    flows: { name: string; rows: number; initialRows: number }[],
    routing: Partial<typeof ROUTING> = {},
  ): Promise<RerouteExchange> {
    const x = new RerouteExchange();
    x.routing = { ...ROUTING, ...routing };
    for (const f of flows) {
      const flow = {
        ...f,
        sourcePath: join(x.dir, `source-${f.name}.db`),
        sinkPath: join(x.dir, `sink-${f.name}.db`),
        subscriptionId: `sub-${f.name}`,
        syncTaskId: '',
      };
      seedPopulation(flow.sourcePath, f.initialRows);
      x.flows.set(f.name, flow);
    }
    x.centers = await Centers.start([PROVINCE, CITY_A, CITY_B]);
    for (const [a, b] of x.linkPairs()) {
      await x.centers.link(a, b, { delayMs: BASE_DELAY_MS });
      await x.centers.link(b, a, { delayMs: BASE_DELAY_MS });
    }
    await x.startCentral(PROVINCE);
    await x.register();
    await x.startRelay(PROVINCE);
    await x.restartCentral(CITY_A);
    await x.startRelay(CITY_A);
    x.provider = await x.startAgent('gat', 'gat-01', { sources: x.sources() });
    await x.restartCentral(CITY_B);
    await x.startRelay(CITY_B);
    x.consumer = await x.startAgent('mzj', 'mzj-01', { sinks: x.sinks() });
    x.providerId = await x.provider.nodeId;
    x.consumerId = await x.consumer.nodeId;
    for (const [center, a] of x.relays) {
      await x.api.ok('PUT', `/centers/${center}/relay`, { nodeId: await a.nodeId });
      await a.proc.waitForLog((l) => l['msg'] === 'relay started' && l['center'] === center, 20_000);
    }
    return x;
  }

  /** The links as registered (a, b): the direct city link and each city's link to the province. */
  linkPairs(): [string, string][] {
    return [
      [CITY_A, CITY_B],
      [CITY_A, PROVINCE],
      [PROVINCE, CITY_B],
    ];
  }

  /** Both directions' proxies of a link, by its two centers (either order). */
  proxiesOf(x: string, y: string): ReturnType<Centers['linkOf']>['proxy'][] {
    return [this.centers.linkOf(x, y).proxy, this.centers.linkOf(y, x).proxy];
  }

  linkId(x: string, y: string): string {
    const id = this.linkIds.get(`${x}-${y}`) ?? this.linkIds.get(`${y}-${x}`);
    if (!id) throw new Error(`no link ${x}-${y}`);
    return id;
  }

  private writeCentralConfig(defaultCenter: string): void {
    writeFileSync(
      this.centralConfig,
      JSON.stringify({
        dataPlane: { natsUrls: [this.centers.url(defaultCenter)], homeCenter: defaultCenter },
        routing: this.routing,
      }),
    );
  }

  private async startCentral(defaultCenter: string): Promise<void> {
    this.writeCentralConfig(defaultCenter);
    this.central = await CentralProcess.start({
      heartbeatTtlMs: 5_000,
      env: { XCHG_CENTRAL_CONFIG: this.centralConfig },
    });
    this.api = new Api(this.central.url, this.central.adminToken);
  }

  /** Central again with another default center: the nodes enrolled next are homed there. */
  private async restartCentral(defaultCenter: string): Promise<void> {
    await this.central.stop();
    this.writeCentralConfig(defaultCenter);
    await this.central.restart();
  }

  /** Regions, departments, the two city centers and the three links (URLs checked by central). */
  private async register(): Promise<void> {
    for (const d of ['gat', 'mzj', 'xxzx']) await this.api.seedDepartment(d);
    for (const [code, name, region, regionName] of [
      [CITY_A, '南昌市交换中心', '360100', '南昌市'],
      [CITY_B, '赣州市交换中心', '360700', '赣州市'],
    ] as const) {
      await this.api.ok('POST', '/regions', { code: region, name: regionName, level: 'city', parentCode: '360000' });
      await this.api.ok('POST', '/centers', {
        code,
        name,
        regionCode: region,
        level: 'city',
        natsUrls: [this.centers.url(code)],
      });
    }
    for (const [a, b] of this.linkPairs()) {
      const link = await this.api.ok<{ id: string }>('POST', '/links', {
        a,
        b,
        capacityBps: LINK_CAPACITY_BPS,
        urlsAToB: [this.centers.linkOf(a, b).url],
        urlsBToA: [this.centers.linkOf(b, a).url],
      });
      this.linkIds.set(`${a}-${b}`, link.id);
    }
  }

  private async startRelay(center: string): Promise<void> {
    this.relays.set(center, await this.startAgent('xxzx', `relay-${center}`, {}));
  }

  private async startAgent(dept: string, name: string, extra: Record<string, unknown>): Promise<AgentProcess> {
    const dp = (FAST_AGENT as Record<string, unknown>)['dataPlane'] as object | undefined;
    return AgentProcess.start({
      central: this.central.grpcAddress,
      token: await this.api.enrollToken(dept, name),
      config: { ...extra, dataPlane: { ...dp, ...FAST_DP } },
    });
  }

  private sources(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.flows.values())
      out[`population-${f.name}`] = {
        type: 'sqlite',
        path: f.sourcePath,
        table: 'person',
        key: 'id',
        cursor: 'updated_at',
        deleted: 'deleted',
      };
    return out;
  }

  private sinks(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.flows.values())
      out[`people-${f.name}`] = { type: 'sqlite', path: f.sinkPath, table: 'person', key: 'id', synchronous: 'NORMAL' };
    return out;
  }

  flow(name: string): Flow {
    const f = this.flows.get(name);
    if (!f) throw new Error(`no flow ${name}`);
    return f;
  }

  /** Starts a flow: the exchange task on the consumer, then the sync task on the provider. */
  async subscribe(name: string): Promise<void> {
    const f = this.flow(name);
    const common = { subscriptionId: f.subscriptionId, params: { fields: PERSON_FIELDS } };
    await this.api.ok('POST', '/tasks', {
      ...common,
      name: `${f.subscriptionId}-in`,
      kind: 'exchange',
      nodeId: this.consumerId,
      peerNodeId: this.providerId,
      binding: `people-${name}`,
    });
    const sync = await this.api.ok<{ id: string }>('POST', '/tasks', {
      ...common,
      name: `${f.subscriptionId}-out`,
      kind: 'sync',
      nodeId: this.providerId,
      peerNodeId: this.consumerId,
      binding: `population-${name}`,
    });
    f.syncTaskId = sync.id;
  }

  /**
   * Writes a flow's source as a live department database would: `stepRows` new rows (later updated_at)
   * every `everyMs` until it holds `rows`, so a transfer is under way for as long as the feed runs.
   * Resolves when the source is complete.
   */
  async feed(name: string, opts: { stepRows: number; everyMs: number; signal?: AbortSignal }): Promise<void> {
    const f = this.flow(name);
    let have = f.initialRows;
    while (have < f.rows) {
      await new Promise((r) => setTimeout(r, opts.everyMs));
      if (opts.signal?.aborted) return;
      const n = Math.min(opts.stepRows, f.rows - have);
      seedPopulation(f.sourcePath, n, { firstId: have + 1, seed: have + 1 });
      have += n;
    }
  }

  sinkCount(name: string): number {
    try {
      const db = new Database(this.flow(name).sinkPath, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM person').get() as { n: number }).n;
      } catch {
        return 0; // the table is made with the first batch
      } finally {
        db.close();
      }
    } catch {
      return 0;
    }
  }

  /**
   * Problems of a flow's sink against its source after masking, record by record (empty: equal). Runs in a
   * worker thread: the link proxies live in this process, and a second of comparing on its event loop
   * would stall every link at once (each center would see its neighbours stop answering).
   */
  async compare(name: string): Promise<{ problems: string[]; rows: number }> {
    const f = this.flow(name);
    const args = [
      { path: f.sourcePath, table: 'person', key: 'id', deleted: 'deleted' },
      { path: f.sinkPath, table: 'person' },
      PERSON_FIELDS,
    ];
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.module).then((m) => parentPort.postMessage(m.compareTables(...workerData.args)));`;
    const worker = new Worker(code, { eval: true, workerData: { module: distFile('scripts/verify.js'), args } });
    try {
      return await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    } finally {
      await worker.terminate();
    }
  }

  routes(): Promise<RouteSummary[]> {
    return this.api.ok<RouteSummary[]>('GET', '/routes');
  }

  route(from: string, to: string): Promise<RouteDetail> {
    return this.api.ok<RouteDetail>('GET', `/routes/${from}/${to}`);
  }

  links(): Promise<LinkView[]> {
    return this.api.ok<LinkView[]>('GET', '/links');
  }

  async stop(): Promise<void> {
    const agents = [this.provider, this.consumer, ...this.relays.values()];
    await Promise.all(agents.map((a) => a?.stop('SIGKILL')));
    await this.central?.stop();
    await this.centers?.stop();
  }
}
