// The live part of the dashboard province (DashboardProvince.start({ live: true })): a nats-server, two real
// agents of 南昌 (nc-sjj provides resource R-NC-POP from a SQLite table, nc-rsj receives it into a SQLite table
// whose NOT NULL column refuses BAD_ROWS: those records are quarantined alone), their sync and exchange tasks,
// and applications (one to nc-gat approved, one to jdz-gat left pending). Central counts traffic in 2 s buckets
// and evaluates the alert rules every 200 ms, so the dashboard shows live figures within seconds.
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProcess } from './agent.js';
import type { Api } from './api.js';
import type { CentralProcess } from './central.js';
import { FAST_DP } from './population-exchange.js';
import { tmpDir } from './tmp.js';

/** Rows of the provider's table; the ids whose v is NULL (refused by the consumer's sink). */
export const LIVE_ROWS = 300;
export const BAD_ROWS = [7, 77, 177] as const;
export const LIVE_DEPARTMENTS = [
  { code: 'nc-sjj', region: '360100' },
  { code: 'nc-rsj', region: '360100' },
] as const;
export const LIVE_RESOURCE = 'R-NC-POP';

/** Central's settings for a live province: 2 s traffic buckets, alert rules every 200 ms (a config file). */
export function liveCentralEnv(): NodeJS.ProcessEnv {
  const file = join(tmpDir('xchg-dash-config-'), 'central.yaml');
  writeFileSync(file, 'alerts:\n  evaluateIntervalMs: 200\n');
  return { XCHG_CENTRAL_CONFIG: file, XCHG_CENTRAL_TRAFFIC_BUCKET_MS: '2000' };
}

export class LiveExchange {
  provider!: AgentProcess;
  consumer!: AgentProcess;
  providerId = '';
  consumerId = '';
  readonly dir = tmpDir('xchg-dash-live-');
  readonly sourcePath = join(this.dir, 'source.db');
  readonly sinkPath = join(this.dir, 'sink.db');

  /** Seeds the tables, the resource, both agents and their tasks (the departments exist already). */
  static async start(central: CentralProcess, admin: Api): Promise<LiveExchange> {
    const x = new LiveExchange();
    x.tables();
    await admin.ok('POST', '/resources', {
      code: LIVE_RESOURCE,
      providerDepartmentCode: 'nc-sjj',
      name: '南昌人口样例',
      fields: [
        { name: 'id', type: 'integer', required: true },
        { name: 'v', type: 'string' },
      ],
      shareType: 'unconditional',
    });
    await admin.ok('POST', `/resources/${LIVE_RESOURCE}/publish`);
    const agent = async (dept: string, config: Record<string, unknown>) =>
      AgentProcess.start({
        central: central.grpcAddress,
        token: await admin.enrollToken(dept, `${dept}-01`),
        config: { dataPlane: { ...FAST_DP }, ...config },
      });
    x.provider = await agent('nc-sjj', {
      sources: { people_src: { type: 'sqlite', path: x.sourcePath, table: 'person', key: 'id', cursor: 'id' } },
    });
    x.consumer = await agent('nc-rsj', {
      sinks: { people: { type: 'sqlite', path: x.sinkPath, table: 'person', key: 'id' } },
    });
    x.providerId = await x.provider.nodeId;
    x.consumerId = await x.consumer.nodeId;
    const task = (kind: 'sync' | 'exchange', nodeId: string, peerNodeId: string, binding: string) =>
      admin.ok('POST', '/tasks', {
        name: `nc-pop-${kind === 'sync' ? 'out' : 'in'}`,
        kind,
        nodeId,
        peerNodeId,
        subscriptionId: 'sub-nc-pop',
        resourceCode: LIVE_RESOURCE,
        binding,
        params: { fields: [{ name: 'id' }, { name: 'v' }] },
      });
    await task('exchange', x.consumerId, x.providerId, 'people');
    await task('sync', x.providerId, x.consumerId, 'people_src');
    return x;
  }

  private tables(): void {
    const src = new Database(this.sourcePath);
    src.exec('CREATE TABLE person (id INTEGER PRIMARY KEY, v TEXT)');
    const put = src.prepare('INSERT INTO person (id, v) VALUES (?, ?)');
    const bad = new Set<number>(BAD_ROWS);
    src.transaction(() => {
      for (let id = 1; id <= LIVE_ROWS; id++) put.run(id, bad.has(id) ? null : `value-${id}`);
    })();
    src.close();
    const sink = new Database(this.sinkPath);
    sink.exec('CREATE TABLE person (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    sink.close();
  }

  /** Rows at the sink. */
  sinkCount(): number {
    const db = new Database(this.sinkPath, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM person').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.provider?.stop('SIGKILL'), this.consumer?.stop('SIGKILL')]);
  }
}

/**
 * Applications as departments' officers make them: nc-wjw applies for nc-gat's conditional R-NC-LIC (the
 * province admin approves), sfgw for jdz-gat's R-JDZ-LIC (left pending).
 */
export async function seedApplications(admin: Api, officer: (dept: string) => Promise<Api>): Promise<void> {
  for (const [code, provider] of [
    ['R-NC-LIC', 'nc-gat'],
    ['R-JDZ-LIC', 'jdz-gat'],
  ] as const) {
    await admin.ok('POST', '/resources', {
      code,
      providerDepartmentCode: provider,
      name: `${provider} 证照`,
      fields: [{ name: 'id', type: 'integer', required: true }],
      shareType: 'conditional',
      conditions: '审核后共享',
    });
    await admin.ok('POST', `/resources/${code}/publish`);
  }
  const nc = await (
    await officer('nc-wjw')
  ).ok<{ id: string }>('POST', '/applications', {
    resourceCode: 'R-NC-LIC',
    purpose: '医保资格核验',
  });
  await admin.ok('POST', `/applications/${nc.id}/approve`, {});
  await (await officer('sfgw')).ok('POST', '/applications', { resourceCode: 'R-JDZ-LIC', purpose: '项目审批' });
}
