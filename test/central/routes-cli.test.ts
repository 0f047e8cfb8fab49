// xchg route, xchg link (with link states) and xchg center set-relay as an operator runs them: the built CLI
// against a real central process whose route-evaluate job runs every 500 ms; relays enrolled over real gRPC
// report probe windows through the Report RPC, as an agent's relay does.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Link } from '../../central/src/api/centers.js';
import type { LinkView, Relay, RouteDetail, RouteSummary } from '../../central/src/api/routing.js';
import { loadXchgV1, type AgentServiceClient, type EnrollResponse__Output } from '../../proto/index.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { linkWindow, poll, report, routesOf, type NodeIdentity } from '../helpers/probes.js';
import { removeTmpDirs } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

describe('cli routes - xchg route, link states and relays against a real central', () => {
  let central: CentralProcess;
  let agent: AgentServiceClient;
  const relay: Record<string, NodeIdentity> = {};
  const link: Record<string, string> = {};

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

  /** Every relay reports its links, both ways, at one RTT per link (ms). */
  async function probeRound(rtt: Record<string, number>): Promise<void> {
    const end = Date.now();
    for (const [name, id] of Object.entries(link)) {
      const [a, b] = name.split('-') as [string, string];
      for (const [from, to] of [
        [a, b],
        [b, a],
      ] as const)
        await report(agent, relay[from]!, [
          linkWindow({ from, to, linkId: id, endMs: end, windowMs: 500, rttP50Ms: rtt[name]! }),
        ]);
    }
  }

  beforeAll(async () => {
    central = await CentralProcess.start({
      // One probe round serves the whole file: the window and staleness are long enough for it.
      env: {
        XCHG_CENTRAL_PROBE_INTERVAL_MS: '500',
        XCHG_CENTRAL_PROBE_WINDOW_MS: '600000',
        XCHG_CENTRAL_STALE_AFTER_MS: '600000',
      },
    });
    agent = new (loadXchgV1().AgentService)(central.grpcAddress, grpc.credentials.createInsecure());
    for (const args of [
      ['region', 'create', '--code', '360000', '--name', '江西省', '--level', 'province'],
      ['region', 'create', '--code', '360100', '--name', '南昌市', '--level', 'city', '--parent', '360000'],
      ['region', 'create', '--code', '360700', '--name', '赣州市', '--level', 'city', '--parent', '360000'],
      ['dept', 'create', '--code', 'gat', '--name', '公安厅', '--region', '360000'],
      ['center', 'create', '--code', 'nanchang', '--name', '南昌', '--region', '360100', '--level', 'city'],
      ['center', 'create', '--code', 'ganzhou', '--name', '赣州', '--region', '360700', '--level', 'city'],
    ]) {
      const full = args[0] === 'center' ? [...args, '--urls', 'nats://127.0.0.1:1', '--no-check'] : args;
      const r = await xchg(full);
      if (r.code !== 0) throw new Error(`xchg ${full.join(' ')} → ${r.code}: ${r.stderr}`);
    }
    for (const [a, b] of [
      ['province', 'nanchang'],
      ['province', 'ganzhou'],
      ['nanchang', 'ganzhou'],
    ] as const) {
      const l = await json<Link>(['link', 'create', '--from', a, '--to', b, '--capacity-mbps', '100', '--no-check']);
      link[`${a}-${b}`] = l.id;
    }
    for (const c of ['province', 'nanchang', 'ganzhou']) {
      const { token } = await json<{ token: string }>(['token', 'create', '--dept', 'gat', '--node', `relay-${c}`]);
      const e = await new Promise<EnrollResponse__Output>((resolve, reject) =>
        agent.Enroll({ token, hostname: c, agentVersion: '0.1.0', labels: {} }, (err, res) =>
          err ? reject(err) : resolve(res!),
        ),
      );
      relay[c] = { id: e.nodeId, secret: e.nodeSecret };
      if (c !== 'province') await json(['node', 'move', e.nodeId, '--center', c]);
      const r = await json<Relay>(['center', 'set-relay', c, '--node', e.nodeId]);
      expect(r).toMatchObject({ center: c, nodeId: e.nodeId, probeIntervalMs: 500 });
    }
  });

  afterAll(async () => {
    agent?.close();
    await central?.stop();
    removeTmpDirs();
  });

  it('cli routes - route list and show with -o json and as tables; link list and show with the link state', async () => {
    // Direct nanchang–ganzhou 10 ms one way; through the province 8 + 9 = 17 ms.
    const rtt = { 'province-nanchang': 16, 'province-ganzhou': 18, 'nanchang-ganzhou': 20 };
    await probeRound(rtt);
    const routes = await waitFor(
      async () => {
        const list = await json<RouteSummary[]>(['route', 'list']);
        const nc = list.find((r) => r.from === 'nanchang' && r.to === 'ganzhou');
        return nc?.state === 'up' && list.length === 6 ? list : undefined;
      },
      10_000,
      200,
      'the route-evaluate job to route every pair over links that are up',
    );
    expect(routes.find((r) => r.from === 'nanchang' && r.to === 'ganzhou')).toMatchObject({
      route: ['nanchang', 'ganzhou'],
      cost: 10,
      pinned: false,
      changes: 0,
    });
    const table = await xchg(['route', 'list']);
    expect(table.stdout).toMatch(/^FROM\s+TO\s+ROUTE\s+COST MS\s+STATE\s+PINNED\s+CHANGES\s+LAST CHANGE\s+WHY$/m);
    // Chosen at the first evaluation, before or after the probes came in: either reason is right.
    const why = String.raw`(cheapest route \(10 ms\)|its links are up \(10 ms\); kept)`;
    const row = String.raw`^nanchang\s+ganzhou\s+nanchang>ganzhou\s+10\s+up\s+no\s+0\s+\S+ ago\s+`;
    expect(table.stdout).toMatch(new RegExp(`${row}${why}$`, 'm'));

    const detail = await json<RouteDetail>(['route', 'show', '--from', 'nanchang', '--to', 'ganzhou']);
    expect(detail.alternatives.map((a) => [a.centers.join('>'), a.cost])).toEqual([
      ['nanchang>ganzhou', 10],
      ['nanchang>province>ganzhou', 17],
    ]);
    expect(detail.evidence).toHaveLength(3);
    const shown = await xchg(['route', 'show', '--from', 'nanchang', '--to', 'ganzhou']);
    expect(shown.stdout).toMatch(/^Route\s+nanchang>ganzhou$/m);
    expect(shown.stdout).toMatch(new RegExp(String.raw`^Why\s+` + `${why}$`, 'm'));
    expect(shown.stdout).toMatch(/^Alternatives:\n/m);
    expect(shown.stdout).toMatch(/^ {2}\*\s+nanchang>ganzhou\s+10\s+up/m);
    expect(shown.stdout).toMatch(/^Probe evidence:\n/m);
    expect(shown.stdout).toMatch(
      /^History \(latest first\):\n {2}AT\s+FROM\s+TO\s+BY\s+WHY\n {2}\S+ \S+ \(\S+ ago\)\s+-\s+nanchang>ganzhou\s+system\s+(every route is down|cheapest route \(10 ms\))$/m,
    );

    const links = await json<LinkView[]>(['link', 'list']);
    expect(links.find((l) => l.id === link['nanchang-ganzhou'])!.state).toMatchObject({
      state: 'up',
      latencyP50Ms: 10,
      loss: 0,
    });
    const linkTable = await xchg(['link', 'list']);
    expect(linkTable.stdout).toMatch(/^ID\s+A\s+B\s+CAPACITY\s+STATE\s+P50\s+P99\s+LOSS\s+LOAD\s+QUEUE\s+LAST PROBE/m);
    expect(linkTable.stdout).toMatch(
      new RegExp(
        `^${link['nanchang-ganzhou']}\\s+nanchang\\s+ganzhou\\s+100 Mbit/s\\s+up\\s+10 ms\\s+15 ms\\s+0 %`,
        'm',
      ),
    );
    const linkShown = await xchg(['link', 'show', link['nanchang-ganzhou']!]);
    expect(linkShown.stdout).toMatch(/^Latency p50 \/ p99\s+10 ms \/ 15 ms \(one way: probe round trip \/ 2\)$/m);
    // 3 probes of 100 B and their replies per 500 ms window, each way: 2 400 B/s of a 12.5 MB/s link.
    expect(linkShown.stdout).toMatch(/^Probe overhead\s+0\.0192 % of capacity \(2400 bytes\/s\)$/m);
  });

  it('cli routes - pin and unpin; a pin through an unknown center or over no link is refused naming --via; relays listed', async () => {
    const pinned = await json<RouteDetail>([
      'route',
      'pin',
      '--from',
      'nanchang',
      '--to',
      'ganzhou',
      '--via',
      'province',
    ]);
    expect(pinned).toMatchObject({ route: ['nanchang', 'province', 'ganzhou'], pinned: true, pinnedBy: 'admin' });
    // The relay at nanchang sees the pinned route in its next answer.
    const r = await poll(agent, relay['nanchang']!, 0);
    expect(routesOf(r).ganzhou).toBe('nanchang>province>ganzhou');
    expect(r.assignments.find((a) => a.route?.destinationCenter === 'ganzhou')!.route!.pinned).toBe(true);
    const unpinned = await json<RouteDetail>(['route', 'unpin', '--from', 'nanchang', '--to', 'ganzhou']);
    expect(unpinned).toMatchObject({ pinned: false, changes: 2 });

    expect(failure(await xchg(['route', 'pin', '--from', 'nanchang', '--to', 'ganzhou', '--via', 'yichun']), 1)).toBe(
      'xchg: --via: center "yichun" does not exist',
    );
    expect(
      failure(
        await xchg([
          'route',
          'pin',
          '--from',
          'ganzhou',
          '--to',
          'nanchang',
          '--via',
          'ganzhou,province,ganzhou,nanchang',
        ]),
        1,
      ),
    ).toBe('xchg: --via: route ganzhou>province>ganzhou>nanchang visits ganzhou twice (a loop)');
    expect(failure(await xchg(['route', 'pin', '--from', 'nanchang', '--to', 'ganzhou']), 2)).toBe(
      'xchg: route pin: give either --via <centers> or --direct',
    );
    expect(failure(await xchg(['route', 'unpin', '--from', 'nanchang', '--to', 'ganzhou']), 1)).toBe(
      'xchg: route from nanchang to ganzhou is not pinned',
    );
    const relays = await json<Relay[]>(['center', 'relays']);
    expect(relays.map((x) => [x.center, x.neighbors.map((n) => n.center).sort()])).toEqual([
      ['ganzhou', ['nanchang', 'province']],
      ['nanchang', ['ganzhou', 'province']],
      ['province', ['ganzhou', 'nanchang']],
    ]);
    const audit = await xchg(['audit', 'verify']);
    expect(audit.code).toBe(0);
  });
});
