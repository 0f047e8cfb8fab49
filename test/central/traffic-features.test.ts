import { describe, expect, it } from 'vitest';
import {
  autocorrelation,
  dispersion,
  select,
  trafficFeatures,
  trafficFeaturesOf,
} from '../../central/src/domain/traffic-features.js';
import { cnCalendar, fixturePairs } from '../helpers/traffic-fixture.js';

const BUCKET = 300_000;
const PER_DAY = 288;

/** A series of `days` days from local midnight of `first` with values from f(local hour, date). */
function series(first: string, days: number, f: (hour: number, date: string, i: number) => number) {
  const startMs = cnCalendar.startOf(first);
  const values = Array.from({ length: days * PER_DAY }, (_, i) => {
    const t = startMs + i * BUCKET;
    const date = cnCalendar.dateOf(t);
    return f(Math.floor((t - cnCalendar.startOf(date)) / 3_600_000), date, i);
  });
  return { startMs, bucketMs: BUCKET, values };
}

describe('traffic features', () => {
  it('traffic features - a constant flow is flat, fully active, without burstiness or periodicity', () => {
    const f = trafficFeatures({ series: series('2025-11-03', 14, () => 10) }, cnCalendar);
    expect(f.days).toBe(14);
    expect(f.workingDays).toBe(10);
    expect(f.activeFraction).toBe(1);
    expect(f.burstiness).toBe(0);
    expect(f.peakToMean).toBe(1);
    expect(f.acfDay).toBe(0);
    expect(f.restWorkRatio).toBe(1);
    expect(f.dailyEntropy).toBeCloseTo(1, 12);
    expect(f.weeklyPeakShare).toBeCloseTo(1 / 7, 12);
    expect(f.nightShare).toBeCloseTo(10 / 24, 12);
    expect(f.dispersion).toBe(0);
    expect(f.officeShare).toBeCloseTo((10 * 11) / (14 * 24), 12);
    expect(f.logVolume).toBeCloseTo(Math.log10(1 + 10 * PER_DAY), 12);
    expect(f.dailyProfile.every((p) => Math.abs(p - 1 / 24) < 1e-12)).toBe(true);
  });

  it('traffic features - day types follow the calendar: National Day rests, the 调休 Saturday works', () => {
    // 2025-09-22 .. 2025-10-19: holidays 10-01..10-08, make-up workdays Sun 09-28 and Sat 10-11.
    const s = series('2025-09-22', 28, (h, date) => (cnCalendar.isWorkingDay(date) && h >= 9 && h < 18 ? 4 : 0));
    const f = trafficFeatures({ series: s }, cnCalendar);
    expect(f.workingDays).toBe(16); // 20 weekdays − 6 holiday weekdays + 2 make-up days
    expect(f.restDays).toBe(12);
    expect(f.restWorkRatio).toBe(0);
    expect(f.officeShare).toBe(1);
    expect(f.nightShare).toBe(0);
    expect(f.peakHour).toBe(9);
    expect(f.dailyProfile.slice(9, 18).every((p) => Math.abs(p - 1 / 9) < 1e-12)).toBe(true);
    // Saturday 10-11 worked, so Saturday has some volume; Wednesday (10-01 holiday) less than Monday.
    expect(f.weeklyProfile[5]!).toBeGreaterThan(0);
    expect(f.weeklyProfile[2]!).toBeLessThan(f.weeklyProfile[0]!);
  });

  it('traffic features - a daily job correlates at one day, a weekly job at one week only', () => {
    const daily = trafficFeatures({ series: series('2025-11-03', 21, (h) => (h === 2 ? 100 : 0)) }, cnCalendar);
    expect(daily.acfDay).toBeGreaterThan(0.9);
    expect(daily.acfWeek).toBeGreaterThan(0.9);
    expect(daily.nightShare).toBe(1);
    expect(daily.activeFraction).toBeCloseTo(1 / 24, 12);
    const weekly = trafficFeatures(
      {
        series: series('2025-11-03', 21, (h, date) =>
          (date.endsWith('-05') || date.endsWith('-12') || date.endsWith('-19')) && h === 15 ? 100 : 0,
        ),
      },
      cnCalendar,
    );
    expect(weekly.acfWeek).toBeGreaterThan(0.6);
    expect(weekly.acfDay).toBeLessThan(0.05);
    expect(weekly.weeklyPeakShare).toBe(1);
    expect(weekly.weeklyProfile[2]).toBe(1); // the 5th, 12th and 19th of November 2025 are Wednesdays
  });

  it('traffic features - autocorrelation normalises the overlap by n − k', () => {
    const x = [1, 3, 1, 3, 1, 3];
    // mean 2, deviations ±1, variance 1: r(1) = (5 × (−1) / 5) / 1, r(2) = (4 / 4) / 1
    expect(autocorrelation(x, 1)).toBeCloseTo(-1, 12);
    expect(autocorrelation(x, 2)).toBeCloseTo(1, 12);
    const y = [0, 1, 0, 0, 2, 0, 1, 0];
    // mean 0.5, Σ dev² = 4; lag 3: pairs (0,0)(1,2)(0,0)(0,1)(2,0): 0.25+0.75+0.25−0.25−0.75 = 0.25
    expect(autocorrelation(y, 3)).toBeCloseTo(0.25 / 5 / (4 / 8), 12);
    expect(autocorrelation(x, 6)).toBe(0);
  });

  it('traffic features - burstiness, batch size and bytes per record', () => {
    const values = [0, 10, 0, 30, 0, 0, 0, 0, 0, 0, 0, 0];
    const f = trafficFeatures(
      {
        series: { startMs: cnCalendar.startOf('2025-11-03'), bucketMs: BUCKET, values },
        batches: [0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0],
        bytes: [0, 1000, 0, 3000, 0, 0, 0, 0, 0, 0, 0, 0],
      },
      cnCalendar,
    );
    expect(f.burstiness).toBeCloseTo(10 / 20, 12); // nonzero {10, 30}: μ 20, σ 10
    expect(f.peakToMean).toBeCloseTo(30 / 20, 12);
    expect(f.activeFraction).toBeCloseTo(2 / 12, 12);
    expect(f.batchSize).toBe(10);
    expect(f.bytesPerRecord).toBe(100);
    expect(trafficFeatures({ series: { startMs: 0, bucketMs: BUCKET, values } }, cnCalendar).batchSize).toBeNull();
  });

  it('traffic features - dispersion counts the steps beyond Poisson, not the shape', () => {
    // 10, 30, 10, 30: D = 20² / 2 = 200, x̄ = 20, P = 300 → (200 − 20) / 300
    expect(dispersion([10, 30, 10, 30, 10, 30], 20)).toBeCloseTo(0.6, 12);
    // A smooth ramp has steps of 1: D = 0.5 < x̄, so no overdispersion.
    const ramp = Array.from({ length: 100 }, (_, i) => 50 + i);
    expect(dispersion(ramp, 99.5)).toBe(0);
  });

  it('traffic features - quickselect gives the order statistic a sort gives, duplicates included', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const n of [1, 2, 7, 100, 1001]) {
      const values = Array.from({ length: n }, () => Math.floor(rand() * 20));
      const sorted = [...values].sort((x, y) => x - y);
      for (const r of [0, n >> 1, n - 1, Math.max(0, Math.ceil(0.99 * n) - 1)])
        expect(select(Float64Array.from(values), r)).toBe(sorted[r]);
    }
  });

  it('traffic features - refuses malformed series', () => {
    const startMs = cnCalendar.startOf('2025-11-03');
    expect(() => trafficFeatures({ series: { startMs, bucketMs: 7_000_000, values: [1] } }, cnCalendar)).toThrow(
      /bucketMs/,
    );
    expect(() => trafficFeatures({ series: { startMs, bucketMs: BUCKET, values: [1, -1] } }, cnCalendar)).toThrow(
      /bucket 1/,
    );
    expect(() =>
      trafficFeatures({ series: { startMs, bucketMs: BUCKET, values: [1, 2] }, batches: [1] }, cnCalendar),
    ).toThrow(/batches/);
  });

  it('traffic features - many pairs sharing one grid give what each alone gives', () => {
    const pairs = fixturePairs(5, 1, 7);
    const other = { series: series('2025-11-03', 2, (h) => h) };
    const inputs = [...pairs, other];
    expect(trafficFeaturesOf(inputs, cnCalendar)).toEqual(inputs.map((p) => trafficFeatures(p, cnCalendar)));
  });

  it('traffic features - the planted fixture classes differ where their shapes say', () => {
    const pairs = fixturePairs(7, 3, 28);
    const by = (cls: string) => pairs.filter((p) => p.cls === cls).map((p) => trafficFeatures(p, cnCalendar));
    for (const f of by('nightly-bulk')) expect(f.nightShare).toBeGreaterThan(0.9);
    for (const f of by('office-hours')) expect(f.officeShare).toBeGreaterThan(0.9);
    for (const f of by('office-hours')) expect(f.restWorkRatio).toBeLessThan(0.1);
    for (const f of by('weekly')) expect(f.weeklyPeakShare).toBeGreaterThan(0.8);
    for (const f of by('realtime-steady')) expect(f.activeFraction).toBeGreaterThan(0.95);
    for (const f of by('sporadic')) expect(Math.max(f.acfDay, f.acfWeek)).toBeLessThan(0.3);
  });
});
