// The traffic simulator's generator: deterministic per seed, and its planted ground truth (classes, day
// types by the holiday calendar, surges) is what the series actually carry.
import { describe, expect, it } from 'vitest';
import { CHINA_CALENDAR_2025_2026, generateProvince, PAIR_CLASSES } from '../../scripts/sim/generate.js';
import { WorkingCalendar } from '../../central/src/domain/calendar.js';

const START = Date.parse('2025-09-15T00:00:00+08:00'); // a Monday; National Day 10-01..10-08 and 调休 09-28, 10-11 follow
const base = { pairs: 40, days: 35, startMs: START, seed: 7, calendar: CHINA_CALENDAR_2025_2026 };
const DAY = 86_400_000;

describe('sim generator', () => {
  it('sim generator - the same seed gives the same province, another seed another one', () => {
    const a = generateProvince(base);
    const b = generateProvince(base);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = generateProvince({ ...base, seed: 8 });
    expect(c.pairs[0]?.series.values).not.toEqual(a.pairs[0]?.series.values);
    // A pair's history depends on its own stream, not on how many pairs there are (classes aside).
    const fewer = generateProvince({ ...base, pairs: 5, classes: [a.pairs[0]!.cls] });
    expect(fewer.pairs[0]?.series.values).toEqual(a.pairs[0]?.series.values);
  });

  it('sim generator - classes are balanced and volumes span orders of magnitude within a class', () => {
    const p = generateProvince({ ...base, pairs: 100, days: 8, surgesPerPair: 0 });
    for (const cls of PAIR_CLASSES) {
      const of = p.pairs.filter((x) => x.cls === cls);
      expect(of.length).toBe(20);
      const levels = of.map((x) => x.meanLevel);
      expect(Math.max(...levels) / Math.min(...levels)).toBeGreaterThan(20);
    }
    const keys = new Set(p.pairs.map((x) => `${x.fromNode}>${x.toNode}/${x.resource}`));
    expect(keys.size).toBe(100);
  });

  it('sim generator - surges are planted as recorded: in range, apart, 2-36 buckets, x3-x10, and visible', () => {
    const p = generateProvince({ ...base, surgesPerPair: 3 });
    let planted = 0;
    let above = 0;
    for (const pair of p.pairs) {
      const n = pair.series.values.length;
      let last = -Infinity;
      for (const s of pair.surges) {
        planted++;
        expect(s.startIdx).toBeGreaterThanOrEqual(7 * 288);
        expect(s.endIdx).toBeLessThan(n);
        expect(s.endIdx - s.startIdx + 1).toBeGreaterThanOrEqual(2);
        expect(s.endIdx - s.startIdx + 1).toBeLessThanOrEqual(36);
        expect(s.factor).toBeGreaterThanOrEqual(3);
        expect(s.factor).toBeLessThanOrEqual(10);
        expect(s.startIdx).toBeGreaterThan(last + 288);
        last = s.endIdx;
        let obs = 0;
        let exp = 0;
        for (let j = s.startIdx; j <= s.endIdx; j++) {
          obs += pair.series.values[j]!;
          exp += pair.expected[j]!;
        }
        if (obs > 2.5 * exp) above++;
      }
    }
    expect(planted).toBeGreaterThan(60);
    expect(above / planted).toBeGreaterThan(0.9);
  });

  it('sim generator - degrading links are planted between two different centers inside the range', () => {
    const centers = ['province', 'nanchang', 'ganzhou'];
    const p = generateProvince({ ...base, pairs: 1, degradeLinks: { centers, count: 12 } });
    expect(p.degradations).toHaveLength(12);
    for (const d of p.degradations) {
      expect(centers).toContain(d.from);
      expect(centers).toContain(d.to);
      expect(d.from).not.toBe(d.to);
      expect(d.startMs).toBeGreaterThanOrEqual(START);
      expect(d.endMs).toBeLessThanOrEqual(START + 35 * DAY);
      expect(d.endMs - d.startMs).toBeGreaterThanOrEqual(30 * 60_000);
      expect(d.addedLatencyMs).toBeGreaterThanOrEqual(100);
    }
    expect(generateProvince({ ...base, pairs: 1 }).degradations).toEqual([]);
  });

  it('sim generator - office traffic rests on holidays and works on make-up days (调休)', () => {
    const p = generateProvince({ ...base, pairs: 50, classes: ['office-hours'], surgesPerPair: 0 });
    const cal = new WorkingCalendar(CHINA_CALENDAR_2025_2026);
    const dayTotal = (date: string): number => {
      const from = (cal.startOf(date) - START) / 300_000;
      let s = 0;
      for (const pair of p.pairs) for (let j = from; j < from + 288; j++) s += pair.expected[j]! / pair.meanLevel;
      return s;
    };
    const wednesday = dayTotal('2025-09-24');
    expect(dayTotal('2025-10-01')).toBeLessThan(0.2 * wednesday); // National Day, a Wednesday
    expect(dayTotal('2025-09-28')).toBeGreaterThan(0.7 * wednesday); // make-up Sunday
    expect(dayTotal('2025-09-21')).toBeLessThan(0.2 * wednesday); // an ordinary Sunday
    expect(p.pairs[0]!.series.values.length).toBe(35 * 288);
    expect(p.pairs[0]!.series.startMs + 35 * DAY).toBe(START + 35 * DAY);
  });
});
