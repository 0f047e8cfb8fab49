// xchg center, xchg link and xchg node move as an operator runs them: the built CLI against a real central
// process, with a real nats-server for the URL check and a closed port for a center that does not answer;
// a node enrolled and polling over real gRPC sees its move.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Center, Link } from '../../central/src/api/centers.js';
import type { Node } from '../../central/src/api/nodes.js';
import {
  loadXchgV1,
  type AgentServiceClient,
  type EnrollResponse__Output,
  type PollAssignmentsResponse__Output,
} from '../../proto/index.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freePort, NatsServer } from '../helpers/nats-server.js';
import { removeTmpDirs } from '../helpers/tmp.js';

function unary<T>(fn: (cb: grpc.requestCallback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

describe('cli centers - xchg center, link and node move against a real central', () => {
  let central: CentralProcess;
  let nats: NatsServer;
  let closed: string;

  const xchg = (args: string[]): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: central.url, XCHG_TOKEN: central.adminToken });

  async function json<T>(args: string[]): Promise<T> {
    const r = await xchg([...args, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  }

  /** A refused command: its exit status and its one stderr line (nothing on stdout). */
  function failure(r: CliResult, code: number): string {
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^xchg: [^\n]+\n$/);
    return r.stderr.trimEnd();
  }

  beforeAll(async () => {
    nats = await NatsServer.start();
    closed = `nats://127.0.0.1:${await freePort()}`;
    central = await CentralProcess.start({ natsUrls: [nats.url], env: { XCHG_CENTRAL_URL_CHECK_TIMEOUT_MS: '1000' } });
    for (const args of [
      ['region', 'create', '--code', '360000', '--name', '江西省', '--level', 'province'],
      ['region', 'create', '--code', '360100', '--name', '南昌市', '--level', 'city', '--parent', '360000'],
      ['dept', 'create', '--code', 'gat', '--name', '公安厅', '--region', '360000'],
    ]) {
      const r = await xchg(args);
      if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    }
  });

  afterAll(async () => {
    await central?.stop();
    await nats?.stop();
    removeTmpDirs();
  });

  it('cli centers - center create, list and show with -o json and as tables; refusals name the flag', async () => {
    const create = ['center', 'create', '--code', 'nanchang', '--name', '南昌市交换中心', '--region', '360100'];
    const made = await json<Center>([...create, '--level', 'city', '--urls', nats.url]);
    expect(made).toMatchObject({
      code: 'nanchang',
      name: '南昌市交换中心',
      regionCode: '360100',
      natsUrls: [nats.url],
    });
    const listed = await json<Center[]>(['center', 'list']);
    expect(listed.map((c) => c.code)).toEqual(['nanchang', 'province']);
    expect(listed.find((c) => c.code === 'province')).toMatchObject({ natsUrls: [nats.url], regionCode: null });
    expect(await json<Center>(['center', 'show', 'nanchang'])).toEqual(made);
    expect(await json<Center[]>(['center', 'list', '--region', '360100'])).toEqual([made]);

    const table = await xchg(['center', 'list']);
    expect(table.code).toBe(0);
    const [header, first] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^CODE\s+NAME\s+LEVEL\s+REGION\s+URLS\s+JS DOMAIN$/);
    expect(first).toMatch(/^nanchang\s+南昌市交换中心\s+city\s+南昌市 \(360100\)\s+nats:\/\/127\.0\.0\.1:\d+\s+-$/);

    const down = await xchg([
      ...create.slice(0, 3),
      'ganzhou',
      '--name',
      '赣州',
      '--region',
      '360100',
      '--level',
      'city',
      '--urls',
      closed,
    ]);
    expect(failure(down, 1)).toBe(
      `xchg: --urls: no NATS server answered at ${closed} (connection refused); start the exchange center (交换中心) ` +
        'or correct the URLs, or register it before it runs with check: false (xchg … --no-check)',
    );
    const badCode = await xchg([
      'center',
      'create',
      '--code',
      'Gz',
      '--name',
      '赣州',
      '--region',
      '360100',
      '--level',
      'city',
      '--urls',
      nats.url,
    ]);
    expect(failure(badCode, 1)).toMatch(/^xchg: --code: "Gz" is not a center code: lowercase letters/);
    const pre = await json<Center>([
      ...create.slice(0, 3),
      'ganzhou',
      '--name',
      '赣州',
      '--region',
      '360100',
      '--level',
      'city',
      '--urls',
      closed,
      '--no-check',
    ]);
    expect(pre.natsUrls).toEqual([closed]);
    const updated = await json<Center>(['center', 'update', 'ganzhou', '--urls', nats.url, '--js-domain', 'gz']);
    expect(updated).toMatchObject({ natsUrls: [nats.url], jsDomain: 'gz' });
  });

  it('cli centers - link create, list and show; a reversed duplicate and a self link are refused; capacity in Mbit/s', async () => {
    const link = await json<Link>([
      'link',
      'create',
      '--from',
      'province',
      '--to',
      'nanchang',
      '--capacity-mbps',
      '100',
    ]);
    expect(link).toMatchObject({ a: 'province', b: 'nanchang', capacityBps: 12_500_000, urlsAToB: null });
    expect((await json<Link[]>(['link', 'list'])).map((l) => l.id)).toContain(link.id);
    // show adds the link's state from the probes (none yet: down, not evaluated or never measured).
    expect(await json<Link>(['link', 'show', link.id])).toEqual({
      ...link,
      state: expect.objectContaining({ state: 'down' }),
    });
    const shown = await xchg(['link', 'show', link.id]);
    expect(shown.stdout).toMatch(/^Capacity\s+100 Mbit\/s \(12500000 bytes\/s\)$/m);
    expect(shown.stdout).toMatch(/^province dials nanchang at\s+nanchang's URLs$/m);

    const dup = await xchg(['link', 'create', '--from', 'nanchang', '--to', 'province', '--capacity-mbps', '10']);
    expect(failure(dup, 1)).toMatch(
      new RegExp(`^xchg: --to: centers nanchang and province are already linked by link ${link.id}`),
    );
    const self = await xchg(['link', 'create', '--from', 'nanchang', '--to', 'nanchang', '--capacity-mbps', '10']);
    expect(failure(self, 1)).toBe('xchg: --to: a link joins two centers; both ends are nanchang');
    const zero = await xchg(['link', 'create', '--from', 'nanchang', '--to', 'province', '--capacity-mbps', '0']);
    expect(failure(zero, 2)).toMatch(/--capacity-mbps <n>.*expected megabits per second above 0/);
    const centerTable = await xchg(['center', 'show', 'nanchang']);
    expect(centerTable.stdout).toMatch(new RegExp(`^  ${link.id}\\s+province\\s+100 Mbit/s$`, 'm'));
  });

  it('cli centers - node move: the node polling over gRPC gets the new center, and audit verify still passes', async () => {
    const { token } = await json<{ token: string }>(['token', 'create', '--dept', 'gat', '--node', 'fe-01']);
    const agent: AgentServiceClient = new (loadXchgV1().AgentService)(
      central.grpcAddress,
      grpc.credentials.createInsecure(),
    );
    try {
      const enrolled = await unary<EnrollResponse__Output>((cb) =>
        agent.Enroll({ token, hostname: 'fe-01', agentVersion: '0.1.0', labels: {} }, cb),
      );
      expect(enrolled.dataPlane).toMatchObject({ natsUrls: [nats.url], homeCenter: 'province' });
      const md = new grpc.Metadata();
      md.set('x-xchg-node-id', enrolled.nodeId);
      md.set('authorization', `Bearer ${enrolled.nodeSecret}`);
      const first = await unary<PollAssignmentsResponse__Output>((cb) =>
        agent.PollAssignments({ knownVersion: 0 }, md, cb),
      );
      const moved = await json<Node>(['node', 'move', enrolled.nodeId, '--center', 'ganzhou']);
      expect(moved.homeCenter).toBe('ganzhou');
      const next = await unary<PollAssignmentsResponse__Output>((cb) =>
        agent.PollAssignments({ knownVersion: first.version }, md, cb),
      );
      expect(Number(next.version)).toBe(Number(first.version) + 1);
      expect(next.dataPlane).toMatchObject({ natsUrls: [nats.url], homeCenter: 'ganzhou' });
      const unknown = await xchg(['node', 'move', enrolled.nodeId, '--center', 'jiujiang']);
      expect(failure(unknown, 1)).toBe('xchg: --center: center "jiujiang" not found');
      const inUse = await xchg(['center', 'delete', 'ganzhou']);
      expect(failure(inUse, 1)).toMatch(/^xchg: center ganzhou is in use: it is the home center of 1 node\(s\)/);
    } finally {
      agent.close();
    }
    const audit = await xchg(['audit', 'verify']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^audit chain intact: \d+ entries/m);
    const actions = await json<{ action: string }[]>(['audit', 'list', '--action', 'node.move']);
    expect(actions.map((e) => e.action)).toEqual(['node.move']);
  });
});
