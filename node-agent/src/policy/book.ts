// The scheduling policies (策略) this node holds: decoded from the PolicySpecs of its assignment set,
// checked against the one contract (common/src/policy.ts), and asked by its runners for the knobs in force
// (common/src/policy-knobs.ts). Level-triggered like the supervisor: apply() takes the whole set.
//
// Invariants: a policy that breaks the contract is refused with the reason (each bad field named) and its
// generation remembered, so it is not refused again on every poll; it sets no knob. Listeners are told of
// every change of the set (a runner waiting for a window re-evaluates at once).
import type { Logger } from 'pino';
import { knobsInForce, type KnobsInForce } from '../../../common/src/policy-knobs.js';
import {
  cleanKnobs,
  policyProblems,
  type PolicyDefinition,
  type PolicyEvidence,
  type PolicyKind,
} from '../../../common/src/policy.js';
import type { Assignment__Output, PolicySpec__Output } from '../../../proto/index.js';
import type { Outcome } from '../tasks/supervisor.js';

/** A policy of the saved assignment set. */
export interface PolicyAssignment {
  kind: 'policy';
  id: string;
  generation: number;
  policy: PolicyDefinition;
}

/** Whether an entry of a saved set is a policy. */
export const isPolicy = (a: { kind: string }): a is PolicyAssignment => a.kind === 'policy' && 'policy' in a;

/** The policies of an assignment set, in order. */
export function decodePolicies(assignments: readonly Assignment__Output[]): PolicyAssignment[] {
  const out: PolicyAssignment[] = [];
  for (const a of assignments)
    if (a.spec === 'policy' && a.policy)
      out.push({ kind: 'policy', id: a.id, generation: Number(a.generation), policy: policyOfSpec(a.policy) });
  return out;
}

/** A PolicySpec as the contract's definition (0 and '' knobs are unset). */
export function policyOfSpec(s: PolicySpec__Output): PolicyDefinition {
  const knobs = (k: PolicySpec__Output['outside']): PolicyDefinition['outside'] =>
    cleanKnobs({
      transfer: (k?.transfer ?? '') as 'open',
      batchRecords: k?.batchRecords ?? 0,
      concurrency: k?.concurrency ?? 0,
      pollIntervalMs: k?.pollIntervalMs ?? 0,
    });
  return {
    id: s.policyId,
    kind: s.kind as PolicyKind,
    taskIds: [...s.taskIds],
    subscriptionId: s.subscriptionId,
    validFromMs: Number(s.validFromMs),
    validUntilMs: Number(s.validUntilMs),
    utcOffsetMinutes: s.utcOffsetMinutes,
    windows: s.windows.map((w) => ({
      dayType: w.dayType as '',
      weekdays: [...w.weekdays],
      startMinute: w.startMinute,
      endMinute: w.endMinute,
      knobs: knobs(w.knobs),
    })),
    outside: knobs(s.outside),
    holidays: [...s.holidays],
    makeUpWorkdays: [...s.makeUpWorkdays],
    reason: s.reason,
    evidence: s.evidence.map((e) => ({ ...e, kind: e.kind as PolicyEvidence['kind'] })),
  };
}

interface Held {
  generation: number;
  policy: PolicyDefinition;
  /** Refused (breaks the contract): sets no knob. */
  refused: boolean;
}

export class PolicyBook {
  private readonly held = new Map<string, Held>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly log: Logger) {}

  /** Converges to `set`; returns an outcome for every policy that is new or of a new generation. */
  apply(set: readonly PolicyAssignment[]): Outcome[] {
    const outcomes: Outcome[] = [];
    const wanted = new Set(set.map((p) => p.id));
    let changed = false;
    for (const id of [...this.held.keys()])
      if (!wanted.has(id)) {
        this.held.delete(id);
        changed = true;
        this.log.info({ policyId: id }, 'policy withdrawn');
      }
    for (const a of set) {
      if (this.held.get(a.id)?.generation === a.generation) continue;
      changed = true;
      const problems = policyProblems(a.policy);
      const base = { assignmentId: a.id, generation: a.generation };
      this.held.set(a.id, { generation: a.generation, policy: a.policy, refused: problems.length > 0 });
      if (problems.length) {
        const reason = `invalid policy: ${problems.join('; ')}`;
        this.log.warn({ policyId: a.id, reason }, 'policy rejected');
        outcomes.push({ ...base, applied: false, reason });
        continue;
      }
      const p = a.policy;
      this.log.info(
        { policyId: a.id, kind: p.kind, generation: a.generation, taskIds: p.taskIds, reason: p.reason },
        'policy applied',
      );
      outcomes.push({ ...base, applied: true, reason: '' });
    }
    if (changed) for (const l of [...this.listeners]) l();
    return outcomes;
  }

  /** The policies in use (refused ones left out). */
  policies(): PolicyDefinition[] {
    return [...this.held.values()].filter((h) => !h.refused).map((h) => h.policy);
  }

  /** The knobs in force for a task at `nowMs`. */
  knobs(taskId: string, nowMs: number): KnobsInForce {
    return knobsInForce(this.policies(), taskId, nowMs);
  }

  /** Calls `fn` after every change of the set; returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
