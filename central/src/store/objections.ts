// Objections (疑义/纠错): a consumer's report that data it received is wrong, and the provider's answer.
import type { Objection, ObjectionResult } from '../api/objections.js';
import type { Db } from './db.js';
import { and, sqlWhere } from './sql.js';

export type { Objection, ObjectionResult } from '../api/objections.js';

export class ObjectionStore {
  constructor(private readonly db: Db) {}

  get(id: string): Objection | undefined {
    const r = this.db.prepare('SELECT * FROM objections WHERE id = ?').get(id) as ObjectionRow | undefined;
    return r && toObjection(r);
  }

  list(
    f: {
      resourceCode?: string;
      departmentCode?: string;
      departmentCodes?: readonly string[];
      status?: 'open' | 'answered';
    } = {},
  ): Objection[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.resourceCode) and(where, args, 'resource_code = ?', f.resourceCode);
    if (f.departmentCode)
      and(
        where,
        args,
        '(provider_department_code = ? OR consumer_department_code = ?)',
        f.departmentCode,
        f.departmentCode,
      );
    if (f.status) and(where, args, 'status = ?', f.status);
    const rows = this.db
      .prepare(`SELECT * FROM objections ${sqlWhere(where)} ORDER BY raised_at, rowid`)
      .all(...args) as ObjectionRow[];
    const scope = f.departmentCodes && new Set(f.departmentCodes);
    return rows
      .map(toObjection)
      .filter((o) => !scope || scope.has(o.providerDepartmentCode) || scope.has(o.consumerDepartmentCode));
  }

  insert(o: Objection): void {
    this.db
      .prepare(
        `INSERT INTO objections (id, resource_code, provider_department_code, consumer_department_code, record_key, note, raised_by, raised_at, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')`,
      )
      .run(
        o.id,
        o.resourceCode,
        o.providerDepartmentCode,
        o.consumerDepartmentCode,
        o.recordKey,
        o.note,
        o.raisedBy,
        o.raisedAt,
      );
  }

  /** Records the provider's answer to an open objection; false when it was answered meanwhile. */
  answer(id: string, a: { result: ObjectionResult; note: string; by: string; at: number }): boolean {
    return (
      this.db
        .prepare(
          "UPDATE objections SET status = 'answered', result = ?, answer_note = ?, answered_by = ?, answered_at = ? WHERE id = ? AND status = 'open'",
        )
        .run(a.result, a.note, a.by, a.at, id).changes === 1
    );
  }
}

interface ObjectionRow {
  id: string;
  resource_code: string;
  provider_department_code: string;
  consumer_department_code: string;
  record_key: string;
  note: string;
  raised_by: string;
  raised_at: number;
  status: 'open' | 'answered';
  result: ObjectionResult | null;
  answer_note: string;
  answered_by: string | null;
  answered_at: number | null;
}
const toObjection = (r: ObjectionRow): Objection => ({
  id: r.id,
  resourceCode: r.resource_code,
  providerDepartmentCode: r.provider_department_code,
  consumerDepartmentCode: r.consumer_department_code,
  recordKey: r.record_key,
  note: r.note,
  raisedBy: r.raised_by,
  raisedAt: r.raised_at,
  status: r.status,
  result: r.result,
  answerNote: r.answer_note,
  answeredBy: r.answered_by,
  answeredAt: r.answered_at,
});
