// Shard plans of sync tasks (dynamic node allocation; domain/shards.ts): the current plan per task. Writes go
// in the caller's transaction, with the audit record and the assignment version bumps.
import type { ShardPlan, SpreadOrigin, StandbyShard } from '../domain/shards.js';
import type { Db } from './db.js';

interface Row {
  task_id: string;
  epoch: number;
  count: number;
  state: ShardPlan['state'];
  split_cursor_json: string | null;
  standbys_json: string;
  reason: string;
  origin: SpreadOrigin;
  held_until: number | null;
  updated_at: number;
}

const toPlan = (r: Row): ShardPlan => ({
  taskId: r.task_id,
  epoch: r.epoch,
  count: r.count,
  state: r.state,
  splitCursorJson: r.split_cursor_json,
  standbys: JSON.parse(r.standbys_json) as StandbyShard[],
  reason: r.reason,
  origin: r.origin,
  heldUntilMs: r.held_until,
  updatedAt: r.updated_at,
});

export class ShardStore {
  constructor(private readonly db: Db) {}

  get(taskId: string): ShardPlan | undefined {
    const r = this.db.prepare('SELECT * FROM shard_plans WHERE task_id = ?').get(taskId) as Row | undefined;
    return r && toPlan(r);
  }

  /** Plans not back to single, by task. */
  open(): ShardPlan[] {
    return (this.db.prepare("SELECT * FROM shard_plans WHERE state <> 'single' ORDER BY task_id").all() as Row[]).map(
      toPlan,
    );
  }

  put(p: ShardPlan): void {
    this.db
      .prepare(
        `INSERT INTO shard_plans (task_id, epoch, count, state, split_cursor_json, standbys_json, reason, origin,
           held_until, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (task_id) DO UPDATE SET epoch = excluded.epoch, count = excluded.count, state = excluded.state,
           split_cursor_json = excluded.split_cursor_json, standbys_json = excluded.standbys_json,
           reason = excluded.reason, origin = excluded.origin, held_until = excluded.held_until,
           updated_at = excluded.updated_at`,
      )
      .run(
        p.taskId,
        p.epoch,
        p.count,
        p.state,
        p.splitCursorJson,
        JSON.stringify(p.standbys),
        p.reason,
        p.origin,
        p.heldUntilMs,
        p.updatedAt,
      );
  }
}
