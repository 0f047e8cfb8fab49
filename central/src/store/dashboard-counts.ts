// The dashboard summary's counts as SQL aggregates (a province of 2,000 nodes: counting in SQL, not by loading
// every node, resource, application and alert into JavaScript), and the ids a scope covers. Scope: a list of
// department codes (undefined: every department); the filters are those of the list reads they replace.
import type { Db } from './db.js';

/** Counts of the summary within departments (undefined: all). */
export interface SummaryCounts {
  departments: number;
  departmentsConnected: number;
  nodes: number;
  nodesOnline: number;
  resourcesPublished: number;
  applicationsPending: number;
  applicationsOverdue: number;
  alertsOpen: number;
  alertsCritical: number;
}

export class DashboardCountStore {
  constructor(private readonly db: Db) {}

  /**
   * The departments and nodes of a scope: departments in `regionCodes` (a region subtree) or the one department,
   * and their nodes, in code / id order.
   */
  scope(regionCodes: readonly string[] | undefined, departmentCode: string | undefined) {
    const where = departmentCode
      ? { sql: 'd.code = ?', arg: departmentCode }
      : { sql: 'd.region_code IN (SELECT value FROM json_each(?))', arg: JSON.stringify(regionCodes ?? []) };
    const departmentCodes = (
      this.db.prepare(`SELECT d.code FROM departments d WHERE ${where.sql} ORDER BY d.code`).all(where.arg) as {
        code: string;
      }[]
    ).map((r) => r.code);
    const nodeIds = (
      this.db
        .prepare(
          `SELECT n.id FROM nodes n JOIN departments d ON d.code = n.department_code WHERE ${where.sql} ORDER BY n.id`,
        )
        .all(where.arg) as { id: string }[]
    ).map((r) => r.id);
    return { departmentCodes, nodeIds };
  }

  /**
   * The summary's counts: departments and those with a node online, nodes and those online, published resources
   * of the departments (as provider), pending applications with either party in them and those with deadline_at
   * <= now, open (firing or acknowledged) alerts of the departments and the critical ones.
   */
  summary(departmentCodes: readonly string[] | undefined, now: number): SummaryCounts {
    const scoped = departmentCodes !== undefined;
    const ids = JSON.stringify(departmentCodes ?? []);
    const inScope = (col: string): string => (scoped ? `${col} IN (SELECT value FROM json_each(:ids))` : '1');
    const r = this.db
      .prepare(
        `SELECT
           (SELECT count(*) FROM departments d WHERE ${inScope('d.code')}) AS departments,
           (SELECT count(DISTINCT n.department_code) FROM nodes n
              WHERE n.status = 'online' AND ${inScope('n.department_code')}) AS departmentsConnected,
           (SELECT count(*) FROM nodes n WHERE ${inScope('n.department_code')}) AS nodes,
           (SELECT count(*) FROM nodes n WHERE n.status = 'online' AND ${inScope('n.department_code')}) AS nodesOnline,
           (SELECT count(*) FROM resources r WHERE r.status = 'published'
              AND ${inScope('r.provider_department_code')}) AS resourcesPublished,
           (SELECT count(*) FROM applications a WHERE a.status = 'pending'
              AND (${inScope('a.provider_department_code')} OR ${inScope('a.consumer_department_code')}))
              AS applicationsPending,
           (SELECT count(*) FROM applications a WHERE a.status = 'pending' AND a.deadline_at <= :now
              AND (${inScope('a.provider_department_code')} OR ${inScope('a.consumer_department_code')}))
              AS applicationsOverdue,
           (SELECT count(*) FROM alerts al WHERE al.state <> 'resolved' AND ${inScope('al.department_code')})
              AS alertsOpen,
           (SELECT count(*) FROM alerts al WHERE al.state <> 'resolved' AND al.severity = 'critical'
              AND ${inScope('al.department_code')}) AS alertsCritical`,
      )
      .get(scoped ? { ids, now } : { now }) as SummaryCounts;
    return r;
  }
}
