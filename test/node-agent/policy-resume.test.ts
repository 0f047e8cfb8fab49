// An in-process agent against a real central: the policies of its set reach its runners' context
// (DataPathContext.policies) before the tasks start, are acknowledged applied, and after a restart while
// central is down the policies saved with the set are in force again (nothing of it from central).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyView } from '../../central/src/api/policies.js';
import { Agent } from '../../node-agent/src/agent.js';
import { compileConfig, type AgentConfig } from '../../node-agent/src/config.js';
import type { DataPathContext } from '../../node-agent/src/exchange/runner-kit.js';
import type { RunnerFactory } from '../../node-agent/src/tasks/supervisor.js';
import { FAST_AGENT } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

describe('policy resume - the agent keeps its policies across a restart', () => {
  let central: CentralProcess;
  let api: Api;

  beforeAll(async () => {
    central = await CentralProcess.start({ pollTimeoutMs: 2_000 });
    api = new Api(central.url, central.adminToken);
    await api.seedDepartment('dsj');
  });
  afterAll(async () => {
    await central?.stop();
    removeTmpDirs();
  });

  const config = (dataDir: string, token?: string): AgentConfig =>
    compileConfig({
      env: {},
      overrides: {
        ...FAST_AGENT,
        dataDir,
        central: { address: central.grpcAddress, ...(token && { enrollToken: token }) },
      },
    });

  /** A runner that records, when its task starts, the knobs its context's policies give it now. */
  function knobsAtStart(into: unknown[]): RunnerFactory<DataPathContext> {
    return (task, ctx) => {
      into.push(ctx.policies?.knobs(task.id, Date.now()).knobs);
      return { stop: async () => undefined };
    };
  }

  it('policy resume - in force when the task starts, and again after a restart with central down', async () => {
    const dataDir = tmpDir('xchg-agent-');
    const seen: unknown[] = [];
    const a = new Agent(config(dataDir, await api.enrollToken('dsj', 'dsj-policy')), {
      logger: pino({ level: 'silent' }),
      runners: { sync: knobsAtStart(seen) as RunnerFactory },
    });
    await a.start();
    await waitFor(() => a.assignmentVersion === 1, 10_000, 20, 'the initial set');
    // The task and its policy arrive in one set (the policy is written while the task is disabled).
    const task = await api.ok<{ id: string }>('POST', '/tasks', {
      name: 'sync',
      kind: 'sync',
      nodeId: a.nodeId,
      binding: 'db',
      enabled: false,
    });
    const p = await api.ok<PolicyView>('POST', '/policies', {
      kind: 'static',
      taskIds: [task.id],
      windows: [],
      outside: { batchRecords: 321, concurrency: 2 },
      reason: 'test',
    });
    await api.ok('PATCH', `/tasks/${task.id}`, { enabled: true });
    await waitFor(() => seen.length === 1, 10_000, 20, 'the task to start');
    expect(seen).toEqual([{ batchRecords: 321, concurrency: 2 }]);
    await waitFor(
      async () => (await api.ok<PolicyView>('GET', `/policies/${p.id}`)).delivery[0]?.outcome === 'applied',
      10_000,
      50,
      'the policy acknowledged applied',
    );
    await a.shutdown();

    await central.stop('SIGKILL');
    const b = new Agent(config(dataDir), {
      logger: pino({ level: 'silent' }),
      runners: { sync: knobsAtStart(seen) as RunnerFactory },
    });
    try {
      await b.start();
      expect(central.proc.child.exitCode !== null || central.proc.child.signalCode !== null).toBe(true);
      expect(seen).toEqual([
        { batchRecords: 321, concurrency: 2 },
        { batchRecords: 321, concurrency: 2 },
      ]);
    } finally {
      await b.shutdown();
      await central.restart();
    }
  });
});
