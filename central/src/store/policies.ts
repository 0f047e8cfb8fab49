// Scheduling policies (策略) and the tasks each shapes. Invariants: a policy's task rows are written with
// it and replaced with it in one transaction (the caller's); an expired policy keeps its rows (for the
// record) and is never delivered again (forNode() skips it).
import type { PolicyDefinition } from '../../../common/src/policy.js';
import type { Db } from './db.js';
import { and, sqlWhere } from './sql.js';

/** A policy as stored: the contract plus its bookkeeping. */
export interface PolicyRecord extends PolicyDefinition {
  generation: number;
  generatedBy: 'brain' | 'operator';
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  /** When it was withdrawn, ms; null while live. */
  expiredAt: number | null;
  /** The task each id names runs on this node (same order as taskIds). */
  nodeIds: string[];
}

interface Row {
  id: string;
  kind: PolicyRecord['kind'];
  generation: number;
  subscription_id: string;
  valid_from_ms: number;
  valid_until_ms: number;
  utc_offset_minutes: number;
  spec_json: string;
  reason: string;
  evidence_json: string;
  generated_by: PolicyRecord['generatedBy'];
  created_by: string;
  created_at: number;
  updated_at: number;
  expired_at: number | null;
}

type Spec = Pick<PolicyDefinition, 'windows' | 'outside' | 'holidays' | 'makeUpWorkdays'>;

export class PolicyStore {
  constructor(private readonly db: Db) {}

  /** Inserts a policy with its task rows (nodeIds[i] runs taskIds[i]). */
  insert(p: PolicyRecord): void {
    this.db
      .prepare(
        `INSERT INTO policies (id, kind, generation, subscription_id, valid_from_ms, valid_until_ms, utc_offset_minutes,
           spec_json, reason, evidence_json, generated_by, created_by, created_at, updated_at, expired_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
      )
      .run(...this.columns(p), p.createdBy, p.createdAt, p.updatedAt);
    this.writeTasks(p);
  }

  /** Replaces a live policy's content and tasks (the caller bumps generation and updatedAt). */
  replace(p: PolicyRecord): void {
    this.db
      .prepare(
        `UPDATE policies SET kind = ?, generation = ?, subscription_id = ?, valid_from_ms = ?, valid_until_ms = ?,
           utc_offset_minutes = ?, spec_json = ?, reason = ?, evidence_json = ?, generated_by = ?, updated_at = ?
         WHERE id = ?`,
      )
      .run(...this.columns(p).slice(1), p.updatedAt, p.id);
    this.db.prepare('DELETE FROM policy_tasks WHERE policy_id = ?').run(p.id);
    this.writeTasks(p);
  }

  expire(id: string, at: number): void {
    this.db.prepare('UPDATE policies SET expired_at = ?, updated_at = ? WHERE id = ?').run(at, at, id);
  }

  get(id: string): PolicyRecord | undefined {
    const r = this.db.prepare('SELECT * FROM policies WHERE id = ?').get(id) as Row | undefined;
    return r && this.fromRow(r);
  }

  /** Policies, newest first; by task, by node (any of nodeIds), by kind; expired ones only with `all`. */
  list(
    f: {
      taskId?: string;
      nodeIds?: readonly string[];
      pairNodeIds?: readonly string[];
      kind?: string;
      all?: boolean;
      limit?: number;
    } = {},
  ): PolicyRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (!f.all) where.push('p.expired_at IS NULL');
    if (f.kind) and(where, args, 'p.kind = ?', f.kind);
    if (f.taskId) and(where, args, 'p.id IN (SELECT policy_id FROM policy_tasks WHERE task_id = ?)', f.taskId);
    if (f.nodeIds) {
      const marks = f.nodeIds.map(() => '?').join(', ') || 'NULL';
      and(where, args, `p.id IN (SELECT policy_id FROM policy_tasks WHERE node_id IN (${marks}))`, ...f.nodeIds);
    }
    if (f.pairNodeIds) {
      // A task's node or its peer (the other end of the flow) among them.
      const ids = JSON.stringify(f.pairNodeIds);
      and(
        where,
        args,
        `p.id IN (SELECT pt.policy_id FROM policy_tasks pt JOIN tasks t ON t.id = pt.task_id
           WHERE pt.node_id IN (SELECT value FROM json_each(?)) OR t.peer_node_id IN (SELECT value FROM json_each(?)))`,
        ids,
        ids,
      );
    }
    const rows = this.db
      .prepare(
        `SELECT p.* FROM policies p ${sqlWhere(where)} ORDER BY p.created_at DESC, p.rowid DESC
         ${f.limit !== undefined ? 'LIMIT ?' : ''}`,
      )
      .all(...args, ...(f.limit !== undefined ? [f.limit] : [])) as Row[];
    return rows.map((r) => this.fromRow(r));
  }

  /** Live (not expired) policies with a task on the node, oldest first: what the node is delivered. */
  forNode(nodeId: string): PolicyRecord[] {
    const rows = this.db
      .prepare(
        `SELECT p.* FROM policies p WHERE p.expired_at IS NULL
           AND p.id IN (SELECT policy_id FROM policy_tasks WHERE node_id = ?)
         ORDER BY p.created_at, p.rowid`,
      )
      .all(nodeId) as Row[];
    return rows.map((r) => this.fromRow(r));
  }

  private columns(p: PolicyRecord): unknown[] {
    const spec: Spec = {
      windows: p.windows,
      outside: p.outside,
      holidays: p.holidays,
      makeUpWorkdays: p.makeUpWorkdays,
    };
    return [
      p.id,
      p.kind,
      p.generation,
      p.subscriptionId,
      p.validFromMs,
      p.validUntilMs,
      p.utcOffsetMinutes,
      JSON.stringify(spec),
      p.reason,
      JSON.stringify(p.evidence),
      p.generatedBy,
    ];
  }

  private writeTasks(p: PolicyRecord): void {
    const ins = this.db.prepare('INSERT INTO policy_tasks (policy_id, task_id, node_id) VALUES (?, ?, ?)');
    p.taskIds.forEach((t, i) => ins.run(p.id, t, p.nodeIds[i] ?? ''));
  }

  private fromRow(r: Row): PolicyRecord {
    const spec = JSON.parse(r.spec_json) as Spec;
    const tasks = this.db
      .prepare('SELECT task_id, node_id FROM policy_tasks WHERE policy_id = ? ORDER BY rowid')
      .all(r.id) as { task_id: string; node_id: string }[];
    return {
      id: r.id,
      kind: r.kind,
      generation: r.generation,
      taskIds: tasks.map((t) => t.task_id),
      nodeIds: tasks.map((t) => t.node_id),
      subscriptionId: r.subscription_id,
      validFromMs: r.valid_from_ms,
      validUntilMs: r.valid_until_ms,
      utcOffsetMinutes: r.utc_offset_minutes,
      ...spec,
      reason: r.reason,
      evidence: JSON.parse(r.evidence_json) as PolicyRecord['evidence'],
      generatedBy: r.generated_by,
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      expiredAt: r.expired_at,
    };
  }
}
