// xchg policy as an operator runs it: the built CLI against a real central process. A policy written with
// --window/--outside/--evidence flags is stored as the typed contract, listed and shown with why (reason and
// evidence) and its windows in local time; refusals name the flag or field; delete withdraws it.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyView } from '../../central/src/api/policies.js';
import { loadXchgV1, type EnrollResponse__Output } from '../../proto/index.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { removeTmpDirs } from '../helpers/tmp.js';

describe('cli policies - xchg policy against a real central', () => {
  let central: CentralProcess;
  let taskId = '';

  const xchg = (args: string[]): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: central.url, XCHG_TOKEN: central.adminToken });

  async function json<T>(args: string[]): Promise<T> {
    const r = await xchg([...args, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  }

  /** A refused command: its exit status and its one stderr line (nothing on stdout). */
  function failure(r: CliResult): string {
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    return r.stderr.trimEnd();
  }

  beforeAll(async () => {
    central = await CentralProcess.start({});
    const api = new Api(central.url, central.adminToken);
    await api.seedDepartment('gat');
    const token = await api.enrollToken('gat', 'gat-01');
    const client = new (loadXchgV1().AgentService)(central.grpcAddress, grpc.credentials.createInsecure());
    const e = await new Promise<EnrollResponse__Output>((resolve, reject) =>
      client.Enroll({ token, hostname: 'gat', agentVersion: '0.1.0', labels: {} }, (err, res) =>
        err ? reject(err) : resolve(res!),
      ),
    );
    client.close();
    taskId = (
      await api.ok<{ id: string }>('POST', '/tasks', { name: 'sync', kind: 'sync', nodeId: e.nodeId, binding: 'db' })
    ).id;
  });

  afterAll(async () => {
    await central?.stop();
    removeTmpDirs();
  });

  it('cli policies - create with flags, list and show with why and the windows, delete', async () => {
    const evidence = JSON.stringify([
      { kind: 'cluster', name: 'label', text: 'nightly bulk' },
      { kind: 'forecast', name: 'peak_records', value: 12000, unit: 'records/bucket' },
    ]);
    const p = await json<PolicyView>([
      'policy',
      'create',
      '--kind',
      'static',
      '--task',
      taskId,
      '--window',
      'workday 22:00-06:00 transfer=open,batch=5000,concurrency=2',
      '--window',
      'sat,sun 00:00-24:00 transfer=open,poll=30s',
      '--outside',
      'transfer=closed',
      '--holidays',
      '2026-10-01,2026-10-02',
      '--workdays',
      '2026-10-10',
      '--reason',
      '夜间批量: 92 % of records move 22:00-06:00',
      '--evidence',
      evidence,
    ]);
    expect(p).toMatchObject({
      kind: 'static',
      state: 'active',
      taskIds: [taskId],
      utcOffsetMinutes: 480,
      windows: [
        {
          dayType: 'workday',
          startMinute: 1320,
          endMinute: 1800,
          knobs: { transfer: 'open', batchRecords: 5000, concurrency: 2 },
        },
        { weekdays: [6, 7], startMinute: 0, endMinute: 1440, knobs: { transfer: 'open', pollIntervalMs: 30_000 } },
      ],
      outside: { transfer: 'closed' },
      holidays: ['2026-10-01', '2026-10-02'],
      makeUpWorkdays: ['2026-10-10'],
      generatedBy: 'operator',
    });
    expect(p.evidence[1]).toEqual({ kind: 'forecast', name: 'peak_records', value: 12000, unit: 'records/bucket' });

    expect((await json<PolicyView[]>(['policy', 'list'])).map((x) => x.id)).toEqual([p.id]);
    expect(await json<PolicyView[]>(['policy', 'list', '--kind', 'dynamic'])).toEqual([]);
    expect((await json<PolicyView[]>(['policy', 'list', '--task', taskId])).map((x) => x.id)).toEqual([p.id]);

    const shown = await xchg(['policy', 'show', p.id]);
    expect(shown.code).toBe(0);
    for (const text of [
      'Why',
      '夜间批量: 92 % of records move 22:00-06:00',
      'Windows (UTC+08:00)',
      'workday 22:00-06:00 (next day)',
      'transfer open, batch 5000, concurrency 2',
      'sat,sun 00:00-24:00',
      'transfer open, poll 30s',
      'Outside windows',
      'transfer closed',
      'nightly bulk',
      '12000 records/bucket',
      'pending',
      'In force now',
    ])
      expect(shown.stdout, text).toContain(text);
    const table = await xchg(['policy', 'list']);
    expect(table.stdout).toMatch(/^ID\s+KIND\s+STATE\s+TASKS\s+WINDOWS\s+VALID\s+BY\s+GEN\s+WHY\n/);

    const r = await xchg(['policy', 'delete', p.id]);
    expect([r.code, r.stdout.trim()]).toEqual([0, `withdrew policy ${p.id}`]);
    expect(await json<PolicyView[]>(['policy', 'list'])).toEqual([]);
    expect((await json<PolicyView[]>(['policy', 'list', '--all'])).map((x) => [x.id, x.state])).toEqual([
      [p.id, 'expired'],
    ]);
  });

  it('cli policies - refusals name the flag or the field', async () => {
    const base = ['policy', 'create', '--kind', 'static', '--reason', 'test'];
    expect(failure(await xchg([...base, '--task', 'tsk-nope']))).toBe('xchg: --task: task "tsk-nope" not found');
    expect(failure(await xchg([...base, '--task', taskId, '--outside', 'batch=0']))).toBe(
      'xchg: outside.batchRecords: 0 is outside 1..100000',
    );
    expect(failure(await xchg([...base, '--task', taskId, '--window', 'workday 25:00-06:00']))).toContain(
      '"25:00" is not a time HH:MM',
    );
    expect(failure(await xchg([...base, '--task', taskId, '--outside', 'speed=3']))).toContain(
      'unknown knob "speed": use transfer=open|closed, batch=<records>, concurrency=<slots>, poll=<duration>',
    );
    expect(await json<PolicyView[]>(['policy', 'list', '--all'])).toHaveLength(1); // the deleted one only
  });
});
