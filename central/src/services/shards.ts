// Dynamic node allocation (动态节点分配): spreads a sync task's flow over standby agents of the provider
// department and merges it back (the plan and why it is exact: domain/shards.ts). One code path for the
// operator (xchg task spread/unspread) and the brain (SurgeService on a surge and its end). Invariants: every
// change of a plan is written with its audit record and the assignment version bumps of the nodes it concerns
// (the primary, its standbys, the consumer) in one transaction; their parked polls are woken after commit. A plan
// keeps who spread it (origin); the brain merges only its own: a surge adopts a tide's spread (origin 'surge'), and
// a surge's end inside a pre-warm window hands the spread to the tide (origin 'tide'), which merges it at the end.
// Standbys are the department's other enabled, online agents whose heartbeat declares the task's binding as one a
// flow can be spread over (an incremental SQL source); the task's own node must declare it too.
import type { Logger } from 'pino';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import {
  acceptedSources,
  applyReport,
  MAX_STANDBYS,
  PlanConflict,
  primaryView,
  spreadPlan,
  standbyView,
  unspreadPlan,
  type ShardPlan,
  type ShardView,
  type SpreadOrigin,
} from '../domain/shards.js';
import { ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import { ShardStore } from '../store/shards.js';
import type { NodeRecord, Store, TaskRecord } from '../store/index.js';
import type { AssignmentService } from './assignments.js';
import type { AuditTrail } from './audit.js';

/** What a surge records of its allocation (xchg surge list actions). */
export interface SpreadAction {
  action: 'spread' | 'unspread';
  taskId: string;
  /** The standby agents. */
  nodes: string[];
  epoch: number;
}

/** A task as its node is told to run it: with its shard plan (sync) or the extra source nodes (exchange). */
export interface AllocatedTask {
  task: TaskRecord;
  shard?: ShardView;
  sourceNodes?: string[];
}

export class ShardService {
  readonly plans: ShardStore;
  /**
   * The tide's pre-warm window holding the task now: its reason and its end (ms since epoch), or undefined. While
   * one holds, unspreadAll leaves the task spread and hands it to the tide (origin 'tide') unless an operator holds
   * it merged, and an operator's unspread holds until its end (the tide does not spread it again before).
   */
  tideWindow: ((taskId: string) => { why: string; endMs: number } | undefined) | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly assignments: AssignmentService,
    private readonly logger?: Logger,
  ) {
    this.plans = new ShardStore(store.db);
  }

  /** The task's current plan (undefined: never spread). */
  plan(taskId: string): ShardPlan | undefined {
    return this.plans.get(taskId);
  }

  /** The standbys a sync task can be spread over now: the department's other online agents declaring its binding. */
  candidates(task: TaskRecord): string[] {
    const node = this.store.nodes.get(task.nodeId);
    if (!node || !declares(node, task.binding)) return [];
    return this.store.nodes
      .list({ departmentCode: node.departmentCode, status: 'online' })
      .filter((n) => n.id !== task.nodeId && n.enabled && declares(n, task.binding))
      .map((n) => n.id)
      .sort();
  }

  /**
   * Spreads the task's flow over up to `agents` standbys (1..8); `origin`: who decided it (stored with the plan).
   * INVALID_ARGUMENT for a bad count or a task that is not an enabled sync task; FAILED_PRECONDITION when no
   * standby declares the binding or the task is spread.
   */
  spread(
    taskId: string,
    opts: { agents: number; reason: string; origin: SpreadOrigin },
    actor: Actor | string = SYSTEM_ACTOR,
  ): ShardPlan {
    if (!Number.isInteger(opts.agents) || opts.agents < 1 || opts.agents > MAX_STANDBYS)
      throw invalid('agents', `must be an integer 1..${MAX_STANDBYS}, not ${opts.agents}`);
    const plan = this.change(taskId, actor, 'task.spread', (t, prev) => {
      if (t.kind !== 'sync' || !t.enabled)
        throw invalid('taskId', `task ${t.id} is not an enabled sync task: only a provider's flow is spread`);
      const primary = this.store.nodes.get(t.nodeId);
      if (!primary || !declares(primary, t.binding))
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `node ${t.nodeId} does not declare binding ${t.binding} as one a flow can be spread over (an incremental SQL source)`,
        );
      const nodes = this.candidates(t).slice(0, opts.agents);
      if (nodes.length === 0)
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `no other online agent of the department of node ${t.nodeId} declares binding ${t.binding}`,
        );
      return spreadPlan(prev, t.id, nodes, opts.origin, opts.reason, this.clock());
    });
    this.logDecision('flow spread', plan, actor);
    return plan;
  }

  /**
   * Merges the flow back onto its node (the standbys hand their shards back); `by`: who decided it. An operator's
   * merge while the tide's window holds is kept until that window's end (heldUntilMs). FAILED_PRECONDITION when not
   * spread.
   */
  unspread(taskId: string, reason: string, by: SpreadOrigin, actor: Actor | string = SYSTEM_ACTOR): ShardPlan {
    const plan = this.change(taskId, actor, 'task.unspread', (_t, prev) => {
      if (!prev) throw new PlanConflict(`task ${taskId} is not spread`);
      const merged = { ...unspreadPlan(prev, this.clock()), reason: `${prev.reason}; merged: ${reason}` };
      const window = by === 'operator' ? this.tideWindow?.(taskId) : undefined;
      return window ? { ...merged, heldUntilMs: window.endMs } : merged;
    });
    this.logDecision('flow merge ordered', plan, actor, { by });
    return plan;
  }

  /** Until when an operator holds the task merged against the tide (ms since epoch), or 0: no hold in force. */
  heldUntil(taskId: string, nowMs: number = this.clock()): number {
    const held = this.plans.get(taskId)?.heldUntilMs ?? 0;
    return held > nowMs ? held : 0;
  }

  /**
   * The brain's spread on a surge: each task spread over up to `agents` standbys when it has any (a task without
   * one, or spread already, is left as it is). Returns the surge's actions ({action: 'spread', taskId, nodes}); a
   * flow the tide allocation spread is adopted (its plan's epoch, origin 'surge'), so the surge's end merges it
   * once its window closed.
   */
  spreadAll(taskIds: readonly string[], agents: number, reason: string): SpreadAction[] {
    const out: SpreadAction[] = [];
    for (const taskId of taskIds) {
      const held = this.plans.get(taskId);
      if (held && (held.state === 'splitting' || held.state === 'split') && held.origin === 'tide') {
        const p = this.handOver(taskId, 'surge', reason);
        out.push({ action: 'spread', taskId, nodes: p.standbys.map((s) => s.nodeId), epoch: p.epoch });
        continue;
      }
      try {
        const p = this.spread(taskId, { agents: Math.min(agents, MAX_STANDBYS), reason, origin: 'surge' }, 'brain');
        out.push({ action: 'spread', taskId, nodes: p.standbys.map((s) => s.nodeId), epoch: p.epoch });
      } catch (err) {
        if (!(err instanceof XchgError)) throw err;
        this.logger?.info({ taskId, reason: err.message }, 'surge flow not spread');
      }
    }
    return out;
  }

  /**
   * The brain's merge when the surge passed: unspreads the tasks its `actions` spread (same epoch) while the surge
   * still owns them (origin 'surge'); one whose pre-warm window is open goes to the tide instead.
   */
  unspreadAll(actions: readonly unknown[], reason: string): SpreadAction[] {
    const out: SpreadAction[] = [];
    for (const a of actions as Partial<SpreadAction>[]) {
      if (a.action !== 'spread' || !a.taskId) continue;
      const p = this.plans.get(a.taskId);
      if (!p || p.epoch !== a.epoch || p.origin !== 'surge' || p.state === 'merging' || p.state === 'single') continue;
      const window = this.heldUntil(a.taskId) ? undefined : this.tideWindow?.(a.taskId);
      if (window) {
        this.handOver(a.taskId, 'tide', window.why);
        this.logger?.info({ taskId: a.taskId, keep: window.why }, 'flow kept spread after the surge');
        continue;
      }
      const done = this.unspread(a.taskId, reason, 'surge', 'brain');
      out.push({ action: 'unspread', taskId: a.taskId, nodes: done.standbys.map((s) => s.nodeId), epoch: done.epoch });
    }
    return out;
  }

  /** The brain's spread of a task passes from one of its deciders to the other (same plan, new origin). */
  private handOver(taskId: string, origin: SpreadOrigin, why: string): ShardPlan {
    const next = (_t: TaskRecord, prev: ShardPlan | undefined): ShardPlan => {
      if (!prev) throw new PlanConflict(`task ${taskId} is not spread`);
      return { ...prev, origin, updatedAt: this.clock() };
    };
    const plan = this.change(taskId, 'brain', 'task.allocation', next, `handed to the ${origin}: ${why}`);
    this.logDecision('flow spread handed over', plan, 'brain', { why });
    return plan;
  }

  /**
   * One line per decision on a plan (fixed phrase): the task, the plan (epoch, state, origin, standby nodes, reason,
   * the operator's hold), who decided (actor) and `extra` fields.
   */
  private logDecision(msg: string, p: ShardPlan, actor: Actor | string, extra: Record<string, unknown> = {}): void {
    this.logger?.info(
      {
        taskId: p.taskId,
        epoch: p.epoch,
        state: p.state,
        origin: p.origin,
        standbys: p.standbys.map((s) => s.nodeId),
        reason: p.reason,
        ...(p.heldUntilMs !== null && { heldUntilMs: p.heldUntilMs }),
        actor: typeof actor === 'string' ? actor : actor.name,
        ...extra,
      },
      msg,
    );
  }

  /** The standbys holding a shard of any of these tasks now (reading or handing back). */
  standbysOf(taskIds: readonly string[]): string[] {
    if (taskIds.length === 0) return [];
    const open = this.plans.open().filter((p) => taskIds.includes(p.taskId));
    return [...new Set(open.flatMap((p) => acceptedSources(p)))];
  }

  /** An agent's ShardReport (split-ready, shard-done, merged); stale or repeated ones change nothing. */
  onReport(nodeId: string, body: Record<string, unknown>): void {
    const taskId = String(body['taskId'] ?? '');
    const r = {
      epoch: Number(body['epoch'] ?? 0),
      kind: String(body['kind'] ?? ''),
      index: Number(body['index'] ?? 0),
      cursorJson: String(body['cursorJson'] ?? 'null'),
    };
    try {
      this.change(taskId, `node:${nodeId}`, 'task.allocation', (t, prev) => {
        const next = prev && applyReport(prev, nodeId, t.nodeId, r, this.clock());
        if (!next) throw new Unchanged();
        return next;
      });
      this.logger?.info({ taskId, nodeId, ...r }, 'shard plan moved on');
    } catch (err) {
      if (!(err instanceof Unchanged) && !(err instanceof XchgError)) throw err;
    }
  }

  /** The node's tasks with their allocation, plus the standby shards it holds of other nodes' tasks. */
  allocated(nodeId: string, tasks: readonly TaskRecord[]): AllocatedTask[] {
    const open = this.plans.open();
    if (open.length === 0) return tasks.map((task) => ({ task }));
    // Each open plan's sync task read once per answer (this runs for every poll answer of every node).
    const syncOf = new Map(open.map((p) => [p.taskId, this.store.tasks.get(p.taskId)]));
    const byTask = new Map(open.map((p) => [p.taskId, p]));
    const out: AllocatedTask[] = tasks.map((task) => {
      if (task.kind === 'sync') {
        const shard = primaryView(byTask.get(task.id));
        return shard ? { task, shard } : { task };
      }
      const sourceNodes = open.filter((p) => feeds(syncOf.get(p.taskId), task)).flatMap((p) => acceptedSources(p));
      return sourceNodes.length ? { task, sourceNodes } : { task };
    });
    for (const p of open) {
      const shard = standbyView(p, nodeId);
      const task = shard && syncOf.get(p.taskId);
      if (task && shard && !tasks.some((t) => t.id === task.id)) out.push({ task, shard });
    }
    return out;
  }

  /**
   * Applies `next` to the task's plan with its audit record and version bumps, in one transaction; `note`: why,
   * when the change is not the plan's own reason (the audit record's details.note).
   */
  private change(
    taskId: string,
    actor: Actor | string,
    action: string,
    next: (t: TaskRecord, prev: ShardPlan | undefined) => ShardPlan,
    note?: string,
  ): ShardPlan {
    const { plan, nodes } = this.store.tx(() => {
      const t = this.store.tasks.get(taskId);
      if (!t) throw notFound('task', taskId);
      const prev = this.plans.get(taskId);
      let plan: ShardPlan;
      try {
        plan = next(t, prev);
      } catch (err) {
        if (err instanceof PlanConflict) throw new XchgError(ErrorCode.FAILED_PRECONDITION, err.message);
        throw err;
      }
      this.plans.put(plan);
      const nodes = new Set([t.nodeId, ...(t.peerNodeId ? [t.peerNodeId] : [])]);
      for (const s of [...(prev?.standbys ?? []), ...plan.standbys]) nodes.add(s.nodeId);
      for (const n of nodes) this.store.nodes.bumpAssignmentVersion(n);
      const dept = (id: string | null): string => (id ? (this.store.nodes.get(id)?.departmentCode ?? '') : '');
      this.audit.record(actor, {
        action,
        entityType: 'task',
        entityId: t.id,
        departmentCode: dept(t.nodeId),
        peerDepartmentCode: dept(t.peerNodeId),
        resourceCode: t.resourceCode,
        details: {
          epoch: plan.epoch,
          state: plan.state,
          count: plan.count,
          standbys: plan.standbys.map((s) => ({ index: s.index, nodeId: s.nodeId, state: s.state })),
          reason: plan.reason,
          origin: plan.origin,
          ...(note !== undefined && { note }),
        },
      });
      return { plan, nodes };
    });
    for (const n of nodes) this.assignments.wakeNode(n);
    return plan;
  }
}

/** Whether a node's last heartbeat declared `binding` as one a flow can be spread over. */
function declares(n: NodeRecord, binding: string): boolean {
  return ((n.health as { bindings?: string[] } | null)?.bindings ?? []).includes(binding);
}

/** A report that changes nothing (stale or repeated): nothing is written. */
class Unchanged extends Error {}

/** Whether sync task `s` feeds exchange task `ex` (same subscription, the two nodes facing each other). */
function feeds(s: TaskRecord | undefined, ex: TaskRecord): boolean {
  return (
    !!s &&
    ex.kind === 'exchange' &&
    s.subscriptionId === ex.subscriptionId &&
    s.peerNodeId === ex.nodeId &&
    ex.peerNodeId === s.nodeId
  );
}
