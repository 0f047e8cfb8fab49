// A provider at one city center and a consumer at another, with a relay agent at each of the three centers
// (province, city-a, city-b) and a TCP proxy on each direction of each link (city-a ⇄ prov ⇄ city-b): real
// nats-servers, central and agents. Each node gets its home center's data plane from central at enrollment:
// central is restarted with that center as its default before the nodes of each center enroll (the agent
// could not follow a node move when this was written). Routes and relays come from the agents' config.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PERSON_FIELDS, seedPopulation } from '../../scripts/synthetic.js';
import { AgentProcess, FAST_AGENT } from './agent.js';
import { Api } from './api.js';
import { CentralProcess } from './central.js';
import { Centers } from './centers.js';
import { FAST_DP, PopulationExchange } from './population-exchange.js';

export class RoutedExchange extends PopulationExchange {
  queryPort = 0;
  private readonly centralConfig = join(this.dir, 'central.json');

  constructor() {
    super('xchg-routed-');
  }

  static async start(rows: number): Promise<RoutedExchange> {
    const x = new RoutedExchange();
    seedPopulation(x.sourcePath, rows);
    x.centers = await Centers.start(['prov', 'city-a', 'city-b']);
    for (const [from, to] of [
      ['city-a', 'prov'],
      ['prov', 'city-a'],
      ['prov', 'city-b'],
      ['city-b', 'prov'],
    ] as const)
      await x.centers.link(from, to);
    x.attachNewNodesTo('prov');
    x.central = await CentralProcess.start({ heartbeatTtlMs: 3_000, env: { XCHG_CENTRAL_CONFIG: x.centralConfig } });
    x.api = new Api(x.central.url, x.central.adminToken);
    for (const d of ['gat', 'mzj', 'xxzx']) await x.api.seedDepartment(d);
    await x.startRelay('prov', ['city-a', 'city-b'], []);
    await x.moveDefaultCenter('city-a');
    await x.startRelay('city-a', ['prov'], [{ destinationCenter: 'city-b', hops: ['city-a', 'prov', 'city-b'] }]);
    x.provider = await x.startProvider();
    await x.moveDefaultCenter('city-b');
    await x.startRelay('city-b', ['prov'], [{ destinationCenter: 'city-a', hops: ['city-b', 'prov', 'city-a'] }]);
    x.consumer = await x.startConsumer();
    x.queryPort = Number((await x.consumer.proc.waitForLog((l) => l['msg'] === 'query api listening'))['port']);
    x.providerId = await x.provider.nodeId;
    x.consumerId = await x.consumer.nodeId;
    return x;
  }

  /** Central's config: new nodes attach to `center` (its URL is the center's own nats-server). */
  private attachNewNodesTo(center: string): void {
    writeFileSync(
      this.centralConfig,
      JSON.stringify({ dataPlane: { natsUrls: [this.centers.url(center)], homeCenter: center } }),
    );
  }

  private async moveDefaultCenter(center: string): Promise<void> {
    await this.central.stop();
    this.attachNewNodesTo(center);
    await this.central.restart();
  }

  private agentConfig(extra: Record<string, unknown>): Record<string, unknown> {
    const dp = (FAST_AGENT as Record<string, unknown>)['dataPlane'] as object | undefined;
    return { ...extra, dataPlane: { ...dp, ...FAST_DP } };
  }

  /** A relay agent at `center` reaching each neighbour through its link's proxy. */
  private async startRelay(
    center: string,
    neighbors: string[],
    routes: { destinationCenter: string; hops: string[] }[],
  ): Promise<void> {
    const relay = {
      center,
      neighbors: neighbors.map((n) => ({ center: n, natsUrls: [this.centers.linkOf(center, n).url] })),
      probeIntervalMs: 0,
    };
    const a = await AgentProcess.start({
      central: this.central.grpcAddress,
      token: await this.api.enrollToken('xxzx', `relay-${center}`),
      config: this.agentConfig({ relay, routes }),
    });
    this.relays.set(center, a);
  }

  private async startProvider(): Promise<AgentProcess> {
    return AgentProcess.start({
      central: this.central.grpcAddress,
      token: await this.api.enrollToken('gat', 'gat-01'),
      config: this.agentConfig({
        routes: [{ destinationCenter: 'city-b', hops: ['city-a', 'prov', 'city-b'] }],
        sources: {
          population: {
            type: 'sqlite',
            path: this.sourcePath,
            table: 'person',
            key: 'id',
            cursor: 'updated_at',
            deleted: 'deleted',
            queryKeys: ['id', 'id_no'],
          },
        },
      }),
    });
  }

  private async startConsumer(): Promise<AgentProcess> {
    return AgentProcess.start({
      central: this.central.grpcAddress,
      token: await this.api.enrollToken('mzj', 'mzj-01'),
      config: this.agentConfig({
        queryListen: '127.0.0.1:0',
        routes: [{ destinationCenter: 'city-a', hops: ['city-b', 'prov', 'city-a'] }],
        sinks: { people: { type: 'sqlite', path: this.sinkPath, table: 'person', key: 'id', synchronous: 'NORMAL' } },
      }),
    });
  }

  /** The tasks of one subscription: sync on the provider, exchange on the consumer. */
  async subscribe(subscriptionId = 'sub-population'): Promise<void> {
    const params = { fields: PERSON_FIELDS };
    const common = { subscriptionId, params };
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
}
