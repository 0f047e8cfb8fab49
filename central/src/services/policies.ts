// Scheduling policies (策略): create, replace, list, show and expire them, explain them, and hand each node
// the PolicySpecs of its tasks. Invariants: every change is checked against the one contract
// (common/src/policy.ts) and names the bad field; it bumps the assignment version of every node it touches
// (before and after a replacement) and writes its audit entry in the same transaction; after commit the
// nodes' parked long-polls are woken.
import { knobsInForce, isValidAt } from '../../../common/src/policy-knobs.js';
import { policyOf, policyProblems, type PolicyBody } from '../../../common/src/policy.js';
import type { PolicySpec } from '../../../proto/index.js';
import type { GeneratedBy, PolicyState, PolicyView } from '../api/policies.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import { newId } from '../ids.js';
import type { Store } from '../store/index.js';
import { PolicyStore, type PolicyRecord } from '../store/policies.js';
import type { AssignmentService } from './assignments.js';
import type { AuditTrail } from './audit.js';

/** A policy assignment of a node's set (proto Assignment with spec 'policy'); its id is the policy's. */
export interface PolicyAssignment {
  id: string;
  generation: number;
  spec: 'policy';
  policy: PolicySpec;
}

/** Filters of list(). */
export interface PolicyFilter {
  taskId?: string;
  /** Policies with a task on any of these nodes. */
  nodeIds?: readonly string[];
  /** Policies of flows with an end among these nodes: a task's node or its peer (a city admin's scope). */
  pairNodeIds?: readonly string[];
  kind?: 'static' | 'dynamic';
  /** Include expired (withdrawn) policies. */
  all?: boolean;
  /** At most this many, newest first. */
  limit?: number;
}

