// Alerts (告警): one row per alert, numbered in the order raised, at most one open (firing or acknowledged) per
// (kind, entity: the partial unique index alerts_open); and the webhook outbox, one row per change and URL.
import type { Alert, AlertMessageParams, AlertSeverity, NewAlert } from '../domain/alerts.js';
import type { Db } from './db.js';
import { and, sqlWhere } from './sql.js';

export type { Alert } from '../domain/alerts.js';

/** Filters of the alert listing. */
export interface AlertFilter {
  kind?: string;
  /** A state, or 'open' (firing or acknowledged). */
  state?: string;
  severity?: string;
  departmentCode?: string;
  /** Only alerts of these departments (a city admin's scope). */
  departmentCodes?: readonly string[];
  /** Only alerts about these entities (a node and its tasks). */
  entityIds?: readonly string[];
  /** Newest alerts returned (default 1000). */
  limit?: number;
}

/** One pending webhook delivery. */
export interface OutboxRow {
  id: number;
  alertId: number;
  url: string;
  body: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
}

interface AlertRow {
  id: number;
  kind: string;
  entityId: string;
  departmentCode: string;
  message: string;
  params: string | null;
  severity: AlertSeverity;
  state: Alert['state'];
  startedAt: number;
  lastSeenAt: number;
  count: number;
  ackedBy: string | null;
  ackedAt: number | null;
  ackNote: string;
  endedAt: number | null;
  endReason: string;
}

const COLUMNS =
  'id, kind, entity_id AS entityId, department_code AS departmentCode, message, params, severity, state, ' +
  'started_at AS startedAt, last_seen_at AS lastSeenAt, count, acked_by AS ackedBy, acked_at AS ackedAt, ' +
  'ack_note AS ackNote, ended_at AS endedAt, end_reason AS endReason';

const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  kind: r.kind,
  entityId: r.entityId,
  departmentCode: r.departmentCode,
  message: r.message,
  params: r.params === null ? null : (JSON.parse(r.params) as AlertMessageParams),
  severity: r.severity,
  state: r.state,
  startedAt: r.startedAt,
  at: r.startedAt,
  lastSeenAt: r.lastSeenAt,
  count: r.count,
  acknowledgement: r.ackedBy !== null ? { by: r.ackedBy, at: r.ackedAt ?? 0, note: r.ackNote } : null,
  endedAt: r.endedAt,
  endReason: r.endReason,
});

export class AlertStore {
  constructor(private readonly db: Db) {}

  /** The open (firing or acknowledged) alert of this kind and entity, if any. */
  open(kind: string, entityId: string): Alert | undefined {
    const r = this.db
      .prepare(`SELECT ${COLUMNS} FROM alerts WHERE kind = ? AND entity_id = ? AND state <> 'resolved'`)
      .get(kind, entityId) as AlertRow | undefined;
    return r && toAlert(r);
  }

