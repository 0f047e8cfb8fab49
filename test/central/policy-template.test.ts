// A cluster's policy template (domain/cluster-policy.ts) as a policy of the contract (domain/policy-template.ts):
// windows in local minutes with day types, knobs bounded, the calendar carried, sound by policyProblems, and
// the knobs in force at given local times as the agent computes them.
import { describe, expect, it } from 'vitest';
import type { PolicyTemplate } from '../../central/src/domain/cluster-policy.js';
import { staticPolicyFromTemplate } from '../../central/src/domain/policy-template.js';
import { knobsInForce } from '../../common/src/policy-knobs.js';
import { policyOf, policyProblems } from '../../common/src/policy.js';

const cst = (date: string, hh: number): number =>
  Date.parse(`${date}T${String(hh).padStart(2, '0')}:00:00Z`) - 8 * 3_600_000;
const CALENDAR = { holidays: ['2026-10-01'], workdays: ['2026-10-10'], utcOffsetMinutes: 480 };

const NIGHTLY: PolicyTemplate = {
  windows: [{ days: 'every', startHour: 21, endHour: 7 }],
  batchRecords: 5000,
  concurrency: 4,
  prewarm: { standby: true, leadMinutes: 15, beforeLocalHour: 21 },
  surgeSensitivity: 'normal',
  reason: 'bulk moved at night',
};

describe('policy template - a cluster template as a policy', () => {
  it('policy template - a night window across midnight, closed outside when asked, sound and in force at night', () => {
    const body = staticPolicyFromTemplate(NIGHTLY, {
      taskIds: ['t1'],
      calendar: CALENDAR,
      cluster: { id: 'c2', label: 'nightly bulk 夜间批量' },
      closedOutside: true,
    });
    expect(body.windows).toEqual([
      { startMinute: 1260, endMinute: 1860, knobs: { transfer: 'open', batchRecords: 5000, concurrency: 4 } },
    ]);
    expect(body.outside).toEqual({ transfer: 'closed' });
    expect([body.holidays, body.makeUpWorkdays, body.utcOffsetMinutes]).toEqual([['2026-10-01'], ['2026-10-10'], 480]);
    expect(body.reason).toBe('cluster nightly bulk 夜间批量: bulk moved at night');
    expect(body.evidence?.map((e) => e.name)).toEqual([
      'label',
      'cluster_id',
      'surge_sensitivity',
      'prewarm_before_local_hour',
    ]);
    const p = policyOf('p', body);
    expect(policyProblems(p)).toEqual([]);
    expect(knobsInForce([p], 't1', cst('2026-11-04', 6)).knobs.transfer).toBe('open');
    expect(knobsInForce([p], 't1', cst('2026-11-04', 12)).knobs).toEqual({ transfer: 'closed' });
  });

  it('policy template - working-day and weekly windows; no window gives the knobs all day; knobs bounded', () => {
    const office = staticPolicyFromTemplate(
      { ...NIGHTLY, windows: [{ days: 'working', startHour: 7, endHour: 20 }], concurrency: 2, batchRecords: 1000 },
      { taskIds: ['t1'], calendar: CALENDAR, cluster: { id: 'c1', label: 'office' } },
    );
    expect(office.windows).toEqual([
      { dayType: 'workday', startMinute: 420, endMinute: 1200, knobs: { batchRecords: 1000, concurrency: 2 } },
    ]);
    expect(office.outside).toEqual({});
    const p = policyOf('o', office);
    // 2026-10-10 is a Saturday worked (调休); 2026-10-01 a Thursday holiday.
    expect(knobsInForce([p], 't1', cst('2026-10-10', 9)).knobs).toEqual({ batchRecords: 1000, concurrency: 2 });
    expect(knobsInForce([p], 't1', cst('2026-10-01', 9)).knobs).toEqual({});
    const weekly = staticPolicyFromTemplate(
      { ...NIGHTLY, windows: [{ days: 3, startHour: 0, endHour: 24 }] },
      { taskIds: ['t1'], calendar: CALENDAR, cluster: { id: 'c3', label: 'weekly' } },
    );
    expect(weekly.windows[0]).toMatchObject({ weekdays: [3], startMinute: 0, endMinute: 1440 });
    const steady = staticPolicyFromTemplate(
      { ...NIGHTLY, windows: [], batchRecords: 500_000, concurrency: 0 },
      { taskIds: ['t1'], calendar: CALENDAR, cluster: { id: 'c4', label: 'steady' }, closedOutside: true },
    );
    expect([steady.windows, steady.outside]).toEqual([[], { batchRecords: 100_000, concurrency: 1 }]);
    expect(policyProblems(policyOf('s', steady))).toEqual([]);
  });
});
