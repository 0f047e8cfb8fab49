// xchg cluster and xchg surge as an operator runs them: the built CLI against a real central process, history
// of simulated pairs imported with `xchg traffic import`; the import's replay lists the planted surges (origin
// import), `xchg cluster run` groups the pairs by their planted class, list and show explain the clusters.
import * as grpc from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterDetail, ClusterRunSummary, ClusterRunView, SurgeView } from '../../central/src/api/brain.js';
import type { TrafficHistory } from '../../central/src/api/traffic.js';
import { adjustedRandIndex } from '../../central/src/domain/clustering.js';
import { loadXchgV1, type AgentServiceClient, type EnrollResponse__Output } from '../../proto/index.js';
import { CHINA_CALENDAR_2025_2026, generateProvince, type SimPair } from '../../scripts/sim/generate.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const DAY = 86_400_000;
const BUCKET = 300_000;

describe('cli brain - xchg cluster and xchg surge against a real central', () => {
  let central: CentralProcess;
  let agent: AgentServiceClient;
  const nodes: string[] = [];
  const dir = tmpDir('xchg-brain-cli-');
  let pairs: SimPair[] = [];

  const xchg = (args: string[]): Promise<CliResult> =>
    runCli(args, { XCHG_SERVER: central.url, XCHG_TOKEN: central.adminToken });
  async function json<T>(args: string[]): Promise<T> {
    const r = await xchg([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} → ${r.code}: ${r.stderr}`);
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
    for (let i = 0; i < 6; i++) {
      const { token } = await json<{ token: string }>(['token', 'create', '--dept', 'gat', '--node', `gat-0${i}`]);
      const e = await new Promise<EnrollResponse__Output>((resolve, reject) =>
        agent.Enroll({ token, hostname: `h${i}`, agentVersion: '0.1.0', labels: {} }, (err, res) =>
          err ? reject(err) : resolve(res!),
        ),
      );
      nodes.push(e.nodeId);
    }
    // 28 days ending at the last local (UTC+8) midnight; five pairs of each of three planted classes.
    const end = Math.floor((Date.now() + 8 * 3_600_000) / DAY) * DAY - 8 * 3_600_000;
    pairs = generateProvince({
      pairs: 15,
      days: 28,
      startMs: end - 28 * DAY,
      seed: 3,
      calendar: CHINA_CALENDAR_2025_2026,
      classes: ['nightly-bulk', 'office-hours', 'realtime-steady'],
      surgesPerPair: 2,
    }).pairs;
    for (const [i, p] of pairs.entries()) {
      // Distinct ordered pairs of the six nodes: (0,1), (0,2), … (1,0), (1,2), …
      const from = Math.floor(i / 5);
      const to = (from + 1 + (i % 5)) % 6;
      p.fromNode = nodes[from]!;
      p.toNode = nodes[to]!;
      p.resource = '';
      const lines = ['timestamp,records'];
      p.series.values.forEach((v, j) => lines.push(`${new Date(p.series.startMs + j * BUCKET).toISOString()},${v}`));
      const file = join(dir, `pair-${i}.csv`);
      writeFileSync(file, lines.join('\n') + '\n');
      const r = await xchg(['traffic', 'import', '--from', p.fromNode, '--to', p.toNode, '--file', file]);
      if (r.code !== 0) throw new Error(`import ${i} → ${r.code}: ${r.stderr}`);
    }
  }, 180_000);

  afterAll(async () => {
    agent?.close();
    await central?.stop();
    removeTmpDirs();
  });

  it('cli brain - the import replay lists the planted surges found within two buckets, as origin import', async () => {
    const planted = pairs.flatMap((p) =>
      p.surges
        .filter((s) => s.startIdx >= 14 * (DAY / BUCKET))
        .map((s) => ({ p, startMs: p.series.startMs + s.startIdx * BUCKET })),
    );
    expect(planted.length).toBeGreaterThan(0);
    const surges = await waitFor(async () => {
      const all = await json<SurgeView[]>(['surge', 'list', '--origin', 'import']);
      const hits = planted.filter((x) =>
        all.some(
          (s) =>
            s.fromNode === x.p.fromNode && s.toNode === x.p.toNode && Math.abs(s.startMs - x.startMs) <= 2 * BUCKET,
        ),
      );
      return hits.length === planted.length ? all : undefined;
    }, 60_000);
    for (const s of surges) {
      expect(s.origin).toBe('import');
      expect(s.peak).toBeGreaterThan(s.expected);
      expect(s.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    }
    const table = await xchg(['surge', 'list', '--origin', 'import']);
    expect(table.stdout).toContain(surges[0]!.surgeId);
  });

  it('cli brain - traffic show puts the forecast fitted before the range beside the history', async () => {
    const p = pairs.find((x) => x.cls === 'realtime-steady')!;
    const day = p.series.startMs + 20 * DAY;
    const h = await json<TrafficHistory>([
      'traffic',
      'show',
      '--from',
      p.fromNode,
      '--to',
      p.toNode,
      '--since',
      new Date(day).toISOString(),
      '--until',
      new Date(day + DAY).toISOString(),
      '--step',
      '1h',
    ]);
    expect(h.forecast).not.toBeNull();
    expect(h.forecast!.fittedAtMs).toBe(h.sinceMs);
    expect(h.forecast!.buckets.map((b) => b.startMs)).toEqual(h.buckets.map((b) => b.startMs));
    // Against the simulator's noise-free, surge-free truth of that day (the actual day may hold a planted surge).
    const first = (day - p.series.startMs) / BUCKET;
    const truth = p.expected.slice(first, first + DAY / BUCKET).reduce((a, b) => a + b, 0);
    const expected = h.forecast!.buckets.reduce((a, b) => a + b.expected, 0);
    expect(expected / truth, JSON.stringify({ expected, truth, actual: h.totals.records })).toBeGreaterThan(0.7);
    expect(expected / truth).toBeLessThan(1.4);
    for (const b of h.forecast!.buckets) expect(b.lower <= b.expected && b.expected <= b.upper).toBe(true);
    const text = await xchg([
      'traffic',
      'show',
      '--from',
      p.fromNode,
      '--to',
      p.toNode,
      '--since',
      new Date(day).toISOString(),
      '--until',
      new Date(day + DAY).toISOString(),
      '--step',
      '1h',
    ]);
    expect(text.stdout).toContain('EXPECTED (95 %)');
    expect(text.stdout).toMatch(/Forecast +fitted on the history before \d{4}-\d{2}-\d{2}T00:00:00\+08:00/);
    // Without a week of history before the range there is no forecast.
    const early = await json<TrafficHistory>([
      'traffic',
      'show',
      '--from',
      p.fromNode,
      '--to',
      p.toNode,
      '--since',
      new Date(p.series.startMs + DAY).toISOString(),
      '--until',
      new Date(p.series.startMs + 2 * DAY).toISOString(),
    ]);
    expect(early.forecast).toBeNull();
  });

  it('cli brain - cluster run labels the pairs by their planted class; list and show explain the clusters', async () => {
    const r = await json<ClusterRunSummary>(['cluster', 'run']);
    expect(r.run).not.toBeNull();
    expect(r.run!.pairs).toBe(15);
    const run = await json<ClusterRunView>(['cluster', 'list']);
    expect(run.runId).toBe(r.run!.runId);
    // With 15 pairs the silhouette may split a class by its peak hour (k 5 for 3 classes): the operator reads the
    // label, so the label's base (nightly bulk, office hours, real-time) must reproduce the planted classes.
    const baseOf = new Map<string, string>();
    for (const c of run.clusters) {
      const d = await json<ClusterDetail>(['cluster', 'show', String(c.clusterId)]);
      expect(d.members).toHaveLength(c.size);
      for (const m of d.members) baseOf.set(`${m.fromNode}|${m.toNode}`, c.label.base);
    }
    const ari = adjustedRandIndex(
      pairs.map((p) => p.cls),
      pairs.map((p) => baseOf.get(`${p.fromNode}|${p.toNode}`) ?? '?'),
    );
    expect(ari).toBeGreaterThanOrEqual(0.9);
    const text = await xchg(['cluster', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/highest mean silhouette/);
    for (const c of run.clusters) expect(text.stdout).toContain(c.label.zh);
    const missing = await xchg(['cluster', 'show', '99']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cluster/);
  });
});
