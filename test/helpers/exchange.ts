// A two-department exchange on this machine: nats-server, central, a provider agent with a SQLite
// source and a consumer agent with a SQLite sink, all real processes; plus the comparison of sink and
// source, record by record, after masking.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { PERSON_FIELDS, seedPopulation } from '../../scripts/synthetic.js';
import { compareTables } from '../../scripts/verify.js';
import { AgentProcess, FAST_AGENT } from './agent.js';
import { Api } from './api.js';
import { CentralProcess } from './central.js';
import { NatsServer } from './nats-server.js';
import { tmpDir } from './tmp.js';

export interface ExchangeOptions {
  rows: number;
  /** Extra agent settings (both agents). */
  agentConfig?: Record<string, unknown>;
  dataPlane?: Record<string, unknown>;
  /** Extra bindings of the provider and the consumer (or functions of the exchange's temp dir giving them). */
  sources?: Record<string, unknown> | ((dir: string) => Record<string, unknown>);
  sinks?: Record<string, unknown> | ((dir: string) => Record<string, unknown>);
  /** Extra environment of central (XCHG_CENTRAL_* settings). */
  centralEnv?: NodeJS.ProcessEnv;
  /** Runs before the agents start, with the exchange's temp dir (to create source files). */
  prepare?: (dir: string) => void;
}

export class Exchange {
  nats!: NatsServer;
  central!: CentralProcess;
  api!: Api;
  provider!: AgentProcess;
  consumer!: AgentProcess;
  providerId = '';
  consumerId = '';
  /** Port of the consumer agent's local online-query endpoint. */
  queryPort = 0;
  readonly dir = tmpDir('xchg-exchange-');
  readonly sourcePath = join(this.dir, 'population.db');
  readonly sinkPath = join(this.dir, 'received.db');
  /** A second sink of the consumer (binding people2), for tests with two subscriptions. */
  readonly sink2Path = join(this.dir, 'received-2.db');

  static async start(opts: ExchangeOptions): Promise<Exchange> {
    const x = new Exchange();
    seedPopulation(x.sourcePath, opts.rows);
    opts.prepare?.(x.dir);
    const extraSources = typeof opts.sources === 'function' ? opts.sources(x.dir) : opts.sources;
    const extraSinks = typeof opts.sinks === 'function' ? opts.sinks(x.dir) : opts.sinks;
    x.nats = await NatsServer.start();
    x.central = await CentralProcess.start({
      natsUrls: [x.nats.url],
      heartbeatTtlMs: 3_000,
      ...(opts.centralEnv && { env: opts.centralEnv }),
    });
    x.api = new Api(x.central.url, x.central.adminToken);
    await x.api.seedDepartment('gat');
    await x.api.seedDepartment('mzj');
    const dataPlane = { receiptTimeoutMs: 2_000, runReportIntervalMs: 500, pollIntervalMs: 100, ...opts.dataPlane };
    x.provider = await AgentProcess.start({
      central: x.central.grpcAddress,
      token: await x.api.enrollToken('gat', 'gat-01'),
      config: {
        ...opts.agentConfig,
        dataPlane: { ...FAST_DP, ...dataPlane },
        sources: {
          population: {
            type: 'sqlite',
            path: x.sourcePath,
            table: 'person',
            key: 'id',
            cursor: 'updated_at',
            deleted: 'deleted',
            queryKeys: ['id', 'id_no'],
          },
          // The same table behind a binding that shares only under an agreement (enforcement tests).
          guarded: {
            type: 'sqlite',
            path: x.sourcePath,
            table: 'person',
            key: 'id',
            cursor: 'updated_at',
            deleted: 'deleted',
            requireAgreement: true,
          },
          ...extraSources,
        },
      },
    });
    x.consumer = await AgentProcess.start({
      central: x.central.grpcAddress,
      token: await x.api.enrollToken('mzj', 'mzj-01'),
      config: {
        queryListen: '127.0.0.1:0',
        ...opts.agentConfig,
        dataPlane: { ...FAST_DP, ...dataPlane },
        sinks: {
          people: { type: 'sqlite', path: x.sinkPath, table: 'person', key: 'id', synchronous: 'NORMAL' },
          people2: { type: 'sqlite', path: x.sink2Path, table: 'person', key: 'id', synchronous: 'NORMAL' },
          ...extraSinks,
        },
      },
    });
    x.queryPort = Number((await x.consumer.proc.waitForLog((l) => l['msg'] === 'query api listening'))['port']);
    x.providerId = await x.provider.nodeId;
    x.consumerId = await x.consumer.nodeId;
    return x;
  }

  /** Creates the pair of tasks of one subscription: sync on the provider, exchange on the consumer. */
  async subscribe(
    subscriptionId = 'sub-population',
    bindings = { source: 'population', sink: 'people' },
    params: Record<string, unknown> = { fields: PERSON_FIELDS },
  ): Promise<void> {
    await this.api.ok('POST', '/tasks', {
      name: `${subscriptionId}-in`,
      kind: 'exchange',
      nodeId: this.consumerId,
      peerNodeId: this.providerId,
      subscriptionId,
      binding: bindings.sink,
      params,
    });
    await this.api.ok('POST', '/tasks', {
      name: `${subscriptionId}-out`,
      kind: 'sync',
      nodeId: this.providerId,
      peerNodeId: this.consumerId,
      subscriptionId,
      binding: bindings.source,
      params,
    });
  }

  sinkCount(): number {
    try {
      const db = new Database(this.sinkPath, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM person').get() as { n: number }).n;
      } finally {
        db.close();
      }
    } catch {
      return 0;
    }
  }

  /**
   * Compares the sink with the source after masking, record by record. Returns the problems (empty
   * when the sink equals the source exactly: nothing missing, nothing extra, every value right).
   */
  compare(opts: { exclude?: ReadonlySet<number> } = {}): { problems: string[]; rows: number } {
    return compareTables(
      { path: this.sourcePath, table: 'person', key: 'id', deleted: 'deleted' },
      { path: this.sinkPath, table: 'person' },
      PERSON_FIELDS,
      opts,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([this.provider?.stop('SIGKILL'), this.consumer?.stop('SIGKILL')]);
    await this.central?.stop();
    await this.nats?.stop();
  }
}

const FAST_DP = { ...((FAST_AGENT as Record<string, unknown>)['dataPlane'] as object | undefined) };
