// The daily rollup of the traffic history (migration 15, TrafficStore.alignDaily/dailyAcross): kept equal to the
// sums of the hours of each local day by the triggers through every write the store makes (insert, upsert, the
// rollup's delete and insert, pruning), rebuilt when the offset changes, empty without a fixed offset.
import { describe, expect, it } from 'vitest';
import type { TrafficRow } from '../../central/src/store/index.js';
import { TimeZone } from '../../central/src/domain/time-zone.js';
import { closingCentralDeps } from '../helpers/central-deps.js';

const fresh = closingCentralDeps();
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SHANGHAI = 8 * HOUR;
// 2026-11-29 00:00 in Asia/Shanghai.
const D0 = Date.parse('2026-11-29T00:00:00+08:00');
const A = { fromNode: 'nd-a', toNode: 'nd-b', resource: 'r1' };
const B = { fromNode: 'nd-c', toNode: 'nd-a', resource: '' };

const row = (startMs: number, records: number, bytes: number | null = records * 10): TrafficRow => ({
  startMs,
  batches: 1,
  records,
  bytes,
  latencyP50Ms: 10,
  latencyP99Ms: 20,
  errors: records % 2,
  origin: 'import',
});

/** Per-day sums of the hours (every series, or those touching nodeIds), as dailyAcross answers them. */
function fromHours(d: ReturnType<typeof fresh>, nodeIds?: string[]) {
  const byDay = new Map<number, { records: number; batches: number; bytes: number | null; errors: number }>();
  for (const h of d.store.traffic.hourlyAcross(nodeIds, D0 - 10 * DAY, D0 + 10 * DAY)) {
    const day = Math.floor((h.startMs + SHANGHAI) / DAY) * DAY - SHANGHAI;
    const s = byDay.get(day) ?? { records: 0, batches: 0, bytes: null, errors: 0 };
    s.records += h.records;
    s.batches += h.batches;
    s.errors += h.errors;
    if (h.bytes !== null) s.bytes = (s.bytes ?? 0) + h.bytes;
    byDay.set(day, s);
  }
  return [...byDay].map(([startMs, s]) => ({ startMs, ...s }));
}
const days = (d: ReturnType<typeof fresh>, nodeIds?: string[]) =>
  d.store.traffic
    .dailyAcross(nodeIds, D0 - 10 * DAY, D0 + 10 * DAY)
    .map(({ startMs, records, batches, bytes, errors }) => ({ startMs, records, batches, bytes, errors }));

describe('traffic daily', () => {
  it('traffic daily - central aligns it with Asia/Shanghai days; every write of the hours keeps it equal', () => {
    const d = fresh();
    expect(d.store.traffic.dailyOffset()).toBe(SHANGHAI);
    const t = d.store.traffic;
    // Hours on both sides of a local midnight (16:00 UTC), for two series.
    t.put('traffic_hourly', A, [row(D0 - 2 * HOUR, 5), row(D0, 7), row(D0 + 23 * HOUR, 11), row(D0 + DAY, 13)]);
    t.put('traffic_hourly', B, [row(D0 + HOUR, 100, null), row(D0 + 2 * HOUR, 1)]);
    expect(days(d)).toEqual(fromHours(d));
    expect(days(d).map((x) => x.records)).toEqual([5, 7 + 11 + 100 + 1, 13]);
    // Upsert (DO UPDATE), keep (DO NOTHING), a rollup of buckets (delete then insert), pruning.
    t.put('traffic_hourly', A, [row(D0, 70)]);
    t.put('traffic_hourly', A, [row(D0 + 23 * HOUR, 999)], false);
    t.put('traffic_buckets', A, [row(D0 + DAY, 3), row(D0 + DAY + 300_000, 4)]);
    t.rollupHours(A, D0 + DAY, D0 + DAY + HOUR);
    expect(days(d)).toEqual(fromHours(d));
    expect(days(d).map((x) => x.records)).toEqual([5, 70 + 11 + 100 + 1, 7]);
    // B's bytes: one hour without (null), one with: the day's bytes are those known.
    expect(days(d, ['nd-c'])[0]).toMatchObject({ records: 101, bytes: 10 });
    expect(days(d, ['nd-c'])).toEqual(fromHours(d, ['nd-c']));
    expect(t.pruneSeries('traffic_hourly', A, D0)).toBe(1);
    expect(days(d)).toEqual(fromHours(d));
    expect(days(d)[0]!.startMs).toBe(D0); // the day before had only that hour: its row is gone
    t.deleteImported('traffic_hourly', B, D0, D0 + DAY);
    expect(days(d)).toEqual(fromHours(d));
    expect(days(d).map((x) => x.records)).toEqual([70 + 11, 7]);
  });

  it('traffic daily - a changed offset rebuilds it from the hours; no fixed offset empties it', () => {
    const d = fresh();
    const t = d.store.traffic;
    t.put('traffic_hourly', A, [row(D0 - 2 * HOUR, 5), row(D0, 7), row(D0 + 9 * HOUR, 11)]);
    expect(d.store.tx(() => t.alignDaily(SHANGHAI))).toBe(false);
    expect(d.store.tx(() => t.alignDaily(0))).toBe(true); // UTC days: 16:00 UTC the day before is one day with D0
    expect(t.dailyAcross(undefined, D0 - 2 * DAY, D0 + 2 * DAY).map((x) => [x.startMs, x.records])).toEqual([
      [D0 - 16 * HOUR, 5 + 7],
      [D0 + 8 * HOUR, 11],
    ]);
    expect(d.store.tx(() => t.alignDaily(null))).toBe(true);
    expect(t.dailyAcross(undefined, 0, D0 + 10 * DAY)).toEqual([]);
    t.put('traffic_hourly', A, [row(D0 + 3 * HOUR, 1)]); // not kept without an offset
    expect(d.store.tx(() => t.alignDaily(SHANGHAI))).toBe(true);
    expect(days(d)).toEqual(fromHours(d));
  });

  it('traffic daily - a fixed offset of whole hours only', () => {
    const from = Date.parse('2024-01-01T00:00:00Z');
    const until = Date.parse('2027-01-01T00:00:00Z');
    expect(new TimeZone('Asia/Shanghai').fixedOffsetMs(from, until)).toBe(SHANGHAI);
    expect(new TimeZone('UTC').fixedOffsetMs(from, until)).toBe(0);
    expect(new TimeZone('Europe/Berlin').fixedOffsetMs(from, until)).toBeNull(); // summer time
    expect(new TimeZone('Asia/Kolkata').fixedOffsetMs(from, until)).toBeNull(); // +05:30
  });
});
