// The assignment loop (level-triggered, versioned): long-polls central with the version of the set held,
// applies a new set through the task supervisor, saves it, and acknowledges every outcome.
//
// Invariants
//  - The set is saved in the spool before its outcomes are acknowledged: after a crash the agent resumes
//    exactly what it told central it applied; while central is down (also after a restart) the last saved
//    set runs.
//  - Every outcome is acknowledged until central received it: outcomes not yet received (resumed at
//    start, or an ack lost) are sent before each long-poll, not after it; of two outcomes of one
//    assignment only the newer is kept. One ack flush runs at a time.
//  - Policies (策略) are applied before the tasks, so a runner starts with the knobs in force.
//  - A poll answer whose data plane differs from the node's (an operator moved it to another center) is
//    followed before the answer's set is applied, so the set's routes start at the new home center.
//  - A quiet long-poll (DEADLINE_EXCEEDED) polls again at once; other failures back off (jittered,
//    growing, reset by a success). Every wait takes the shutdown signal.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Assignment__Output, PollAssignmentsResponse__Output } from '../../../proto/index.js';
import { Backoff, sleep, type BackoffOptions } from '../backoff.js';
import { grpcCode } from './grpc-errors.js';
import type { SqliteSpool } from '../spool/sqlite-spool.js';
import type { Outcome, TaskAssignment, TaskSupervisor } from '../tasks/supervisor.js';
import type { RoutingAssignment } from '../relay/spec.js';
import { decodePolicies, isPolicy, type PolicyAssignment } from '../policy/book.js';
import { decodeAssignments, decodeRouting, isRouting, keyColumnsOf, peerCenters } from './assignment-decode.js';
import type { CentralClient } from './central-client.js';
import type { CentralView } from './central-view.js';

/** An outcome waiting for central to receive it. */
interface PendingAck {
  assignmentId: string;
  generation: number;
  applied: boolean;
  reason: string;
  version: number;
}

export interface AssignmentLoopDeps {
  client: CentralClient;
  central: CentralView;
  /** Converges the running tasks to a set; returns an outcome per new or changed assignment. */
  supervisor: Pick<TaskSupervisor, 'apply'>;
  /**
   * Applies the set's routes and relay (relay/host.ts) before its tasks start, so their first units are
   * routed; returns an outcome per new or changed routing assignment. Absent: routing assignments ignored.
   */
  routing?: { apply(set: readonly RoutingAssignment[], peers: ReadonlyMap<string, string>): Outcome[] };
  /**
   * Takes the set's policies (policy/book.ts) before its tasks start; returns an outcome per new or changed
   * policy. Absent: policies ignored.
   */
  policies?: { apply(set: readonly PolicyAssignment[]): Outcome[] };
  spool: SqliteSpool;
  /** Bindings of the agent's config: where the key columns of each task's binding are read. */
  bindings: { sources: Readonly<Record<string, unknown>>; sinks: Readonly<Record<string, unknown>> };
  /** Deadline of one long-poll call (ms); central answers before it (after ~30 s) when nothing changes. */
  pollDeadlineMs: number;
  backoff: BackoffOptions;
  log: Logger;
  clock: () => number;
  /**
   * Told of the data plane of each poll answer that carries one (the agent follows a move to another
   * center; resolves once it has). Absent: the node keeps the data plane it enrolled with.
   */
  onDataPlane?: (dp: NonNullable<PollAssignmentsResponse__Output['dataPlane']>) => Promise<void>;
  /** Told of central's traffic bucket length (ms) in each poll answer that names one. */
  onTrafficBucketMs?: (ms: number) => void;
  /** Told of each new set once it is applied and saved. */
  onApplied: (version: number, tasks: readonly TaskAssignment[]) => void;
}

export class AssignmentLoop {
  private versionHeld = 0;
  /** Outcomes not yet acknowledged to central, by assignment (the newest outcome of each wins). */
  private readonly pendingAcks = new Map<string, PendingAck>();
  private flushing: Promise<void> | undefined;
  /** Key columns of each task's binding: kept whole when a quarantined record is trimmed. */
  private keyColumnsByTask = new Map<string, string[]>();

  constructor(private readonly deps: AssignmentLoopDeps) {}

  /** Version of the set held (0: none yet). */
  get version(): number {
    return this.versionHeld;
  }

