// Reconciliation (对账) of subscriptions: verification runs requested by operators or by the schedule,
// handed to the consumer's agent as VerifySpec assignments, and their reported results; a scheduled run
// that finds differences (or fails) raises an alert. Central never sees rows: only counts and sample keys.
//
// Invariants
//  - At most one open (requested or running) run per subscription; a scheduled run is skipped while one
//    is open, a manual request is refused naming the open run.
//  - Creating and ending a run bump the consumer node's assignment version in the same transaction, so
//    the run appears in (and leaves) its assignment set with the next poll: level-triggered, an agent
//    that restarts gets an unfinished run again.
//  - A run's state only moves forward (VerificationStore); a report about a finished run changes nothing.
//  - The first scheduled run of a subscription is due one interval after its exchange task was created.
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { ErrorCode, notFound, XchgError } from '../errors.js';
import { newId } from '../ids.js';
import type { Verification, VerificationResult, VerifySchedule } from '../api/reconcile.js';
import type { Store, TaskRecord } from '../store/index.js';
import type { AssignmentService } from './assignments.js';
import { ALERT_KINDS, alertParams, type AlertService } from './alerts.js';
import type { AuditTrail } from './audit.js';

export interface ReconcileOptions {
  /** Central's default verification interval of a subscription (0: none unless set per subscription). */
  defaultIntervalMs: number;
}

/** A verification run as an assignment of the consumer node (the proto's Assignment with spec "verify"). */
export interface VerifyAssignment {
  id: string;
  generation: number;
  spec: 'verify';
  verify: {
    runId: string;
    subscriptionId: string;
    taskId: string;
    repair: boolean;
    binding: string;
    peerNodeId: string;
    paramsJson: string;
    resourceCode: string;
  };
}