export class PolicyService {
  private readonly policies: PolicyStore;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly assignments: Pick<AssignmentService, 'wakeNode'>,
  ) {
    this.policies = new PolicyStore(store.db);
  }

  /** Stores a new policy and delivers it to the nodes of its tasks. INVALID_ARGUMENT names a bad field. */
  create(body: PolicyBody, generatedBy: GeneratedBy = 'operator', actor: Actor = SYSTEM_ACTOR): PolicyRecord {
    const now = this.clock();
    const def = checked(policyOf(newId('pol'), body));
    const rec = this.store.tx(() => {
      const p: PolicyRecord = {
        ...def,
        generation: 1,
        generatedBy,
        createdBy: actor.name,
        createdAt: now,
        updatedAt: now,
        expiredAt: null,
        nodeIds: this.nodesOf(def.taskIds, def.subscriptionId),
      };
      this.policies.insert(p);
      this.bump(p.nodeIds);
      this.audit.record(actor, { action: 'policy.create', ...this.entity(p), details: auditDetails(p) });
      return p;
    });
    this.wake(rec.nodeIds);
    return rec;
  }

  /** Replaces a live policy's content (generation + 1); the nodes it leaves and joins are all told. */
  replace(
    id: string,
    body: PolicyBody,
    generatedBy: GeneratedBy = 'operator',
    actor: Actor = SYSTEM_ACTOR,
  ): PolicyRecord {
    const def = checked(policyOf(id, body));
    let before: string[] = [];
    const rec = this.store.tx(() => {
      const cur = this.live(id);
      before = cur.nodeIds;
      const p: PolicyRecord = {
        ...cur,
        ...def,
        generation: cur.generation + 1,
        generatedBy,
        updatedAt: this.clock(),
        nodeIds: this.nodesOf(def.taskIds, def.subscriptionId),
      };
      this.policies.replace(p);
      this.bump([...before, ...p.nodeIds]);
      this.audit.record(actor, {
        action: 'policy.replace',
        ...this.entity(p),
        details: { ...auditDetails(p), generation: p.generation },
      });
      return p;
    });
    this.wake([...before, ...rec.nodeIds]);
    return rec;
  }

  /** Withdraws a policy: no longer delivered; kept for the record (xchg policy delete). */
  expire(id: string, actor: Actor = SYSTEM_ACTOR): PolicyRecord {
    const rec = this.store.tx(() => {
      const cur = this.live(id);
      const at = this.clock();
      this.policies.expire(id, at);
      this.bump(cur.nodeIds);
      this.audit.record(actor, {
        action: 'policy.expire',
        ...this.entity(cur),
        details: { kind: cur.kind, generation: cur.generation, taskIds: cur.taskIds },
      });
      return { ...cur, expiredAt: at, updatedAt: at };
    });
    this.wake(rec.nodeIds);
    return rec;
  }

  /**
   * Withdraws every live policy whose validity has ended (validUntilMs <= now), as the system, audited
   * 'policy.lapse': a lapsed surge policy leaves the nodes' sets instead of being carried (and ignored) for
   * ever. Returns the ids withdrawn.
   */
  expireLapsed(): string[] {
    const now = this.clock();
    const lapsed = this.policies.list().filter((p) => p.validUntilMs !== 0 && p.validUntilMs <= now);
    if (!lapsed.length) return [];
    this.store.tx(() => {
      for (const p of lapsed) {
        this.policies.expire(p.id, now);
        this.bump(p.nodeIds);
        this.audit.record(SYSTEM_ACTOR, {
          action: 'policy.lapse',
          ...this.entity(p),
          details: { kind: p.kind, generation: p.generation, validUntilMs: p.validUntilMs, taskIds: p.taskIds },
        });
      }
    });
    this.wake(lapsed.flatMap((p) => p.nodeIds));
    return lapsed.map((p) => p.id);
  }

  get(id: string): PolicyRecord {
    const p = this.policies.get(id);
    if (!p) throw notFound('policy', id);
    return p;
  }

  /** Whether a policy exists and has not been withdrawn (one row read; callers that only need this skip list()). */
  isLive(id: string): boolean {
    return this.policies.get(id)?.expiredAt === null;
  }

  list(f: PolicyFilter = {}): PolicyRecord[] {
    return this.policies.list(f);
  }

  /** The nodes at the ends of the policy's flows: its tasks' nodes and their peers. */
  endsOf(p: PolicyRecord): string[] {
    const peers = p.taskIds.flatMap((id) => this.store.tasks.get(id)?.peerNodeId ?? []);
    return [...new Set([...p.nodeIds, ...peers])];
  }

  /** The PolicySpecs of the node's live policies (joined to its poll answers by the gRPC adapter). */
  assignmentsFor(nodeId: string): PolicyAssignment[] {
    return this.policies.forNode(nodeId).map((p) => ({
      id: p.id,
      generation: p.generation,
      spec: 'policy',
      policy: toPolicySpec(p, nodeId),
    }));
  }

  /** A policy as the API shows it: its state now, what each node made of it, the knobs in force per task. */
  view(p: PolicyRecord): PolicyView {
    const now = this.clock();
    const state: PolicyState =
      p.expiredAt !== null ? 'expired' : isValidAt(p, now) ? 'active' : p.validFromMs > now ? 'scheduled' : 'lapsed';
    const delivery = [...new Set(p.nodeIds)].map((nodeId) => {
      const ack = this.store.nodes.ack(nodeId, p.id);
      const current = ack && ack.generation === p.generation;
      return {
        nodeId,
        outcome: current ? ack.outcome : ('pending' as const),
        reason: current ? ack.reason : '',
        at: current ? ack.at : null,
      };
    });
    const inForce = p.taskIds.map((taskId) => {
      const f = knobsInForce(this.policies.list({ taskId }), taskId, now);
      return {
        taskId,
        knobs: f.knobs,
        policyIds: f.sources.map((s) => s.policyId),
        nextChangeMs: f.nextChangeMs ?? null,
      };
    });
    const { nodeIds, ...rest } = p;
    return { ...rest, nodeIds: [...new Set(nodeIds)], state, delivery, inForce };
  }

  private live(id: string): PolicyRecord {
    const cur = this.get(id);
    if (cur.expiredAt !== null)
      throw new XchgError(
        ErrorCode.FAILED_PRECONDITION,
        `policy ${id} expired at ${new Date(cur.expiredAt).toISOString()}`,
      );
    return cur;
  }

  /** The node of each task (unknown, deleted or not a sync task: INVALID_ARGUMENT naming it). */
  private nodesOf(taskIds: readonly string[], subscriptionId: string): string[] {
    return taskIds.map((id, i) => {
      const t = this.store.tasks.get(id);
      if (!t) throw invalid(`taskIds[${i}]`, `task ${JSON.stringify(id)} not found`);
      // The knobs (transfer window, batch records, read slots, poll interval) are the provider's: a policy on a
      // consumer's exchange task would change nothing, silently.
      if (t.kind !== 'sync')
        throw invalid(`taskIds[${i}]`, `task ${id} is an ${t.kind} task; policies shape the provider's sync task`);
      if (subscriptionId && t.subscriptionId !== subscriptionId)
        throw invalid(
          `taskIds[${i}]`,
          `task ${id} belongs to subscription ${JSON.stringify(t.subscriptionId)}, not ${subscriptionId}`,
        );
      return t.nodeId;
    });
  }

  private entity(p: PolicyRecord): { entityType: string; entityId: string; departmentCode: string } {
    const node = p.nodeIds[0] ? this.store.nodes.get(p.nodeIds[0]) : undefined;
    return { entityType: 'policy', entityId: p.id, departmentCode: node?.departmentCode ?? '' };
  }

  private bump(nodeIds: readonly string[]): void {
    for (const n of new Set(nodeIds)) this.store.nodes.bumpAssignmentVersion(n);
  }

  private wake(nodeIds: readonly string[]): void {
    for (const n of new Set(nodeIds)) this.assignments.wakeNode(n);
  }
}

