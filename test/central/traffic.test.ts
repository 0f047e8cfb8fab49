// Traffic history in central over its real services and a real SQLite file: TrafficReports counted into
// buckets once per report id (re-bucketed when the agent's bucket differs), percentiles merged as documented,
// the hourly rollup kept with them, and the retention sweep under a manual clock.
import { describe, expect, it } from 'vitest';
import { HOUR_MS, DAY_MS, mergeCounts, rebucket, splitByWeights } from '../../central/src/domain/traffic.js';
import { TimeZone } from '../../central/src/domain/time-zone.js';
import { pino } from 'pino';
import { JobRunner } from '../../central/src/jobs/runner.js';
import { trafficJobs } from '../../central/src/jobs/traffic.js';
import { TRAFFIC_DEFAULTS } from '../../central/src/services/traffic.js';
import { waitFor } from '../helpers/wait-for.js';
import { closingCentralDeps, enrollNode, xchgError, type CentralDeps } from '../helpers/central-deps.js';

const deps = closingCentralDeps();
const T0 = Date.UTC(2026, 0, 5, 2, 0, 0); // a Monday 10:00 in Shanghai, hour-aligned

function twoNodes(d: CentralDeps): { a: string; b: string } {
  return { a: enrollNode(d, 'fe-a').node.id, b: enrollNode(d, 'fe-b').node.id };
}

function traffic(from: string, to: string, startMs: number, over: Record<string, number | string> = {}) {
  return {
    sourceNodeId: from,
    destinationNodeId: to,
    resourceCode: 'res-1',
    bucketStartMs: startMs,
    bucketMs: 1000,
    batches: 2,
    records: 100,
    bytes: 4000,
    latencyP50Ms: 10,
    latencyP99Ms: 40,
    errors: 1,
    ...over,
  };
}

const ingest = (d: CentralDeps, node: string, id: string, body: Record<string, unknown>) =>
  d.reports.ingest(node, [{ reportId: id, seq: 1, observedAtMs: 0, kind: 'traffic', body }]);

