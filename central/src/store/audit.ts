// The audit log table: append (with its chain head, in the caller's transaction), filtered listing, and
// a raw walk in seq order for verification. Rows are never updated or deleted (triggers refuse it).
import type { AuditEntry } from '../domain/audit.js';
import type { Db } from './db.js';
import { and, sqlWhere } from './sql.js';

export interface AuditFilter {
  /** Entries where this department is either party. */
  departmentCode?: string;
  /** Entries where one party is in this set (a city admin's scope). */
  departmentCodes?: readonly string[];
  resourceCode?: string;
  action?: string;
  entityId?: string;
  since?: number;
  until?: number;
  afterSeq?: number;
  limit?: number;
}

export class AuditStore {
  constructor(private readonly db: Db) {}

  head(): { seq: number; hash: string } {
    return this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string };
  }

  /** Appends one sealed entry and moves the head; must run inside the transaction of the change it records. */
  append(e: AuditEntry): void {
    this.db
      .prepare(
        `INSERT INTO audit_log (seq, at, actor, action, entity_type, entity_id, department_code, peer_department_code, resource_code,
           details_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        e.seq,
        e.at,
        e.actor,
        e.action,
        e.entityType,
        e.entityId,
        e.departmentCode,
        e.peerDepartmentCode,
        e.resourceCode,
        JSON.stringify(e.details),
        e.prevHash,
        e.hash,
      );
    this.db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(e.seq, e.hash);
  }

  list(f: AuditFilter = {}): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.departmentCode)
      and(where, args, '(department_code = ? OR peer_department_code = ?)', f.departmentCode, f.departmentCode);
    if (f.departmentCodes?.length === 0) where.push('0');
    else if (f.departmentCodes) {
      const marks = f.departmentCodes.map(() => '?').join(', ');
      where.push(`(department_code IN (${marks}) OR peer_department_code IN (${marks}))`);
      args.push(...f.departmentCodes, ...f.departmentCodes);
    }
    if (f.resourceCode) and(where, args, 'resource_code = ?', f.resourceCode);
    if (f.action) and(where, args, '(action = ? OR action LIKE ?)', f.action, `${f.action}.%`);
    if (f.entityId) and(where, args, 'entity_id = ?', f.entityId);
    if (f.since !== undefined) and(where, args, 'at >= ?', f.since);
    if (f.until !== undefined) and(where, args, 'at < ?', f.until);
    if (f.afterSeq !== undefined) and(where, args, 'seq > ?', f.afterSeq);
    args.push(f.limit ?? 1000);
    const rows = this.db
      .prepare(`SELECT * FROM audit_log ${sqlWhere(where)} ORDER BY seq LIMIT ?`)
      .all(...args) as AuditRow[];
    return rows.map((r) => {
      const e = toEntry(r);
      return 'broken' in e ? { ...rowBase(r), details: { unparsable: r.details_json } } : e;
    });
  }

  /** Every entry in seq order, lazily; a row whose details are not JSON is yielded as broken. */
  *walk(): Generator<AuditEntry | { seq: number; broken: string }> {
    for (const r of this.db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<AuditRow>)
      yield toEntry(r);
  }
}

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  department_code: string;
  peer_department_code: string;
  resource_code: string;
  details_json: string;
  prev_hash: string;
  hash: string;
}
const rowBase = (r: AuditRow): Omit<AuditEntry, 'details'> => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  action: r.action,
  entityType: r.entity_type,
  entityId: r.entity_id,
  departmentCode: r.department_code,
  peerDepartmentCode: r.peer_department_code,
  resourceCode: r.resource_code,
  prevHash: r.prev_hash,
  hash: r.hash,
});
function toEntry(r: AuditRow): AuditEntry | { seq: number; broken: string } {
  let details: unknown;
  try {
    details = JSON.parse(r.details_json);
  } catch {
    return { seq: r.seq, broken: 'details are not valid JSON (the entry was changed after it was written)' };
  }
  if (typeof details !== 'object' || details === null || Array.isArray(details))
    return { seq: r.seq, broken: 'details are not a JSON object' };
  return { ...rowBase(r), details: details as Record<string, unknown> };
}
