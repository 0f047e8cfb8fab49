import { describe, expect, it } from 'vitest';
import { adjustedRandIndex, clusterPairs, robustScale, Z_CLIP } from '../../central/src/domain/clustering.js';
import { clusterProfile, labelClusters, type ClusterProfile } from '../../central/src/domain/cluster-labels.js';
import { coveringHours, policyTemplate } from '../../central/src/domain/cluster-policy.js';
import { kMeans, sampleDistances, seededRandom, silhouette } from '../../central/src/domain/kmeans.js';
import { trafficFeatures } from '../../central/src/domain/traffic-features.js';
import { WorkingCalendar } from '../../central/src/domain/calendar.js';
import { CHINA_CALENDAR_2025_2026, generateProvince, PAIR_CLASSES } from '../../scripts/sim/generate.js';
import { cnCalendar, fixturePairs } from '../helpers/traffic-fixture.js';

/** Index of the planted class each cluster holds most of, and that majority's share. */
function majorities(assignments: readonly number[], classes: readonly string[]): Map<number, [string, number]> {
  const counts = new Map<number, Map<string, number>>();
  assignments.forEach((a, i) => {
    const m = counts.get(a) ?? new Map<string, number>();
    m.set(classes[i]!, (m.get(classes[i]!) ?? 0) + 1);
    counts.set(a, m);
  });
  const out = new Map<number, [string, number]>();
  for (const [a, m] of counts) {
    const total = [...m.values()].reduce((x, y) => x + y, 0);
    const [cls, n] = [...m.entries()].sort((x, y) => y[1] - x[1])[0]!;
    out.set(a, [cls, n / total]);
  }
  return out;
}

