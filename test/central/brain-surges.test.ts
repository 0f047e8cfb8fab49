// The brain's surge watch over central's real traffic history: a pair's closed buckets fed as they arrive (a
// surge is stored, alarmed and answered with a dynamic policy on the pair's sync task, withdrawn when it
// passes), and imported history replayed in time order so the planted surges show as origin 'import'.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../central/src/domain/traffic.js';
import { detectSurges } from '../../central/src/domain/surge.js';
import type { TrafficPair } from '../../central/src/domain/traffic.js';
import { CHINA_CALENDAR_2025_2026, generateProvince, type SimPair } from '../../scripts/sim/generate.js';
import { centralDeps, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

const START_MS = Date.parse('2025-08-31T16:00:00Z'); // 2025-09-01 00:00 China Standard Time
const BUCKET = 300_000;

function put(
  d: CentralDeps,
  pair: TrafficPair,
  startMs: number,
  values: readonly number[],
  origin: 'live' | 'import',
): void {
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
        origin,
      })),
    );
    const hour = 3_600_000;
    const from = Math.floor(startMs / hour) * hour;
    d.store.traffic.rollupHours(pair, from, Math.ceil((startMs + values.length * BUCKET) / hour) * hour);
  });
}

function flow(d: CentralDeps): { pair: TrafficPair; task: string } {
  d.registry.createRegion({ code: '360000', name: '江西省', level: 'province' });
  d.registry.createDepartment({ code: 'gat', name: '公安厅', regionCode: '360000' });
  d.registry.createDepartment({ code: 'sbj', name: '社保局', regionCode: '360000' });
  const enroll = (dept: string): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    return d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} }).node.id;
  };
  const pair = { fromNode: enroll('gat'), toNode: enroll('sbj'), resource: '' };
  const task = d.assignments.createTask({
    name: 'sync',
    kind: 'sync',
    nodeId: pair.fromNode,
    peerNodeId: pair.toNode,
    binding: 'db',
    subscriptionId: 'sub-1',
  }).id;
  return { pair, task };
}

function steadyPair(days: number, surgesPerPair = 0): SimPair {
  return generateProvince({
    pairs: 1,
    days,
    startMs: START_MS,
    seed: 11,
    calendar: CHINA_CALENDAR_2025_2026,
    classes: ['realtime-steady'],
    surgesPerPair,
  }).pairs[0]!;
}

