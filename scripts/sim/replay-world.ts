// The replay's world (npm run simulate -- --replay): nats-server with JetStream, a real xchg-central, a provider
// agent (department gat) with a SQLite source table `rec` and a consumer agent (department mzj) with a SQLite
// sink, all real processes on loopback ports, and the subscription's two tasks (sync on the provider, exchange on
// the consumer). Rows carry the instant they were inserted (inserted_at, ms), which is also the source's cursor.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { AGENT_NODE_FLAGS } from '../../node-agent/src/heap.js';
import { findNatsServer, freePort, requireBuilt, startChild, type Child } from '../lib.js';
import { apiOf, must, type Api } from './central-run.js';

/** The fields of the replayed resource: a text key, the insert instant (ms since epoch), a payload. */
export const REC_FIELDS = [
  { name: 'k', type: 'string', required: true },
  { name: 'inserted_at', type: 'integer', required: true },
  { name: 'payload', type: 'string' },
];

export interface ReplayWorld {
  dir: string;
  api: Api;
  grpcPort: number;
  providerId: string;
  consumerId: string;
  syncTaskId: string;
  sourcePath: string;
  sinkPath: string;
  stop(): Promise<void>;
}

async function waitPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} not listening within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts everything; `beforeDepartments` runs once central answers (the history import enrolls its nodes). */
export async function startWorld(dir: string, beforeDepartments: (api: Api, grpcPort: number) => Promise<void>) {
  const children: Child[] = [];
  const stop = async (): Promise<void> => {
    for (const c of children.reverse()) await c.stop();
  };
  try {
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const natsPort = await freePort();
    const nats = startChild(
      'nats-server',
      findNatsServer(),
      ['-js', '-sd', join(dir, 'jetstream'), '-a', '127.0.0.1', '-p', String(natsPort)],
      join(dir, 'logs', 'nats.log'),
    );
    children.push(nats);
    await waitPort(natsPort);
    const config = join(dir, 'central.json');
    // The live surge watch answers no surge with a policy of its own: in run (a) the compressed traffic would look
    // like one, and the run without policies must have none; run (b) gets the detector's surge through the API.
    writeFileSync(
      config,
      JSON.stringify({ traffic: { baseRetentionMs: 60 * 86_400_000 }, brain: { dynamicPolicies: false } }),
    );
    const central = startChild(
      'central',
      process.execPath,
      [requireBuilt('bin/xchg-central.js'), '--data-dir', join(dir, 'central'), '--http-port', '0', '--grpc-port', '0'],
      join(dir, 'logs', 'central.log'),
      {
        XCHG_CENTRAL_CONFIG: config,
        XCHG_CENTRAL_HTTP_HOST: '127.0.0.1',
        XCHG_CENTRAL_GRPC_HOST: '127.0.0.1',
        XCHG_CENTRAL_NATS_URLS: `nats://127.0.0.1:${natsPort}`,
      },
    );
    children.push(central);
    const up = await central.waitFor((l) => l['msg'] === 'central listening', 30_000);
    const grpcPort = Number(up['grpcPort']);
    const api = apiOf(
      `http://127.0.0.1:${String(up['httpPort'])}/api/v1`,
      readFileSync(join(dir, 'central', 'admin.token'), 'utf8').trim(),
    );
    await beforeDepartments(api, grpcPort);
    for (const [code, name] of [
      ['gat', '公安厅'],
      ['mzj', '民政厅'],
    ] as const)
      await must(api('POST', '/departments', { code, name, regionCode: '360000' }), 'department');
    const sourcePath = join(dir, 'source.db');
    const sinkPath = join(dir, 'sink.db');
    const db = new Database(sourcePath);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE rec (k TEXT PRIMARY KEY, inserted_at INTEGER NOT NULL, payload TEXT)');
    db.exec('CREATE INDEX rec_cursor ON rec (inserted_at, k)');
    db.close();
    const agent = async (dept: string, bindings: Record<string, unknown>): Promise<string> => {
      const { token } = await must(
        api<{ token: string }>('POST', '/tokens', { departmentCode: dept, nodeName: `${dept}-01` }),
        'token',
      );
      const dataDir = join(dir, 'agents', dept);
      mkdirSync(dataDir, { recursive: true });
      const configFile = join(dataDir, 'agent.yaml');
      writeFileSync(
        configFile,
        stringify({
          dataDir,
          central: { address: `127.0.0.1:${grpcPort}`, enrollToken: token },
          reportIntervalMs: 1000,
          dataPlane: { runReportIntervalMs: 1000 },
          spool: { synchronous: 'NORMAL' },
          ...bindings,
        }),
      );
      const a = startChild(
        `${dept}-01`,
        process.execPath,
        [...AGENT_NODE_FLAGS, requireBuilt('bin/xchg-agent.js'), '--config', configFile],
        join(dir, 'logs', `${dept}.log`),
      );
      children.push(a);
      return String((await a.waitFor((l) => l['msg'] === 'agent running', 30_000))['nodeId']);
    };
    const providerId = await agent('gat', {
      sources: { rec: { type: 'sqlite', path: sourcePath, table: 'rec', key: 'k', cursor: 'inserted_at' } },
    });
    const consumerId = await agent('mzj', {
      sinks: { rec: { type: 'sqlite', path: sinkPath, table: 'rec', key: 'k', synchronous: 'NORMAL' } },
    });
    const params = { fields: REC_FIELDS };
    const sub = { subscriptionId: 'sub-replay', binding: 'rec', params };
    await must(
      api('POST', '/tasks', {
        name: 'replay-in',
        kind: 'exchange',
        nodeId: consumerId,
        peerNodeId: providerId,
        ...sub,
      }),
      'exchange task',
    );
    const sync = await must(
      api<{ id: string }>('POST', '/tasks', {
        name: 'replay-out',
        kind: 'sync',
        nodeId: providerId,
        peerNodeId: consumerId,
        ...sub,
      }),
      'sync task',
    );
    return { dir, api, grpcPort, providerId, consumerId, syncTaskId: sync.id, sourcePath, sinkPath, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
