// Reports from agents, stored once per report_id (idempotent delivery), and the task runs they carry.
import type { Db } from './db.js';

export interface StoredReport {
  reportId: string;
  nodeId: string;
  seq: number;
  kind: string;
  observedAt: number;
  receivedAt: number;
  body: unknown;
}
export interface TaskRun {
  runId: string;
  taskId: string;
  nodeId: string;
  startedAt: number;
  finishedAt: number;
  status: string;
  records: number;
  bytes: number;
  batches: number;
  errors: number;
  lagMs: number;
  quarantined: number;
  error: string;
}

export class ReportStore {
  constructor(private readonly db: Db) {}

  /** Stores the report unless its id is known; returns true when it was new. */
  insertIfNew(r: StoredReport): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO reports (report_id, node_id, seq, kind, observed_at, received_at, body_json) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (report_id) DO NOTHING`,
        )
        .run(r.reportId, r.nodeId, r.seq, r.kind, r.observedAt, r.receivedAt, JSON.stringify(r.body)).changes === 1
    );
  }

  insertTaskRun(t: TaskRun): void {
    this.db
      .prepare(
        `INSERT INTO task_runs (run_id, task_id, node_id, started_at, finished_at, status, records, bytes, batches, errors,
           lag_ms, quarantined, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
      )
      .run(t.runId, t.taskId, t.nodeId, t.startedAt, t.finishedAt, t.status, t.records, t.bytes, t.batches, t.errors, t.lagMs, t.quarantined, t.error);
  }

  list(filter: { nodeId?: string; kind?: string; afterSeq?: number; limit?: number }): StoredReport[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.nodeId) (where.push('node_id = ?'), args.push(filter.nodeId));
    if (filter.kind) (where.push('kind = ?'), args.push(filter.kind));
    if (filter.afterSeq !== undefined) (where.push('seq > ?'), args.push(filter.afterSeq));
    const sql = `SELECT * FROM reports ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY node_id, seq LIMIT ?`;
    args.push(filter.limit ?? 1000);
    return (this.db.prepare(sql).all(...args) as ReportRow[]).map((r) => ({
      reportId: r.report_id,
      nodeId: r.node_id,
      seq: r.seq,
      kind: r.kind,
      observedAt: r.observed_at,
      receivedAt: r.received_at,
      body: JSON.parse(r.body_json) as unknown,
    }));
  }

  taskRuns(filter: { taskId?: string; nodeId?: string; limit?: number }): TaskRun[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.taskId) (where.push('task_id = ?'), args.push(filter.taskId));
    if (filter.nodeId) (where.push('node_id = ?'), args.push(filter.nodeId));
    const sql = `SELECT run_id AS runId, task_id AS taskId, node_id AS nodeId, started_at AS startedAt,
        finished_at AS finishedAt, status, records, bytes, batches, errors, lag_ms AS lagMs, quarantined, error
      FROM task_runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY finished_at DESC LIMIT ?`;
    args.push(filter.limit ?? 100);
    return this.db.prepare(sql).all(...args) as TaskRun[];
  }
}

interface ReportRow {
  report_id: string;
  node_id: string;
  seq: number;
  kind: string;
  observed_at: number;
  received_at: number;
  body_json: string;
}