  /** Key columns of a task's binding (empty when it has none or the task is unknown). */
  keyColumns(taskId: string): readonly string[] {
    return this.keyColumnsByTask.get(taskId) ?? [];
  }

  /** Applies the set saved in the spool, if any; its outcomes are acknowledged once central answers. */
  async resume(): Promise<void> {
    const held = this.deps.spool.loadAssignments<TaskAssignment | RoutingAssignment | PolicyAssignment>();
    if (!held) return;
    const tasks = held.assignments.filter((a): a is TaskAssignment => !isRouting(a) && !isPolicy(a));
    this.deps.log.info({ version: held.version, tasks: tasks.length }, 'resuming last assignment set');
    this.keyColumnsByTask = keyColumnsOf(tasks, this.deps.bindings);
    // Acknowledged once central answers: a task refused (or applied after a config fix) before a restart
    // is shown as it is now, not as central last heard.
    const routed = this.deps.routing?.apply(held.assignments.filter(isRouting), peerCenters(tasks)) ?? [];
    const ruled = this.deps.policies?.apply(held.assignments.filter(isPolicy)) ?? [];
    for (const o of [...routed, ...ruled, ...(await this.deps.supervisor.apply(tasks))])
      this.pendingAcks.set(o.assignmentId, { ...o, version: held.version });
    this.versionHeld = held.version;
  }

  /** Long-polls until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { client, central } = this.deps;
    const backoff = new Backoff(this.deps.backoff);
    while (!signal.aborted) {
      try {
        // Outcomes central has not heard (resumed at start, or an ack lost) go now, not after a long-poll.
        if (this.pendingAcks.size) void this.flushAcks();
        const res = await client.pollAssignments(this.versionHeld, this.deps.pollDeadlineMs, signal);
        if (res.heartbeatTtlMs) central.heartbeatTtlMs = res.heartbeatTtlMs;
        central.announceMaxMessageBytes(res.maxMessageBytes);
        if (res.trafficBucketMs) this.deps.onTrafficBucketMs?.(res.trafficBucketMs);
        central.markReachable(true);
        backoff.reset();
        if (res.dataPlane && this.deps.onDataPlane) await this.deps.onDataPlane(res.dataPlane);
        if (res.version !== this.versionHeld) await this.apply(res.version, res.assignments);
        if (res.nextPollDelayMs) await sleep(res.nextPollDelayMs, signal);
      } catch (err) {
        if (signal.aborted) break;
        if (grpcCode(err) === GrpcStatus.DEADLINE_EXCEEDED) continue; // a quiet long-poll: poll again
        central.onError(err, 'poll');
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async apply(version: number, assignments: Assignment__Output[]): Promise<void> {
    const tasks = decodeAssignments(assignments);
    const routing = decodeRouting(assignments);
    const policies = decodePolicies(assignments);
    this.keyColumnsByTask = keyColumnsOf(tasks, this.deps.bindings);
    const routed = this.deps.routing?.apply(routing, peerCenters(tasks)) ?? [];
    const ruled = this.deps.policies?.apply(policies) ?? [];
    const outcomes = [...routed, ...ruled, ...(await this.deps.supervisor.apply(tasks))];
    // Persist before acknowledging: after a crash the agent resumes exactly what it told central it applied.
    this.deps.spool.saveAssignments(version, [...tasks, ...routing, ...policies], this.deps.clock());
    const previous = this.versionHeld;
    this.versionHeld = version;
    this.deps.log.info(
      { from: previous, to: version, tasks: tasks.length, changed: outcomes.length },
      'assignments applied',
    );
    this.deps.onApplied(version, tasks);
    for (const o of outcomes) this.pendingAcks.set(o.assignmentId, { ...o, version });
    await this.flushAcks();
  }

  /** Sends the pending outcomes (one flush at a time); those central did not receive stay for the next poll. */
  private flushAcks(): Promise<void> {
    this.flushing ??= this.sendAcks().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async sendAcks(): Promise<void> {
    await Promise.all(
      [...this.pendingAcks.values()].map(async (a) => {
        try {
          await this.deps.client.ackAssignment(a);
          if (this.pendingAcks.get(a.assignmentId) === a) this.pendingAcks.delete(a.assignmentId);
        } catch (err) {
          this.deps.log.debug(
            { err: (err as Error).message, assignmentId: a.assignmentId },
            'ack not delivered; retried after the next poll',
          );
        }
      }),
    );
  }
}
