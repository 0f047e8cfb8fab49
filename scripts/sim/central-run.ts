// Feeds a simulated province to a real xchg-central process (npm run simulate): nodes enrolled over gRPC, each
// pair's history imported through POST /api/v1/traffic/import (central replays it through its surge detector),
// the stored series read back through GET /api/v1/traffic, the clustering run, and what central stored read
// back from its database. Nothing here recomputes a stored result from the generator.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DEFAULTS } from '../../central/src/config.js';
import { createServices } from '../../central/src/services/index.js';
import { Store } from '../../central/src/store/index.js';
import { loadXchgV1, type EnrollResponse__Output } from '../../proto/index.js';
import { requireBuilt, startChild } from '../lib.js';
import type { StoredFacts, StoredPair } from './figures.js';
import type { Province, Series } from './generate.js';

export interface CentralRunOptions {
  /** Data directory of the central (created; left in place for inspection). */
  dir: string;
  province: Province;
  /** The province's end: imports cover [startMs, endMs); the in-process clustering's clock. */
  endMs: number;
  say: (s: string) => void;
}

export interface CentralRun {
  pairs: StoredPair[];
  facts: StoredFacts;
  /** How the clustering ran: central's endpoint, or ClusterService in-process over central's stopped database. */
  clusteredVia: 'POST /api/v1/clusters/run' | 'in-process ClusterService.run() on central.db';
  importSeconds: number;
}

const DAY_MS = 86_400_000;

/** A call of central's HTTP API as an admin: the status and the parsed body. */
export type Api = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

export function apiOf(base: string, token: string): Api {
  return async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
}

