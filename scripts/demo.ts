// `npm run demo`: a local province on this machine — an exchange center (nats-server with JetStream),
// xchg-central, and department agents in two cities — set up through the HTTP API as an operator would.
// With --once it waits until every agent is online, prints a summary and exits 0 (non-zero on failure);
// without it, it keeps running until Ctrl-C and prints where the dashboard is.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { findNatsServer, freePort, requireBuilt, ROOT, startChild, type Child } from './lib.js';
import { LEGAL_PERSON_FIELDS, PERSON_FIELDS, seedLegalPersons, seedLicenceFiles, seedPopulation } from './synthetic.js';
import { compareTables, compareTrees } from './verify.js';

interface Dept {
  code: string;
  name: string;
  region: string;
  node: string;
}

const REGIONS = [
  { code: '360000', name: '江西省', level: 'province' },
  { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' },
  { code: '360700', name: '赣州市', level: 'city', parentCode: '360000' },
];
const DEPTS: Dept[] = [
  { code: 'jx-gat', name: '江西省公安厅', region: '360000', node: 'jx-gat-01' },
  { code: 'nc-gaj', name: '南昌市公安局', region: '360100', node: 'nc-gaj-01' },
  { code: 'nc-scjgj', name: '南昌市市场监督管理局', region: '360100', node: 'nc-scjgj-01' },
  { code: 'gz-mzj', name: '赣州市民政局', region: '360700', node: 'gz-mzj-01' },
  { code: 'gz-rsj', name: '赣州市人力资源和社会保障局', region: '360700', node: 'gz-rsj-01' },
];

const POPULATION_ROWS = 100_000;
const LEGAL_PERSON_ROWS = 20_000;
const LICENCE_FILES = 30;

/** Fields the civil-affairs bureau may see of the population data: fewer than the police bureau. */
const PERSON_FIELDS_GZ = PERSON_FIELDS.filter((f) => ['id', 'name', 'gender', 'birth_date', 'district', 'updated_at'].includes(f.name));

/** A flow of the demo: who sends what to whom, and how to check it arrived. */
interface Flow {
  sub: string;
  title: string;
  from: string;
  to: string;
  source: string;
  sink: string;
  params: Record<string, unknown>;
  check: () => { done: boolean; detail: string; problems: string[] };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { once: { type: 'boolean' }, 'http-port': { type: 'string' }, dir: { type: 'string' } } });
  const dir = values.dir ?? join(ROOT, '.demo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const children: Child[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of children.reverse()) await c.stop();
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.on('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  try {
    const natsPort = await freePort();
    const nats = startChild('nats-server', findNatsServer(), ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', join(dir, 'nats')], join(dir, 'logs', 'nats.log'));
    children.push(nats);
    await waitPort(natsPort);
    step(`交换中心 exchange center: nats-server with JetStream on nats://127.0.0.1:${natsPort}`);

    const httpPort = values['http-port'] ? Number(values['http-port']) : await preferredPort(8080);
    const central = startChild('xchg-central', process.execPath, [requireBuilt('central/src/main.js'), '--data-dir', join(dir, 'central'), '--http-port', String(httpPort), '--grpc-port', '0'], join(dir, 'logs', 'central.log'), {
      XCHG_CENTRAL_HTTP_HOST: '127.0.0.1',
      XCHG_CENTRAL_GRPC_HOST: '127.0.0.1',
      XCHG_CENTRAL_NATS_URLS: `nats://127.0.0.1:${natsPort}`,
      XCHG_CENTRAL_HEARTBEAT_TTL_MS: '6000',
    });
    children.push(central);
    const listening = await central.waitFor((l) => l['msg'] === 'central listening');
    const base = `http://127.0.0.1:${String(listening['httpPort'])}`;
    const grpcAddress = `127.0.0.1:${String(listening['grpcPort'])}`;
    const tokenFile = join(dir, 'central', 'admin.token');
    const admin = readFileSync(tokenFile, 'utf8').trim();
    step(`交换管理中心 central: ${base} (gRPC ${grpcAddress})`);

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const json = (await res.json()) as T & { error?: { message: string } };
      if (res.status >= 300) throw new Error(`${method} ${path}: ${json.error?.message ?? res.status}`);
      return json;
    };
    for (const r of REGIONS) await api('POST', '/regions', r);
    for (const d of DEPTS) await api('POST', '/departments', { code: d.code, name: d.name, regionCode: d.region });
    step(`行政区划 ${REGIONS.length} regions, 部门 ${DEPTS.length} departments registered`);

    // Department data (synthetic): the police department's population register, the market regulator's
    // legal-person register and the civil-affairs bureau's licence files.
    const data = (dept: string, ...rest: string[]): string => join(dir, 'data', dept, ...rest);
    for (const d of DEPTS) mkdirSync(data(d.code), { recursive: true });
    seedPopulation(data('jx-gat', 'population.db'), POPULATION_ROWS);
    seedLegalPersons(data('nc-scjgj', 'market.db'), LEGAL_PERSON_ROWS);
    seedLicenceFiles(data('gz-mzj', 'licences'), LICENCE_FILES);
    step(`部门数据 department data: ${POPULATION_ROWS} people (人口), ${LEGAL_PERSON_ROWS} enterprises (法人), ${LICENCE_FILES} licence files (证照)`);

    const bindings: Record<string, { sources?: Record<string, unknown>; sinks?: Record<string, unknown>; queryListen?: string }> = {
      'jx-gat': { sources: { population: { type: 'sqlite', path: data('jx-gat', 'population.db'), table: 'person', key: 'id', cursor: 'updated_at', deleted: 'deleted', queryKeys: ['id', 'id_no'] } } },
      'nc-scjgj': { sources: { legal_person: { type: 'sqlite', path: data('nc-scjgj', 'market.db'), table: 'legal_person', key: 'id', cursor: 'updated_at' } } },
      'gz-mzj': {
        sources: { licences: { type: 'files', dir: data('gz-mzj', 'licences'), stableMs: 200 } },
        sinks: { population: { type: 'sqlite', path: data('gz-mzj', 'received.db'), table: 'person', key: 'id' } },
      },
      'nc-gaj': {
        sinks: {
          population: { type: 'sqlite', path: data('nc-gaj', 'received.db'), table: 'person', key: 'id' },
          licences: { type: 'files', dir: data('nc-gaj', 'licences') },
        },
        queryListen: '127.0.0.1:0',
      },
      'gz-rsj': { sinks: { legal_person: { type: 'sqlite', path: data('gz-rsj', 'received.db'), table: 'legal_person', key: 'id' } } },
    };
    const nodeIds = new Map<string, string>();
    let queryPort = 0;
    for (const d of DEPTS) {
      const { token } = await api<{ token: string }>('POST', '/tokens', { departmentCode: d.code, nodeName: d.node });
      const dataDir = join(dir, 'agents', d.node);
      mkdirSync(dataDir, { recursive: true });
      const configFile = join(dataDir, 'agent.yaml');
      writeFileSync(
        configFile,
        stringify({ dataDir, central: { address: grpcAddress, enrollToken: token }, reportIntervalMs: 5000, labels: { demo: 'true' }, dataPlane: { pollIntervalMs: 200, runReportIntervalMs: 2000 }, ...bindings[d.code] }),
      );
      const agent = startChild(d.node, process.execPath, [requireBuilt('node-agent/src/main.js'), '--config', configFile], join(dir, 'logs', `${d.node}.log`));
      children.push(agent);
      nodeIds.set(d.code, String((await agent.waitFor((l) => l['msg'] === 'agent running'))['nodeId']));
      if (bindings[d.code]?.queryListen) queryPort = Number((await agent.waitFor((l) => l['msg'] === 'query api listening'))['port']);
    }
    const total = DEPTS.length;
    const deadline = Date.now() + 30_000;
    let nodes: { name: string; departmentCode: string; regionCode: string; status: string }[] = [];
    while (Date.now() < deadline) {
      nodes = await api('GET', '/nodes');
      if (nodes.length === total && nodes.every((n) => n.status === 'online')) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    const flows: Flow[] = [
      {
        sub: 'sub-pop-nc', title: '人口 population → 南昌市公安局 (masked)', from: 'jx-gat', to: 'nc-gaj', source: 'population', sink: 'population', params: { fields: PERSON_FIELDS },
        check: () => table(data('jx-gat', 'population.db'), 'person', data('nc-gaj', 'received.db'), 'person', PERSON_FIELDS, POPULATION_ROWS, 'deleted'),
      },
      {
        sub: 'sub-pop-gz', title: '人口 population → 赣州市民政局 (6 fields)', from: 'jx-gat', to: 'gz-mzj', source: 'population', sink: 'population', params: { fields: PERSON_FIELDS_GZ },
        check: () => table(data('jx-gat', 'population.db'), 'person', data('gz-mzj', 'received.db'), 'person', PERSON_FIELDS_GZ, POPULATION_ROWS, 'deleted'),
      },
      {
        sub: 'sub-lp-gz', title: '法人 legal persons → 赣州市人社局', from: 'nc-scjgj', to: 'gz-rsj', source: 'legal_person', sink: 'legal_person', params: { fields: LEGAL_PERSON_FIELDS },
        check: () => table(data('nc-scjgj', 'market.db'), 'legal_person', data('gz-rsj', 'received.db'), 'legal_person', LEGAL_PERSON_FIELDS, LEGAL_PERSON_ROWS),
      },
      {
        sub: 'sub-lic-nc', title: '证照 licence files → 南昌市公安局', from: 'gz-mzj', to: 'nc-gaj', source: 'licences', sink: 'licences', params: {},
        check: () => {
          const c = compareTrees(data('gz-mzj', 'licences'), data('nc-gaj', 'licences'));
          return { done: c.problems.length === 0, detail: `${c.files} files, ${(c.bytes / 1024 / 1024).toFixed(1)} MiB`, problems: c.problems };
        },
      },
    ];
    const started = Date.now();
    for (const f of flows) {
      const provider = nodeIds.get(f.from)!;
      const consumer = nodeIds.get(f.to)!;
      await api('POST', '/tasks', { name: `${f.sub}-in`, kind: 'exchange', nodeId: consumer, peerNodeId: provider, subscriptionId: f.sub, binding: f.sink, params: f.params });
      await api('POST', '/tasks', { name: `${f.sub}-out`, kind: 'sync', nodeId: provider, peerNodeId: consumer, subscriptionId: f.sub, binding: f.source, params: f.params });
    }
    step(`交换任务 ${flows.length} subscriptions started (a sync task at each provider, an exchange task at each consumer)`);

    const online = nodes.filter((n) => n.status === 'online').length;
    console.log('');
    console.log('  节点 node            部门 department        行政区划 region   状态 status');
    for (const n of nodes) console.log(`  ${n.name.padEnd(20)} ${n.departmentCode.padEnd(21)} ${n.regionCode.padEnd(17)} ${n.status}`);
    console.log('');
    console.log(`  ${online}/${total} agents online (联通率 ${((100 * online) / total).toFixed(0)}%)`);
    console.log(`  dashboard & API: ${base}/   (API docs: ${base}/api/v1/openapi.json)`);
    console.log(`  admin token:     ${tokenFile}`);
    console.log(`  CLI:             XCHG_SERVER=${base} XCHG_TOKEN=$(cat ${tokenFile}) npx xchg node list`);
    console.log(`  logs:            ${join(dir, 'logs')}`);
    if (online !== total) throw new Error(`only ${online} of ${total} agents came online within 30 s`);

    // Wait until every flow has delivered and the destination equals the source after masking.
    const waitUntil = Date.now() + 300_000;
    let results = flows.map((f) => ({ f, r: f.check() }));
    while (results.some((x) => !x.r.done) && Date.now() < waitUntil) {
      await new Promise((r) => setTimeout(r, 1000));
      results = flows.map((f) => ({ f, r: f.check() }));
    }
    const elapsedS = (Date.now() - started) / 1000;
    console.log('');
    for (const { f, r } of results) console.log(`  ${r.done ? 'OK  ' : 'FAIL'} ${f.title.padEnd(40)} ${r.detail}${r.problems.length ? `\n         ${r.problems.slice(0, 5).join('\n         ')}` : ''}`);
    console.log(`  all flows checked against their sources after masking in ${elapsedS.toFixed(1)} s`);
    const sample = new Database(data('jx-gat', 'population.db'), { readonly: true }).prepare('SELECT id_no FROM person WHERE id = 4242').get() as { id_no: string };
    const q = await fetch(`http://127.0.0.1:${queryPort}/v1/query/sub-pop-nc?sfzh=${sample.id_no}`).then((r) => r.json() as Promise<{ found: boolean; record: Record<string, unknown>; elapsedMs: number }>);
    console.log(`  联机查询 online query at 南昌市公安局 for ID ${sample.id_no}: ${JSON.stringify(q.record)} (${q.elapsedMs.toFixed(1)} ms)`);
    const failed = results.filter((x) => !x.r.done);
    if (failed.length) throw new Error(`${failed.length} flow(s) did not match their source: ${failed.map((x) => x.f.sub).join(', ')}`);
    if (values.once) {
      await stopAll();
      console.log('\n  demo: OK');
      return 0;
    }
    console.log('\n  running; Ctrl-C to stop');
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    console.error(`demo: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll();
    return 1;
  }
}

function table(srcPath: string, srcTable: string, dstPath: string, dstTable: string, fields: readonly { name: string; as?: string; mask?: string }[], want: number, deleted?: string) {
  try {
    // Count first (cheap); compare value by value only once everything is there.
    const db = new Database(dstPath, { readonly: true, fileMustExist: true });
    const have = (db.prepare(`SELECT count(*) AS n FROM ${dstTable}`).get() as { n: number }).n;
    db.close();
    if (have < want) return { done: false, detail: `${have}/${want} records`, problems: [] };
    const c = compareTables({ path: srcPath, table: srcTable, key: 'id', ...(deleted && { deleted }) }, { path: dstPath, table: dstTable }, fields);
    return { done: c.problems.length === 0 && c.rows === want, detail: `${c.rows}/${want} records`, problems: c.rows === want ? c.problems : [] };
  } catch {
    return { done: false, detail: `0/${want} records`, problems: [] };
  }
}

function step(msg: string): void {
  console.log(`• ${msg}`);
}

async function preferredPort(port: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => void freePort().then(resolve));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(port)));
  });
}

async function waitPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on port ${port} after 10 s`);
}

main().then((code) => process.exit(code));
