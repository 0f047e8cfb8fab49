// `npm run bench [-- --json] [-- --quick]`: measures the data plane on this machine and prints one JSON
// object of figures. Each target is compared with a raw limit measured in the same run on the same
// machine: SQLite inserts of the same rows in the same transactions, and JetStream publishes of the same
// message size to the same kind of stream.
//   e2e_records_per_s       SQLite → agent → JetStream → agent → SQLite, 200-byte records
//   sqlite_insert_rows_per_s raw SQLite insert rate of those rows (batches of the same size, same fsync)
//   jetstream_publish_mb_per_s raw JetStream publish rate (file storage, same window and message size)
//   jetstream_relay_mb_per_s raw JetStream relay: one process publishes file-sized chunks into a stream
//                           like the agents' file stream while another consumes and acks them, no work
//                           done on either side — the transport's own ceiling for a file transfer
//   file_mb_per_s           one file end to end (hash, chunks, resume bookkeeping, hash, rename)
//   latency_p50_ms/p99_ms   one-row changes at a trickle, commit at the source → commit at the sink
//   e2e_mariadb_records_per_s MariaDB → agent → JetStream → agent → MariaDB, the same 200-byte records
//                           and bench shape as e2e_records_per_s (median of three subscriptions, each into
//                           a table of its own that the sink creates), but 200,000 records (20,000 with
//                           --quick, at most --rows): the bench's own mariadbd on a temp data dir
//   reconcile_rows_per_s    reconciliation (对账) of the first e2e subscription (all rows, no differences):
//                           rows compared per second, from the request at central to its reported result
//   agent_rss_mb            the larger peak RSS (MiB) of the two agents during the record phases (SQLite and
//                           MariaDB e2e) and the file phase; agent_rss_mb_by_phase gives provider/consumer
//                           peaks per phase (the high-water mark is reset at each phase's start)
//   relay_vs_direct_ratio   centers phase (scripts/bench-centers.ts: three centers, each its own nats-server,
//   reroute_s               relays at each): records/s of 200,000 records (20,000 with --quick, at most --rows)
//   probe_overhead_pct      city A → province → city B over the relays ÷ the same rows between two nodes of
//                           city A, medians of three each; reroute_s, the median of three +500 ms degradations
//                           of the active link, from the degradation to the commit of the first batch seen at
//                           the province's nats-server (how it is observed: that file's top comment);
//                           probe_overhead_pct, central's probe bytes/s ÷ link capacity at the 5 s default
//   forecast_mape_vs_naive  brain phase (scripts/bench-brain.ts, a simulated province; the replay its own servers; --only brain):
//   surge_detect_buckets    forecast MAPE ÷ seasonal-naive MAPE on tide pairs over a held-out range with
//   surge_false_alarm_pct   National Day and 调休 (lower is better); p95 detection delay of planted surges in
//                           buckets; surge-free buckets inside a detected surge, %
//   traffic_import_year_s   traffic phase (scripts/bench-traffic.ts, central alone; --only traffic): a year of
//   traffic_show_year_ms    5-min rows for one pair through POST /traffic/import, and GET /traffic over that
//                           year; bytes per stored row and what a year costs a 640-node province
//   dashboard_p95_ms        dashboard phase (scripts/bench-dashboard.ts, central alone; --only dashboard): a
//                           generated province of 2,000 nodes and a year of history; the worst p95 (ms) of every
//                           GET /api/v1/dashboard/* (from the OpenAPI document), /traffic over a year, /alerts and
//                           /nodes, as the province admin and a city admin (limit 300; per endpoint beside it)
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
  existsSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { findNatsServer, freePort, requireBuilt, ROOT, startChild, type Child } from './lib.js';