export class ReconcileService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly assignments: AssignmentService,
    private readonly alerts: AlertService,
    private readonly opts: ReconcileOptions,
  ) {}

  /** The task pair of a subscription (a catalog subscription, or tasks an operator paired by subscriptionId). */
  private pair(subscriptionId: string): { exchange: TaskRecord; providerNodeId: string } {
    const sub = this.store.sharing.getSubscription(subscriptionId);
    if (sub && sub.status !== 'active')
      throw new XchgError(
        ErrorCode.FAILED_PRECONDITION,
        `subscription ${subscriptionId} is ${sub.status}: nothing flows to verify`,
      );
    const exchange = sub
      ? this.store.tasks.get(sub.exchangeTaskId)
      : this.store.tasks.list().find((t) => t.kind === 'exchange' && t.subscriptionId === subscriptionId);
    if (!exchange) throw notFound('subscription', subscriptionId);
    if (!exchange.peerNodeId)
      throw new XchgError(
        ErrorCode.FAILED_PRECONDITION,
        `subscription ${subscriptionId}: its exchange task ${exchange.id} names no provider node`,
      );
    if (!exchange.enabled)
      throw new XchgError(
        ErrorCode.FAILED_PRECONDITION,
        `subscription ${subscriptionId}: its exchange task ${exchange.id} is disabled`,
      );
    return { exchange, providerNodeId: exchange.peerNodeId };
  }

  /**
   * Creates a run; it reaches the consumer's agent with its next poll. Errors: NOT_FOUND (no such
   * subscription), FAILED_PRECONDITION (stopped or disabled, or a run is already open).
   */
  request(
    subscriptionId: string,
    opts: { repair?: boolean; trigger?: Verification['trigger'] } = {},
    actor: Actor | string = SYSTEM_ACTOR,
  ): Verification {
    const now = this.clock();
    const run = this.store.tx(() => {
      const { exchange, providerNodeId } = this.pair(subscriptionId);
      const open = this.store.verifications.openFor(subscriptionId);
      if (open)
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `subscription ${subscriptionId} is being verified already (run ${open.id}, ${open.state}); wait for it to end`,
        );
      const v: Verification = {
        id: newId('vrf'),
        subscriptionId,
        exchangeTaskId: exchange.id,
        consumerNodeId: exchange.nodeId,
        providerNodeId,
        repair: opts.repair ?? false,
        trigger: opts.trigger ?? 'manual',
        state: 'requested',
        requestedBy: typeof actor === 'string' ? actor : actor.name,
        requestedAt: now,
        startedAt: null,
        finishedAt: null,
        error: '',
        result: null,
      };
      this.store.verifications.insert(v);
      this.store.nodes.bumpAssignmentVersion(v.consumerNodeId);
      // A repair changes the consumer's data: it is on the record like every other change.
      if (v.repair || v.trigger === 'manual')
        this.audit.record(actor, {
          action: v.repair ? 'subscription.repair' : 'subscription.verify',
          entityType: 'subscription',
          entityId: subscriptionId,
          departmentCode: this.store.nodes.get(providerNodeId)?.departmentCode ?? '',
          peerDepartmentCode: this.store.nodes.get(v.consumerNodeId)?.departmentCode ?? '',
          resourceCode: exchange.resourceCode,
          details: { runId: v.id, repair: v.repair, trigger: v.trigger },
        });
      return v;
    });
    this.assignments.wakeNode(run.consumerNodeId);
    return run;
  }

  get(runId: string): Verification {
    const v = this.store.verifications.get(runId);
    if (!v) throw notFound('verification', runId);
    return v;
  }

  list(subscriptionId: string, limit = 100): Verification[] {
    return this.store.verifications.list(subscriptionId, limit);
  }

  /** The open runs of a node as assignments (PollAssignments adds them to the node's task set). */
  assignmentsFor(nodeId: string): VerifyAssignment[] {
    return this.store.verifications.openForNode(nodeId).flatMap((v) => {
      const t = this.store.tasks.getAny(v.exchangeTaskId);
      if (!t) return [];
      return [
        {
          id: v.id,
          generation: 1,
          spec: 'verify' as const,
          verify: {
            runId: v.id,
            subscriptionId: v.subscriptionId,
            taskId: t.id,
            repair: v.repair,
            binding: t.binding,
            peerNodeId: v.providerNodeId,
            paramsJson: JSON.stringify(t.params),
            resourceCode: t.resourceCode,
          },
        },
      ];
    });
  }

  /**
   * A ReconcileReport from a node (inside the report ingest's transaction). Only the run's consumer node
   * may report on it; reports about unknown or finished runs are ignored (an agent re-running a run).
   */
  ingest(nodeId: string, body: Record<string, unknown>): void {
    const v = this.store.verifications.get(String(body['runId'] ?? ''));
    if (!v || v.consumerNodeId !== nodeId) return;
    const now = this.clock();
    const state = String(body['state'] ?? '');
    if (state === 'running') {
      this.store.verifications.markRunning(v.id, now);
      return;
    }
    if (state !== 'done' && state !== 'failed') return;
    let result: VerificationResult | null = null;
    try {
      result = body['resultJson'] ? (JSON.parse(String(body['resultJson'])) as VerificationResult) : null;
    } catch {
      result = null;
    }
    const error = state === 'done' && !result ? 'the agent reported an unreadable result' : String(body['error'] ?? '');
    const final = state === 'done' && result ? 'done' : 'failed';
    if (!this.store.verifications.finish(v.id, final, now, result, error)) return;
    this.store.nodes.bumpAssignmentVersion(v.consumerNodeId);
    setImmediate(() => this.assignments.wakeNode(v.consumerNodeId)); // after the report's transaction commits
    if (v.trigger !== 'scheduled') return;
    const dept = this.store.nodes.get(v.consumerNodeId)?.departmentCode ?? '';
    if (final === 'failed')
      this.alerts.raise({
        kind: ALERT_KINDS.RECONCILE_FAILED,
        entityId: v.id,
        departmentCode: dept,
        message: `scheduled verification ${v.id} of subscription ${v.subscriptionId} failed: ${error}`,
        params: alertParams(ALERT_KINDS.RECONCILE_FAILED, {
          verification: v.id,
          subscription: v.subscriptionId,
          error,
        }),
        at: now,
      });
    else if (result && result.missing + result.extra + result.different > 0)
      this.alerts.raise({
        kind: ALERT_KINDS.RECONCILE_DRIFT,
        entityId: v.id,
        departmentCode: dept,
        message: `subscription ${v.subscriptionId}: the sink differs from the source (${result.missing} missing, ${result.extra} extra, ${result.different} different of ${result.rowsCompared} rows); repair with xchg sub verify ${v.subscriptionId} --repair`,
        params: alertParams(ALERT_KINDS.RECONCILE_DRIFT, {
          subscription: v.subscriptionId,
          missing: result.missing,
          extra: result.extra,
          different: result.different,
          rows: result.rowsCompared,
        }),
        at: now,
      });
  }

  schedule(subscriptionId: string): VerifySchedule {
    this.pair(subscriptionId);
    const own = this.store.verifications.schedule(subscriptionId);
    return own === undefined
      ? { subscriptionId, intervalMs: this.opts.defaultIntervalMs, source: 'default' }
      : { subscriptionId, intervalMs: own, source: 'subscription' };
  }

  /** Sets a subscription's interval (0: never; null: back to central's default). */
  setSchedule(subscriptionId: string, intervalMs: number | null, actor: Actor = SYSTEM_ACTOR): VerifySchedule {
    this.store.tx(() => {
      const { exchange, providerNodeId } = this.pair(subscriptionId);
      this.store.verifications.setSchedule(subscriptionId, intervalMs, this.clock());
      this.audit.record(actor, {
        action: 'subscription.verify_schedule',
        entityType: 'subscription',
        entityId: subscriptionId,
        departmentCode: this.store.nodes.get(providerNodeId)?.departmentCode ?? '',
        peerDepartmentCode: this.store.nodes.get(exchange.nodeId)?.departmentCode ?? '',
        resourceCode: exchange.resourceCode,
        details: { intervalMs },
      });
    });
    return this.schedule(subscriptionId);
  }

  /** Requests the runs that are due; returns their ids. Subscriptions that cannot be verified now are skipped. */
  sweep(): string[] {
    const started: string[] = [];
    for (const _ of this.sweepSteps(started));
    return started;
  }

  /**
   * sweep() in steps, the ids requested pushed to `started`: it yields before each request (a transaction with
   * its audit and assignment bump; the first sweep over 3,000 subscriptions requests them all), so that the job
   * can hand the event loop back between them (jobs/slices.ts).
   */
  *sweepSteps(started: string[]): Generator<void, void> {
    const now = this.clock();
    const own = this.store.verifications.schedules();
    const last = this.store.verifications.lastRequested();
    const seen = new Set<string>();
    for (const t of this.store.tasks.list()) {
      if (t.kind !== 'exchange' || !t.subscriptionId || !t.enabled || !t.peerNodeId || seen.has(t.subscriptionId))
        continue;
      seen.add(t.subscriptionId);
      const interval = own.get(t.subscriptionId) ?? this.opts.defaultIntervalMs;
      if (interval <= 0) continue;
      if (now < (last.get(t.subscriptionId) ?? t.createdAt) + interval) continue;
      yield;
      if (this.store.verifications.openFor(t.subscriptionId)) continue;
      try {
        started.push(this.request(t.subscriptionId, { trigger: 'scheduled' }, 'system:schedule').id);
      } catch {
        // stopped subscription or a race with a manual run: the next sweep looks again
      }
    }
  }
}