  get(id: number): Alert | undefined {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM alerts WHERE id = ?`).get(id) as AlertRow | undefined;
    return r && toAlert(r);
  }

  /** Inserts a new firing alert; its id. */
  insert(a: NewAlert & { severity: AlertSeverity }): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO alerts (kind, entity_id, department_code, message, params, severity, state, started_at,
                               last_seen_at)
           VALUES (?, ?, ?, ?, ?, ?, 'firing', ?, ?)`,
        )
        .run(
          a.kind,
          a.entityId,
          a.departmentCode,
          a.message,
          a.params ? JSON.stringify(a.params) : null,
          a.severity,
          a.at,
          a.at,
        ).lastInsertRowid,
    );
  }

  /** Seen again while open: count + 1, last seen, the latest message and params, the (possibly raised) severity. */
  seen(id: number, at: number, message: string, params: AlertMessageParams | undefined, severity: AlertSeverity): void {
    this.db
      .prepare(
        `UPDATE alerts SET count = count + 1, last_seen_at = max(last_seen_at, ?), message = ?, params = ?,
           severity = ? WHERE id = ?`,
      )
      .run(at, message, params ? JSON.stringify(params) : null, severity, id);
  }

  acknowledge(id: number, by: string, at: number, note: string): void {
    this.db
      .prepare(`UPDATE alerts SET state = 'acknowledged', acked_by = ?, acked_at = ?, ack_note = ? WHERE id = ?`)
      .run(by, at, note, id);
  }

  resolve(id: number, at: number, reason: string): void {
    this.db
      .prepare(`UPDATE alerts SET state = 'resolved', ended_at = ?, end_reason = ? WHERE id = ?`)
      .run(at, reason, id);
  }

  /** Open alerts of a kind (the rules' view of what is firing). */
  openOfKind(kind: string): Alert[] {
    return (
      this.db
        .prepare(`SELECT ${COLUMNS} FROM alerts WHERE kind = ? AND state <> 'resolved' ORDER BY id`)
        .all(kind) as AlertRow[]
    ).map(toAlert);
  }

  /**
   * Open (firing or acknowledged) alerts per entity id, those of `departmentCodes` only when given (a city admin's
   * scope): counted in SQL, whatever their number (the nodes table's open alerts per node).
   */
  openCountsByEntity(departmentCodes?: readonly string[]): Map<string, number> {
    const scope = departmentCodes ? 'AND department_code IN (SELECT value FROM json_each(?))' : '';
    const rows = this.db
      .prepare(
        `SELECT entity_id AS entityId, count(*) AS n FROM alerts WHERE state <> 'resolved' ${scope} GROUP BY entity_id`,
      )
      .all(...(departmentCodes ? [JSON.stringify(departmentCodes)] : [])) as { entityId: string; n: number }[];
    return new Map(rows.map((r) => [r.entityId, r.n]));
  }

  list(f: AlertFilter = {}): Alert[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.kind) and(where, args, 'kind = ?', f.kind);
    if (f.state === 'open') where.push("state <> 'resolved'");
    else if (f.state) and(where, args, 'state = ?', f.state);
    if (f.severity) and(where, args, 'severity = ?', f.severity);
    if (f.departmentCode) and(where, args, 'department_code = ?', f.departmentCode);
    if (f.departmentCodes)
      and(where, args, `department_code IN (SELECT value FROM json_each(?))`, JSON.stringify(f.departmentCodes));
    if (f.entityIds) and(where, args, `entity_id IN (SELECT value FROM json_each(?))`, JSON.stringify(f.entityIds));
    args.push(f.limit ?? 1000);
    return (
      this.db
        .prepare(`SELECT ${COLUMNS} FROM alerts ${sqlWhere(where)} ORDER BY id DESC LIMIT ?`)
        .all(...args) as AlertRow[]
    ).map(toAlert);
  }

  enqueue(alertId: number, urls: readonly string[], body: string, at: number): void {
    const put = this.db.prepare(
      'INSERT INTO alert_outbox (alert_id, url, body, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)',
    );
    for (const url of urls) put.run(alertId, url, body, at, at);
  }

  /** URLs with deliveries waiting. */
  pendingUrls(): string[] {
    return (this.db.prepare('SELECT DISTINCT url FROM alert_outbox').all() as { url: string }[]).map((r) => r.url);
  }

  /** The oldest deliveries waiting for `url`, due or not, in the order of the changes. */
  pendingFor(url: string, limit: number): OutboxRow[] {
    return this.db
      .prepare(
        `SELECT id, alert_id AS alertId, url, body, created_at AS createdAt, attempts, next_attempt_at AS nextAttemptAt
         FROM alert_outbox WHERE url = ? ORDER BY id LIMIT ?`,
      )
      .all(url, limit) as OutboxRow[];
  }

  delivered(id: number): void {
    this.db.prepare('DELETE FROM alert_outbox WHERE id = ?').run(id);
  }

  retryLater(id: number, nextAttemptAt: number, error: string): void {
    this.db
      .prepare('UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?')
      .run(nextAttemptAt, error.slice(0, 500), id);
  }

  /**
   * The newest `n` run statuses of each task not deleted (task_run reports), newest first, with its node. One
   * indexed lookup a task (task_runs_task), so the cost follows the tasks, not the years of runs kept. `page`: only
   * the tasks after `afterTaskId` in id order, at most `limit` of them (-1: all); the rules' job reads in pages.
   */
  recentRunStatuses(
    n: number,
    page: { afterTaskId: string; limit: number } = { afterTaskId: '', limit: -1 },
  ): { taskId: string; nodeId: string; statuses: string[] }[] {
    const tasks = this.db
      .prepare('SELECT id, node_id AS nodeId FROM tasks WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?')
      .all(page.afterTaskId, page.limit) as { id: string; nodeId: string }[];
    const runs = this.db.prepare(
      'SELECT status FROM task_runs WHERE task_id = ? ORDER BY finished_at DESC, run_id DESC LIMIT ?',
    );
    return tasks.map((t) => ({
      taskId: t.id,
      nodeId: t.nodeId,
      statuses: (runs.all(t.id, n) as { status: string }[]).map((r) => r.status),
    }));
  }

  /** Records quarantined per task since `sinceMs` (quarantine reports, by their creation time on the node). */
  quarantinedSince(sinceMs: number): { taskId: string; nodeId: string; records: number }[] {
    return this.db
      .prepare(
        `SELECT task_id AS taskId, min(node_id) AS nodeId, count(*) AS records FROM quarantine_records
         WHERE created_at >= ? GROUP BY task_id`,
      )
      .all(sinceMs) as { taskId: string; nodeId: string; records: number }[];
  }

  /** Deliveries still pending (tests and the status of the outbox). */
  pending(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM alert_outbox').get() as { n: number }).n;
  }
}