describe('traffic - domain', () => {
  it('traffic - integer splits keep the total; merged percentiles are the weighted p50 and the largest p99', () => {
    expect(splitByWeights(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(splitByWeights(7, [1, 3])).toEqual([2, 5]);
    const parts = rebucket(
      0,
      HOUR_MS,
      { batches: 5, records: 1001, bytes: null, latencyP50Ms: 3, latencyP99Ms: 9, errors: 0 },
      300_000,
    );
    expect(parts.map((p) => p.bucketStart)).toEqual(Array.from({ length: 12 }, (_, i) => i * 300_000));
    expect(parts.reduce((s, p) => s + p.counts.records, 0)).toBe(1001);
    expect(parts.map((p) => p.counts.records)).toEqual([84, 84, 84, 84, 84, 83, 83, 83, 83, 83, 83, 83]);
    const m = mergeCounts(
      { batches: 1, records: 10, bytes: 5, latencyP50Ms: 100, latencyP99Ms: 200, errors: 0 },
      { batches: 3, records: 30, bytes: null, latencyP50Ms: 20, latencyP99Ms: 50, errors: 2 },
    );
    expect(m).toEqual({ batches: 4, records: 40, bytes: 5, latencyP50Ms: 40, latencyP99Ms: 200, errors: 2 });
  });

  it('traffic - time zones: Shanghai is UTC+8 without daylight saving; New York days and gaps follow its rules', () => {
    const sh = new TimeZone('Asia/Shanghai');
    expect(sh.iso(Date.UTC(2026, 0, 1, 0, 0, 0))).toBe('2026-01-01T08:00:00+08:00');
    expect(sh.format(Date.UTC(2026, 6, 1, 16, 0, 0))).toBe('2026-07-02 00:00:00');
    expect(sh.toUtc(2026, 0, 1, 8, 0, 0)).toBe(Date.UTC(2026, 0, 1, 0, 0, 0));
    expect(sh.dayStart(Date.UTC(2026, 0, 1, 17, 0, 0))).toBe(Date.UTC(2026, 0, 1, 16, 0, 0));
    const ny = new TimeZone('America/New_York');
    expect(ny.iso(Date.UTC(2026, 6, 1, 12))).toBe('2026-07-01T08:00:00-04:00');
    expect(ny.toUtc(2026, 0, 1, 0, 0, 0)).toBe(Date.UTC(2026, 0, 1, 5, 0, 0));
    // 2026-11-01 01:30 happens twice in New York: the earlier (EDT) instant is taken.
    expect(ny.toUtc(2026, 10, 1, 1, 30, 0)).toBe(Date.UTC(2026, 10, 1, 5, 30, 0));
    expect(ny.nextDayStart(Date.UTC(2026, 2, 8, 12)) - ny.dayStart(Date.UTC(2026, 2, 8, 12))).toBe(23 * HOUR_MS);
    expect(() => new TimeZone('Mars/Base')).toThrow(/unknown time zone "Mars\/Base"/);
  });
});

describe('traffic - ingestion of TrafficReports', () => {
  it('traffic - reports are counted once per id, merged into central buckets, rolled up per hour', () => {
    const d = deps();
    d.manual!.nowMs = T0 + 2 * HOUR_MS;
    const { a, b } = twoNodes(d);
    const r1 = ingest(d, b, 'r1', traffic(a, b, T0 + 1000));
    expect(r1.freshKinds).toEqual(['traffic']);
    expect(ingest(d, b, 'r1', traffic(a, b, T0 + 1000)).duplicates).toBe(1); // a retried call counts once
    ingest(d, b, 'r2', traffic(a, b, T0 + 2000, { batches: 6, records: 300, latencyP50Ms: 30, latencyP99Ms: 35 }));
    ingest(d, b, 'r3', traffic(a, b, T0 + 300_000, { records: 7 })); // the next 5-min bucket
    const pair = { fromNode: a, toNode: b, resource: 'res-1' };
    expect(d.store.traffic.get('traffic_buckets', pair, T0)).toEqual({
      startMs: T0,
      batches: 8,
      records: 400,
      bytes: 8000,
      latencyP50Ms: 25, // (10 × 2 + 30 × 6) / 8
      latencyP99Ms: 40,
      errors: 2,
      origin: 'live',
    });
    expect(d.store.traffic.get('traffic_hourly', pair, T0)).toMatchObject({ batches: 10, records: 407, errors: 3 });
    expect(d.traffic.series({ ...pair, resource: '' }, T0, T0 + 600_000).values).toEqual([400, 7]);
    expect(d.traffic.series(pair, T0, T0 + 600_000).values).toEqual([400, 7]);
    expect(d.traffic.series({ ...pair, resource: 'res-2' }, T0, T0 + 600_000).values).toEqual([0, 0]);
    const shown = d.traffic.show({ from: a, to: b, resource: 'res-1', since: String(T0), until: String(T0 + HOUR_MS) });
    expect([shown.step, shown.buckets.length, shown.totals.records, shown.totals.latencyP99Ms]).toEqual([
      '5m',
      12,
      407,
      40,
    ]);
    expect(d.store.reports.list({ kind: 'traffic' })).toEqual([]); // not kept among the reports
  });

  it('traffic - an agent bucket of an hour is spread over central 5-min buckets keeping the totals', () => {
    const d = deps();
    d.manual!.nowMs = T0 + 2 * HOUR_MS;
    const { a, b } = twoNodes(d);
    ingest(d, b, 'h', traffic(a, b, T0, { bucketMs: HOUR_MS, records: 1200, batches: 13, bytes: 100 }));
    const s = d.traffic.series({ fromNode: a, toNode: b, resource: 'res-1' }, T0, T0 + HOUR_MS, 300_000);
    expect(s.values).toEqual(Array(12).fill(100));
    expect(d.store.traffic.get('traffic_hourly', { fromNode: a, toNode: b, resource: 'res-1' }, T0)).toMatchObject({
      records: 1200,
      batches: 13,
      bytes: 100,
    });
  });

  it('traffic - a malformed report is refused naming the field; nothing of its call is counted', () => {
    const d = deps();
    const { a, b } = twoNodes(d);
    expect(xchgError(() => ingest(d, b, 'x', traffic(a, a, T0))).message).toMatch(
      /^items\[0\]\.traffic\.destination_node_id: must be the reporting node/,
    );
    expect(xchgError(() => ingest(d, b, 'y', traffic(a, b, T0, { records: -1 }))).message).toMatch(
      /^items\[0\]\.traffic\.records: must be an integer from 0/,
    );
    expect(d.store.traffic.counts()).toEqual({ buckets: 0, hours: 0, ids: 0 });
  });
});

describe('traffic - retention', () => {
  it('traffic - the sweep drops base buckets after 60 days (hours stay), hours after 3 years, ids after 7 days', () => {
    const d = deps({ traffic: TRAFFIC_DEFAULTS });
    d.manual!.nowMs = T0 + HOUR_MS;
    const { a, b } = twoNodes(d);
    const pair = { fromNode: a, toNode: b, resource: 'res-1' };
    ingest(d, b, 'r1', traffic(a, b, T0));
    ingest(d, a, 'r2', traffic(b, a, T0 + 60 * 60_000 - 1000)); // the other way, the last second of the hour
    expect(d.traffic.pairs(T0, T0 + HOUR_MS)).toHaveLength(2);
    expect(d.traffic.sweep(d.manual!.advance(8 * DAY_MS))).toEqual({ buckets: 0, hours: 0, ids: 2 });
    expect(d.traffic.sweep(d.manual!.advance(52 * DAY_MS - 2 * HOUR_MS))).toEqual({ buckets: 0, hours: 0, ids: 0 });
    expect(d.traffic.sweep(d.manual!.advance(2 * HOUR_MS))).toEqual({ buckets: 2, hours: 0, ids: 0 });
    expect(d.store.traffic.get('traffic_hourly', pair, T0)).toMatchObject({ records: 100 });
    // A report that arrives after its base bucket is gone adds to the hour.
    ingest(d, b, 'late', traffic(a, b, T0 + 5000, { records: 5, batches: 1, latencyP99Ms: 90 }));
    expect(d.store.traffic.get('traffic_hourly', pair, T0)).toMatchObject({
      records: 105,
      batches: 3,
      latencyP99Ms: 90,
    });
    expect(d.store.traffic.counts().buckets).toBe(0);
    // The hour answers a show at 1h, not at 5 min.
    const show = d.traffic.show({ from: a, to: b, since: String(T0), until: String(T0 + HOUR_MS), step: '1h' });
    expect(show.buckets.map((x) => x.records)).toEqual([105]);
    expect(xchgError(() => d.traffic.show({ from: a, to: b, since: String(T0), step: '5m' })).message).toMatch(
      /^step: buckets finer than an hour are kept 60 days/,
    );
    d.manual!.advance(3 * 365 * DAY_MS);
    expect(d.traffic.sweep(d.manual!.nowMs)).toMatchObject({ hours: 2 });
    expect(d.store.traffic.counts()).toEqual({ buckets: 0, hours: 0, ids: 0 });
  });

  it('traffic - the traffic-sweep job prunes by the clock it is given', async () => {
    const d = deps();
    d.manual!.nowMs = T0 + HOUR_MS;
    const { a, b } = twoNodes(d);
    ingest(d, b, 'r1', traffic(a, b, T0));
    const jobs = new JobRunner(pino({ level: 'silent' }));
    for (const job of trafficJobs(d, pino({ level: 'silent' }), 20, d.manual!.now)) jobs.add(job);
    jobs.start();
    try {
      d.manual!.advance(61 * DAY_MS);
      await waitFor(() => d.store.traffic.counts().buckets === 0, 5_000, 20, 'the base bucket swept');
      expect(d.store.traffic.counts()).toEqual({ buckets: 0, hours: 1, ids: 0 });
    } finally {
      await jobs.stop();
    }
  });
});
