// In-process Agent instances against a real central process: enrollment and the identity file, the outbox
// across a central outage, the shutdown lifecycle, and resuming the last assignment set without central.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIELD_TYPES } from '../../common/src/field-types.js';
import { Agent, type AgentState } from '../../node-agent/src/agent.js';
import { compileConfig, type AgentConfig } from '../../node-agent/src/config.js';
import { AgentError } from '../../node-agent/src/errors.js';
import { identityPath, saveIdentity, type NodeIdentity } from '../../node-agent/src/identity.js';
import type { OutboxReport } from '../../node-agent/src/spool/sqlite-spool.js';
import type { RunnerFactory, TaskAssignment } from '../../node-agent/src/tasks/supervisor.js';
import { FAST_AGENT } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

interface StoredReport {
  reportId: string;
  nodeId: string;
  seq: number;
  kind: string;
  body: Record<string, unknown>;
}
interface TaskJson {
  id: string;
  generation: number;
  state: string;
  refusal: { nodeId: string; generation: number; reason: string } | null;
}
interface NodeJson {
  id: string;
  name: string;
  departmentCode: string;
  lastHeartbeatAt: number | null;
  assignmentVersion: number;
}

const DEPT = 'dsj';

/** A logger whose JSON lines the test can read. */
function capturedLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/** A task runner of the test's own: records each task the supervisor starts. */
function recordingRunner(into: TaskAssignment[]): RunnerFactory {
  return (task) => {
    into.push(task);
    return { stop: async () => undefined };
  };
}

