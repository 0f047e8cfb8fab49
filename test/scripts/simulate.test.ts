// `npm run simulate` on a small province (30 pairs x 21 days) through a real central process: its JSON summary's
// figures are the ones central's stored data give (the clustering run and the import replay's surges in
// central.db, the base buckets it kept), checked by recomputing them from the database alone, and they are
// good ones (the planted classes and surges are found).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../central/src/store/index.js';
import { simSummary, type SimSummary, type StoredPair } from '../../scripts/sim/figures.js';
import { CHINA_CALENDAR_2025_2026, generateProvince, type Series } from '../../scripts/sim/generate.js';
import { distFile } from '../helpers/proc.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

afterAll(removeTmpDirs);

const DAY_MS = 86_400_000;

type Out = SimSummary & { dir: string; startMs: number; endMs: number; clusteredVia: string };

describe('simulate', () => {
  it('simulate - the summary is computed from what central stored', { timeout: 180_000 }, async () => {
    const dir = tmpDir('xchg-simulate-');
    const args = ['--pairs', '30', '--days', '21', '--seed', '5', '--json', '--dir', dir];
    const { stdout } = await promisify(execFile)(process.execPath, [distFile('scripts/simulate.js'), ...args], {
      maxBuffer: 1 << 24,
    });
    const out = JSON.parse(stdout) as Out;
    expect(out.pairs).toBe(30);
    // The same province the script generated (same options and start), named as central names its nodes.
    const province = generateProvince({
      pairs: 30,
      days: 21,
      startMs: out.startMs,
      seed: 5,
      calendar: CHINA_CALENDAR_2025_2026,
      surgesFromMs: out.startMs + 14 * DAY_MS,
    });
    const store = Store.open(join(dir, 'central.db'));
    try {
      const ids = new Map(store.nodes.list().map((n) => [n.name, n.id]));
      const pairs: StoredPair[] = province.pairs.map((sim) => ({
        fromNode: ids.get(sim.fromNode)!,
        toNode: ids.get(sim.toNode)!,
        sim,
      }));
      const run = store.brain.latestRun()!;
      const members = store.brain.members(run.runId);
      const surges = store.brain.surges({ origin: 'import', limit: 1_000_000 });
      const series = new Map<string, Series>();
      for (const p of pairs) {
        const n = (out.endMs - out.startMs) / 300_000;
        const values = new Array<number>(n).fill(0);
        const range = { fromNode: p.fromNode, toNode: p.toNode, sinceMs: out.startMs, untilMs: out.endMs };
        for (const r of store.traffic.read('traffic_buckets', range, 300_000))
          values[(r.startMs - out.startMs) / 300_000] = r.records;
        series.set(`${p.fromNode} ${p.toNode}`, { startMs: out.startMs, bucketMs: 300_000, values });
      }
      expect(members.length).toBe(out.clustered);
      expect(run.k).toBe(out.clusterK);
      expect(surges.length).toBe(out.surgesStored);
      const again = simSummary(
        pairs,
        { k: run.k, members, surges, series },
        { days: 21, warmupDays: 14, calendar: CHINA_CALENDAR_2025_2026 },
      );
      const {
        dir: _d,
        startMs: _s,
        endMs: _e,
        clusteredVia: _c,
        importSeconds: _i,
        ...figures
      } = out as Out & {
        importSeconds: number;
      };
      expect(again).toEqual(figures);
      // Without central's surges the surge figures would be zero: they are not the generator's.
      const none = simSummary(
        pairs,
        { k: run.k, members, surges: [], series },
        { days: 21, warmupDays: 14, calendar: CHINA_CALENDAR_2025_2026 },
      );
      expect(none.surgesWithin2).toBe(0);
    } finally {
      store.close();
    }
    expect(out.clustered).toBe(30);
    expect(out.clusterAri).toBeGreaterThanOrEqual(0.9);
    expect(out.surgesPlanted).toBeGreaterThan(20);
    expect(out.surgesWithin2Pct).toBeGreaterThanOrEqual(90);
    expect(out.falseAlarmBucketsPct).toBeLessThan(1);
    expect(out.forecastMapeVsNaive).toBeLessThan(1);
  });
});
