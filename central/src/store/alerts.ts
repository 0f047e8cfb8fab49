// Alarms (告警): one row per (kind, entity), numbered in the order raised; listed newest first.
import type { Alert, NewAlert } from '../domain/alerts.js';
import type { Db } from './db.js';
import { and, sqlWhere } from './sql.js';

export type { Alert } from '../domain/alerts.js';

/** Filters of the alarm listing. */
export interface AlertFilter {
  kind?: string;
  departmentCode?: string;
  /** Newest alarms returned (default 1000). */
  limit?: number;
}

export class AlertStore {
  constructor(private readonly db: Db) {}

  /** Records an alarm unless one of this kind for this entity exists; true when it is new. */
  raise(a: NewAlert): boolean {
    return (
      this.db
        .prepare(
          'INSERT INTO alerts (kind, entity_id, department_code, message, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, entity_id) DO NOTHING',
        )
        .run(a.kind, a.entityId, a.departmentCode, a.message, a.at).changes === 1
    );
  }

  list(f: AlertFilter = {}): Alert[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.kind) and(where, args, 'kind = ?', f.kind);
    if (f.departmentCode) and(where, args, 'department_code = ?', f.departmentCode);
    args.push(f.limit ?? 1000);
    return this.db
      .prepare(
        `SELECT id, kind, entity_id AS entityId, department_code AS departmentCode, message, at FROM alerts ${sqlWhere(where)} ORDER BY id DESC LIMIT ?`,
      )
      .all(...args) as Alert[];
  }
}
