// An assignment change reaches 50 agents within 2 s: 50 agents share this test process (each with its
// own data dir, spool and gRPC channel) and long-poll a real central process.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../node-agent/src/agent.js';
import { compileConfig } from '../../node-agent/src/config.js';
import type { TaskAssignment } from '../../node-agent/src/tasks/supervisor.js';
import { FAST_AGENT } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const N = 50;

describe('fanout - assignments reach many agents', () => {
  let central: CentralProcess;
  let api: Api;
  const agents: Agent[] = [];
  const started = new Map<string, TaskAssignment[]>();

  beforeAll(async () => {
    // Production poll timeout (30 s): the change must wake the parked polls, not wait for them to expire.
    central = await CentralProcess.start({ pollTimeoutMs: 30_000 });
    api = new Api(central.url, central.adminToken);
    await api.seedDepartment('dsj');
    const logger = pino({ level: 'silent' });
    for (let i = 0; i < N; i++) {
      const token = await api.enrollToken('dsj', `dsj-${String(i).padStart(2, '0')}`);
      const config = compileConfig({
        env: {},
        overrides: {
          ...FAST_AGENT,
          reportIntervalMs: 60_000,
          dataDir: tmpDir('xchg-fan-'),
          central: { address: central.grpcAddress, enrollToken: token },
        },
      });
      const agent = new Agent(config, {
        logger,
        runners: {
          // A task runner of the test's own: records that the supervisor started the task.
          sync: (task) => {
            started.set(agent.nodeId!, [...(started.get(agent.nodeId!) ?? []), task]);
            return { stop: async () => undefined };
          },
        },
      });
      agents.push(agent);
    }
    await Promise.all(agents.map((a) => a.start()));
    await waitFor(() => agents.every((a) => a.assignmentVersion === 1), 20_000, 50, 'initial assignment sets');
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.shutdown()));
    await central?.stop();
  });

  it(`fanout - a task created for each of ${N} nodes reaches its agent within 2 s`, async () => {
    const arrived = new Map<string, number>();
    for (const a of agents)
      a.on('assignments', (version: number) => version === 2 && arrived.set(a.nodeId!, Date.now()));
    const created = new Map<string, number>();
    await Promise.all(
      agents.map(async (a) => {
        await api.ok('POST', '/tasks', {
          name: `sync-${a.nodeId}`,
          kind: 'sync',
          nodeId: a.nodeId,
          binding: 'population',
        });
        created.set(a.nodeId!, Date.now());
      }),
    );
    await waitFor(() => arrived.size === N, 10_000, 20, 'all agents at version 2');
    const latencies = agents.map((a) => arrived.get(a.nodeId!)! - created.get(a.nodeId!)!);
    // A negative latency means the agent had it before the HTTP reply reached the test: also fine.
    expect(Math.max(...latencies)).toBeLessThan(2_000);
    for (const a of agents) {
      expect(started.get(a.nodeId!)?.map((t) => t.binding)).toEqual(['population']);
    }
    // Every agent acknowledged the assignment as applied.
    await waitFor(
      async () => {
        const acks = await Promise.all(
          agents.map((a) => api.ok<{ acks: { outcome: string }[] }>('GET', `/nodes/${a.nodeId}`)),
        );
        return acks.every((d) => d.acks.length === 1 && d.acks[0]!.outcome === 'applied');
      },
      10_000,
      100,
      'applied acks',
    );
  });

  it('fanout - a task of a kind the agent cannot run is acknowledged as rejected with the reason', async () => {
    const a = agents[0]!;
    const task = await api.ok<{ id: string }>('POST', '/tasks', {
      name: 'x',
      kind: 'exchange',
      nodeId: a.nodeId,
      binding: 'nowhere',
    });
    const ack = await waitFor(async () => {
      const d = await api.ok<{ acks: { assignmentId: string; outcome: string; reason: string }[] }>(
        'GET',
        `/nodes/${a.nodeId}`,
      );
      return d.acks.find((x) => x.assignmentId === task.id);
    }, 10_000);
    expect(ack.outcome).toBe('rejected');
    expect(ack.reason).toContain('no runner for task kind "exchange"');
  });
});
