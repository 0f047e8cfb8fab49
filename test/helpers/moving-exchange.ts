// A province center and a city center (each its own nats-server, a TCP proxy on each direction of their
// link), a real central that knows both centers and the link, a relay agent at each center made the center's
// relay through central (RelaySpec: neighbours, the proxies' URLs, probe interval), and a provider and a
// consumer enrolled at the province. Everything across centers comes from central: RelaySpecs, RouteSpecs,
// TaskSpec.peer_center, and the data plane of a moved node; the agents' config has no routes or relay.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PERSON_FIELDS, seedPopulation } from '../../scripts/synthetic.js';
import { AgentProcess, FAST_AGENT } from './agent.js';
import { Api } from './api.js';
import { CentralProcess } from './central.js';
import { Centers } from './centers.js';
import { cliJson } from './cli.js';
import { FAST_DP, PopulationExchange } from './population-exchange.js';

export const PROVINCE = 'province';
export const CITY = 'nanchang';
/** The link's configured capacity: 100 Mbit/s, in bytes per second. */
export const LINK_CAPACITY_BPS = 12_500_000;
/** Probe interval central hands the relays (ms). */
export const PROBE_INTERVAL_MS = 1_000;

export class MovingExchange extends PopulationExchange {
  linkId = '';

  constructor() {
    super('xchg-move-');
  }

  static async start(rows: number): Promise<MovingExchange> {
    const x = new MovingExchange();
    seedPopulation(x.sourcePath, rows);
    x.centers = await Centers.start([PROVINCE, CITY]);
    await x.centers.link(PROVINCE, CITY);
    await x.centers.link(CITY, PROVINCE);
    await x.startCentral();
    for (const d of ['gat', 'mzj', 'xxzx']) await x.api.seedDepartment(d);
    await x.api.ok('POST', '/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
    await x.api.ok('POST', '/centers', {
      code: CITY,
      name: '南昌市交换中心',
      regionCode: '360100',
      level: 'city',
      natsUrls: [x.centers.url(CITY)],
    });
    const link = await x.api.ok<{ id: string }>('POST', '/links', {
      a: PROVINCE,
      b: CITY,
      capacityBps: LINK_CAPACITY_BPS,
      urlsAToB: [x.centers.linkOf(PROVINCE, CITY).url],
      urlsBToA: [x.centers.linkOf(CITY, PROVINCE).url],
    });
    x.linkId = link.id;
    await x.startRelay(PROVINCE);
    await x.startRelay(CITY);
    x.provider = await x.startAgent('gat', 'gat-01', {
      sources: {
        population: {
          type: 'sqlite',
          path: x.sourcePath,
          table: 'person',
          key: 'id',
          cursor: 'updated_at',
          deleted: 'deleted',
        },
      },
    });
    x.consumer = await x.startAgent('mzj', 'mzj-01', {
      sinks: { people: { type: 'sqlite', path: x.sinkPath, table: 'person', key: 'id', synchronous: 'NORMAL' } },
    });
    x.providerId = await x.provider.nodeId;
    x.consumerId = await x.consumer.nodeId;
    return x;
  }

  /** Central with the province as its default center, probes every second and short hysteresis holds. */
  private async startCentral(): Promise<void> {
    const config = join(this.dir, 'central.json');
    writeFileSync(
      config,
      JSON.stringify({
        dataPlane: { natsUrls: [this.centers.url(PROVINCE)], homeCenter: PROVINCE },
        routing: { probeIntervalMs: PROBE_INTERVAL_MS, windowMs: 5_000, recoverHoldMs: 1_000, switchHoldMs: 1_000 },
      }),
    );
    this.central = await CentralProcess.start({ heartbeatTtlMs: 3_000, env: { XCHG_CENTRAL_CONFIG: config } });
    this.api = new Api(this.central.url, this.central.adminToken);
  }

  /** `xchg node move` as an operator runs it. */
  move(nodeId: string, center: string): Promise<{ homeCenter: string }> {
    return cliJson(this.central.url, this.central.adminToken, ['node', 'move', nodeId, '--center', center]);
  }

  /** A relay agent at `center`: enrolled (at the province), moved there, made the center's relay by central. */
  private async startRelay(center: string): Promise<void> {
    const a = await this.startAgent('xxzx', `relay-${center}`, {});
    const id = await a.nodeId;
    if (center !== PROVINCE) {
      await this.move(id, center);
      await a.proc.waitForLog((l) => l['msg'] === 'node moved to another exchange center', 20_000);
    }
    await this.api.ok('PUT', `/centers/${center}/relay`, { nodeId: id });
    await a.proc.waitForLog((l) => l['msg'] === 'relay started' && l['center'] === center, 20_000);
    this.relays.set(center, a);
  }

  private async startAgent(dept: string, name: string, extra: Record<string, unknown>): Promise<AgentProcess> {
    const dp = (FAST_AGENT as Record<string, unknown>)['dataPlane'] as object | undefined;
    return AgentProcess.start({
      central: this.central.grpcAddress,
      token: await this.api.enrollToken(dept, name),
      config: { ...extra, dataPlane: { ...dp, ...FAST_DP } },
    });
  }

  /** The tasks of one subscription: sync on the provider, exchange on the consumer. */
  async subscribe(subscriptionId = 'sub-population'): Promise<void> {
    const common = { subscriptionId, params: { fields: PERSON_FIELDS } };
    await this.api.ok('POST', '/tasks', {
      ...common,
      name: `${subscriptionId}-in`,
      kind: 'exchange',
      nodeId: this.consumerId,
      peerNodeId: this.providerId,
      binding: 'people',
    });
    await this.api.ok('POST', '/tasks', {
      ...common,
      name: `${subscriptionId}-out`,
      kind: 'sync',
      nodeId: this.providerId,
      peerNodeId: this.consumerId,
      binding: 'population',
    });
  }

  /** New rows at the source after `after` rows (ids after it, later updated_at). */
  addRows(after: number, count: number): void {
    seedPopulation(this.sourcePath, count, { firstId: after + 1, seed: 4242 });
  }
}
