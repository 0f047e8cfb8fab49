// The brain's clustering over central's real traffic history: simulated pairs with planted classes written as
// buckets, one run recovers the classes, stores the run, and writes one static policy per pair that has a sync
// task — delivered to the provider node, replaced in place by the next run, never touching operators' policies.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { adjustedRandIndex } from '../../central/src/domain/clustering.js';
import { HOUR_MS } from '../../central/src/domain/traffic.js';
import { CHINA_CALENDAR_2025_2026, generateProvince } from '../../scripts/sim/generate.js';
import { centralDeps, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

// 2025-09-01 00:00 China Standard Time; 35 days take in National Day (10-01..10-08) and the 调休 Sunday 09-28.
const START_MS = Date.parse('2025-08-31T16:00:00Z');
const DAYS = 35;

function world(pairs: number): {
  d: CentralDeps;
  sim: ReturnType<typeof generateProvince>;
  provider: string;
  task: string;
} {
  const d = centralDeps({ calendar: CHINA_CALENDAR_2025_2026 });
  opened.push(d);
  d.manual!.nowMs = START_MS + DAYS * 24 * HOUR_MS;
  const sim = generateProvince({ pairs, days: DAYS, startMs: START_MS, seed: 7, calendar: CHINA_CALENDAR_2025_2026 });
  d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
  d.registry.createDepartment({ code: 'gat', name: '公安厅', regionCode: '360000' });
  d.registry.createDepartment({ code: 'sbj', name: '社保局', regionCode: '360000' });
  const enroll = (dept: string): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    return d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} }).node.id;
  };
  const provider = enroll('gat');
  const consumer = enroll('sbj');
  // The first simulated pair is a real flow: its history is written under the real nodes, with a sync task.
  const first = sim.pairs[0]!;
  first.fromNode = provider;
  first.toNode = consumer;
  first.resource = '';
  const task = d.assignments.createTask({
    name: 'sync',
    kind: 'sync',
    nodeId: provider,
    peerNodeId: consumer,
    binding: 'db',
    subscriptionId: 'sub-1',
  }).id;
  d.store.tx(() => {
    for (const p of sim.pairs) {
      const rows = p.series.values.map((records, i) => ({
        startMs: p.series.startMs + i * p.series.bucketMs,
        batches: Math.ceil(records / p.recordsPerBatch),
        records,
        bytes: records * p.bytesPerRecord,
        latencyP50Ms: null,
        latencyP99Ms: null,
        errors: 0,
        origin: 'import' as const,
      }));
      d.store.traffic.put('traffic_buckets', p, rows);
      d.store.traffic.rollupHours(p, START_MS, START_MS + DAYS * 24 * HOUR_MS);
    }
  });
  return { d, sim, provider, task };
}

describe('brain clustering', () => {
  it('brain clustering - recovers the planted classes from stored history and writes the flow a static policy', () => {
    const { d, sim, provider, task } = world(60);
    const r = d.clusters.run();
    expect(r.run).toBeDefined();
    expect(r.run!.pairs).toBe(60);
    expect(r.run!.k).toBe(5);
    const members = d.store.brain.members(r.run!.runId);
    const key = (p: { fromNode: string; toNode: string; resource: string }) =>
      `${p.fromNode}|${p.toNode}|${p.resource}`;
    const clusterOf = new Map(members.map((m) => [key(m), m.clusterId]));
    const ari = adjustedRandIndex(
      sim.pairs.map((p) => p.cls),
      sim.pairs.map((p) => clusterOf.get(key(p))!),
    );
    expect(ari).toBeGreaterThanOrEqual(0.9);
    expect(d.store.brain.clusters(r.run!.runId)).toHaveLength(5);
    // The real flow got one static policy, from the brain, with its cluster as evidence.
    expect(r.policies).toEqual({ created: 1, replaced: 0, withoutTask: 59 });
    const [pol] = d.policies.list({ taskId: task });
    expect(pol).toMatchObject({ kind: 'static', generatedBy: 'brain', taskIds: [task], generation: 1 });
    expect(pol!.evidence.find((e) => e.name === 'label')?.text).toMatch(/\//);
    // Inside its predicted busy window (or all day without one) the task reads its source every 200 ms.
    const knobs = pol!.windows.length ? pol!.windows.map((w) => w.knobs) : [pol!.outside];
    for (const k of knobs) expect(k.pollIntervalMs).toBe(200);
    expect(d.policies.assignmentsFor(provider).map((a) => a.id)).toEqual([pol!.id]);
  });

  it('brain clustering - a second run replaces the pair policy in place and leaves operator policies alone', () => {
    const { d, task } = world(30);
    d.clusters.run();
    const op = d.policies.create({
      kind: 'static',
      taskIds: [task],
      windows: [],
      outside: { batchRecords: 7 },
      reason: 'operator',
    });
    const again = d.clusters.run();
    expect(again.policies).toMatchObject({ created: 0, replaced: 1 });
    const mine = d.policies.list({ taskId: task });
    expect(mine.map((p) => [p.generatedBy, p.generation]).sort()).toEqual([
      ['brain', 2],
      ['operator', 1],
    ]);
    expect(mine.find((p) => p.id === op.id)?.outside).toEqual({ batchRecords: 7 });
  });

  it('brain clustering - pairs with less than the least history are left out, no run without pairs', () => {
    const d = centralDeps();
    opened.push(d);
    expect(d.clusters.run()).toMatchObject({ run: undefined, skipped: 0 });
    const pair = { fromNode: 'n-a', toNode: 'n-b', resource: '' };
    const now = d.clock();
    d.store.traffic.put('traffic_buckets', pair, [
      {
        startMs: now - 2 * 24 * HOUR_MS,
        batches: 1,
        records: 5,
        bytes: null,
        latencyP50Ms: null,
        latencyP99Ms: null,
        errors: 0,
        origin: 'live',
      },
    ]);
    d.store.traffic.rollupHours(pair, now - 3 * 24 * HOUR_MS, now);
    expect(d.clusters.run()).toMatchObject({ run: undefined, skipped: 1 });
  });
});
