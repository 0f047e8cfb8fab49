// xchg traffic as an operator runs it: the built CLI against a real central process (nodes enrolled over real
// gRPC): import a file, refuse a bad one with its line numbers, show the history with totals, export it.
import * as grpc from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficHistory, TrafficImportSummary } from '../../central/src/api/traffic.js';
import { loadXchgV1, type AgentServiceClient, type EnrollResponse__Output } from '../../proto/index.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

describe('cli traffic - xchg traffic import, show and export against a real central', () => {
  let central: CentralProcess;
  let agent: AgentServiceClient;
  const node: string[] = [];
  const dir = tmpDir('xchg-traffic-cli-');

  const xchg = (args: string[]): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: central.url, XCHG_TOKEN: central.adminToken });

  async function json<T>(args: string[]): Promise<T> {
    const r = await xchg([...args, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  }

  beforeAll(async () => {
    central = await CentralProcess.start();
    agent = new (loadXchgV1().AgentService)(central.grpcAddress, grpc.credentials.createInsecure());
    for (const args of [
      ['region', 'create', '--code', '360000', '--name', '江西省', '--level', 'province'],
      ['dept', 'create', '--code', 'gat', '--name', '公安厅', '--region', '360000'],
    ]) {
      const r = await xchg(args);
      if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    }
    for (const name of ['gat-01', 'gat-02']) {
      const { token } = await json<{ token: string }>(['token', 'create', '--dept', 'gat', '--node', name]);
      const e = await new Promise<EnrollResponse__Output>((resolve, reject) =>
        agent.Enroll({ token, hostname: name, agentVersion: '0.1.0', labels: {} }, (err, res) =>
          err ? reject(err) : resolve(res!),
        ),
      );
      node.push(e.nodeId);
    }
  });

  afterAll(async () => {
    agent?.close();
    await central?.stop();
    removeTmpDirs();
  });

  it('cli traffic - import, show with totals, export the same rows; a bad file names its lines and exits 1', async () => {
    const [a, b] = node as [string, string];
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const lines = ['timestamp,records,bytes'];
    for (let h = 0; h < 24; h++) lines.push(`${day} ${String(h).padStart(2, '0')}:00:00,${h * 10},${h * 1000}`);
    const file = join(dir, 'history.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const s = await json<TrafficImportSummary>(['traffic', 'import', '--from', a, '--to', b, '--file', file]);
    expect(s).toMatchObject({ rowsRead: 24, intervalMs: 3_600_000, records: 2760, bucketsWritten: 288 });

    const h = await json<TrafficHistory>([
      'traffic',
      'show',
      '--from',
      a,
      '--to',
      b,
      '--since',
      day,
      '--step',
      '1h',
      '--until',
      `${day} 23:59:59`,
    ]);
    expect(h.buckets.map((x) => x.records)).toEqual(Array.from({ length: 24 }, (_, i) => i * 10));
    expect(h.totals).toMatchObject({ records: 2760, bytes: 276_000, bucketsWithData: 24 });
    expect(h.forecast).toBeNull();

    const table = await xchg([
      'traffic',
      'show',
      '--from',
      a,
      '--to',
      b,
      '--since',
      day,
      '--step',
      '1h',
      '--until',
      `${day} 23:59:59`,
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('2,760 records');
    expect(table.stdout).toContain('(1 empty bucket not shown)');

    const out = await xchg([
      'traffic',
      'export',
      '--from',
      a,
      '--to',
      b,
      '--since',
      day,
      '--step',
      '1h',
      '--until',
      `${day} 23:59:59`,
    ]);
    expect(out.code).toBe(0);
    const exported = out.stdout.trim().split('\n');
    expect(exported.length).toBe(25);
    expect(exported[1]).toBe(`${day}T00:00:00+08:00,0,0`);
    expect(exported[24]).toBe(`${day}T23:00:00+08:00,230,23000`);

    writeFileSync(file, 'timestamp,records\n2026-01-01 00:00:00,1\n2026-01-01 00:05:00,x\n');
    const bad = await xchg(['traffic', 'import', '--from', a, '--to', b, '--file', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('line 3: records "x": must be a non-negative number');
    const unknown = await xchg(['traffic', 'show', '--from', 'nd-nope', '--to', b]);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'xchg: node "nd-nope" not found']);
  });
});
