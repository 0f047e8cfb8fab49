// The task supervisor (前置管理: 任务受理/解析/执行): turns the desired assignment set into running task
// runners. Level-triggered: apply() takes the full set each time and converges to it: starts new tasks,
// restarts tasks whose generation changed, stops tasks that left the set or were disabled. Each applied
// assignment yields an outcome (applied / rejected with reason) for central. It knows runners only: what a
// runner needs beyond its context (the data plane, spools, connectors) its factory brings (runners.ts).
import type { Logger } from 'pino';
import type { ShardAssignment } from '../exchange/shard-role.js';

/** The parts of an assignment the supervisor needs (decoded TaskSpec). */
export interface TaskAssignment {
  id: string;
  generation: number;
  kind: string;
  enabled: boolean;
  binding: string;
  peerNodeId: string;
  /** Home exchange center of the peer node ("" or absent: this node's own center). */
  peerCenter?: string;
  resourceCode: string;
  subscriptionId: string;
  params: Record<string, unknown>;
  intervalMs: number;
  name: string;
  /** Sync tasks: the flow's shard plan (dynamic node allocation); absent: not spread. */
  shard?: ShardAssignment | undefined;
  /** Exchange tasks: nodes besides peerNodeId whose batches of the flow are accepted. */
  sourceNodes?: string[] | undefined;
}

/** What restarts a running task besides its generation: its shard plan and accepted source nodes. */
const allocationOf = (t: TaskAssignment): string => JSON.stringify([t.shard ?? null, t.sourceNodes ?? []]);

export interface TaskRunner {
  /** Stops the runner; resolves when its in-flight work has finished or graceMs has passed. */
  stop(graceMs: number): Promise<void>;
  /** Lag and backlog for heartbeats. */
  lag?(): { lagMs: number; pendingBatches: number };
}

/** What every runner is given; a supervisor of runners that need more is created with a wider context type. */
export interface RunnerContext {
  logger: Logger;
  /** Records an observation in the outbox for central (task runs, events). */
  report(
    kind: 'task_run' | 'event' | 'traffic' | 'quarantine' | 'reconcile' | 'shard',
    body: Record<string, unknown>,
  ): void;
}

/** Creates a runner or throws with the reason the assignment is rejected (unknown binding, bad params). */
export type RunnerFactory<C extends RunnerContext = RunnerContext> = (task: TaskAssignment, ctx: C) => TaskRunner;

export interface Outcome {
  assignmentId: string;
  generation: number;
  applied: boolean;
  reason: string;
}

interface Running {
  task: TaskAssignment;
  runner: TaskRunner | undefined;
}

export class TaskSupervisor<C extends RunnerContext = RunnerContext> {
  private readonly running = new Map<string, Running>();
  private readonly log: Logger;
  /** The factory of a task's kind bound to the context, or undefined for a kind without one. */
  private readonly factoryOf: (kind: string) => ((task: TaskAssignment) => TaskRunner) | undefined;

  constructor(
    factories: Readonly<Record<string, RunnerFactory<C>>>,
    ctx: C,
    private readonly stopGraceMs: number,
  ) {
    this.log = ctx.logger;
    this.factoryOf = (kind) => {
      const f = factories[kind];
      return f && ((task) => f(task, ctx));
    };
  }

  /** Converges to `desired`; returns an outcome for every assignment that is new or changed. */
  async apply(desired: readonly TaskAssignment[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const wanted = new Map(desired.map((t) => [t.id, t]));
    for (const [id, r] of this.running) {
      const next = wanted.get(id);
      if (!next || next.generation !== r.task.generation || allocationOf(next) !== allocationOf(r.task)) {
        await this.stopOne(id, r);
        this.running.delete(id);
        if (!next) this.log.info({ taskId: id }, 'task removed');
      }
    }
    for (const task of desired) {
      if (this.running.has(task.id)) continue;
      outcomes.push(this.startOne(task));
    }
    return outcomes;
  }

  /** The kind of a task in the applied set (undefined when it is not there). */
  kindOf(taskId: string): string | undefined {
    return this.running.get(taskId)?.task.kind;
  }

  private startOne(task: TaskAssignment): Outcome {
    const base = { assignmentId: task.id, generation: task.generation };
    if (!task.enabled) {
      this.running.set(task.id, { task, runner: undefined });
      this.log.info({ taskId: task.id }, 'task disabled');
      return { ...base, applied: true, reason: 'disabled' };
    }
    const factory = this.factoryOf(task.kind);
    if (!factory) {
      this.running.set(task.id, { task, runner: undefined });
      return { ...base, applied: false, reason: `this agent has no runner for task kind ${JSON.stringify(task.kind)}` };
    }
    try {
      const runner = factory(task);
      this.running.set(task.id, { task, runner });
      this.log.info({ taskId: task.id, kind: task.kind, generation: task.generation }, 'task started');
      return { ...base, applied: true, reason: '' };
    } catch (err) {
      // Remember the rejected generation so it is not retried on every poll; a new generation retries.
      this.running.set(task.id, { task, runner: undefined });
      const reason = err instanceof Error ? err.message : String(err);
      this.log.warn({ taskId: task.id, reason }, 'task rejected');
      return { ...base, applied: false, reason };
    }
  }

  lags(): { taskId: string; lagMs: number; pendingBatches: number }[] {
    const out = [];
    for (const [taskId, r] of this.running) {
      const l = r.runner?.lag?.();
      if (l) out.push({ taskId, ...l });
    }
    return out;
  }

  get size(): number {
    return [...this.running.values()].filter((r) => r.runner).length;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map(([id, r]) => this.stopOne(id, r)));
    this.running.clear();
  }

  /** Stops one runner; a failing stop() is logged, never thrown: it must not block converging or shutdown. */
  private async stopOne(id: string, r: Running): Promise<void> {
    try {
      await r.runner?.stop(this.stopGraceMs);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.error({ taskId: id, reason }, 'task runner failed to stop');
    }
  }
}
