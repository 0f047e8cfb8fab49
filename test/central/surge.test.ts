// Surge detection (domain/surge.ts): planted surges are caught within two buckets of their start with false
// alarms on under 1 % of surge-free buckets, over days with National Day and a make-up day; the batch result
// is the streaming one, and no decision changes when later values do.
import { describe, expect, it } from 'vitest';
import { CHINA_CALENDAR_2025_2026, generateProvince, type SimPair } from '../../scripts/sim/generate.js';
import { detectSurges, type Surge, SurgeDetector, type SurgeEvent } from '../../central/src/domain/surge.js';

const cal = CHINA_CALENDAR_2025_2026;
const DAY = 86_400_000;
const BUCKET = 300_000;
const START = Date.parse('2025-09-08T00:00:00+08:00'); // 28 days: make-up Sunday 09-28, National Day from 10-01
const WARM = 14 * 288;

function province(pairs: number, seed: number): SimPair[] {
  return generateProvince({
    pairs,
    days: 28,
    startMs: START,
    seed,
    calendar: cal,
    surgesPerPair: 3,
    surgesFromMs: START + 14 * DAY,
  }).pairs;
}

/** Every event with the index of the push that returned it. */
function stream(pair: SimPair): { at: number; e: SurgeEvent }[] {
  const d = new SurgeDetector({ calendar: cal });
  const out: { at: number; e: SurgeEvent }[] = [];
  pair.series.values.forEach((v, i) => {
    for (const e of d.push(START + i * BUCKET, v)) out.push({ at: i, e });
  });
  return out;
}

describe('surge detection', () => {
  it('surge - planted surges detected within 2 buckets (>= 95 %), false alarms < 1 % of surge-free buckets', () => {
    const pairs = province(60, 21);
    let planted = 0;
    let within = 0;
    let free = 0;
    let flaggedFree = 0;
    const idx = (ms: number): number => (ms - START) / BUCKET;
    for (const pair of pairs) {
      const found = detectSurges(pair.series, { calendar: cal });
      const n = pair.series.values.length;
      const inPlanted = new Uint8Array(n);
      for (const s of pair.surges) for (let j = s.startIdx; j <= s.endIdx; j++) inPlanted[j] = 1;
      for (const s of pair.surges) {
        planted++;
        // The detected surge that covers the planted start (or begins within it) and when it was decided.
        const hit = found.find((d) => idx(d.startMs) <= s.endIdx && (d.endMs === null || idx(d.endMs) > s.startIdx));
        if (hit !== undefined && idx(hit.detectedMs) - s.startIdx <= 2) within++;
      }
      for (const d of found)
        for (let j = idx(d.startMs); j < (d.endMs === null ? n : idx(d.endMs)); j++)
          if (j >= WARM && inPlanted[j] === 0) flaggedFree++;
      for (let j = WARM; j < n; j++) if (inPlanted[j] === 0) free++;
    }
    const falsePct = (100 * flaggedFree) / free;
    console.log(
      `detected within 2 buckets: ${within}/${planted} (${((100 * within) / planted).toFixed(1)} %); surge-free buckets flagged: ${flaggedFree}/${free} (${falsePct.toFixed(3)} %)`,
    );
    expect(planted).toBeGreaterThan(120);
    expect(within / planted).toBeGreaterThanOrEqual(0.95);
    expect(falsePct).toBeLessThan(1);
  });

  it('surge - the batch result is the streaming one, and a later value never changes an earlier decision', () => {
    const pairs = province(10, 5);
    for (const pair of pairs.slice(0, 5)) {
      const events = stream(pair);
      const folded: Surge[] = events.filter((x) => x.e.kind === 'end').map((x) => x.e.surge);
      const batch = detectSurges(pair.series, { calendar: cal });
      const last = batch[batch.length - 1];
      expect(batch.slice(0, folded.length)).toEqual(folded);
      if (batch.length > folded.length) expect(last?.endMs).toBeNull();
      // Change everything from bucket k on (k: inside the first planted surge, and mid-way through day 20).
      for (const k of [pair.surges[0]?.startIdx ?? 18 * 288, 20 * 288 + 144]) {
        const values = pair.series.values.map((v, i) => (i >= k ? v * 3 + 40 : v));
        const changed = stream({ ...pair, series: { ...pair.series, values } });
        const before = (xs: { at: number; e: SurgeEvent }[]): unknown[] => xs.filter((x) => x.at < k);
        expect(before(changed)).toEqual(before(events));
        expect(changed).not.toEqual(events);
      }
    }
  });

  it('surge - a x6 burst is caught at its first bucket with its peak, expected, end and evidence', () => {
    const pair = generateProvince({
      pairs: 1,
      days: 21,
      startMs: START,
      seed: 4,
      calendar: cal,
      classes: ['realtime-steady'],
      surgesPerPair: 0,
    }).pairs[0]!;
    const values = pair.series.values.slice();
    const at = 17 * 288 + 130; // Thursday 2025-09-25 10:50
    for (let i = at; i < at + 10; i++) values[i] = Math.round(pair.expected[i]! * 6);
    values[at + 4] = Math.round(pair.expected[at + 4]! * 9);
    const found = detectSurges({ ...pair.series, values }, { calendar: cal });
    // Seven days of decisions on one pair may hold a false alarm elsewhere (one seen: 93 against 50.6, p 8e-5).
    const hits = found.filter((f) => f.startMs < START + (at + 10) * BUCKET && f.endMs! > START + at * BUCKET);
    expect(hits).toHaveLength(1);
    expect(found.length).toBeLessThanOrEqual(2);
    const s = hits[0]!;
    expect(s.startMs).toBe(START + at * BUCKET);
    expect(s.detectedMs).toBe(s.startMs);
    expect(s.endMs).toBe(START + (at + 10) * BUCKET);
    expect(s.peak).toBe(values[at + 4]);
    expect(s.peakMs).toBe(START + (at + 4) * BUCKET);
    expect(s.expected / pair.expected[at + 4]!).toBeGreaterThan(0.8);
    expect(s.expected / pair.expected[at + 4]!).toBeLessThan(1.25);
    expect(s.evidence.rule).toBe('single');
    expect(s.evidence.buckets[0]!.pValue).toBeLessThanOrEqual(1e-4);
    expect(s.evidence.fittedUntilMs).toBe(START + 17 * DAY);
  });

  it('surge - buckets must come in time order and aligned', () => {
    const d = new SurgeDetector({ calendar: cal });
    d.push(START, 1);
    expect(() => d.push(START, 1)).toThrow(RangeError);
    expect(() => d.push(START + 1000, 1)).toThrow(RangeError);
    expect(d.push(START + 3 * BUCKET, 1)).toEqual([]); // a gap is missing buckets, not an error
  });
});
