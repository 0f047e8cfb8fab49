// The knobs in force from a task's policies at an injected time (common/src/policy-knobs.ts), and the
// policy contract's checks (common/src/policy.ts). Local time is China Standard Time (UTC+8).
import { describe, expect, it } from 'vitest';
import { dayTypeOf, knobsInForce } from '../../common/src/policy-knobs.js';
import { policyOf, policyProblems, type PolicyBody, type PolicyDefinition } from '../../common/src/policy.js';

/** ms of a local (UTC+8) date and time. */
const cst = (date: string, hh: number, mm = 0): number =>
  Date.parse(`${date}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00Z`) - 8 * 3_600_000;

const policy = (id: string, b: Partial<PolicyBody>): PolicyDefinition =>
  policyOf(id, { kind: 'static', taskIds: ['t1'], windows: [], reason: 'test', ...b });

describe('policy knobs - in force at a time', () => {
  it('policy knobs - a window across midnight opens at 22:00 and closes at 06:00 the next day', () => {
    const night = policy('night', {
      windows: [{ startMinute: 22 * 60, endMinute: 30 * 60, knobs: { transfer: 'open', batchRecords: 5000 } }],
      outside: { transfer: 'closed' },
    });
    // 2026-11-03 is a Tuesday.
    const before = knobsInForce([night], 't1', cst('2026-11-03', 21, 59));
    expect(before.knobs).toEqual({ transfer: 'closed' });
    expect(before.sources).toEqual([{ policyId: 'night', kind: 'static', window: 'outside' }]);
    expect(before.nextChangeMs).toBe(cst('2026-11-03', 22));
    expect(knobsInForce([night], 't1', cst('2026-11-03', 22)).knobs).toEqual({ transfer: 'open', batchRecords: 5000 });
    const lateNight = knobsInForce([night], 't1', cst('2026-11-04', 5, 59));
    expect(lateNight.knobs).toEqual({ transfer: 'open', batchRecords: 5000 });
    expect(lateNight.nextChangeMs).toBe(cst('2026-11-04', 6));
    expect(knobsInForce([night], 't1', cst('2026-11-04', 6)).knobs).toEqual({ transfer: 'closed' });
    // Another task is not touched.
    expect(knobsInForce([night], 't2', cst('2026-11-03', 23))).toEqual({
      knobs: {},
      sources: [],
      nextChangeMs: undefined,
    });
  });

  it('policy knobs - day types follow the holidays and make-up workdays carried in the spec', () => {
    const office = policy('office', {
      windows: [{ dayType: 'workday', startMinute: 8 * 60, endMinute: 18 * 60, knobs: { batchRecords: 100 } }],
      holidays: ['2026-10-01', '2026-10-02'],
      makeUpWorkdays: ['2026-10-10'],
    });
    // 2026-10-01 is a Thursday but a holiday; 2026-10-10 a Saturday but a make-up workday.
    expect(dayTypeOf(office, Math.floor(cst('2026-10-01', 12) / 86_400_000))).toBe('rest-day');
    expect(knobsInForce([office], 't1', cst('2026-10-01', 10)).knobs).toEqual({});
    expect(knobsInForce([office], 't1', cst('2026-10-10', 10)).knobs).toEqual({ batchRecords: 100 });
    expect(knobsInForce([office], 't1', cst('2026-10-09', 10)).knobs).toEqual({ batchRecords: 100 });
    expect(knobsInForce([office], 't1', cst('2026-10-11', 10)).knobs).toEqual({});
    expect(knobsInForce([office], 't1', cst('2026-10-09', 18)).knobs).toEqual({});
    // A rest-day window opened on Saturday 23:00 still holds at Sunday 00:30; opened on no Friday.
    const weekendNight = policy('wn', {
      windows: [{ dayType: 'rest-day', startMinute: 23 * 60, endMinute: 25 * 60, knobs: { concurrency: 2 } }],
    });
    expect(knobsInForce([weekendNight], 't1', cst('2026-11-08', 0, 30)).knobs).toEqual({ concurrency: 2 });
    expect(knobsInForce([weekendNight], 't1', cst('2026-11-07', 0, 30)).knobs).toEqual({});
    // Weekdays: Monday only.
    const monday = policy('mon', {
      windows: [{ weekdays: [1], startMinute: 0, endMinute: 1440, knobs: { pollIntervalMs: 5 } }],
    });
    expect(knobsInForce([monday], 't1', cst('2026-11-02', 12)).knobs).toEqual({ pollIntervalMs: 5 });
    expect(knobsInForce([monday], 't1', cst('2026-11-03', 12)).knobs).toEqual({});
  });

  it('policy knobs - a dynamic policy overrides the static ones knob by knob while valid, then they return', () => {
    const tide = policy('tide', {
      windows: [{ startMinute: 0, endMinute: 1440, knobs: { batchRecords: 1000, concurrency: 1 } }],
    });
    const from = cst('2026-11-03', 10);
    const until = cst('2026-11-03', 11);
    const surge = policy('surge', {
      kind: 'dynamic',
      validFromMs: from,
      validUntilMs: until,
      outside: { batchRecords: 20_000 },
    });
    // Order of the list does not matter: statics first, then dynamics.
    const during = knobsInForce([surge, tide], 't1', from + 1);
    expect(during.knobs).toEqual({ batchRecords: 20_000, concurrency: 1 });
    expect(during.sources.map((s) => s.policyId)).toEqual(['tide', 'surge']);
    expect(during.nextChangeMs).toBe(until);
    expect(knobsInForce([surge, tide], 't1', from - 1).knobs).toEqual({ batchRecords: 1000, concurrency: 1 });
    expect(knobsInForce([surge, tide], 't1', from - 1).nextChangeMs).toBe(from);
    expect(knobsInForce([surge, tide], 't1', until).knobs).toEqual({ batchRecords: 1000, concurrency: 1 });
  });

  it('policy knobs - an expired policy sets nothing; a later static replaces an earlier one', () => {
    const end = cst('2026-11-03', 12);
    const old = policy('a', { validUntilMs: end, outside: { batchRecords: 7 } });
    expect(knobsInForce([old], 't1', end - 1).knobs).toEqual({ batchRecords: 7 });
    expect(knobsInForce([old], 't1', end)).toEqual({ knobs: {}, sources: [], nextChangeMs: undefined });
    const newer = policy('b', { validFromMs: end - 10, outside: { batchRecords: 9 } });
    expect(knobsInForce([newer, old], 't1', end - 1).knobs).toEqual({ batchRecords: 9 });
  });
});

