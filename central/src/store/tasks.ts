// Tasks (交换任务): the desired work of each node, delivered as assignments. A change bumps the task's
// generation; the caller bumps the node's assignment version in the same transaction.
import type { Task as TaskRecord, TaskKind } from '../api/tasks.js';
import type { Db } from './db.js';

export type { Task as TaskRecord, TaskKind } from '../api/tasks.js';

export class TaskStore {
  constructor(private readonly db: Db) {}

  get(id: string): TaskRecord | undefined {
    const r = this.db.prepare('SELECT * FROM tasks WHERE id = ? AND deleted_at IS NULL').get(id) as TaskRow | undefined;
    return r && toTask(r);
  }

  /** A task even after it was deleted (reports of its last runs still arrive). */
  getAny(id: string): TaskRecord | undefined {
    const r = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
    return r && toTask(r);
  }

  list(filter: { nodeIds?: readonly string[] } = {}): TaskRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM tasks WHERE deleted_at IS NULL ORDER BY created_at, rowid')
      .all() as TaskRow[];
    const scope = filter.nodeIds && new Set(filter.nodeIds);
    return rows.map(toTask).filter((t) => !scope || scope.has(t.nodeId));
  }

  forNode(nodeId: string): TaskRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM tasks WHERE node_id = ? AND deleted_at IS NULL ORDER BY id')
        .all(nodeId) as TaskRow[]
    ).map(toTask);
  }

  insert(t: TaskRecord): void {
    this.db
      .prepare(
        `INSERT INTO tasks (id, name, kind, node_id, peer_node_id, resource_code, subscription_id, binding, params_json,
           interval_ms, enabled, generation, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        t.id,
        t.name,
        t.kind,
        t.nodeId,
        t.peerNodeId,
        t.resourceCode,
        t.subscriptionId,
        t.binding,
        JSON.stringify(t.params),
        t.intervalMs,
        t.enabled ? 1 : 0,
        t.generation,
        t.createdAt,
        t.updatedAt,
      );
  }

  /** Replaces the mutable fields and bumps the generation. */
  update(t: TaskRecord, at: number): TaskRecord {
    this.db
      .prepare(
        `UPDATE tasks SET name = ?, binding = ?, params_json = ?, interval_ms = ?, enabled = ?, peer_node_id = ?,
           generation = generation + 1, updated_at = ? WHERE id = ?`,
      )
      .run(t.name, t.binding, JSON.stringify(t.params), t.intervalMs, t.enabled ? 1 : 0, t.peerNodeId, at, t.id);
    return this.get(t.id)!;
  }

  softDelete(id: string, at: number): void {
    this.db.prepare('UPDATE tasks SET deleted_at = ?, updated_at = ? WHERE id = ?').run(at, at, id);
  }
}

interface TaskRow {
  id: string;
  name: string;
  kind: TaskKind;
  node_id: string;
  peer_node_id: string | null;
  resource_code: string;
  subscription_id: string;
  binding: string;
  params_json: string;
  interval_ms: number;
  enabled: number;
  generation: number;
  created_at: number;
  updated_at: number;
}
const toTask = (r: TaskRow): TaskRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  nodeId: r.node_id,
  peerNodeId: r.peer_node_id,
  resourceCode: r.resource_code,
  subscriptionId: r.subscription_id,
  binding: r.binding,
  params: JSON.parse(r.params_json) as Record<string, unknown>,
  intervalMs: r.interval_ms,
  enabled: r.enabled === 1,
  generation: r.generation,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
