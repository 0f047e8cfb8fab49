// Dynamic node allocation in central: the shard plan's state machine (domain/shards.ts) and the ShardService over
// a real central.db with the real services — a live surge spreads the pair's sync task over the department's
// standby agents that declare its binding, the agents' reports move the plan on (split, hand back, merged), the
// surge's end merges it, every change is audited, and each node is told its part (primary, standby, consumer).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  acceptedSources,
  applyReport,
  primaryView,
  spreadPlan,
  standbyView,
  unspreadPlan,
  type ShardPlan,
} from '../../central/src/domain/shards.js';
import { DAY_MS, type TrafficPair } from '../../central/src/domain/traffic.js';
import type { ShardService } from '../../central/src/services/shards.js';
import { CHINA_CALENDAR_2025_2026, generateProvince } from '../../scripts/sim/generate.js';
import { centralDeps, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

const START_MS = Date.parse('2025-08-31T16:00:00Z');
const BUCKET = 300_000;

describe('shards - plan state machine', () => {
  const report = (p: ShardPlan, node: string, kind: string, index = 0, cursorJson = '{"c":"9","k":"9"}') =>
    applyReport(p, node, 'P', { epoch: p.epoch, kind, index, cursorJson }, 2);

  it('shards - spread, split-ready, unspread, shard-done and merged move single → splitting → split → merging → single', () => {
    let p = spreadPlan(undefined, 't1', ['S1', 'S2'], 'surge', 'surge', 1);
    expect(p).toMatchObject({ epoch: 1, count: 3, state: 'splitting', splitCursorJson: null });
    expect(standbyView(p, 'S1')).toBeUndefined(); // no standby starts before the primary's split is receipted
    expect(acceptedSources(p)).toEqual([]);
    expect(report(p, 'S1', 'split-ready')).toBeUndefined(); // only the primary splits
    p = report(p, 'P', 'split-ready', 0, '{"c":"5","k":"5"}')!;
    expect(p.state).toBe('split');
    expect(standbyView(p, 'S2')).toMatchObject({ role: 'standby', index: 2, startCursorJson: '{"c":"5","k":"5"}' });
    expect(acceptedSources(p)).toEqual(['S1', 'S2']);
    expect(report(p, 'P', 'split-ready')).toBeUndefined(); // repeated: nothing changes
    expect(() => spreadPlan(p, 't1', ['S1'], 'operator', 'again', 3)).toThrow(/already spread/);
    p = unspreadPlan(p, 3);
    expect(p.standbys.map((s) => s.state)).toEqual(['withdrawn', 'withdrawn']);
    expect(standbyView(p, 'S1')).toMatchObject({ withdrawn: true });
    expect(report(p, 'P', 'merged')).toBeUndefined(); // not before every shard is back
    expect(report(p, 'S2', 'shard-done', 1)).toBeUndefined(); // shard 1 is S1's
    p = report(p, 'S1', 'shard-done', 1, '{"c":"20","k":"20"}')!;
    expect(primaryView(p)!.returned).toEqual([{ index: 1, cursorJson: '{"c":"20","k":"20"}' }]);
    expect(acceptedSources(p)).toEqual(['S2']); // S1 drained: its batches are all receipted
    p = report(p, 'S2', 'shard-done', 2, '{"c":"30","k":"30"}')!;
    p = report(p, 'P', 'merged')!;
    expect(p.state).toBe('single');
    expect(primaryView(p)).toBeUndefined();
    expect(spreadPlan(p, 't1', ['S2'], 'operator', 'next', 4)).toMatchObject({
      epoch: 2,
      count: 2,
      state: 'splitting',
    });
  });

  it('shards - an unspread before the split hands the never-started shards back at the split cursor', () => {
    let p = unspreadPlan(spreadPlan(undefined, 't1', ['S1'], 'surge', 'surge', 1), 2);
    expect(p.state).toBe('merging');
    p = report(p, 'P', 'split-ready', 0, '{"c":"7","k":"7"}')!;
    expect(p.standbys).toEqual([{ index: 1, nodeId: 'S1', state: 'done', cursorJson: '{"c":"7","k":"7"}' }]);
    expect(standbyView(p, 'S1')).toBeUndefined();
    expect(report(p, 'P', 'merged')!.state).toBe('single');
  });
});

function flow(d: CentralDeps): { pair: TrafficPair; task: string; standbys: string[] } {
  d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
  d.registry.createDepartment({ code: 'gat', name: '公安厅', regionCode: '360000' });
  d.registry.createDepartment({ code: 'sbj', name: '社保局', regionCode: '360000' });
  const enroll = (dept: string, name: string, bindings: string[]): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: name });
    const node = d.nodes.enroll({ token, hostname: name, agentVersion: '0.1.0', labels: {} }).node;
    d.nodes.heartbeat(node, { bindings }, '0.1.0');
    return node.id;
  };
  const pair = { fromNode: enroll('gat', 'gat-01', ['db']), toNode: enroll('sbj', 'sbj-01', []), resource: '' };
  // Two standbys with the binding, one without it (never chosen).
  const standbys = [enroll('gat', 'gat-02', ['db', 'other']), enroll('gat', 'gat-03', ['db'])].sort();
  enroll('gat', 'gat-04', ['other']);
  const task = d.assignments.createTask({
    name: 'sync',
    kind: 'sync',
    nodeId: pair.fromNode,
    peerNodeId: pair.toNode,
    binding: 'db',
    subscriptionId: 'sub-1',
  }).id;
  d.assignments.createTask({
    name: 'in',
    kind: 'exchange',
    nodeId: pair.toNode,
    peerNodeId: pair.fromNode,
    binding: 'sink',
    subscriptionId: 'sub-1',
  });
  return { pair, task, standbys };
}

