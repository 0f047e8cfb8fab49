// End-to-end: central, agents and the CLI as real processes talking real gRPC and HTTP.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { cliJson } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait-for.js';

interface NodeJson {
  id: string;
  name: string;
  status: 'online' | 'offline';
  lastHeartbeatAt: number | null;
  health: { outboxDepth?: number } | null;
}
interface ReportJson {
  reportId: string;
  nodeId: string;
  seq: number;
  observedAt: number;
}

describe('foundation - central and agents as processes', () => {
  let central: CentralProcess;
  let api: Api;
  const agents: AgentProcess[] = [];

  beforeAll(async () => {
    central = await CentralProcess.start({ heartbeatTtlMs: 1_500, livenessCheckIntervalMs: 100, pollTimeoutMs: 2_000 });
    api = new Api(central.url, central.adminToken);
    await api.ok('POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
    await api.ok('POST', '/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
    await api.ok('POST', '/regions', { code: '360700', name: '赣州市', level: 'city', parentCode: '360000' });
    await api.ok('POST', '/departments', { code: 'nc-gaj', name: '南昌市公安局', regionCode: '360100' });
    await api.ok('POST', '/departments', { code: 'gz-mzj', name: '赣州市民政局', regionCode: '360700' });
    for (const [dept, name] of [
      ['nc-gaj', 'nc-gaj-01'],
      ['gz-mzj', 'gz-mzj-01'],
    ] as const) {
      agents.push(await AgentProcess.start({ central: central.grpcAddress, token: await api.enrollToken(dept, name) }));
    }
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await central?.stop();
  });

  const nodes = (): Promise<NodeJson[]> => cliJson<NodeJson[]>(central.url, central.adminToken, ['node', 'list']);

  it('foundation - enrolled agents are online in `xchg node list -o json` with a recent heartbeat', async () => {
    const list = await waitFor(async () => {
      const l = await nodes();
      return l.length === 2 && l.every((n) => n.status === 'online') && l;
    }, 10_000);
    for (const n of list) {
      expect(n.lastHeartbeatAt).not.toBeNull();
      expect(Date.now() - n.lastHeartbeatAt!).toBeLessThan(5_000);
    }
    expect(list.map((n) => n.name).sort()).toEqual(['gz-mzj-01', 'nc-gaj-01']);
  });

  it('foundation - an agent restarted keeps its identity and does not enroll again', async () => {
    const a = agents[0]!;
    const before = await a.nodeId;
    expect(await a.stop('SIGTERM')).toBe(0);
    await a.restart();
    expect(await a.nodeId).toBe(before);
    expect(a.proc.output()).not.toContain('"msg":"enrolled"');
    const list = await nodes();
    expect(list.filter((n) => n.name === 'nc-gaj-01')).toHaveLength(1);
  });

  it('foundation - a missed TTL marks the node offline and the next heartbeat brings it back', async () => {
    const a = agents[1]!;
    const id = await a.nodeId;
    await a.stop('SIGKILL');
    const t0 = Date.now();
    await waitFor(
      async () => (await nodes()).find((n) => n.id === id)?.status === 'offline',
      10_000,
      100,
      'node offline',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500); // not before its TTL could have run out
    const detail = await api.ok<{ events: { kind: string; reason: string }[] }>('GET', `/nodes/${id}`);
    const offline = detail.events.filter((e) => e.kind === 'offline');
    expect(offline.length).toBeGreaterThanOrEqual(1);
    expect(offline.at(-1)!.reason).toMatch(/no heartbeat for \d+ ms \(ttl 1500 ms\)/);
    await a.restart();
    await waitFor(
      async () => (await nodes()).find((n) => n.id === id)?.status === 'online',
      10_000,
      100,
      'node online again',
    );
    const after = await api.ok<{ events: { kind: string }[] }>('GET', `/nodes/${id}`);
    expect(after.events.at(-1)!.kind).toBe('online');
  });

  it('foundation - central SIGKILLed for 30 s: agents keep running and every report made meanwhile arrives exactly once', async () => {
    const ids = await Promise.all(agents.map((a) => a.nodeId));
    await central.stop('SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 30_000));
    for (const a of agents) expect(a.proc.child.exitCode).toBeNull(); // still running
    await central.restart();
    const restartedAt = Date.now();
    // Drain: wait until both outboxes are empty as reported by heartbeats after the restart.
    await waitFor(
      async () => {
        const l = await api.ok<NodeJson[]>('GET', '/nodes');
        return ids.every((id) => {
          const n = l.find((x) => x.id === id);
          return n && n.lastHeartbeatAt! > restartedAt && n.health?.outboxDepth === 0;
        });
      },
      30_000,
      200,
      'outboxes drained',
    );
    // Stop the agents cleanly (final flush), then compare what each made with what central stored.
    for (const a of agents) expect(await a.stop('SIGTERM')).toBe(0);
    for (const [i, a] of agents.entries()) {
      const spool = new Database(join(a.dataDir, 'spool.db'), { readonly: true });
      const made = (
        spool.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'report_outbox'").get() as { seq: number }
      ).seq;
      const left = (spool.prepare('SELECT count(*) AS n FROM report_outbox').get() as { n: number }).n;
      spool.close();
      expect(left).toBe(0);
      const stored = await api.ok<ReportJson[]>('GET', `/reports?node=${ids[i]}&limit=10000`);
      const seqs = stored.map((r) => r.seq);
      expect(new Set(seqs).size).toBe(seqs.length); // none twice
      expect(seqs.length).toBe(made); // none lost
      expect(Math.min(...seqs)).toBe(1);
      expect(Math.max(...seqs)).toBe(made);
      const duringOutage = stored.filter((r) => r.observedAt > killedAt + 1_000 && r.observedAt < restartedAt - 1_000);
      expect(duringOutage.length).toBeGreaterThan(50); // made every 200 ms while central was down
    }
    for (const a of agents) await a.restart();
  }, 120_000);
});

describe('foundation - bad input changes nothing', () => {
  let central: CentralProcess;
  let api: Api;

  beforeAll(async () => {
    central = await CentralProcess.start();
    api = new Api(central.url, central.adminToken);
    await api.seedDepartment('sfj');
  });
  afterAll(async () => {
    await central?.stop();
  });

  it('agent - an invalid config file is refused with every problem listed and exit code 2', async () => {
    const a = AgentProcess.spawn({
      central: central.grpcAddress,
      config: { reportIntervalMs: 'often', bogus: 1, backoff: { factor: 99 } },
    });
    expect(await a.proc.exited).toBe(2);
    const out = a.proc.output();
    expect(out).toContain('reportIntervalMs');
    expect(out).toContain('bogus: unknown setting');
    expect(out).toContain('backoff.factor');
  });

  it('agent - a YAML syntax error names the file', async () => {
    const a = AgentProcess.spawn({ central: central.grpcAddress, configText: 'dataDir: [unclosed\n' });
    expect(await a.proc.exited).toBe(2);
    expect(a.proc.output()).toContain(`config file ${a.configFile}: not valid YAML/JSON`);
  });

  it('agent - a reused token is refused with a clear message and no second node is created', async () => {
    const token = await api.enrollToken('sfj', 'sfj-01');
    const first = await AgentProcess.start({ central: central.grpcAddress, token });
    await first.stop();
    const second = AgentProcess.spawn({ central: central.grpcAddress, token });
    expect(await second.proc.exited).toBe(3);
    expect(second.proc.output()).toMatch(/enrollment refused by central: enrollment token was already used/);
    const nodes = await api.ok<NodeJson[]>('GET', '/nodes');
    expect(nodes.filter((n) => n.name === 'sfj-01')).toHaveLength(1);
  });

  it('agent - a forged token is refused as unknown', async () => {
    const a = AgentProcess.spawn({ central: central.grpcAddress, token: 'xet_forgedforgedforgedforgedforged' });
    expect(await a.proc.exited).toBe(3);
    expect(a.proc.output()).toMatch(/enrollment token is unknown/);
    expect((await api.ok<NodeJson[]>('GET', '/nodes')).length).toBe(1);
  });

  it('agent - no identity and no token: exits 3 naming what to configure', async () => {
    const a = AgentProcess.spawn({ central: central.grpcAddress });
    expect(await a.proc.exited).toBe(3);
    expect(a.proc.output()).toMatch(/no node identity in .* and no enrollment token configured/);
  });
});
