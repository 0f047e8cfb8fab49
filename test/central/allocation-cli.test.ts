// xchg task show / spread / unspread (dynamic node allocation) as an operator runs them: the built CLI against a
// real central process with two enrolled agents of one department whose gRPC heartbeats declare the binding.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AllocationView } from '../../central/src/api/task-allocation.js';
import { loadXchgV1, type EnrollResponse__Output } from '../../proto/index.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { removeTmpDirs } from '../helpers/tmp.js';

describe('cli allocation - xchg task spread against a real central', () => {
  let central: CentralProcess;
  let taskId = '';
  const nodes: string[] = [];

  const xchg = (args: string[]): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: central.url, XCHG_TOKEN: central.adminToken });

  async function json<T>(args: string[]): Promise<T> {
    const r = await xchg([...args, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  }

  /** An agent enrolling and sending one heartbeat that declares `bindings`. */
  async function agent(api: Api, name: string, bindings: string[]): Promise<string> {
    const token = await api.enrollToken('gat', name);
    const client = new (loadXchgV1().AgentService)(central.grpcAddress, grpc.credentials.createInsecure());
    try {
      const e = await new Promise<EnrollResponse__Output>((resolve, reject) =>
        client.Enroll({ token, hostname: name, agentVersion: '0.1.0', labels: {} }, (err, res) =>
          err ? reject(err) : resolve(res!),
        ),
      );
      const md = new grpc.Metadata();
      md.set('x-xchg-node-id', e.nodeId);
      md.set('authorization', `Bearer ${e.nodeSecret}`);
      await new Promise<void>((resolve, reject) =>
        client.Heartbeat({ health: { bindings }, sentAtMs: Date.now() }, md, (err) => (err ? reject(err) : resolve())),
      );
      return e.nodeId;
    } finally {
      client.close();
    }
  }

  beforeAll(async () => {
    central = await CentralProcess.start({});
    const api = new Api(central.url, central.adminToken);
    await api.seedDepartment('gat');
    nodes.push(await agent(api, 'gat-01', ['db']), await agent(api, 'gat-02', ['db']), await agent(api, 'gat-03', []));
    taskId = (
      await api.ok<{ id: string }>('POST', '/tasks', { name: 'sync', kind: 'sync', nodeId: nodes[0], binding: 'db' })
    ).id;
  });

  afterAll(async () => {
    await central?.stop();
    removeTmpDirs();
  });

  it('cli allocation - show, spread, a second spread refused, unspread', async () => {
    const shown = await json<{ id: string; allocation: AllocationView }>(['task', 'show', taskId]);
    expect(shown.allocation).toMatchObject({ state: 'single', epoch: 0, count: 1, candidates: [nodes[1]] });
    // Words that read like the brain's own reason stay the operator's (origin): the tide and the surge never merge it.
    const words = 'surge expected at 14:00';
    const spread = await json<AllocationView>(['task', 'spread', taskId, '--agents', '2', '--reason', words]);
    expect(spread).toMatchObject({
      state: 'splitting',
      epoch: 1,
      count: 2,
      primaryNodeId: nodes[0],
      reason: expect.stringMatching(/^spread by \S+: surge expected at 14:00$/),
      origin: 'operator',
    });
    expect(spread.standbys).toEqual([{ index: 1, nodeId: nodes[1], state: 'pending', cursorJson: null }]);
    const again = await xchg(['task', 'spread', taskId, '--agents', '1']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already spread \(plan 1, splitting\)/);
    const text = await xchg(['task', 'show', taskId]);
    expect(text.stdout).toMatch(/Allocation\s+splitting over 2 shards \(plan 1\)/);
    const merged = await json<AllocationView>(['task', 'unspread', taskId]);
    expect(merged).toMatchObject({ state: 'merging', epoch: 1 });
    const audit = await json<{ action: string; entityId: string }[]>(['audit', 'list']);
    expect(audit.filter((e) => e.entityId === taskId).map((e) => e.action)).toEqual(
      expect.arrayContaining(['task.spread', 'task.unspread']),
    );
  });
});