import * as mariadb from 'mariadb';
import { startMariadb, type MariadbProcess } from './mariadb-server.js';
import { startPeakRss, type PeakRss } from './peak-rss.js';
import { AGENT_NODE_FLAGS } from '../node-agent/src/heap.js';
import { centersPhase } from './bench-centers.js';
import { brainPhase } from './bench-brain.js';
import { trafficPhase } from './bench-traffic.js';
import { dashboardPhase } from './bench-dashboard.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean' },
    quick: { type: 'boolean' },
    keep: { type: 'boolean' },
    only: { type: 'string' },
    rows: { type: 'string' },
    'file-mb': { type: 'string' },
    dir: { type: 'string' },
    // internal: the consuming half of the relay measurement, run as its own process
    'relay-consumer': { type: 'string' },
    count: { type: 'string' },
  },
});
const ROWS = Number(args.rows ?? (args.quick ? 50_000 : 1_000_000));
const FILE_MB = Number(args['file-mb'] ?? (args.quick ? 64 : 1024));
const BATCH = 1000;
/** --only e2e,latency,file,mariadb runs a subset (for investigation; the full run is the one to report). */
const ONLY = new Set((args.only ?? 'e2e,latency,file,mariadb,centers,brain,traffic,dashboard').split(','));
/** Records of the centers phase's direct and relayed syncs (scripts/bench-centers.ts), at most --rows. */
const CENTERS_ROWS = Math.min(ROWS, args.quick ? 20_000 : 200_000);
/** Records of the MariaDB → MariaDB figure (fewer than ROWS: MariaDB's inserts are the slow part of seeding and sinking). */
const MARIADB_ROWS = Math.min(ROWS, args.quick ? 20_000 : 200_000);
let mariadbServer: MariadbProcess | undefined;
/**
 * File chunk size. The exchange center runs with max_payload 8 MiB as in deploy/nats-server.conf, and
 * chunks of 4 MiB less 16 KiB; the raw JetStream figure is measured with messages of the same size.
 */
const CHUNK = 4 * 1024 * 1024 - 16 * 1024;
const TRICKLE = args.quick ? 50 : 200;
/** Fields of the record phases (SQLite and MariaDB): the same four columns, typed. */
const RECORD_FIELDS = {
  fields: [
    { name: 'id', type: 'integer', required: true },
    { name: 'payload', type: 'string' },
    { name: 'district', type: 'string' },
    { name: 'updated_at', type: 'integer' },
  ],
};
const say = (msg: string): void => {
  if (!args.json) console.log(msg);
  else process.stderr.write(`bench: ${msg}\n`);
};

const DIR = args.dir ?? join(ROOT, '.bench');
const children: Child[] = [];

/** A 200-byte record: id, a 170-character payload, a district code and a timestamp. */
function seedRecords(path: string, rows: number): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE rec (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, district TEXT NOT NULL, updated_at INTEGER NOT NULL)',
  );
  db.exec('CREATE INDEX rec_updated ON rec (updated_at, id)');
  const ins = db.prepare('INSERT INTO rec VALUES (?, ?, ?, ?)');
  const base = randomBytes(128).toString('base64').slice(0, 170);
  const tx = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++)
      ins.run(
        i,
        base.slice(i % 10) + base.slice(0, i % 10),
        '3601' + String(i % 100).padStart(2, '0'),
        1_700_000_000_000 + i,
      );
  });
  for (let i = 1; i <= rows; i += 10_000) tx(i, Math.min(rows + 1, i + 10_000));
  db.close();
}

function rawSqliteInsert(src: string, out: string): number {
  settle();
  const from = new Database(src, { readonly: true });
  const rows = from.prepare('SELECT id, payload, district, updated_at FROM rec ORDER BY id').raw().all() as unknown[][];
  from.close();
  const db = new Database(out);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE rec (id INTEGER PRIMARY KEY, payload TEXT, district TEXT, updated_at INTEGER)');
  const up = db.prepare(
    'INSERT INTO rec VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, district = excluded.district, updated_at = excluded.updated_at',
  );
  const tx = db.transaction((slice: unknown[][]) => {
    for (const r of slice) up.run(...r);
  });
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) tx(rows.slice(i, i + BATCH));
  const s = (performance.now() - t0) / 1000;
  db.close();
  return rows.length / s;
}

