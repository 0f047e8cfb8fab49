// The demo's exchange centers (交换中心): the province's and two cities' (南昌市, 赣州市), each its own
// nats-server with JetStream on a loopback port, registered in central with their links (province–nanchang,
// province–ganzhou and a direct nanchang–ganzhou link), a relay agent at each center made its relay through
// the API, and the departments' nodes moved to their city's center (`xchg node move`, PUT /nodes/:id/center).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findNatsServer, freePort, requireBuilt, startChild, type Child } from './lib.js';
import { AGENT_NODE_FLAGS } from '../node-agent/src/heap.js';

/** The province's center is central's default home center ('province', as in central's config). */
export const PROVINCE_CENTER = 'province';
export const CENTERS = [
  { code: PROVINCE_CENTER, name: '江西省交换中心', regionCode: '360000', level: 'province' },
  { code: 'nanchang', name: '南昌市交换中心', regionCode: '360100', level: 'city' },
  { code: 'ganzhou', name: '赣州市交换中心', regionCode: '360700', level: 'city' },
] as const;
const LINKS = [
  [PROVINCE_CENTER, 'nanchang'],
  [PROVINCE_CENTER, 'ganzhou'],
  ['nanchang', 'ganzhou'],
] as const;
/** Configured capacity of every demo link: 100 Mbit/s, in bytes per second. */
const LINK_CAPACITY_BPS = 12_500_000;
/** The department whose nodes are the centers' relays (the province's data center). */
export const RELAY_DEPT = { code: 'jx-dsjzx', name: '江西省大数据中心', region: '360000' };

type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** Starts one nats-server per center (JetStream, separate store dirs); returns each center's client URL. */
export async function startCenters(dir: string, children: Child[]): Promise<Map<string, string>> {
  const urls = new Map<string, string>();
  for (const c of CENTERS) {
    const port = await freePort();
    children.push(
      startChild(
        `nats-${c.code}`,
        findNatsServer(),
        ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'nats', c.code)],
        join(dir, 'logs', `nats-${c.code}.log`),
      ),
    );
    urls.set(c.code, `nats://127.0.0.1:${port}`);
  }
  return urls;
}

/** Names the province's center, registers the city centers and the three links (URL checks on). */
export async function registerCenters(api: Api, urls: Map<string, string>): Promise<void> {
  const [province, ...cities] = CENTERS;
  await api('PATCH', `/centers/${province.code}`, { name: province.name, regionCode: province.regionCode });
  for (const c of cities) await api('POST', '/centers', { ...c, natsUrls: [urls.get(c.code)!] });
  for (const [a, b] of LINKS) await api('POST', '/links', { a, b, capacityBps: LINK_CAPACITY_BPS });
}

/** Enrolls a relay agent per center (nodes relay-<center>); returns them by center with their node ids. */
export async function startRelayAgents(
  api: Api,
  dir: string,
  grpcAddress: string,
  children: Child[],
): Promise<Map<string, { agent: Child; nodeId: string }>> {
  const relays = new Map<string, { agent: Child; nodeId: string }>();
  for (const c of CENTERS) {
    const node = `relay-${c.code}`;
    const { token } = await api<{ token: string }>('POST', '/tokens', {
      departmentCode: RELAY_DEPT.code,
      nodeName: node,
    });
    const dataDir = join(dir, 'agents', node);
    mkdirSync(dataDir, { recursive: true });
    const configFile = join(dataDir, 'agent.yaml');
    writeFileSync(
      configFile,
      stringify({ dataDir, central: { address: grpcAddress, enrollToken: token }, reportIntervalMs: 5000 }),
    );
    const agent = startChild(
      node,
      process.execPath,
      [...AGENT_NODE_FLAGS, requireBuilt('bin/xchg-agent.js'), '--config', configFile],
      join(dir, 'logs', `${node}.log`),
    );
    children.push(agent);
    relays.set(c.code, { agent, nodeId: String((await agent.waitFor((l) => l['msg'] === 'agent running'))['nodeId']) });
  }
  return relays;
}

/** Moves a node to `center` and waits until its agent has moved its data plane there. */
export async function moveNode(api: Api, agent: Child, nodeId: string, center: string): Promise<void> {
  if (center === PROVINCE_CENTER) return; // nodes enroll at the province's center
  await api('PUT', `/nodes/${nodeId}/center`, { center });
  await agent.waitFor((l) => l['msg'] === 'node moved to another exchange center' && l['to'] === center, 30_000);
}

/** Makes each relay agent its center's relay (PUT /centers/:code/relay) and waits for the relay to start. */
export async function designateRelays(api: Api, relays: Map<string, { agent: Child; nodeId: string }>): Promise<void> {
  for (const [center, r] of relays) await moveNode(api, r.agent, r.nodeId, center);
  for (const [center, r] of relays) {
    await api('PUT', `/centers/${center}/relay`, { nodeId: r.nodeId });
    await r.agent.waitFor((l) => l['msg'] === 'relay started', 30_000);
  }
}

interface RouteRow {
  from: string;
  to: string;
  route: string[] | null;
  state: string;
}

/** "nanchang → ganzhou via nanchang,ganzhou" for a flow between two centers, from central's routes. */
export async function routeOf(api: Api, from: string, to: string): Promise<string> {
  if (from === to) return `${from} (same center, no relay)`;
  const r = (await api<RouteRow[]>('GET', '/routes')).find((x) => x.from === from && x.to === to);
  return `${from} → ${to} via ${r?.route?.join(',') ?? '(no route yet)'}${r && r.state !== 'up' ? ` [${r.state}]` : ''}`;
}
