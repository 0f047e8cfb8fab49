// A sync task's part in a spread flow (dynamic node allocation, 动态节点分配; proto ShardSpec): the primary
// splits its cursor and later takes the standbys' shards back, a standby reads one shard and hands it back.
// Central moves the plan on from the ShardReports sent here; a plan change restarts the runner (supervisor).
//
// Invariants
//  - The primary's split (its cursor restricted to shard 0, its last sequence and cursor before it) is written
//    in ONE spool transaction; it reports split-ready only once every batch up to that sequence is receipted,
//    so a standby never sends a key before the primary's older version of it was delivered.
//  - A withdrawn standby stops reading and reports shard-done only once its outbox of the task is receipted;
//    the primary reads that shard again only from the cursor the standby reported.
//  - A new split waits until the primary's cursor is plain again (the previous merge's parts collapsed).
//  - Reports repeat (every REPORT_EVERY_MS) until central moves the plan on: central takes each once.
import type { Cursor } from '../connectors/types.js';
import { addShard, isSharded, positionOf, restrictTo, shardsHeld } from '../connectors/shards.js';
import type { DataSpool, TaskState } from '../spool/data-spool.js';

/** States of a plan as central sends them. */
export type PlanState = 'splitting' | 'split' | 'merging';

/** A task's shard plan as the agent holds it (decoded ShardSpec). */
export interface ShardAssignment {
  epoch: number;
  count: number;
  role: 'primary' | 'standby';
  index: number;
  state: PlanState;
  /** Standby: where it starts; primary: the split cursor once central has it. Undefined: not known to central. */
  startCursor: Cursor | undefined;
  withdrawn: boolean;
  returned: { index: number; cursor: Cursor }[];
}

/** What the agent reports to move a plan on (proto ShardReport). */
export interface ShardReportBody {
  taskId: string;
  epoch: number;
  kind: 'split-ready' | 'shard-done' | 'merged';
  index: number;
  cursorJson: string;
}

/** What the spool remembers of a task's plan. */
interface ShardMemo {
  epoch: number;
  role: 'primary' | 'standby';
  /** Primary: last sequence committed before the split, and the cursor at the split. */
  splitSequence?: number;
  splitCursor?: Cursor;
}

const REPORT_EVERY_MS = 5_000;

export class ShardRole {
  private lastReportAt = 0;
  private readonly key: string;

  constructor(
    private readonly taskId: string,
    readonly plan: ShardAssignment,
    private readonly spool: DataSpool,
    private readonly report: (body: ShardReportBody) => void,
  ) {
    this.key = `shard:${taskId}`;
  }

  private memo(): ShardMemo | undefined {
    const v = this.spool.meta(this.key);
    return v ? (JSON.parse(v) as ShardMemo) : undefined;
  }

  /** Applies what the plan asks before a step; returns the state to read from and whether to read. */
  tick(state: TaskState, now: number): { state: TaskState; read: boolean } {
    return this.plan.role === 'primary' ? this.primary(state, now) : this.standby(state, now);
  }

  private primary(state: TaskState, now: number): { state: TaskState; read: boolean } {
    const p = this.plan;
    let memo = this.memo();
    if (memo?.epoch !== p.epoch) {
      // The previous plan's parts have not collapsed yet: go on reading them; split once the cursor is plain.
      if (isSharded(state.cursor)) return { state, read: true };
      memo = { epoch: p.epoch, role: 'primary', splitSequence: state.nextSequence - 1, splitCursor: state.cursor };
      const m = memo;
      state = this.spool.transaction(() => {
        const next = this.commitCursor(state, restrictTo(state.cursor, p.count, [0]), now);
        this.spool.setMeta(this.key, JSON.stringify(m));
        return next;
      });
    }
    for (const r of p.returned)
      if (!shardsHeld(state.cursor, p.count).includes(r.index))
        state = this.commitCursor(state, addShard(state.cursor, p.count, r.index, r.cursor), now);
    if (p.startCursor === undefined && this.drainedThrough(state, memo.splitSequence ?? 0))
      this.send(now, 'split-ready', 0, memo.splitCursor ?? null);
    else if (p.state === 'merging' && shardsHeld(state.cursor, p.count).length === p.count)
      this.send(now, 'merged', 0, null);
    return { state, read: true };
  }

  private standby(state: TaskState, now: number): { state: TaskState; read: boolean } {
    const p = this.plan;
    if (p.startCursor === undefined) return { state, read: false };
    if (this.memo()?.epoch !== p.epoch) {
      const start = p.startCursor;
      state = this.spool.transaction(() => {
        const next = this.commitCursor(state, restrictTo(start, p.count, [p.index]), now);
        this.spool.setMeta(this.key, JSON.stringify({ epoch: p.epoch, role: 'standby' } satisfies ShardMemo));
        return next;
      });
    }
    if (!p.withdrawn) return { state, read: true };
    if (this.spool.oldestUnacknowledged(this.taskId) === undefined) {
      const pos = positionOf(state.cursor);
      if (pos !== undefined) this.send(now, 'shard-done', p.index, pos);
    }
    return { state, read: false };
  }

  /** Whether every batch of the task up to `sequence` is receipted (gone from the outbox). */
  private drainedThrough(state: TaskState, sequence: number): boolean {
    const o = this.spool.oldestUnacknowledged(this.taskId);
    return o === undefined || o.epoch !== state.epoch || o.sequence > sequence;
  }

  private commitCursor(state: TaskState, cursor: Cursor, now: number): TaskState {
    return this.spool.commitStep(state, { cursor, batches: [], quarantine: [] }, now).state;
  }

  private send(now: number, kind: ShardReportBody['kind'], index: number, cursor: Cursor): void {
    if (now - this.lastReportAt < REPORT_EVERY_MS) return;
    this.lastReportAt = now;
    this.report({ taskId: this.taskId, epoch: this.plan.epoch, kind, index, cursorJson: JSON.stringify(cursor) });
  }
}

/** The plan of a decoded ShardSpec, or undefined when the task is not spread (no spec, epoch 0). */
export function shardAssignmentOf(
  s:
    | {
        epoch: number;
        count: number;
        role: string;
        index: number;
        state: string;
        startCursorJson: string;
        withdrawn: boolean;
        returned: { index: number; cursorJson: string }[];
      }
    | null
    | undefined,
): ShardAssignment | undefined {
  if (!s || !s.epoch) return undefined;
  const parse = (j: string): Cursor => JSON.parse(j) as Cursor;
  return {
    epoch: s.epoch,
    count: s.count,
    role: s.role === 'standby' ? 'standby' : 'primary',
    index: s.index,
    state: (['splitting', 'split', 'merging'].includes(s.state) ? s.state : 'split') as PlanState,
    startCursor: s.startCursorJson ? parse(s.startCursorJson) : undefined,
    withdrawn: s.withdrawn,
    returned: s.returned.map((r) => ({ index: r.index, cursor: parse(r.cursorJson) })),
  };
}