describe('brain surge watch', () => {
  it('brain surges - a live surge is stored, alarmed and answered with a dynamic policy that is withdrawn when it passes', async () => {
    const d = centralDeps({ calendar: CHINA_CALENDAR_2025_2026 });
    opened.push(d);
    const { pair, task } = flow(d);
    const sim = steadyPair(24);
    const history = 21 * (DAY_MS / BUCKET);
    put(d, pair, START_MS, sim.series.values.slice(0, history), 'live');
    const liveStart = START_MS + history * BUCKET;
    d.manual!.nowMs = liveStart + 61_000;
    await d.surges.tick(); // catches up on three weeks silently: nothing open
    expect(d.surges.list()).toEqual([]);
    // Three buckets at eight times the level, then the ordinary traffic again.
    const surge = [0, 1, 2].map((i) => Math.round(8 * Math.max(sim.expected[history + i]!, sim.meanLevel)));
    const after = sim.series.values.slice(history + 3, history + 12);
    for (const [i, v] of [...surge, ...after].entries()) {
      put(d, pair, liveStart + i * BUCKET, [v], 'live');
      d.manual!.nowMs = liveStart + (i + 1) * BUCKET + 61_000;
      await d.surges.tick();
      if (i === 1) {
        const [open] = d.surges.list({ openOnly: true });
        expect(open).toMatchObject({ ...pair, origin: 'live', startMs: liveStart, endMs: null });
        expect((open!.detectedAtMs - open!.startMs) / BUCKET).toBeLessThanOrEqual(1);
        const [dyn] = d.policies.list({ taskId: task, kind: 'dynamic' });
        expect(dyn).toMatchObject({ generatedBy: 'brain', taskIds: [task] });
        expect(dyn!.outside.batchRecords).toBeGreaterThanOrEqual(2000);
        expect(dyn!.outside).toMatchObject({ concurrency: 8, pollIntervalMs: 100, transfer: 'open' });
        expect(d.alerts.list({ kind: 'surge_detected' }).map((a) => a.entityId)).toEqual([open!.surgeId]);
      }
    }
    const [done] = d.surges.list();
    expect(done).toMatchObject({ origin: 'live', startMs: liveStart, endMs: liveStart + 3 * BUCKET });
    expect(done!.peak).toBe(Math.max(...surge));
    expect(done!.actions).toEqual([
      { action: 'dynamic-policy', policyId: expect.any(String) },
      { action: 'alert', kind: 'surge_detected' },
      { action: 'policy-withdrawn', policyId: expect.any(String) },
    ]);
    expect(d.policies.list({ taskId: task, kind: 'dynamic' })).toEqual([]);
    // The surge's alert ended with it.
    const [alert] = d.alerts.list({ kind: 'surge_detected' });
    expect(alert).toMatchObject({ entityId: done!.surgeId, state: 'resolved' });
  });

  it('brain surges - imported history is replayed in time order: the planted surges are found as origin import', async () => {
    const d = centralDeps({ calendar: CHINA_CALENDAR_2025_2026 });
    opened.push(d);
    const sim = steadyPair(35, 4);
    const pair = { fromNode: 'n-old-a', toNode: 'n-old-b', resource: 'r1' };
    put(d, pair, START_MS, sim.series.values, 'import');
    const untilMs = START_MS + sim.series.values.length * BUCKET;
    d.traffic.onImported!({ pair, sinceMs: START_MS, untilMs });
    await d.surges.drained();
    const found = d.surges.list({ origin: 'import' });
    // The replay is the batch fold of the detector over the same buckets (no look-ahead, same decisions).
    const batch = detectSurges(sim.series, { calendar: CHINA_CALENDAR_2025_2026, bucketMs: BUCKET });
    expect(found.map((s) => [s.startMs, s.endMs, s.peak])).toEqual(batch.map((s) => [s.startMs, s.endMs, s.peak]));
    const afterWarmup = sim.surges.filter((s) => s.startIdx >= 14 * (DAY_MS / BUCKET));
    expect(afterWarmup.length).toBeGreaterThan(0);
    for (const p of afterWarmup) {
      const start = START_MS + p.startIdx * BUCKET;
      const hit = found.find((s) => Math.abs(s.startMs - start) <= 2 * BUCKET);
      expect(hit, `planted surge at bucket ${p.startIdx} (x${p.factor.toFixed(1)})`).toBeDefined();
      expect((hit!.detectedAtMs - start) / BUCKET).toBeLessThanOrEqual(2);
    }
    // A second import of the range replaces the replay's surges instead of adding to them.
    d.traffic.onImported!({ pair, sinceMs: START_MS, untilMs });
    await d.surges.drained();
    expect(d.surges.list({ origin: 'import' })).toHaveLength(found.length);
  });

  it('brain surges - imported history past the base retention is replayed at hourly buckets', async () => {
    const d = centralDeps({ calendar: CHINA_CALENDAR_2025_2026 });
    opened.push(d);
    const sim = steadyPair(35);
    const perHour = 3_600_000 / BUCKET;
    const hours = Array.from({ length: sim.series.values.length / perHour }, (_, h) =>
      sim.series.values.slice(h * perHour, (h + 1) * perHour).reduce((a, b) => a + b, 0),
    );
    // Three hours at eight times the day's level, on day 25.
    const at = 25 * 24 + 10;
    const level = hours.slice(at - 24, at).reduce((a, b) => a + b, 0) / 24;
    for (let h = at; h < at + 3; h++) hours[h] = Math.round(8 * level);
    const pair = { fromNode: 'n-old-a', toNode: 'n-old-b', resource: '' };
    d.store.traffic.put(
      'traffic_hourly',
      pair,
      hours.map((records, h) => ({
        startMs: START_MS + h * 3_600_000,
        batches: 0,
        records,
        bytes: null,
        latencyP50Ms: null,
        latencyP99Ms: null,
        errors: 0,
        origin: 'import' as const,
      })),
    );
    d.manual!.nowMs = START_MS + 200 * DAY_MS; // the whole range is past the 60-day base retention
    const untilMs = START_MS + hours.length * 3_600_000;
    d.traffic.onImported!({ pair, sinceMs: START_MS, untilMs });
    await d.surges.drained();
    const found = d.surges.list({ origin: 'import' });
    const hit = found.find((x) => Math.abs(x.startMs - (START_MS + at * 3_600_000)) <= 3_600_000);
    expect(hit, JSON.stringify(found.map((x) => [x.startMs, x.peak]))).toBeDefined();
    expect(hit!.evidence).toMatchObject({ bucketMs: 3_600_000 });
    expect(d.brainViews.surgeView(hit!).delayBuckets).toBeLessThanOrEqual(2);
  });
});
