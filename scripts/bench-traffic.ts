// Bench phase `traffic` (--only traffic): traffic history in central, no agents or NATS. A real xchg-central
// process (base buckets kept 400 days, so a whole year stays at 5 min: the worst case for import and size), two
// nodes enrolled over gRPC, then:
//   traffic_import_year_s   a year of 5-min rows (105,120) for one pair through POST /api/v1/traffic/import,
//                           from the request to the answer (median of three; a re-import replaces the range)
//   traffic_show_year_ms    GET /api/v1/traffic over that year (step chosen: 1d from the hours), median of 7
//   traffic_base_row_bytes  bytes of central.db per base bucket and per hourly row (SQLite dbstat of each
//   traffic_hour_row_bytes  table, pages included, after central's checkpoint at shutdown)
//   traffic_province_year_mb what a year costs a 640-node province with 5 (pair, resource) series per node
//                           (3,200 series; an assumption, not a measure): 60 days of base buckets + a year of
//                           hours per series, at the measured bytes per row
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { loadXchgV1, type EnrollResponse__Output } from '../proto/index.js';
import { requireBuilt, startChild } from './lib.js';

export interface TrafficPhaseOptions {
  dir: string;
  say: (s: string) => void;
}

const DAY_MS = 86_400_000;
const BUCKET_MS = 300_000;
const SERIES = 640 * 5;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A year of 5-min rows ending at the last local (UTC+8) midnight: a working-hours tide with a nightly batch. */
function yearCsv(endMs: number): { csv: string; records: number; sinceMs: number } {
  const sinceMs = endMs - 365 * DAY_MS;
  const lines = ['timestamp,records,bytes'];
  let records = 0;
  for (let t = sinceMs; t < endMs; t += BUCKET_MS) {
    const local = new Date(t + 8 * 3_600_000);
    const hour = local.getUTCHours();
    const n = (hour >= 9 && hour < 18 ? 400 : 20) + (hour === 2 ? 5_000 : 0) + ((t / BUCKET_MS) % 37);
    records += n;
    lines.push(`${local.toISOString().slice(0, 19).replace('T', ' ')},${n},${n * 210}`);
  }
  return { csv: lines.join('\n') + '\n', records, sinceMs };
}

export async function trafficPhase(o: TrafficPhaseOptions): Promise<Record<string, number | string>> {
  mkdirSync(join(o.dir, 'logs'), { recursive: true });
  const config = join(o.dir, 'central.json');
  writeFileSync(config, JSON.stringify({ traffic: { baseRetentionMs: 400 * DAY_MS } }));
  const central = startChild(
    'central',
    process.execPath,
    [requireBuilt('bin/xchg-central.js'), '--data-dir', o.dir, '--http-port', '0', '--grpc-port', '0'],
    join(o.dir, 'logs', 'central.log'),
    { XCHG_CENTRAL_CONFIG: config, XCHG_CENTRAL_HTTP_HOST: '127.0.0.1', XCHG_CENTRAL_GRPC_HOST: '127.0.0.1' },
  );
  let timed: Record<string, number | string> = {};
  try {
    const up = await central.waitFor((l) => l['msg'] === 'central listening', 30_000);
    const base = `http://127.0.0.1:${String(up['httpPort'])}/api/v1`;
    const admin = readFileSync(join(o.dir, 'admin.token'), 'utf8').trim();
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${admin}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const j = (await res.json()) as T;
      if (res.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(j).slice(0, 500)}`);
      return j;
    };
    await api('POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
    await api('POST', '/departments', { code: 'gat', name: '公安厅', regionCode: '360000' });
    const agent = new (loadXchgV1().AgentService)(
      `127.0.0.1:${String(up['grpcPort'])}`,
      grpc.credentials.createInsecure(),
    );
    const nodes: string[] = [];
    for (const name of ['gat-01', 'gat-02']) {
      const { token } = await api<{ token: string }>('POST', '/tokens', { departmentCode: 'gat', nodeName: name });
      const e = await new Promise<EnrollResponse__Output>((resolve, reject) =>
        agent.Enroll({ token, hostname: name, agentVersion: 'bench', labels: {} }, (err, res) =>
          err ? reject(err) : resolve(res!),
        ),
      );
      nodes.push(e.nodeId);
    }
    agent.close();
    const [from, to] = nodes as [string, string];
    const endMs = Math.floor((Date.now() + 8 * 3_600_000) / DAY_MS) * DAY_MS - 8 * 3_600_000;
    const year = yearCsv(endMs);
    o.say(`traffic: a year of 5-min rows (${(year.csv.length / 1e6).toFixed(1)} MB of CSV) through the HTTP API`);
    const imports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const s = await api<{ records: number; bucketsWritten: number }>('POST', '/traffic/import', {
        from,
        to,
        csv: year.csv,
      });
      imports.push((performance.now() - t0) / 1000);
      if (s.records !== year.records || s.bucketsWritten !== 105_120)
        throw new Error(`traffic import wrote ${s.bucketsWritten} buckets, ${s.records} records`);
    }
    const shows: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const h = await api<{ step: string; totals: { records: number } }>(
        'GET',
        `/traffic?from=${from}&to=${to}&since=${year.sinceMs}&until=${endMs}`,
      );
      shows.push(performance.now() - t0);
      if (h.step !== '1d' || h.totals.records !== year.records)
        throw new Error(`traffic show: step ${h.step}, ${h.totals.records} of ${year.records} records`);
    }
    timed = {
      traffic_import_year_s: round(median(imports), 2),
      traffic_import_year_s_runs: imports.map((x) => round(x, 2)).join(' '),
      traffic_show_year_ms: round(median(shows), 1),
    };
  } finally {
    await central.stop(); // its checkpoint at close puts every page in central.db
  }
  return { ...timed, ...sizes(join(o.dir, 'central.db')) };
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Bytes per row of the two tables (dbstat: every page of the table's b-tree), and the province estimate. */
function sizes(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    const bytes = (name: string): number =>
      (db.prepare('SELECT sum(pgsize) AS n FROM dbstat WHERE name = ?').get(name) as { n: number }).n;
    const rows = (name: string): number => (db.prepare(`SELECT count(*) AS n FROM ${name}`).get() as { n: number }).n;
    const base = bytes('traffic_buckets') / rows('traffic_buckets');
    const hour = bytes('traffic_hourly') / rows('traffic_hourly');
    const perSeriesYear = 60 * 288 * base + 365 * 24 * hour;
    return {
      traffic_base_row_bytes: round(base, 1),
      traffic_hour_row_bytes: round(hour, 1),
      traffic_db_mb: round(statSync(file).size / 2 ** 20, 1),
      traffic_province_year_mb: round((SERIES * perSeriesYear) / 2 ** 20, 0),
    };
  } finally {
    db.close();
  }
}