/** The definition, or INVALID_ARGUMENT with every problem (the first one's field named). */
function checked<T extends Parameters<typeof policyProblems>[0]>(p: T): T {
  const problems = policyProblems(p);
  if (!problems.length) return p;
  const first = problems[0]!;
  throw new XchgError(ErrorCode.INVALID_ARGUMENT, problems.join('; '), { field: first.slice(0, first.indexOf(':')) });
}

function auditDetails(p: PolicyRecord): Record<string, unknown> {
  return {
    kind: p.kind,
    generatedBy: p.generatedBy,
    taskIds: p.taskIds,
    subscriptionId: p.subscriptionId,
    validFromMs: p.validFromMs,
    validUntilMs: p.validUntilMs,
    windows: p.windows,
    outside: p.outside,
    reason: p.reason,
    evidence: p.evidence,
  };
}

/** The PolicySpec of a policy for one node: only the tasks of that node. */
export function toPolicySpec(p: PolicyRecord, nodeId: string): PolicySpec {
  const knobs = (k: PolicyRecord['outside']): PolicySpec['outside'] => ({
    transfer: k.transfer ?? '',
    batchRecords: k.batchRecords ?? 0,
    concurrency: k.concurrency ?? 0,
    pollIntervalMs: k.pollIntervalMs ?? 0,
  });
  return {
    policyId: p.id,
    kind: p.kind,
    paramsJson: '',
    reason: p.reason,
    taskIds: p.taskIds.filter((_, i) => p.nodeIds[i] === nodeId),
    subscriptionId: p.subscriptionId,
    validFromMs: p.validFromMs,
    validUntilMs: p.validUntilMs,
    utcOffsetMinutes: p.utcOffsetMinutes,
    windows: p.windows.map((w) => ({
      dayType: w.dayType ?? '',
      weekdays: w.weekdays ?? [],
      startMinute: w.startMinute,
      endMinute: w.endMinute,
      knobs: knobs(w.knobs),
    })),
    outside: knobs(p.outside),
    holidays: p.holidays,
    makeUpWorkdays: p.makeUpWorkdays,
    evidence: p.evidence.map((e) => ({
      kind: e.kind,
      name: e.name,
      value: e.value ?? 0,
      unit: e.unit ?? '',
      text: e.text ?? '',
    })),
    generatedBy: p.generatedBy,
  };
}
