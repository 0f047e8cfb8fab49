// Small planted-class traffic for the clustering tests until scripts/sim/generate.ts is used: pairs of five
// shapes (nightly bulk, office hours, weekly, sporadic, real-time steady) over China's 2025 calendar with
// Poisson-like counts, multiplicative noise, dropped buckets and surges. Seeded: same seed, same series.
import { WorkingCalendar } from '../../central/src/domain/calendar.js';
import { CN_HOLIDAYS, CN_WORKDAYS } from '../../central/src/config.js';
import type { TrafficSeries } from '../../central/src/domain/traffic-features.js';

export const FIXTURE_CLASSES = ['nightly-bulk', 'office-hours', 'weekly', 'sporadic', 'realtime-steady'] as const;
export type FixtureClass = (typeof FIXTURE_CLASSES)[number];

export interface FixturePair {
  cls: FixtureClass;
  series: TrafficSeries;
  batches: number[];
}

export const cnCalendar = new WorkingCalendar({ holidays: CN_HOLIDAYS, workdays: CN_WORKDAYS, utcOffsetMinutes: 480 });

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson-like count of mean m (normal approximation above 30, Knuth below). */
function count(rand: () => number, m: number): number {
  if (m <= 0) return 0;
  if (m > 30) {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(m + Math.sqrt(m) * z));
  }
  const l = Math.exp(-m);
  let k = 0;
  let p = rand();
  while (p > l) {
    k++;
    p *= rand();
  }
  return k;
}

type Shape = (hour: number, weekday: number, working: boolean) => number;

function shapeOf(cls: FixtureClass, rand: () => number, volume: number): Shape {
  const start = Math.floor(rand() * 4); // nightly: 00..03
  const len = 1 + Math.floor(rand() * 3);
  const day = Math.floor(rand() * 5); // weekly reports go out on a weekday (Monday..Friday)
  const wStart = 8 + Math.floor(rand() * 10);
  switch (cls) {
    case 'nightly-bulk':
      return (h) => (h >= start && h < start + len ? volume : 0);
    case 'office-hours':
      return (h, _w, working) => (working && h >= 9 && h < 18 ? (h === 12 || h === 13 ? 0.4 : 1) * volume : 0);
    case 'weekly':
      return (h, w, working) => (working && w === day && h >= wStart && h < wStart + 3 ? volume : 0);
    case 'realtime-steady':
      return (h) => volume * (1 + 0.3 * Math.sin((2 * Math.PI * (h - 8)) / 24));
    case 'sporadic':
      return () => 0; // bursts added per bucket below
  }
}

/** `perClass` pairs of each class, `days` of 5-min buckets from 2025-09-15 (CST), National Day inside. */
export function fixturePairs(seed: number, perClass: number, days = 60): FixturePair[] {
  const rand = mulberry32(seed);
  const startMs = cnCalendar.startOf('2025-09-15');
  const bucketMs = 300_000;
  const n = days * 288;
  const pairs: FixturePair[] = [];
  for (const cls of FIXTURE_CLASSES) {
    for (let p = 0; p < perClass; p++) {
      const volume = 5 * 10 ** (rand() * 2); // 5..500 records per bucket at the shape's height
      const shape = shapeOf(cls, rand, volume);
      const burstStarts = cls === 'sporadic' ? Array.from({ length: 15 }, () => Math.floor(rand() * n)) : [];
      const surges = Array.from({ length: 2 }, () => Math.floor(rand() * n));
      const values = new Array<number>(n).fill(0);
      const batches = new Array<number>(n).fill(0);
      const batchSize = cls === 'nightly-bulk' || cls === 'weekly' ? 2000 : cls === 'realtime-steady' ? 50 : 300;
      for (let i = 0; i < n; i++) {
        const t = startMs + i * bucketMs;
        const date = cnCalendar.dateOf(t);
        const hour = Math.floor((t - cnCalendar.startOf(date)) / 3_600_000);
        const weekday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
        let m = shape(hour, weekday, cnCalendar.isWorkingDay(date));
        for (const b of burstStarts) if (i >= b && i < b + 4) m += volume * (2 + 3 * rand());
        for (const s of surges) if (m > 0 && i >= s && i < s + 6) m *= 3;
        const noisy = m * Math.exp(0.2 * (rand() + rand() + rand() - 1.5));
        const v = rand() < 0.01 ? 0 : count(rand, noisy);
        values[i] = v;
        batches[i] = v > 0 ? Math.ceil(v / batchSize) : 0;
      }
      pairs.push({ cls, series: { startMs, bucketMs, values }, batches });
    }
  }
  return pairs;
}