describe('policy contract - problems name their field', () => {
  it('policy contract - window end before start, minutes out of range, batch records 0, bad dates', () => {
    const p = policy('x', {
      windows: [
        { startMinute: 600, endMinute: 540, knobs: {} },
        { startMinute: 1440, endMinute: 1500, knobs: { batchRecords: 0 } },
        { startMinute: 0, endMinute: 1441, knobs: { concurrency: 9 }, weekdays: [0] },
      ],
      holidays: ['2026/10/01'],
      utcOffsetMinutes: 900,
      reason: ' ',
    });
    expect(policyProblems(p)).toEqual([
      'utcOffsetMinutes: 900 is outside -840..840',
      'windows[0].endMinute: 540 is not after startMinute 600',
      'windows[1].startMinute: 1440 is outside 0..1439',
      'windows[1].knobs.batchRecords: 0 is outside 1..100000',
      'windows[2].endMinute: 1441 is more than a day (1440 minutes) after startMinute 0',
      'windows[2].weekdays[0]: 0 is outside 1..7 (1 = Monday)',
      'windows[2].knobs.concurrency: 9 is outside 1..8',
      'holidays[0]: "2026/10/01" is not a date YYYY-MM-DD',
      'reason: is empty (every policy says why)',
    ]);
    expect(
      policyProblems(policy('ok', { windows: [{ startMinute: 1320, endMinute: 1800, knobs: { transfer: 'open' } }] })),
    ).toEqual([]);
    expect(policyProblems(policy('none', { taskIds: [] }))).toEqual([
      'taskIds: names no task (at least one is needed)',
    ]);
  });
});