/** The body of a call that must succeed (status < 300), else an error naming `what`. */
export async function must<T>(r: Promise<{ status: number; body: T }>, what: string): Promise<T> {
  const { status, body } = await r;
  if (status >= 300) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 400)}`);
  return body;
}

/** One node per generator node name, enrolled over gRPC with a token of department `sim`. */
export async function enrollNodes(api: Api, grpcPort: number, names: readonly string[]): Promise<Map<string, string>> {
  await must(api('POST', '/regions', { code: '360000', name: '江西省', level: 'province' }), 'region');
  await must(api('POST', '/departments', { code: 'sim', name: '模拟部门', regionCode: '360000' }), 'department');
  const agent = new (loadXchgV1().AgentService)(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  const ids = new Map<string, string>();
  try {
    for (const name of names) {
      const { token } = await must(
        api<{ token: string }>('POST', '/tokens', { departmentCode: 'sim', nodeName: name }),
        'token',
      );
      const e = await new Promise<EnrollResponse__Output>((resolve, reject) =>
        agent.Enroll({ token, hostname: name, agentVersion: 'simulate', labels: {} }, (err, res) =>
          err ? reject(err) : resolve(res!),
        ),
      );
      ids.set(name, e.nodeId);
    }
  } finally {
    agent.close();
  }
  return ids;
}

/** A pair's series as a history file: ISO 8601 UTC timestamps, records and bytes per 5-min row. */
export function csvOf(s: Series, bytesPerRecord: number): string {
  const lines = ['timestamp,records,bytes'];
  for (const [i, v] of s.values.entries())
    lines.push(`${new Date(s.startMs + i * s.bucketMs).toISOString()},${v},${v * bytesPerRecord}`);
  return lines.join('\n') + '\n';
}

/** Runs the province through a real central and returns what it stored. */
export async function runThroughCentral(o: CentralRunOptions): Promise<CentralRun> {
  mkdirSync(join(o.dir, 'logs'), { recursive: true });
  const config = join(o.dir, 'central.json');
  const first = o.province.pairs[0]?.series;
  const spanDays = first ? Math.ceil((o.endMs - first.startMs) / DAY_MS) : 0;
  // Base buckets kept a little longer than the history, so all of it stays at 5 min (the default is 60 days).
  writeFileSync(config, JSON.stringify({ traffic: { baseRetentionMs: Math.max(60, spanDays + 7) * DAY_MS } }));
  const central = startChild(
    'central',
    process.execPath,
    [requireBuilt('bin/xchg-central.js'), '--data-dir', o.dir, '--http-port', '0', '--grpc-port', '0'],
    join(o.dir, 'logs', 'central.log'),
    { XCHG_CENTRAL_CONFIG: config, XCHG_CENTRAL_HTTP_HOST: '127.0.0.1', XCHG_CENTRAL_GRPC_HOST: '127.0.0.1' },
  );
  let viaHttp = false;
  let importSeconds = 0;
  const pairs: StoredPair[] = [];
  const series = new Map<string, Series>();
  try {
    const up = await central.waitFor((l) => l['msg'] === 'central listening', 30_000);
    const api = apiOf(
      `http://127.0.0.1:${String(up['httpPort'])}/api/v1`,
      readFileSync(join(o.dir, 'admin.token'), 'utf8').trim(),
    );
    const names = [...new Set(o.province.pairs.flatMap((p) => [p.fromNode, p.toNode]))];
    o.say(`simulate: ${names.length} nodes enrolled over gRPC`);
    const ids = await enrollNodes(api, Number(up['grpcPort']), names);
    o.say(`simulate: importing ${o.province.pairs.length} pair histories through POST /api/v1/traffic/import`);
    const t0 = performance.now();
    for (const sim of o.province.pairs) {
      const p: StoredPair = { fromNode: ids.get(sim.fromNode)!, toNode: ids.get(sim.toNode)!, sim };
      const r = await must(
        api<{ records: number }>('POST', '/traffic/import', {
          from: p.fromNode,
          to: p.toNode,
          csv: csvOf(sim.series, sim.bytesPerRecord),
        }),
        'import',
      );
      const total = sim.series.values.reduce((a, b) => a + b, 0);
      if (r.records !== total) throw new Error(`import of ${sim.fromNode}->${sim.toNode}: ${r.records} of ${total}`);
      pairs.push(p);
    }
    importSeconds = (performance.now() - t0) / 1000;
    // Central replays each import through its surge detector on the turn of its event loop after the answer
    // (SurgeService.queueReplay, synchronous per pair); the requests below are handled after the last one ran.
    o.say(`simulate: reading the stored series back through GET /api/v1/traffic`);
    for (const p of pairs) {
      const q = `from=${p.fromNode}&to=${p.toNode}&since=${p.sim.series.startMs}&until=${o.endMs}&step=5m`;
      const h = await must(
        api<{ sinceMs: number; stepMs: number; buckets: { records: number }[] }>('GET', `/traffic?${q}`),
        'traffic show',
      );
      series.set(`${p.fromNode} ${p.toNode}`, {
        startMs: h.sinceMs,
        bucketMs: h.stepMs,
        values: h.buckets.map((b) => b.records),
      });
    }
    const run = await api('POST', '/clusters/run', {});
    viaHttp = run.status < 300;
    if (!viaHttp && run.status !== 404) throw new Error(`clusters run: HTTP ${run.status}`);
  } finally {
    await central.stop(); // its checkpoint at close leaves every page in central.db
  }
  const facts = readStored(join(o.dir, 'central.db'), viaHttp ? undefined : o.endMs, series);
  return {
    pairs,
    facts,
    clusteredVia: viaHttp ? 'POST /api/v1/clusters/run' : 'in-process ClusterService.run() on central.db',
    importSeconds,
  };
}

/** Reads central's stored run and surges; with `clusterAtMs`, first runs the clustering in-process at that instant. */
function readStored(dbFile: string, clusterAtMs: number | undefined, series: Map<string, Series>): StoredFacts {
  const store = Store.open(dbFile);
  try {
    if (clusterAtMs !== undefined) {
      const gov = DEFAULTS.governance;
      const services = createServices(store, () => clusterAtMs, {
        heartbeatTtlMs: 15_000,
        enrollTokenTtlMs: DAY_MS,
        calendar: { holidays: gov.holidays, workdays: gov.workdays, utcOffsetMinutes: gov.utcOffsetMinutes },
        approvalWorkingDays: gov.approvalWorkingDays,
        agreementValidityDays: gov.agreementValidityDays,
        dataPlane: DEFAULTS.dataPlane,
        urlCheckTimeoutMs: DEFAULTS.centers.urlCheckTimeoutMs,
      });
      services.clusters.run();
    }
    const run = store.brain.latestRun();
    return {
      k: run?.k ?? 0,
      members: run ? store.brain.members(run.runId) : [],
      surges: store.brain.surges({ origin: 'import', limit: 1_000_000 }),
      series,
    };
  } finally {
    store.close();
  }
}
