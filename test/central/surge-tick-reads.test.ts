// The surge watch reads the recent buckets of all its pairs in one statement per tick (TrafficStore.recordsOf, a
// primary-key seek per series inside SQLite), not one query per pair: over a real central.db with four pairs'
// three weeks of history, the ticks after the first (which warms each detector on its own lookback) run no
// per-pair bucket read and one shared read, and what they read still reaches the detectors (a planted surge on
// one pair is detected; the quiet pairs raise none).
import type { Statement } from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DAY_MS, type TrafficPair } from '../../central/src/domain/traffic.js';
import { CHINA_CALENDAR_2025_2026, generateProvince } from '../../scripts/sim/generate.js';
import { centralDeps, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

const START_MS = Date.parse('2025-08-31T16:00:00Z');
const BUCKET = 300_000;

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

describe('surge tick reads', () => {
  it('surge tick reads - after the warm-up a tick reads all pairs’ recent buckets in one statement', async () => {
    const d = centralDeps({ calendar: CHINA_CALENDAR_2025_2026 });
    opened.push(d);
    const sim = generateProvince({
      pairs: 4,
      days: 22,
      startMs: START_MS,
      seed: 5,
      calendar: CHINA_CALENDAR_2025_2026,
      classes: ['realtime-steady'],
      surgesPerPair: 0,
    }).pairs;
    const pairs = sim.map((_, i) => ({ fromNode: `nd-from-${i}`, toNode: `nd-to-${i}`, resource: '' }));
    const history = 21 * (DAY_MS / BUCKET);
    sim.forEach((p, i) => put(d, pairs[i]!, START_MS, p.series.values.slice(0, history)));
    const liveStart = START_MS + history * BUCKET;

    // Count the bucket statements the ticks prepare: per-pair reads (TrafficStore.read) and the shared one.
    const prepared: string[] = [];
    const prepare = d.store.db.prepare.bind(d.store.db);
    d.store.db.prepare = ((sql: string): Statement => {
      prepared.push(sql);
      return prepare(sql);
    }) as typeof d.store.db.prepare;
    const count = (): { perPair: number; shared: number } => {
      const sqls = prepared.splice(0);
      return {
        perPair: sqls.filter((s) => /FROM traffic_buckets\s+WHERE from_node = \?/.test(s)).length,
        shared: sqls.filter((s) => /json_each\(\?\) AS k JOIN traffic_buckets/.test(s)).length,
      };
    };

    d.manual!.nowMs = liveStart + 61_000;
    await d.surges.tick();
    expect(count()).toEqual({ perPair: 4, shared: 0 }); // the warm-up: each detector's lookback

    // Live buckets: pair 0 surges (8 x its level) for two buckets, the others stay ordinary.
    for (let k = 0; k < 3; k++) {
      sim.forEach((p, i) => {
        const level = Math.max(p.expected[history + k]!, p.meanLevel);
        const v = i === 0 && k < 2 ? Math.round(8 * level) : p.series.values[history + k]!;
        put(d, pairs[i]!, liveStart + k * BUCKET, [v]);
      });
      prepared.length = 0;
      d.manual!.nowMs = liveStart + (k + 1) * BUCKET + 61_000;
      await d.surges.tick();
      expect(count(), `tick ${k + 1}`).toEqual({ perPair: 0, shared: 1 });
    }
    const open = d.surges.list({ openOnly: true });
    expect(open.map((s) => s.fromNode)).toEqual([pairs[0]!.fromNode]);

    // The shared read seeks each series by its primary key (no scan of the whole table).
    const plan = d.store.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT b.records FROM json_each(?) AS k JOIN traffic_buckets b ON b.from_node = k.value ->> 0
           AND b.to_node = k.value ->> 1 AND b.resource = k.value ->> 2 AND b.bucket_start >= ? AND b.bucket_start < ?`,
      )
      .all('[]', 0, 1) as { detail: string }[];
    expect(plan.map((r) => r.detail).join(' | ')).toMatch(/SEARCH b USING PRIMARY KEY/);
  });
});
