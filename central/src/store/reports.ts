// Reports from agents, stored once per report_id (idempotent delivery), and the task runs they carry.
import type { Report as StoredReport } from '../api/nodes.js';
import type { QuarantinedRecord, TaskRun } from '../api/tasks.js';
import type { Db } from './db.js';
import { and, sqlWhere } from './sql.js';

export type { Report as StoredReport } from '../api/nodes.js';
export type { QuarantinedRecord, TaskRun } from '../api/tasks.js';

export interface ReportFilter {
  nodeId?: string;
  /** Only reports of these nodes (a city admin's scope). */
  nodeIds?: readonly string[];
  kind?: string;
  /** Only reports whose per-node sequence number is above this. */
  afterSeq?: number;
  /** Only reports older than this one in the listing order (the cursor for the next page back). */
  before?: Pick<StoredReport, 'receivedAt' | 'seq' | 'reportId'>;
  /** At most this many reports (default 1000). */
  limit?: number;
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
      .run(
        t.runId,
        t.taskId,
        t.nodeId,
        t.startedAt,
        t.finishedAt,
        t.status,
        t.records,
        t.bytes,
        t.batches,
        t.errors,
        t.lagMs,
        t.quarantined,
        t.error,
      );
  }

  insertQuarantined(q: Omit<QuarantinedRecord, 'resentAt'>): void {
    this.db
      .prepare(
        `INSERT INTO quarantine_records (node_id, agent_id, task_id, side, origin, row_index, reason, field, record, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node_id, agent_id) DO NOTHING`,
      )
      .run(
        q.nodeId,
        q.agentId,
        q.taskId,
        q.side,
        q.origin,
        q.rowIndex,
        q.reason,
        q.field,
        JSON.stringify(q.record),
        q.createdAt,
      );
  }

  markQuarantineResent(nodeId: string, agentIds: readonly number[], at: number): void {
    const st = this.db.prepare('UPDATE quarantine_records SET resent_at = ? WHERE node_id = ? AND agent_id = ?');
    for (const id of agentIds) st.run(at, nodeId, id);
  }

  quarantined(taskId: string, opts: { includeResent?: boolean; limit?: number } = {}): QuarantinedRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM quarantine_records WHERE task_id = ? AND (? OR resent_at IS NULL) ORDER BY created_at, agent_id LIMIT ?`,
      )
      .all(taskId, opts.includeResent ? 1 : 0, opts.limit ?? 1000) as {
      node_id: string;
      agent_id: number;
      task_id: string;
      side: string;
      origin: string;
      row_index: number;
      reason: string;
      field: string;
      record: string;
      created_at: number;
      resent_at: number | null;
    }[];
    return rows.map((r) => ({
      nodeId: r.node_id,
      agentId: r.agent_id,
      taskId: r.task_id,
      side: r.side,
      origin: r.origin,
      rowIndex: r.row_index,
      reason: r.reason,
      field: r.field,
      record: JSON.parse(r.record) as Record<string, unknown>,
      createdAt: r.created_at,
      resentAt: r.resent_at,
    }));
  }

  get(reportId: string): StoredReport | undefined {
    const r = this.db.prepare('SELECT * FROM reports WHERE report_id = ?').get(reportId) as ReportRow | undefined;
    return r && toReport(r);
  }

  /** Newest first: in the order received (received_at, seq, report_id, all descending), which is total. */
  list(filter: ReportFilter = {}): StoredReport[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.nodeId) and(where, args, 'node_id = ?', filter.nodeId);
    if (filter.nodeIds?.length === 0) where.push('0');
    else if (filter.nodeIds)
      and(where, args, `node_id IN (${filter.nodeIds.map(() => '?').join(', ')})`, ...filter.nodeIds);
    if (filter.kind) and(where, args, 'kind = ?', filter.kind);
    if (filter.afterSeq !== undefined) and(where, args, 'seq > ?', filter.afterSeq);
    // A row value comparison, so that the indexes on (…, received_at, seq, report_id) serve the page.
    if (filter.before)
      and(
        where,
        args,
        '(received_at, seq, report_id) < (?, ?, ?)',
        filter.before.receivedAt,
        filter.before.seq,
        filter.before.reportId,
      );
    const sql = `SELECT * FROM reports ${sqlWhere(where)}
      ORDER BY received_at DESC, seq DESC, report_id DESC LIMIT ?`;
    args.push(filter.limit ?? 1000);
    return (this.db.prepare(sql).all(...args) as ReportRow[]).map(toReport);
  }

  taskRuns(filter: { taskId?: string; nodeId?: string; limit?: number }): TaskRun[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.taskId) and(where, args, 'task_id = ?', filter.taskId);
    if (filter.nodeId) and(where, args, 'node_id = ?', filter.nodeId);
    const sql = `SELECT run_id AS runId, task_id AS taskId, node_id AS nodeId, started_at AS startedAt,
        finished_at AS finishedAt, status, records, bytes, batches, errors, lag_ms AS lagMs, quarantined, error
      FROM task_runs ${sqlWhere(where)} ORDER BY finished_at DESC LIMIT ?`;
    args.push(filter.limit ?? 100);
    return this.db.prepare(sql).all(...args) as TaskRun[];
  }
}

const toReport = (r: ReportRow): StoredReport => ({
  reportId: r.report_id,
  nodeId: r.node_id,
  seq: r.seq,
  kind: r.kind,
  observedAt: r.observed_at,
  receivedAt: r.received_at,
  body: JSON.parse(r.body_json) as unknown,
});

interface ReportRow {
  report_id: string;
  node_id: string;
  seq: number;
  kind: string;
  observed_at: number;
  received_at: number;
  body_json: string;
}
