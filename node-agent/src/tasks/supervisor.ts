// The task supervisor (前置管理: 任务受理/解析/执行): turns the desired assignment set into running task
// runners. Level-triggered: apply() takes the full set each time and converges to it: starts new tasks,
// restarts tasks whose generation changed, stops tasks that left the set or were disabled. Each applied
// assignment yields an outcome (applied / rejected with reason) for central.
import type { Logger } from 'pino';
import type { DataPlane } from '../exchange/data-plane.js';
import type { DataSpool } from '../spool/data-spool.js';
import type { FileSpool } from '../spool/file-spool.js';

/** The parts of an assignment the supervisor needs (decoded TaskSpec). */
export interface TaskAssignment {
  id: string;
  generation: number;
  kind: string;
  enabled: boolean;
  binding: string;
  peerNodeId: string;
  resourceCode: string;
  subscriptionId: string;
  params: Record<string, unknown>;
  intervalMs: number;
  name: string;
}

export interface TaskRunner {
  /** Stops the runner; resolves when its in-flight work has finished or graceMs has passed. */
  stop(graceMs: number): Promise<void>;
  /** Lag and backlog for heartbeats. */
  lag?(): { lagMs: number; pendingBatches: number };
}

export interface RunnerContext {
  logger: Logger;
  /** The agent's data plane; undefined when central gave no exchange center at enrollment. */
  dataPlane?: DataPlane | undefined;
  dataSpool?: DataSpool | undefined;
  fileSpool?: FileSpool | undefined;
  /** Records an observation in the outbox for central (task runs, events). */
  report(kind: 'task_run' | 'event' | 'traffic' | 'quarantine' | 'reconcile', body: Record<string, unknown>): void;
}

/** Creates a runner or throws with the reason the assignment is rejected (unknown binding, bad params). */
export type RunnerFactory = (task: TaskAssignment, ctx: RunnerContext) => TaskRunner;

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

export class TaskSupervisor {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly factories: Readonly<Record<string, RunnerFactory>>,
    private readonly ctx: RunnerContext,
    private readonly stopGraceMs: number,
  ) {}

  /** Converges to `desired`; returns an outcome for every assignment that is new or changed. */
  async apply(desired: readonly TaskAssignment[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const wanted = new Map(desired.map((t) => [t.id, t]));
    for (const [id, r] of this.running) {
      const next = wanted.get(id);
      if (!next || next.generation !== r.task.generation) {
        await this.stopOne(id, r);
        this.running.delete(id);
        if (!next) this.ctx.logger.info({ taskId: id }, 'task removed');
      }
    }
    for (const task of desired) {
      if (this.running.has(task.id)) continue;
      outcomes.push(this.startOne(task));
    }
    return outcomes;
  }

  private startOne(task: TaskAssignment): Outcome {
    const base = { assignmentId: task.id, generation: task.generation };
    if (!task.enabled) {
      this.running.set(task.id, { task, runner: undefined });
      this.ctx.logger.info({ taskId: task.id }, 'task disabled');
      return { ...base, applied: true, reason: 'disabled' };
    }
    const factory = this.factories[task.kind];
    if (!factory) {
      this.running.set(task.id, { task, runner: undefined });
      return { ...base, applied: false, reason: `this agent has no runner for task kind ${JSON.stringify(task.kind)}` };
    }
    try {
      const runner = factory(task, this.ctx);
      this.running.set(task.id, { task, runner });
      this.ctx.logger.info({ taskId: task.id, kind: task.kind, generation: task.generation }, 'task started');
      return { ...base, applied: true, reason: '' };
    } catch (err) {
      // Remember the rejected generation so it is not retried on every poll; a new generation retries.
      this.running.set(task.id, { task, runner: undefined });
      const reason = err instanceof Error ? err.message : String(err);
      this.ctx.logger.warn({ taskId: task.id, reason }, 'task rejected');
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
      this.ctx.logger.error({ taskId: id, reason }, 'task runner failed to stop');
    }
  }
}