function put(d: CentralDeps, pair: TrafficPair, startMs: number, values: readonly number[]): void {
  d.store.tx(() => {
    d.store.traffic.put(
      'traffic_buckets',
      pair,
      values.map((records, i) => ({
        startMs: startMs + i * BUCKET,
        batches: records > 0 ? 1 : 0,
        records,
        bytes: null,
        latencyP50Ms: null,
        latencyP99Ms: null,
        errors: 0,
        origin: 'live' as const,
      })),
    );
    const hour = 3_600_000;
    d.store.traffic.rollupHours(
      pair,
      Math.floor(startMs / hour) * hour,
      Math.ceil((startMs + values.length * BUCKET) / hour) * hour,
    );
  });
}

describe('shards - service', () => {
  it('shards - a live surge spreads the sync task over two standbys, the agents move the plan on, its end merges', async () => {
    const d = centralDeps({ calendar: CHINA_CALENDAR_2025_2026 });
    opened.push(d);
    const shards = d.http.shards as ShardService;
    const { pair, task, standbys } = flow(d);
    expect(shards.candidates(d.assignments.getTask(task))).toEqual(standbys);
    const sim = generateProvince({
      pairs: 1,
      days: 24,
      startMs: START_MS,
      seed: 11,
      calendar: CHINA_CALENDAR_2025_2026,
      classes: ['realtime-steady'],
      surgesPerPair: 0,
    }).pairs[0]!;
    const history = 21 * (DAY_MS / BUCKET);
    put(d, pair, START_MS, sim.series.values.slice(0, history));
    const liveStart = START_MS + history * BUCKET;
    d.manual!.nowMs = liveStart + 61_000;
    await d.surges.tick();
    const surge = [0, 1, 2].map((i) => Math.round(8 * Math.max(sim.expected[history + i]!, sim.meanLevel)));
    let i = 0;
    const feed = async (v: number): Promise<void> => {
      put(d, pair, liveStart + i * BUCKET, [v]);
      d.manual!.nowMs = liveStart + ++i * BUCKET + 61_000;
      await d.surges.tick();
    };
    await feed(surge[0]!);
    await feed(surge[1]!);
    const plan = shards.plan(task)!;
    expect(plan).toMatchObject({ epoch: 1, count: 3, state: 'splitting' });
    expect(plan.standbys.map((s) => s.nodeId)).toEqual(standbys);
    const [open] = d.surges.list({ openOnly: true });
    expect(open!.actions).toContainEqual({ action: 'spread', taskId: task, nodes: standbys, epoch: 1 });

    // What each node is told: the primary its plan, a standby nothing before the split.
    const specs = (node: string) => shards.allocated(node, d.store.tasks.forNode(node));
    expect(specs(pair.fromNode)[0]!.shard).toMatchObject({ role: 'primary', state: 'splitting', startCursorJson: '' });
    expect(specs(standbys[0]!)).toEqual([]);
    const split = { taskId: task, epoch: 1, kind: 'split-ready', index: 0, cursorJson: '{"c":"100","k":"100"}' };
    shards.onReport(pair.fromNode, split);
    expect(shards.plan(task)!.state).toBe('split');
    const [standbyTask] = specs(standbys[1]!);
    expect(standbyTask).toMatchObject({ task: { id: task }, shard: { role: 'standby', index: 2, withdrawn: false } });
    expect(specs(pair.toNode)[0]!.sourceNodes).toEqual(standbys);

    // The surge passes (ordinary traffic again): the standbys are told to hand back.
    for (const v of [surge[2]!, ...sim.series.values.slice(history + 3, history + 12)]) await feed(v);
    expect(shards.plan(task)!.state).toBe('merging');
    expect(d.surges.list()[0]!.actions).toContainEqual({ action: 'unspread', taskId: task, nodes: standbys, epoch: 1 });
    expect(specs(standbys[0]!)[0]!.shard).toMatchObject({ withdrawn: true });
    standbys.forEach((n, k) =>
      shards.onReport(n, {
        taskId: task,
        epoch: 1,
        kind: 'shard-done',
        index: k + 1,
        cursorJson: `{"c":"${200 + k}"}`,
      }),
    );
    expect(specs(pair.fromNode)[0]!.shard!.returned.map((r) => r.index)).toEqual([1, 2]);
    expect(specs(standbys[0]!)).toEqual([]);
    shards.onReport(pair.fromNode, { taskId: task, epoch: 1, kind: 'merged', index: 0, cursorJson: 'null' });
    expect(shards.plan(task)!.state).toBe('single');
    expect(specs(pair.fromNode)[0]!.shard).toBeUndefined();
    expect(specs(pair.toNode)[0]!.sourceNodes).toBeUndefined();

    // Every change of the allocation is in the audit log.
    const audited = d.audit
      .list({ entityId: task })
      .filter((e) => e.action.startsWith('task.') && e.action !== 'task.create')
      .map((e) => [e.action, (e.details as { state: string }).state]);
    expect(audited).toEqual([
      ['task.spread', 'splitting'],
      ['task.allocation', 'split'],
      ['task.unspread', 'merging'],
      ['task.allocation', 'merging'],
      ['task.allocation', 'merging'],
      ['task.allocation', 'single'],
    ]);
  });

  it("shards - while spread, the standbys' traffic counts as the pair's: the surge does not end because it was spread", async () => {
    const d = centralDeps({ calendar: CHINA_CALENDAR_2025_2026 });
    opened.push(d);
    const { pair, task, standbys } = flow(d);
    const sim = generateProvince({
      pairs: 1,
      days: 24,
      startMs: START_MS,
      seed: 11,
      calendar: CHINA_CALENDAR_2025_2026,
      classes: ['realtime-steady'],
      surgesPerPair: 0,
    }).pairs[0]!;
    const history = 21 * (DAY_MS / BUCKET);
    put(d, pair, START_MS, sim.series.values.slice(0, history));
    const liveStart = START_MS + history * BUCKET;
    d.manual!.nowMs = liveStart + 61_000;
    await d.surges.tick();
    const level = (k: number): number => Math.max(sim.expected[history + k]!, sim.meanLevel);
    let i = 0;
    /** One bucket of `v` records, split evenly over the primary and `over` (the standbys carrying it). */
    const feed = async (v: number, over: string[] = []): Promise<void> => {
      const share = Math.round(v / (over.length + 1));
      put(d, pair, liveStart + i * BUCKET, [share]);
      for (const n of over) put(d, { ...pair, fromNode: n }, liveStart + i * BUCKET, [share]);
      d.manual!.nowMs = liveStart + ++i * BUCKET + 61_000;
      await d.surges.tick();
    };
    // A moderate surge (2.5 x the level): a third of it is inside the forecast's interval.
    while (!shards(d).plan(task) && i < 4) await feed(Math.round(2.5 * level(i)));
    expect(shards(d).plan(task)?.state).toBe('splitting');
    shards(d).onReport(pair.fromNode, { taskId: task, epoch: 1, kind: 'split-ready', index: 0, cursorJson: 'null' });
    for (let k = 0; k < 6; k++) await feed(Math.round(2.5 * level(i)), standbys);
    expect(d.surges.list({ openOnly: true })).toHaveLength(1);
    expect(shards(d).plan(task)?.state).toBe('split');
    // It passes: ordinary traffic, still spread over the standbys, and the surge ends after its hysteresis.
    for (let k = 0; k < 6; k++) await feed(sim.series.values[history + i]!, standbys);
    expect(d.surges.list({ openOnly: true })).toHaveLength(0);
    expect(shards(d).plan(task)?.state).toBe('merging');
  });

  it("shards - a spread by hand is refused naming the binding when no standby, or the task's node, declares it", () => {
    const d = centralDeps();
    opened.push(d);
    const { task, standbys } = flow(d);
    expect(() => shards(d).spread(task, { agents: 0, reason: 'x', origin: 'operator' })).toThrow(
      /agents: must be an integer 1..8/,
    );
    // The standbys stop declaring the binding (e.g. its source became a full-sync or file source).
    for (const id of standbys) d.nodes.heartbeat(d.store.nodes.get(id)!, { bindings: ['other'] }, '0.1.0');
    expect(() => shards(d).spread(task, { agents: 2, reason: 'x', origin: 'operator' })).toThrow(
      /no other online agent of the department of node nd-\w+ declares binding db/,
    );
    // A binding the task's own node does not declare (files, full sync) is never spread.
    d.assignments.updateTask(task, { binding: 'nowhere' });
    expect(() => shards(d).spread(task, { agents: 2, reason: 'x', origin: 'operator' })).toThrow(
      /does not declare binding nowhere as one a flow can be spread over/,
    );
    expect(shards(d).plan(task)).toBeUndefined();
  });
});

const shards = (d: CentralDeps): ShardService => d.http.shards as ShardService;