describe('clustering - pieces', () => {
  it('clustering - adjusted Rand index as Hubert & Arabie define it', () => {
    // Contingency 2,1 / 1,2 over columns of 2: Σ C(n_ij) = 2, Σ C(a_i) = 6, Σ C(b_j) = 3, C(6) = 15:
    // (2 − 18/15) / (4.5 − 18/15) = 0.8 / 3.3
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(0.8 / 3.3, 12);
    expect(adjustedRandIndex([0, 0, 1, 1, 2], ['b', 'b', 'a', 'a', 'c'])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
    expect(adjustedRandIndex([1, 1, 1], [2, 2, 2])).toBe(1);
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 0, 1, 1])).toBe(0);
    expect(() => adjustedRandIndex([0], [0, 1])).toThrow(RangeError);
  });

  it('clustering - robust standardisation by median and IQR, clipped, missing values at the median', () => {
    const { center, scale, z } = robustScale([1, 2, 3, 4, 100, NaN]);
    expect(center).toBe(3);
    expect(scale).toBeCloseTo(2 / 1.349, 12); // Q1 2, Q3 4
    expect(z[0]).toBeCloseTo(-2 / (2 / 1.349), 12);
    expect(z[4]).toBe(Z_CLIP);
    expect(z[5]).toBe(0);
    expect(robustScale([7, 7, 7]).z).toEqual([0, 0, 0]);
  });

  it('clustering - silhouette of a small partition, by hand', () => {
    const x = Float64Array.from([0, 1, 10]);
    const a = Int32Array.from([0, 0, 1]);
    // s(0) = (10 − 1)/10, s(1) = (9 − 1)/9, s(10) = 0 (alone in its cluster)
    const expected = (0.9 + 8 / 9 + 0) / 3;
    expect(silhouette(x, 3, 1, a, 2, [0, 1, 2], null).mean).toBeCloseTo(expected, 12);
    const kept = sampleDistances(x, 3, 1, [0, 1, 2]);
    expect(silhouette(x, 3, 1, a, 2, [0, 1, 2], kept).mean).toBeCloseTo(expected, 6);
  });

  it('clustering - k-means++ finds separated blobs, the same for the same seed', () => {
    const rand = seededRandom(42);
    const pts: number[] = [];
    for (const [cx, cy] of [
      [0, 0],
      [10, 0],
      [0, 10],
    ])
      for (let i = 0; i < 30; i++) pts.push(cx! + rand() - 0.5, cy! + rand() - 0.5);
    const x = Float64Array.from(pts);
    const r = kMeans(x, 90, 2, 3, seededRandom(7));
    const truth = Array.from({ length: 90 }, (_, i) => Math.floor(i / 30));
    expect(adjustedRandIndex(Array.from(r.assignments), truth)).toBe(1);
    expect(r.sse).toBeLessThan(90 * 0.5);
    expect(kMeans(x, 90, 2, 3, seededRandom(7))).toEqual(r);
    expect(() => kMeans(x, 90, 2, 91, seededRandom(7))).toThrow(RangeError);
  });

  it('clustering - labels told apart by peak hour, else by volume', () => {
    const base = clusterProfile(
      fixturePairs(3, 2, 14)
        .filter((p) => p.cls === 'nightly-bulk')
        .map((p) => trafficFeatures(p, cnCalendar)),
    );
    const at = (h: number, logVolume: number): ClusterProfile => ({
      ...base,
      logVolume,
      peakHour: h,
      dailyProfile: base.dailyProfile.map((_, i) => (i === h ? 1 : 0)),
    });
    const byHour = labelClusters([at(1, 3), at(3, 3)]);
    expect(byHour.map((l) => l.en)).toEqual(['nightly bulk (peak 01:00)', 'nightly bulk (peak 03:00)']);
    expect(byHour[0]!.zh).toBe('夜间批量（高峰01:00）');
    const byVolume = labelClusters([at(2, 2), at(2, 4)]);
    expect(byVolume.map((l) => l.en)).toEqual(['nightly bulk (low volume)', 'nightly bulk (high volume)']);
    expect(byVolume[1]!.zh).toBe('夜间批量（大流量）');
  });

  it('clustering - transfer windows cover 90 % of the day plus an hour each side, across midnight', () => {
    const night = new Array<number>(24).fill(0);
    night[23] = 0.3;
    night[0] = 0.4;
    night[1] = 0.3;
    expect(coveringHours(night)).toEqual({ startHour: 22, endHour: 3 });
    const office = new Array<number>(24).fill(0.001);
    for (let h = 9; h < 17; h++) office[h] = 0.12;
    expect(coveringHours(office)).toEqual({ startHour: 8, endHour: 18 });
    expect(coveringHours(new Array<number>(24).fill(1))).toBeNull();
    expect(coveringHours(new Array<number>(24).fill(0))).toBeNull();
  });
});

