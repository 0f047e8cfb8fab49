// A detected surge (浪涌, domain/surge.ts) as a dynamic policy body (common/src/policy.ts) for the flow's
// provider task: the transfer open whatever the tide's window says, more records per batch and more read
// slots, valid from the detection until the surge ends (the brain withdraws or shortens it on the detector's
// end event; maxDurationMs bounds it if that never comes), with the surge's figures as evidence. Pure.
import { KNOB_LIMITS, type PolicyBody, type PolicyKnobs } from '../../../common/src/policy.js';
import type { Surge } from './surge.js';

export interface SurgePolicyOptions {
  taskIds: string[];
  subscriptionId?: string;
  /** The knobs the flow runs with outside the surge (its tide's, or the agent's defaults: 1000 records, 1 slot). */
  base: { batchRecords: number; concurrency: number };
  /** Bucket length of the series the surge was detected on, ms (300 000 by default). */
  bucketMs: number;
  /** Longest the policy stays valid without an end event, ms. Default 2 h. */
  maxDurationMs?: number;
  /** Largest factor on the batch size. Default 4. */
  maxBatchFactor?: number;
}

const clamp = (v: number, { min, max }: { min: number; max: number }): number =>
  Math.max(min, Math.min(max, Math.round(v)));

/**
 * The knobs of a surge: records per batch times the surge's peak-to-expected ratio (at least 2, at most
 * maxBatchFactor), read slots doubled (at least 2), transfer open. Bounded by KNOB_LIMITS.
 */
export function surgeKnobs(
  s: Pick<Surge, 'peak' | 'expected'>,
  o: Pick<SurgePolicyOptions, 'base' | 'maxBatchFactor'>,
): PolicyKnobs {
  const ratio = s.expected > 0 ? s.peak / s.expected : Infinity;
  const factor = Math.min(o.maxBatchFactor ?? 4, Math.max(2, Math.ceil(ratio)));
  return {
    transfer: 'open',
    batchRecords: clamp(o.base.batchRecords * factor, KNOB_LIMITS.batchRecords),
    concurrency: clamp(Math.max(2, o.base.concurrency * 2), KNOB_LIMITS.concurrency),
  };
}

/** The dynamic policy of a surge (an open surge: valid for maxDurationMs from its detection bucket's end). */
export function dynamicPolicyForSurge(s: Surge, o: SurgePolicyOptions): PolicyBody {
  const from = s.detectedMs + o.bucketMs; // the detection bucket is complete at its end
  const until = s.endMs ?? from + (o.maxDurationMs ?? 2 * 3_600_000);
  const ratio = s.expected > 0 ? s.peak / s.expected : null;
  const first = s.evidence.buckets[0];
  return {
    kind: 'dynamic',
    taskIds: o.taskIds,
    ...(o.subscriptionId && { subscriptionId: o.subscriptionId }),
    validFromMs: from,
    validUntilMs: Math.max(until, from + 1),
    windows: [],
    outside: surgeKnobs(s, o),
    reason:
      `surge: ${Math.round(s.peak)} records per bucket against ${Math.round(s.expected)} expected` +
      `${ratio === null ? '' : ` (${ratio.toFixed(1)}x)`}, ${s.evidence.rule} rule; transfer open, larger batches, more read slots`,
    evidence: [
      { kind: 'surge', name: 'start', value: s.startMs, unit: 'ms', text: new Date(s.startMs).toISOString() },
      { kind: 'surge', name: 'peak_records', value: s.peak, unit: 'records/bucket' },
      { kind: 'forecast', name: 'expected_records', value: s.expected, unit: 'records/bucket' },
      { kind: 'surge', name: 'rule', text: s.evidence.rule },
      ...(first ? [{ kind: 'surge' as const, name: 'p_value', value: first.pValue }] : []),
      { kind: 'forecast', name: 'level_per_bucket', value: s.evidence.levelPerBucket, unit: 'records/bucket' },
    ],
  };
}