describe('agent - in-process agents against a real central', () => {
  let central: CentralProcess;
  let api: Api;
  const agents: Agent[] = [];

  function config(dataDir: string, token?: string, extra: Record<string, unknown> = {}): AgentConfig {
    return compileConfig({
      env: {},
      overrides: {
        ...FAST_AGENT,
        dataDir,
        central: { address: central.grpcAddress, ...(token && { enrollToken: token }) },
        ...extra,
      },
    });
  }
  function agent(cfg: AgentConfig, opts: { logger?: Logger; runners?: Record<string, RunnerFactory> } = {}): Agent {
    const a = new Agent(cfg, {
      logger: opts.logger ?? pino({ level: 'silent' }),
      ...(opts.runners && { runners: opts.runners }),
    });
    agents.push(a);
    return a;
  }
  const centralDown = (): boolean => central.proc.child.exitCode !== null || central.proc.child.signalCode !== null;

  beforeAll(async () => {
    central = await CentralProcess.start({ pollTimeoutMs: 2_000 });
    api = new Api(central.url, central.adminToken);
    await api.seedDepartment(DEPT);
  });

  afterEach(async () => {
    // Whatever a failed test left running; central comes back for the next test if a test left it down.
    await Promise.all(agents.splice(0).map((a) => a.shutdown()));
    if (centralDown()) await central.restart();
  });

  afterAll(async () => {
    await central?.stop();
    removeTmpDirs();
  });

  it('agent - start enrolls and writes identity.json with mode 0600', async () => {
    const dataDir = tmpDir('xchg-agent-');
    const a = agent(config(dataDir, await api.enrollToken(DEPT, 'dsj-enroll')));
    await a.start();
    expect(a.state).toBe('RUNNING');

    const file = identityPath(dataDir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    const id = JSON.parse(readFileSync(file, 'utf8')) as NodeIdentity;
    expect(id.nodeId).toBe(a.nodeId);
    expect(id.nodeSecret.length).toBeGreaterThanOrEqual(16);
    expect(id).toMatchObject({ nodeName: 'dsj-enroll', departmentCode: DEPT, centralAddress: central.grpcAddress });

    const node = await api.ok<NodeJson>('GET', `/nodes/${id.nodeId}`);
    expect(node).toMatchObject({ id: id.nodeId, name: 'dsj-enroll', departmentCode: DEPT });
  });

  it('agent - a second agent on the same data dir loads the identity without a token', async () => {
    const dataDir = tmpDir('xchg-agent-');
    const first = agent(config(dataDir, await api.enrollToken(DEPT, 'dsj-reload')));
    await first.start();
    await first.shutdown();
    const identityText = readFileSync(identityPath(dataDir), 'utf8');

    const { logger, lines } = capturedLogger();
    const second = agent(config(dataDir), { logger }); // no enrollment token configured at all
    const startedAt = Date.now();
    await second.start();
    expect(second.state).toBe('RUNNING');
    expect(second.nodeId).toBe(first.nodeId);
    expect(readFileSync(identityPath(dataDir), 'utf8')).toBe(identityText); // not rewritten
    expect(lines.filter((l) => l['msg'] === 'enrolled')).toEqual([]);

    // Central accepts the loaded credentials: a heartbeat from the second agent arrives.
    await waitFor(
      async () => ((await api.ok<NodeJson>('GET', `/nodes/${second.nodeId}`)).lastHeartbeatAt ?? 0) >= startedAt,
      10_000,
      50,
      'a heartbeat from the second agent',
    );
    const nodes = await api.ok<NodeJson[]>('GET', '/nodes');
    expect(nodes.filter((n) => n.name === 'dsj-reload').map((n) => n.id)).toEqual([first.nodeId]);
  });

  it('agent - no identity and no token: start fails with NOT_ENROLLED and the state is FAILED', async () => {
    const states: AgentState[] = [];
    const a = agent(config(tmpDir('xchg-agent-')));
    a.on('state', (s: AgentState) => states.push(s));
    const err = await a.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('NOT_ENROLLED');
    expect((err as AgentError).message).toMatch(/no node identity in .* and no enrollment token configured/);
    expect(states).toEqual(['FAILED']);
    expect(a.state).toBe('FAILED');
  });

  it('agent - reports made while central is down stay in the outbox and arrive exactly once after its restart', async () => {
    const a = agent(
      config(tmpDir('xchg-agent-'), await api.enrollToken(DEPT, 'dsj-outage'), { reportIntervalMs: 100 }),
    );
    const made: OutboxReport[] = [];
    a.on('report', (r: OutboxReport) => made.push(r));
    await a.start();
    const nodeId = a.nodeId!;
    await waitFor(() => made.length >= 2 && a.outboxDepth === 0, 10_000, 20, 'the first reports delivered');

    await central.stop('SIGKILL');
    const depthAtKill = a.outboxDepth;
    const outage: string[] = [];
    for (let i = 0; i < 5; i++) {
      a.report('event', { severity: 'warn', code: 'OUTAGE_TEST', message: `made during the outage #${i}`, taskId: '' });
      outage.push(made.at(-1)!.reportId);
    }
    // Metrics samples keep coming too; none of it can leave the outbox while central is down.
    await waitFor(() => a.outboxDepth >= depthAtKill + 5 + 5, 10_000, 20, 'the outbox to grow');
    expect(a.state).toBe('RUNNING');
    const outboxDuringOutage = a.outboxDepth;
    expect(outboxDuringOutage).toBeGreaterThanOrEqual(10);

    await central.restart();
    await waitFor(() => a.outboxDepth === 0, 30_000, 20, 'the outbox drained after central came back');
    await a.shutdown(); // final flush: everything the agent made is now at central

    const stored = await api.ok<StoredReport[]>('GET', `/reports?node=${nodeId}&limit=10000`);
    const seqs = stored.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length); // none twice
    expect([...seqs].sort((x, y) => x - y)).toEqual(made.map((r) => r.seq)); // none lost, nothing extra
    expect(stored.map((r) => r.reportId).sort()).toEqual(made.map((r) => r.reportId).sort());
    // The listing is newest first; in the order they were made they carry the outage's messages in turn.
    const outageStored = stored.filter((r) => outage.includes(r.reportId)).sort((x, y) => x.seq - y.seq);
    expect(outageStored.map((r) => r.body['message'])).toEqual(
      [0, 1, 2, 3, 4].map((i) => `made during the outage #${i}`),
    );
    expect(outageStored.every((r) => r.kind === 'event')).toBe(true);
    expect(stored.filter((r) => r.kind === 'metrics').length).toBeGreaterThanOrEqual(5);
  });

  it('agent - shutdown moves INITIALIZED → RUNNING → DRAINING → STOPPED, delivers the last report and closes the spool', async () => {
    const dataDir = tmpDir('xchg-agent-');
    const a = agent(config(dataDir, await api.enrollToken(DEPT, 'dsj-shutdown')));
    const states: AgentState[] = [];
    a.on('state', (s: AgentState) => states.push(s));
    expect(a.state).toBe('INITIALIZED');
    await a.start();
    expect(states).toEqual(['RUNNING']);

    a.report('event', { severity: 'info', code: 'LAST_WORDS', message: 'recorded just before shutdown', taskId: '' });
    await a.shutdown();
    expect(states).toEqual(['RUNNING', 'DRAINING', 'STOPPED']);
    expect(a.state).toBe('STOPPED');

    // Closed: the last connection's close checkpoints and removes the WAL; and the outbox was flushed.
    expect(existsSync(join(dataDir, 'spool.db-wal'))).toBe(false);
    const spool = new Database(join(dataDir, 'spool.db'), { readonly: true });
    try {
      expect((spool.prepare('SELECT count(*) AS n FROM report_outbox').get() as { n: number }).n).toBe(0);
    } finally {
      spool.close();
    }
    const stored = await api.ok<StoredReport[]>('GET', `/reports?node=${a.nodeId}&kind=event&limit=10000`);
    expect(stored.map((r) => r.body['code'])).toContain('LAST_WORDS');

    await a.shutdown(); // a second shutdown changes nothing
    expect(states).toEqual(['RUNNING', 'DRAINING', 'STOPPED']);
  });

  it('agent - a restart while central is down resumes the last assignment set from the spool', async () => {
    const dataDir = tmpDir('xchg-agent-');
    const firstRun: TaskAssignment[] = [];
    const a = agent(config(dataDir, await api.enrollToken(DEPT, 'dsj-resume')), {
      runners: { sync: recordingRunner(firstRun) },
    });
    await a.start();
    await waitFor(() => a.assignmentVersion === 1, 10_000, 20, 'the initial assignment set');
    const created = await api.ok<{ id: string; generation: number }>('POST', '/tasks', {
      name: 'resume-sync',
      kind: 'sync',
      nodeId: a.nodeId,
      binding: 'population',
      params: { table: 'people', batch: 50 },
    });
    await waitFor(() => a.assignmentVersion === 2, 10_000, 20, 'assignment version 2');
    expect(firstRun.map((t) => [t.id, t.generation])).toEqual([[created.id, created.generation]]);
    await a.shutdown();

    await central.stop('SIGKILL');
    const secondRun: TaskAssignment[] = [];
    const { logger, lines } = capturedLogger();
    const b = agent(config(dataDir), { logger, runners: { sync: recordingRunner(secondRun) } });
    await b.start();
    expect(centralDown()).toBe(true); // nothing of this came from central
    expect(b.state).toBe('RUNNING');
    expect(b.assignmentVersion).toBe(2);
    expect(secondRun).toHaveLength(1);
    expect(secondRun[0]).toMatchObject({
      id: created.id,
      generation: created.generation,
      kind: 'sync',
      enabled: true,
      binding: 'population',
      params: { table: 'people', batch: 50 },
      name: 'resume-sync',
    });
    expect(lines.find((l) => l['msg'] === 'resuming last assignment set')).toMatchObject({ version: 2, tasks: 1 });

    await b.shutdown();
    expect(b.state).toBe('STOPPED');
    // Central was down for the whole run: what it reported is kept in the outbox for the next start.
    const spool = new Database(join(dataDir, 'spool.db'), { readonly: true });
    try {
      const kept = spool.prepare("SELECT body_json FROM report_outbox WHERE kind = 'event'").all() as {
        body_json: string;
      }[];
      expect(kept.map((r) => (JSON.parse(r.body_json) as { code: string }).code)).toContain('AGENT_STARTED');
    } finally {
      spool.close();
    }
  });

  it('agent - a resumed task whose params break the contract is refused with the field named, and central shows why', async () => {
    const dataDir = tmpDir('xchg-agent-');
    const firstRun: TaskAssignment[] = [];
    const a = agent(config(dataDir, await api.enrollToken(DEPT, 'dsj-params')), {
      runners: { sync: recordingRunner(firstRun) },
    });
    await a.start();
    await waitFor(() => a.assignmentVersion === 1, 10_000, 20, 'the initial assignment set');
    const created = await api.ok<TaskJson>('POST', '/tasks', {
      name: 'params-sync',
      kind: 'sync',
      nodeId: a.nodeId,
      binding: 'population',
      params: { fields: [{ name: 'id', type: 'integer' }] },
    });
    await waitFor(() => a.assignmentVersion === 2, 10_000, 20, 'assignment version 2');
    expect(firstRun.map((t) => t.id)).toEqual([created.id]);
    await waitFor(
      async () => (await api.ok<TaskJson>('GET', `/tasks/${created.id}`)).state === 'applied',
      10_000,
      50,
      'the task applied',
    );
    await a.shutdown();

    // As an agent saved it before central checked params: the same generation with params central refuses now.
    const db = new Database(join(dataDir, 'spool.db'));
    const saved = JSON.parse(
      (db.prepare('SELECT assignments FROM assignment_state').get() as { assignments: string }).assignments,
    ) as TaskAssignment[];
    saved[0]!.params = { fields: [{ name: 'id', type: 'int64' }] };
    db.prepare('UPDATE assignment_state SET assignments = ?').run(JSON.stringify(saved));
    db.close();

    const secondRun: TaskAssignment[] = [];
    const b = agent(config(dataDir), { runners: { sync: recordingRunner(secondRun) } });
    await b.start();
    expect(b.assignmentVersion).toBe(2);
    expect(secondRun).toEqual([]); // no runner for params that break the contract
    const view = await waitFor(
      async () => {
        const t = await api.ok<TaskJson>('GET', `/tasks/${created.id}`);
        return t.state === 'refused' ? t : undefined;
      },
      10_000,
      50,
      'central to show the refusal',
    );
    expect(view.refusal).toMatchObject({ nodeId: b.nodeId, generation: created.generation });
    expect(view.refusal!.reason).toBe(
      `invalid task params: params.fields[0].type: must be one of ${FIELD_TYPES.join(', ')}`,
    );
  });

  it('agent - shutdown does not wait on calls to a central that accepts connections but never answers', async () => {
    // A central that hangs (accepts the connection, never speaks): every call waits up to its deadline.
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const dataDir = tmpDir('xchg-agent-');
      saveIdentity(dataDir, {
        nodeId: 'node-silent',
        nodeSecret: 'x'.repeat(32),
        nodeName: 'dsj-silent',
        departmentCode: DEPT,
        regionCode: '',
        centralAddress: address,
        enrolledAt: Date.now(),
        dataPlane: { natsUrls: [], subjectPrefix: 'xchg', stream: 'XCHG_DATA', homeCenter: '' },
      });
      const a = agent(config(dataDir, undefined, { central: { address }, shutdownGraceMs: 1_000 }));
      await a.start();
      await waitFor(() => held.length > 0, 10_000, 20, 'the agent connected to the silent central');

      // Heartbeat, long-poll and Report calls are in flight (deadlines 10-15 s): shutdown cancels them and
      // gives the final flush its grace (1 s) only.
      const t0 = Date.now();
      await a.shutdown();
      expect(a.state).toBe('STOPPED');
      expect(Date.now() - t0).toBeLessThan(6_000);
      const spool = new Database(join(dataDir, 'spool.db'), { readonly: true });
      try {
        const kept = spool.prepare("SELECT body_json FROM report_outbox WHERE kind = 'event'").all() as {
          body_json: string;
        }[];
        expect(kept.map((r) => (JSON.parse(r.body_json) as { code: string }).code)).toContain('AGENT_STARTED');
      } finally {
        spool.close();
      }
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  });
});
