// A surge as a dynamic policy (domain/surge-policy.ts): knobs raised within the agents' bounds, valid from the
// end of the detection bucket, sound by the contract, and overriding the tide's closed window while valid.
import { describe, expect, it } from 'vitest';
import type { Surge } from '../../central/src/domain/surge.js';
import { dynamicPolicyForSurge, surgeKnobs } from '../../central/src/domain/surge-policy.js';
import { knobsInForce } from '../../common/src/policy-knobs.js';
import { policyOf, policyProblems } from '../../common/src/policy.js';

const T0 = Date.parse('2026-11-04T02:00:00Z'); // 10:00 CST
const SURGE: Surge = {
  startMs: T0,
  endMs: null,
  detectedMs: T0 + 300_000,
  peak: 9000,
  peakMs: T0 + 300_000,
  expected: 2000,
  evidence: {
    rule: 'double',
    buckets: [{ startMs: T0, value: 6000, expected: 2000, pValue: 1e-3 }],
    dispersion: 0.1,
    levelPerBucket: 1800,
    fittedUntilMs: T0 - 3_600_000,
  },
};

describe('surge policy - a surge as a dynamic policy', () => {
  it('surge policy - knobs raised by the peak ratio within bounds; valid from the detection; overrides a closed tide', () => {
    expect(surgeKnobs(SURGE, { base: { batchRecords: 1000, concurrency: 1 } })).toEqual({
      transfer: 'open',
      batchRecords: 4000, // 4.5x capped at 4
      concurrency: 2,
    });
    expect(surgeKnobs({ peak: 2500, expected: 2000 }, { base: { batchRecords: 80_000, concurrency: 6 } })).toEqual({
      transfer: 'open',
      batchRecords: 100_000,
      concurrency: 8,
    });
    const body = dynamicPolicyForSurge(SURGE, {
      taskIds: ['t1'],
      base: { batchRecords: 1000, concurrency: 1 },
      bucketMs: 300_000,
    });
    expect([body.validFromMs, body.validUntilMs]).toEqual([T0 + 600_000, T0 + 600_000 + 2 * 3_600_000]);
    expect(body.reason).toBe(
      'surge: 9000 records per bucket against 2000 expected (4.5x), double rule; transfer open, larger batches, more read slots',
    );
    const surge = policyOf('s', body);
    expect(policyProblems(surge)).toEqual([]);
    const tide = policyOf('tide', {
      kind: 'static',
      taskIds: ['t1'],
      windows: [],
      outside: { transfer: 'closed' },
      reason: 'night only',
    });
    expect(knobsInForce([surge, tide], 't1', T0 + 300_000).knobs).toEqual({ transfer: 'closed' });
    expect(knobsInForce([surge, tide], 't1', T0 + 600_000).knobs).toEqual({
      transfer: 'open',
      batchRecords: 4000,
      concurrency: 2,
    });
    // An ended surge: valid until its end.
    const ended = dynamicPolicyForSurge(
      { ...SURGE, endMs: T0 + 1_800_000 },
      { taskIds: ['t1'], base: { batchRecords: 1000, concurrency: 1 }, bucketMs: 300_000 },
    );
    expect(ended.validUntilMs).toBe(T0 + 1_800_000);
  });
});