describe('clustering - the fixture of five planted classes', () => {
  const pairs = fixturePairs(11, 10, 28);
  const features = pairs.map((p) => trafficFeatures(p, cnCalendar));
  const classes = pairs.map((p) => p.cls);

  it('clustering - recovers the planted classes with k = 5, labels named after them, policies by shape', () => {
    const c = clusterPairs(features, { seed: 3 });
    expect(c.k).toBe(5);
    expect(c.criterion.byK.map((b) => b.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(adjustedRandIndex(c.assignments, classes)).toBeGreaterThanOrEqual(0.9);
    const major = majorities(c.assignments, classes);
    for (const cl of c.clusters) expect(cl.label.base).toBe(major.get(cl.id)![0]);
    const by = new Map(c.clusters.map((cl) => [cl.label.base, cl]));
    const nightly = by.get('nightly-bulk')!;
    expect(nightly.label.zh).toBe('夜间批量');
    expect(nightly.policy.windows).toEqual([{ days: 'every', ...coveringHours(nightly.profile.dailyProfile)! }]);
    expect(nightly.policy.prewarm.standby).toBe(true);
    expect(by.get('office-hours')!.policy.windows[0]!.days).toBe('working');
    expect(by.get('weekly')!.policy.windows[0]!.days).toBe(by.get('weekly')!.profile.peakWeekday + 1);
    expect(by.get('realtime-steady')!.policy).toMatchObject({ windows: [], surgeSensitivity: 'high' });
    expect(by.get('sporadic')!.policy).toMatchObject({
      windows: [],
      surgeSensitivity: 'low',
      prewarm: { standby: false },
    });
    expect(policyTemplate('mixed', nightly.profile).windows).toEqual([]);
  });

  it('clustering - the same seed gives the same clustering', () => {
    expect(clusterPairs(features, { seed: 5 })).toEqual(clusterPairs(features, { seed: 5 }));
  });

  it('clustering - one cluster when there is no structure, none for no pairs', () => {
    const same = Array.from({ length: 20 }, () => features[0]!);
    const c = clusterPairs(same);
    expect(c.k).toBe(1);
    expect(c.assignments.every((a) => a === 0)).toBe(true);
    expect(c.clusters[0]!.label.base).toBe('nightly-bulk');
    expect(clusterPairs([]).k).toBe(0);
    expect(clusterPairs(features.slice(0, 2)).k).toBe(1);
  });
});

describe("clustering - the simulator's province (scripts/sim/generate.ts)", () => {
  const calendar = new WorkingCalendar(CHINA_CALENDAR_2025_2026);
  // 60 days from 2025-09-01: National Day and Mid-Autumn (10-01..10-08) and the make-up days 09-28 and 10-11.
  const startMs = calendar.startOf('2025-09-01');

  function run(seed: number, noise: number, days: number) {
    const province = generateProvince({
      pairs: 200,
      days,
      startMs,
      seed,
      calendar: CHINA_CALENDAR_2025_2026,
      noise,
    });
    const features = province.pairs.map((p) =>
      trafficFeatures(
        { series: p.series, batches: p.series.values.map((v) => (v > 0 ? Math.ceil(v / p.recordsPerBatch) : 0)) },
        calendar,
      ),
    );
    return { province, features, classes: province.pairs.map((p) => p.cls) };
  }

  function check(seed: number, noise: number, days = 60) {
    const { province, features, classes } = run(seed, noise, days);
    for (const cls of PAIR_CLASSES) expect(classes.filter((c) => c === cls).length).toBe(40);
    expect(province.pairs.reduce((n, p) => n + p.surges.length, 0)).toBeGreaterThan(days === 60 ? 200 : 100);
    // 60 days: 16 weekend days − 2 make-up days (09-28, 10-11) + 6 weekday holidays (10-01..03, 10-06..08);
    // 28 days: 8 weekend days − the make-up Sunday 09-28
    expect(features[0]!.restDays).toBe(days === 60 ? 20 : 7);
    const c = clusterPairs(features, { seed });
    const ari = adjustedRandIndex(c.assignments, classes);
    const major = majorities(c.assignments, classes);
    console.log(
      `seed ${seed} noise ${noise} days ${days}: k ${c.k}, ARI ${ari.toFixed(3)}, silhouette by k ${c.criterion.byK.map((b) => `${b.k}:${b.silhouette.toFixed(3)}`).join(' ')}; ` +
        c.clusters
          .map(
            (cl) =>
              `${cl.label.en} ${cl.members.length} (${(major.get(cl.id)![1] * 100).toFixed(0)} % ${major.get(cl.id)![0]})`,
          )
          .join(', '),
    );
    expect(ari).toBeGreaterThanOrEqual(0.9);
    expect(c.k).toBe(PAIR_CLASSES.length);
    for (const cl of c.clusters) {
      expect(cl.label.base).toBe(major.get(cl.id)![0]);
      expect(major.get(cl.id)![1]).toBeGreaterThan(0.5);
    }
    expect(clusterPairs(features, { seed })).toEqual(c);
  }

  it('clustering - recovers the five planted classes, ARI >= 0.9 and k = 5, on seeds 1, 2 and 3', () => {
    for (const seed of [1, 2, 3]) check(seed, 1);
  });

  it('clustering - recovers them under three times the noise (negative-binomial k / 3)', () => {
    check(4, 3);
  });

  it("clustering - recovers them from four weeks of history (the brain job's window)", () => {
    check(5, 1, 28);
  });
});
