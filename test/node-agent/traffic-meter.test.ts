// The consumer's traffic meter under a manual clock: one report per (source, resource, bucket) when the bucket
// ends, errors of refused batches, an early close (new bucket length, shutdown) reporting the time elapsed, and
// percentiles from the bounded latency sample.
import { describe, expect, it } from 'vitest';
import { RESERVOIR_SIZE, TrafficMeter } from '../../node-agent/src/exchange/traffic-meter.js';

function meter(startMs = 1_000_000) {
  const clock = { now: startMs };
  const reports: Record<string, unknown>[] = [];
  const m = new TrafficMeter({ nodeId: () => 'nd-me', report: (b) => reports.push(b), clock: () => clock.now });
  m.setBucketMs(1000);
  return { m, clock, reports };
}

describe('traffic meter', () => {
  it('traffic meter - a bucket is reported once when it ends, per source and resource', () => {
    const { m, clock, reports } = meter();
    m.committed('nd-a', 'R1', { records: 10, bytes: 100, errors: 1, createdAtMs: clock.now - 30 });
    clock.now += 500;
    m.committed('nd-a', 'R1', { records: 5, bytes: 50, errors: 0, createdAtMs: clock.now - 10 });
    m.committed('nd-b', 'R1', { records: 7, bytes: 70, errors: 0, createdAtMs: clock.now + 99 }); // skewed clock
    m.refused('nd-a', 'R2', 40);
    m.closeEnded();
    expect(reports).toEqual([]);
    clock.now += 500;
    m.closeEnded();
    m.closeEnded();
    expect(reports).toEqual([
      {
        sourceNodeId: 'nd-a',
        destinationNodeId: 'nd-me',
        resourceCode: 'R1',
        bucketStartMs: 1_000_000,
        bucketMs: 1000,
        batches: 2,
        records: 15,
        bytes: 150,
        latencyP50Ms: 10,
        latencyP99Ms: 30,
        errors: 1,
      },
      expect.objectContaining({ sourceNodeId: 'nd-b', records: 7, latencyP50Ms: 0, latencyP99Ms: 0 }),
      expect.objectContaining({ sourceNodeId: 'nd-a', resourceCode: 'R2', batches: 0, records: 0, errors: 40 }),
    ]);
  });

  it('traffic meter - a new bucket length and shutdown report the open buckets with the time elapsed', () => {
    const { m, clock, reports } = meter(2_000_000);
    m.committed('nd-a', 'R1', { records: 1, bytes: 1, errors: 0, createdAtMs: clock.now });
    clock.now += 300;
    m.setBucketMs(60_000);
    expect(reports).toEqual([expect.objectContaining({ bucketStartMs: 2_000_000, bucketMs: 300, records: 1 })]);
    m.committed('nd-a', 'R1', { records: 2, bytes: 1, errors: 0, createdAtMs: clock.now });
    clock.now += 5_000;
    m.flush();
    expect(reports[1]).toMatchObject({ bucketStartMs: 1_980_000, bucketMs: 25_300, records: 2 });
    m.flush();
    expect(reports).toHaveLength(2); // nothing open, nothing reported
  });

  it('traffic meter - percentiles of many batches come from a bounded sample', () => {
    const { m, clock, reports } = meter(3_000_000);
    for (let i = 0; i < 20 * RESERVOIR_SIZE; i++)
      m.committed('nd-a', 'R1', { records: 1, bytes: 1, errors: 0, createdAtMs: clock.now - (i % 1000) });
    clock.now += 1000;
    m.closeEnded();
    const r = reports[0] as { batches: number; latencyP50Ms: number; latencyP99Ms: number };
    expect(r.batches).toBe(20 * RESERVOIR_SIZE);
    expect(Math.abs(r.latencyP50Ms - 500)).toBeLessThan(60);
    expect(Math.abs(r.latencyP99Ms - 990)).toBeLessThan(15);
  });
});