/** Flushes dirty pages so each timed phase starts from the same disk state (writeback skews runs). */
function settle(): void {
  try {
    execFileSync('sync');
  } catch {
    /* no sync(1): measure as is */
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Publishes `n` CHUNK-sized messages to `subject` with a window of 32 async publishes: the transport's ceiling
 * (the agents keep fewer in flight: at most publishWindowBytes, 8 MiB = two chunks, to bound their memory).
 */
async function publishChunks(nc: NatsConnection, subject: string, n: number): Promise<void> {
  const js = jetstream(nc);
  const msg = randomBytes(CHUNK);
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const p = js.publish(subject, msg, { msgID: `${subject}-${i}` }).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 32) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

async function rawJetStream(url: string, mb: number): Promise<number> {
  settle();
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams
    .add({ name: 'BENCH_RAW', subjects: ['bench.raw'], retention: RetentionPolicy.Limits, storage: StorageType.File })
    .catch(async () => {
      await jsm.streams.delete('BENCH_RAW');
      await jsm.streams.add({
        name: 'BENCH_RAW',
        subjects: ['bench.raw'],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
      });
    });
  const n = Math.ceil((mb * 1024 * 1024) / CHUNK);
  const t0 = performance.now();
  await publishChunks(nc, 'bench.raw', n);
  const s = (performance.now() - t0) / 1000;
  await jsm.streams.delete('BENCH_RAW');
  await nc.close();
  return (n * CHUNK) / (1024 * 1024) / s;
}

/**
 * Raw relay: this process publishes `mb` MiB in CHUNK-sized messages (window 32) into a memory work-queue
 * stream, as a provider agent does with a file, while a second process pulls (4 at a time) and acks them.
 * Timed until the last message is acked. A ceiling: the agents keep fewer chunks in flight (two each way).
 */
async function rawRelay(url: string, mb: number): Promise<number> {
  settle();
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete('BENCH_RELAY').catch(() => undefined);
  await jsm.streams.add({
    name: 'BENCH_RELAY',
    subjects: ['bench.relay'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.Memory,
  });
  await jsm.consumers.add('BENCH_RELAY', {
    durable_name: 'relay',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 1024,
  });
  const n = Math.ceil((mb * 1024 * 1024) / CHUNK);
  const t0 = performance.now();
  const consumer = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--relay-consumer', url, '--count', String(n)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const consumed = new Promise<number | null>((r) => consumer.on('exit', (code) => r(code)));
  await publishChunks(nc, 'bench.relay', n);
  const code = await consumed;
  const s = (performance.now() - t0) / 1000;
  await jsm.streams.delete('BENCH_RELAY');
  await nc.close();
  if (code !== 0) throw new Error(`relay consumer exited with ${String(code)}`);
  return (n * CHUNK) / (1024 * 1024) / s;
}

async function relayConsumer(url: string, n: number): Promise<void> {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const consumer = await jetstream(nc).consumers.get('BENCH_RELAY', 'relay');
  let got = 0;
  while (got < n) {
    const it = await consumer.fetch({ max_messages: Math.min(4, n - got), expires: 30_000 });
    for await (const m of it) {
      got++;
      m.ack();
    }
  }
  await nc.flush();
  await nc.close();
}

async function waitUntil(
  fn: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function count(path: string, table: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/**
 * Starts the bench's mariadbd (data dir under DIR) with databases bench_src and bench_dst, and seeds
 * bench_src.rec with MARIADB_ROWS records shaped like seedRecords' (id, 170-character payload, district,
 * updated_at), indexed for the cursor. count() polls a sink table (0 until it exists).
 */
async function startBenchMariadb(): Promise<{
  conn: { host: string; port: number; user: string };
  count: (table: string) => Promise<number>;
  close: () => Promise<void>;
}> {
  say(`mariadb: starting a server and seeding ${MARIADB_ROWS} records`);
  mariadbServer = await startMariadb(join(DIR, 'mariadb'), await freePort(), ['bench_src', 'bench_dst']);
  const conn = { host: '127.0.0.1', port: mariadbServer.port, user: 'root' };
  const c = await mariadb.createConnection({ ...conn, bigIntAsNumber: true });
  c.on('error', () => {}); // the server stopping under a failed run must not crash the report of why
  const base = randomBytes(128).toString('base64').slice(0, 170);
  await c.query(
    'CREATE TABLE bench_src.rec (id BIGINT PRIMARY KEY, payload VARCHAR(200) NOT NULL, district VARCHAR(6) NOT NULL, updated_at BIGINT NOT NULL, KEY (updated_at, id))',
  );
  for (let from = 1; from <= MARIADB_ROWS; from += 50_000) {
    const to = Math.min(MARIADB_ROWS, from + 49_999);
    await c.query(
      `INSERT INTO bench_src.rec SELECT seq, CONCAT(SUBSTR(?, seq % 10 + 1), SUBSTR(?, 1, seq % 10)), CONCAT('3601', LPAD(seq % 100, 2, '0')), 1700000000000 + seq FROM bench_src.seq_${from}_to_${to}`,
      [base, base],
    );
  }
  return {
    conn,
    count: async (table) => {
      try {
        return Number(((await c.query(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: number }[])[0]?.n ?? 0);
      } catch {
        return 0; // the sink has not created it yet
      }
    },
    close: () => c.end(),
  };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main(): Promise<void> {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, 'logs'), { recursive: true });
  const result: Record<string, number | string | null> = { rows: ROWS, file_mb: FILE_MB, batch_records: BATCH };
  if (ONLY.has('brain')) {
    // A simulated province (scripts/bench-brain.ts); only the replay starts servers, its own: --only brain stops here.
    Object.assign(result, await brainPhase({ quick: args.quick === true, say }));
    if (ONLY.size === 1) return printResult(result);
  }
  if (ONLY.has('traffic')) {
    // Central alone (scripts/bench-traffic.ts): a year of traffic history imported and shown over its HTTP API.
    Object.assign(result, await trafficPhase({ dir: join(DIR, 'traffic'), say }));
    if ([...ONLY].every((p) => p === 'brain' || p === 'traffic')) return printResult(result);
  }
  if (ONLY.has('dashboard')) {
    // Central alone over a generated province (scripts/bench-dashboard.ts): every dashboard read timed.
    Object.assign(result, await dashboardPhase({ dir: join(DIR, 'dashboard'), quick: args.quick === true, say }));
    if ([...ONLY].every((p) => ['brain', 'traffic', 'dashboard'].includes(p))) return printResult(result);
  }

  say(`seeding ${ROWS} records of 200 bytes`);
  const ROWS_ = ONLY.has('e2e') ? ROWS : 1000;
  const src = join(DIR, 'source.db');
  seedRecords(src, ROWS_);
  const trickleSrc = join(DIR, 'trickle.db');
  {
    const db = new Database(trickleSrc);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE tick (id INTEGER PRIMARY KEY, created_at REAL NOT NULL, updated_at INTEGER NOT NULL)');
    db.close();
  }
  const trickleSink = join(DIR, 'trickle-in.db');
  {
    const db = new Database(trickleSink);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE tick (id INTEGER PRIMARY KEY, created_at REAL NOT NULL, updated_at INTEGER NOT NULL,
      received_at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400000.0))`);
    db.close();
  }

  say('raw limit: SQLite insert of the same rows');
  // Three runs, the median: fsync latency on a shared disk swings from one run to the next.
  const rawInserts = [1, 2, 3].map((i) => rawSqliteInsert(src, join(DIR, `raw-sqlite-${i}.db`)));
  result['sqlite_insert_rows_per_s'] = Math.round(median(rawInserts));
  result['sqlite_insert_rows_per_s_runs'] = rawInserts.map((r) => Math.round(r)).join(' ');

  const natsPort = await freePort();
  const natsConf = join(DIR, 'nats.conf');
  writeFileSync(
    natsConf,
    `listen: 127.0.0.1:${natsPort}\nmax_payload: 8MB\njetstream { store_dir: ${JSON.stringify(join(DIR, 'nats'))} }\n`,
  );
  const nats = startChild('nats-server', findNatsServer(), ['-c', natsConf], join(DIR, 'logs', 'nats.log'));
  children.push(nats);
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  await waitUntil(
    async () => {
      try {
        const nc = await connect({ servers: natsUrl, reconnect: false });
        await nc.close();
        return true;
      } catch {
        return false;
      }
    },
    10_000,
    'nats-server',
  );

  say(`raw limit: JetStream publish of ${FILE_MB} MiB in ${CHUNK / 1024} KiB messages`);
  // Three runs, the median: a single run swings with the disk's writeback.
  const raws: number[] = [];
  for (let i = 0; i < 3; i++) raws.push(await rawJetStream(natsUrl, FILE_MB));
  result['jetstream_publish_mb_per_s'] = Math.round(median(raws) * 10) / 10;
  result['jetstream_publish_mb_per_s_runs'] = raws.map((r) => Math.round(r)).join(' ');
  if (ONLY.has('file')) {
    say(`raw limit: JetStream relay of ${FILE_MB} MiB (publish and consume at once, no work)`);
    const relays: number[] = [];
    for (let i = 0; i < 3; i++) relays.push(await rawRelay(natsUrl, FILE_MB));
    result['jetstream_relay_mb_per_s'] = Math.round(median(relays) * 10) / 10;
    result['jetstream_relay_mb_per_s_runs'] = relays.map((r) => Math.round(r)).join(' ');
  }

  const central = startChild(
    'xchg-central',
    process.execPath,
    [requireBuilt('bin/xchg-central.js'), '--data-dir', join(DIR, 'central'), '--http-port', '0', '--grpc-port', '0'],
    join(DIR, 'logs', 'central.log'),
    {
      XCHG_CENTRAL_HTTP_HOST: '127.0.0.1',
      XCHG_CENTRAL_GRPC_HOST: '127.0.0.1',
      XCHG_CENTRAL_NATS_URLS: natsUrl,
    },
  );
  children.push(central);
  const l = await central.waitFor((x) => x['msg'] === 'central listening');
  const base = `http://127.0.0.1:${String(l['httpPort'])}/api/v1`;
  const admin = readFileSync(join(DIR, 'central', 'admin.token'), 'utf8').trim();
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const j = (await res.json()) as T;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(j)}`);
    return j;
  };
  await api('POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
  await api('POST', '/departments', { code: 'src', name: '提供部门', regionCode: '360000' });
  await api('POST', '/departments', { code: 'dst', name: '使用部门', regionCode: '360000' });

  const filesSrc = join(DIR, 'files-out');
  const filesDst = join(DIR, 'files-in');
  mkdirSync(filesSrc, { recursive: true });
  mkdirSync(filesDst, { recursive: true });
  const E2E_RUNS = 3;
  const sinkOf = (i: number): string => join(DIR, `sink-${i}.db`);
  const dataPlane = {
    pollIntervalMs: 50,
    batchRecords: BATCH,
    maxBatchBytes: 512 * 1024,
    fileChunkBytes: CHUNK,
    publishWindow: 32,
  };
  const startAgent = async (name: string, dept: string, extra: Record<string, unknown>): Promise<string> => {
    const { token } = await api<{ token: string }>('POST', '/tokens', { departmentCode: dept, nodeName: name });
    const dataDir = join(DIR, name);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      join(dataDir, 'agent.yaml'),
      stringify({
        dataDir,
        central: { address: `127.0.0.1:${String(l['grpcPort'])}`, enrollToken: token },
        dataPlane,
        ...extra,
      }),
    );
    // XCHG_BENCH_AGENT_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the agents.
    const nodeArgs = (process.env['XCHG_BENCH_AGENT_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const a = startChild(
      name,
      process.execPath,
      [...AGENT_NODE_FLAGS, ...nodeArgs, requireBuilt('bin/xchg-agent.js'), '--config', join(dataDir, 'agent.yaml')],
      join(DIR, 'logs', `${name}.log`),
    );
    children.push(a);
    agentPids.push(a.proc.pid!);
    return String((await a.waitFor((x) => x['msg'] === 'agent running'))['nodeId']);
  };
  // Peak RSS of the agents (provider, consumer) per phase: agent_rss_mb is the largest of the record and file phases.
  const agentPids: number[] = [];
  const rssByPhase: string[] = [];
  let agentRssMb = 0;
  let phaseRss: PeakRss | undefined;
  const rssPhase = (name?: string, counts = true): void => {
    if (phaseRss && name) {
      const peaks = phaseRss.stop();
      rssByPhase.push(`${name} ${peaks.join('/')}`);
      if (counts) agentRssMb = Math.max(agentRssMb, ...peaks);
    }
    phaseRss = startPeakRss(agentPids);
  };
  // The MariaDB figure's server and source table, before the agents that are configured with them.
  const mdb = ONLY.has('mariadb') ? await startBenchMariadb() : undefined;
  const provider = await startAgent('provider', 'src', {
    sources: {
      records: { type: 'sqlite', path: src, table: 'rec', key: 'id', cursor: 'updated_at' },
      ...(mdb && {
        mdb_records: {
          type: 'mariadb',
          ...mdb.conn,
          database: 'bench_src',
          table: 'rec',
          key: 'id',
          cursor: 'updated_at',
        },
      }),
      trickle: { type: 'sqlite', path: trickleSrc, table: 'tick', key: 'id', cursor: 'updated_at' },
      files: { type: 'files', dir: filesSrc, stableMs: 100 },
    },
  });
  const consumer = await startAgent('consumer', 'dst', {
    sinks: {
      ...Object.fromEntries(
        Array.from({ length: E2E_RUNS }, (_, i) => [
          `records${i + 1}`,
          { type: 'sqlite', path: sinkOf(i + 1), table: 'rec', key: 'id' },
        ]),
      ),
      ...(mdb &&
        Object.fromEntries(
          Array.from({ length: E2E_RUNS }, (_, i) => [
            `mdb_records${i + 1}`,
            { type: 'mariadb', ...mdb.conn, database: 'bench_dst', table: `rec${i + 1}`, key: 'id' },
          ]),
        )),
      trickle: { type: 'sqlite', path: trickleSink, table: 'tick', key: 'id' },
      files: { type: 'files', dir: filesDst },
    },
  });
  const subscribe = async (
    sub: string,
    binding: string,
    params: Record<string, unknown> = {},
    sinkBinding = binding,
  ): Promise<void> => {
    await api('POST', '/tasks', {
      name: `${sub}-in`,
      kind: 'exchange',
      nodeId: consumer,
      peerNodeId: provider,
      subscriptionId: sub,
      binding: sinkBinding,
      params,
    });
    await api('POST', '/tasks', {
      name: `${sub}-out`,
      kind: 'sync',
      nodeId: provider,
      peerNodeId: consumer,
      subscriptionId: sub,
      binding,
      params,
    });
  };

  if (ONLY.has('e2e')) {
    say(`end to end: ${ROWS} records SQLite → JetStream → SQLite`);
    const recordFields = RECORD_FIELDS;
    // Three subscriptions of the same source, one after the other, each into a sink of its own; the median.
    const e2eRuns: number[] = [];
    rssPhase();
    for (let i = 1; i <= E2E_RUNS; i++) {
      settle();
      const t0 = performance.now();
      await subscribe(`bench-records-${i}`, 'records', recordFields, `records${i}`);
      await waitUntil(() => count(sinkOf(i), 'rec') >= ROWS, 30 * 60_000, 'all records at the sink', 100);
      e2eRuns.push((performance.now() - t0) / 1000);
    }
    const e2eS = median(e2eRuns);
    result['e2e_records_per_s'] = Math.round(ROWS / e2eS);
    result['e2e_records_per_s_runs'] = e2eRuns.map((t) => Math.round(ROWS / t)).join(' ');
    result['e2e_seconds'] = Math.round(e2eS * 10) / 10;
    rssPhase('records');

    say(`reconciliation: verify the ${ROWS}-row subscription bench-records-1 (no differences)`);
    settle();
    const t0 = performance.now();
    const run = await api<{ id: string }>('POST', '/subscriptions/bench-records-1/verify', {});
    type Run = {
      state: string;
      error: string;
      result: { rowsCompared: number; missing: number; extra: number; different: number; rowsPerSecond: number } | null;
    };
    let done: Run | undefined;
    await waitUntil(
      async () => {
        const v = await api<Run>('GET', `/verifications/${run.id}`);
        if (v.state === 'done' || v.state === 'failed') done = v;
        return done !== undefined;
      },
      30 * 60_000,
      'the verification result',
      100,
    );
    const wallS = (performance.now() - t0) / 1000;
    const r = done!.result;
    if (done!.state !== 'done' || !r) throw new Error(`verification of bench-records-1 failed: ${done!.error}`);
    if (r.rowsCompared !== ROWS || r.missing + r.extra + r.different !== 0)
      throw new Error(
        `verification of bench-records-1 compared ${r.rowsCompared} rows and found ${r.missing} missing, ${r.extra} extra, ${r.different} different (expected ${ROWS}, none)`,
      );
    result['reconcile_rows_per_s'] = Math.round(ROWS / wallS);
    result['reconcile_agent_rows_per_s'] = r.rowsPerSecond;
    rssPhase('reconcile', false);
  }

  if (mdb) {
    say(`end to end: ${MARIADB_ROWS} records MariaDB → JetStream → MariaDB`);
    const recordFields = RECORD_FIELDS;
    const runs: number[] = [];
    rssPhase();
    try {
      for (let i = 1; i <= E2E_RUNS; i++) {
        settle();
        const t0 = performance.now();
        await subscribe(`bench-mdb-records-${i}`, 'mdb_records', recordFields, `mdb_records${i}`);
        await waitUntil(
          async () => (await mdb.count(`bench_dst.rec${i}`)) >= MARIADB_ROWS,
          30 * 60_000,
          'all records at the MariaDB sink',
          250,
        );
        runs.push((performance.now() - t0) / 1000);
      }
    } finally {
      await mdb.close();
    }
    rssPhase('mariadb');
    result['e2e_mariadb_rows'] = MARIADB_ROWS;
    result['e2e_mariadb_records_per_s'] = Math.round(MARIADB_ROWS / median(runs));
    result['e2e_mariadb_records_per_s_runs'] = runs.map((t) => Math.round(MARIADB_ROWS / t)).join(' ');
  }

  if (ONLY.has('latency')) {
    say('latency: one-row changes at a trickle');
    await subscribe('bench-trickle', 'trickle');
    const db = new Database(trickleSrc);
    const ins = db.prepare('INSERT INTO tick (id, created_at, updated_at) VALUES (?, ?, ?)');
    for (let i = 1; i <= TRICKLE; i++) {
      const now = Date.now();
      ins.run(i, performance.timeOrigin + performance.now(), now);
      await new Promise((r) => setTimeout(r, 50));
    }
    db.close();
    await waitUntil(() => count(trickleSink, 'tick') >= TRICKLE, 60_000, 'trickle rows');
    const out = new Database(trickleSink, { readonly: true });
    const lat = (out.prepare('SELECT received_at - created_at AS ms FROM tick').all() as { ms: number }[]).map(
      (r) => r.ms,
    );
    out.close();
    result['latency_p50_ms'] = Math.round(pct(lat, 50) * 10) / 10;
    result['latency_p99_ms'] = Math.round(pct(lat, 99) * 10) / 10;
  }

  if (ONLY.has('file')) {
    say(`file: ${FILE_MB} MiB end to end`);
    await subscribe('bench-files', 'files');
    const tmp = join(filesSrc, '.big.part');
    const fd = openSync(tmp, 'w');
    const block = randomBytes(4 * 1024 * 1024);
    for (let i = 0; i < FILE_MB / 4; i++) writeSync(fd, block);
    closeSync(fd);
    const { linkSync, renameSync, utimesSync } = await import('node:fs');
    const past = new Date(Date.now() - 10_000);
    utimesSync(tmp, past, past); // already stable: measure the transfer, not the wait
    // Three transfers of the same bytes under new names (hard links), the median: one run swings with
    // the disk's writeback as much as the raw figure does.
    const runs: number[] = [];
    rssPhase();
    for (let i = 1; i <= 3; i++) {
      settle();
      const name = `big-${i}.bin`;
      const t0 = performance.now();
      linkSync(tmp, join(filesSrc, name));
      await waitUntil(() => existsSync(join(filesDst, name)), 30 * 60_000, 'the file at the destination', 50);
      const s = (performance.now() - t0) / 1000;
      runs.push(statSync(join(filesDst, name)).size / (1024 * 1024) / s);
      rmSync(join(filesDst, name)); // keep the destination's disk use flat between runs
    }
    rssPhase('file');
    renameSync(tmp, join(DIR, 'big.bin'));
    result['file_mb_per_s'] = Math.round(median(runs) * 10) / 10;
    result['file_mb_per_s_runs'] = runs.map((r) => Math.round(r)).join(' ');
  }

  if (ONLY.has('centers')) {
    say(`centers: three exchange centers, relays, ${CENTERS_ROWS} records direct and through the province, reroute`);
    Object.assign(
      result,
      await centersPhase({ dir: join(DIR, 'centers'), rows: CENTERS_ROWS, dataPlane, children, say }),
    );
  }

  const nodes = await api<{ name: string; health: { memRssBytes?: number } | null }[]>('GET', '/nodes');
  for (const n of nodes) result[`${n.name}_rss_mb`] = Math.round((n.health?.memRssBytes ?? 0) / 1024 / 1024);
  result['agent_rss_mb'] = agentRssMb;
  result['agent_rss_mb_by_phase'] = rssByPhase.join(', ');
  result['e2e_vs_sqlite_ratio'] =
    Math.round(((result['e2e_records_per_s'] as number) / (result['sqlite_insert_rows_per_s'] as number)) * 1000) /
    1000;
  result['file_vs_jetstream_ratio'] =
    Math.round(((result['file_mb_per_s'] as number) / (result['jetstream_publish_mb_per_s'] as number)) * 1000) / 1000;
  result['file_vs_relay_ratio'] =
    Math.round(((result['file_mb_per_s'] as number) / (result['jetstream_relay_mb_per_s'] as number)) * 1000) / 1000;
  result['cpus'] = (await import('node:os')).cpus().length;

  for (const c of children.reverse()) await c.stop();
  await mariadbServer?.stop();
  if (!args.keep) rmSync(DIR, { recursive: true, force: true });
  printResult(result);
}

function printResult(result: Record<string, unknown>): void {
  if (args.json) console.log(JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
}

const fail = async (err: unknown): Promise<void> => {
  console.error(`bench: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  for (const c of children.reverse()) await c.stop().catch(() => undefined);
  await mariadbServer?.stop().catch(() => undefined);
  process.exit(1);
};

if (args['relay-consumer']) relayConsumer(args['relay-consumer'], Number(args.count)).catch(fail);
else main().catch(fail);
