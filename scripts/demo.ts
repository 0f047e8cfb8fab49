// `npm run demo`: a local province on this machine — an exchange center (nats-server with JetStream),
// xchg-central, and department agents in two cities — set up through the HTTP API as an operator would.
// With --once it waits until every agent is online, prints a summary and exits 0 (non-zero on failure);
// without it, it keeps running until Ctrl-C and prints where the dashboard is.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { findNatsServer, freePort, requireBuilt, ROOT, startChild, type Child } from './lib.js';

interface Dept {
  code: string;
  name: string;
  region: string;
  nodes: string[];
}

const REGIONS = [
  { code: '360000', name: '江西省', level: 'province' },
  { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' },
  { code: '360700', name: '赣州市', level: 'city', parentCode: '360000' },
];
const DEPTS: Dept[] = [
  { code: 'jx-gat', name: '江西省公安厅', region: '360000', nodes: ['jx-gat-01'] },
  { code: 'nc-gaj', name: '南昌市公安局', region: '360100', nodes: ['nc-gaj-01'] },
  { code: 'nc-scjgj', name: '南昌市市场监督管理局', region: '360100', nodes: ['nc-scjgj-01'] },
  { code: 'gz-mzj', name: '赣州市民政局', region: '360700', nodes: ['gz-mzj-01'] },
  { code: 'gz-rsj', name: '赣州市人力资源和社会保障局', region: '360700', nodes: ['gz-rsj-01'] },
];

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

    for (const d of DEPTS) {
      for (const node of d.nodes) {
        const { token } = await api<{ token: string }>('POST', '/tokens', { departmentCode: d.code, nodeName: node });
        const dataDir = join(dir, 'agents', node);
        mkdirSync(dataDir, { recursive: true });
        const configFile = join(dataDir, 'agent.yaml');
        writeFileSync(configFile, stringify({ dataDir, central: { address: grpcAddress, enrollToken: token }, reportIntervalMs: 5000, labels: { demo: 'true' } }));
        const agent = startChild(node, process.execPath, [requireBuilt('node-agent/src/main.js'), '--config', configFile], join(dir, 'logs', `${node}.log`));
        children.push(agent);
      }
    }
    const total = DEPTS.reduce((n, d) => n + d.nodes.length, 0);
    const deadline = Date.now() + 30_000;
    let nodes: { name: string; departmentCode: string; regionCode: string; status: string }[] = [];
    while (Date.now() < deadline) {
      nodes = await api('GET', '/nodes');
      if (nodes.length === total && nodes.every((n) => n.status === 'online')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
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
