// Counts central's /metrics reads at scrape time: grouped, one query each, over indexed columns where the
// table can be large (alerts by state). Reads only.
import type { Db } from './db.js';

/** Nodes of one department by liveness; `city` is the city-level region above the department's region. */
export interface DepartmentNodeCount {
  city: string;
  department: string;
  status: string;
  n: number;
}

export class MetricsStore {
  constructor(private readonly db: Db) {}

  /** Open alerts (firing or acknowledged) by severity, kind and state. */
  openAlerts(): { severity: string; kind: string; state: string; n: number }[] {
    return this.db
      .prepare(
        `SELECT severity, kind, state, count(*) AS n FROM alerts WHERE state IN ('firing', 'acknowledged')
         GROUP BY severity, kind, state`,
      )
      .all() as { severity: string; kind: string; state: string; n: number }[];
  }

  /** Tasks not deleted, by kind and whether enabled. */
  tasks(): { kind: string; enabled: number; n: number }[] {
    return this.db
      .prepare('SELECT kind, enabled, count(*) AS n FROM tasks WHERE deleted_at IS NULL GROUP BY kind, enabled')
      .all() as { kind: string; enabled: number; n: number }[];
  }

  /** Pending applications, and those of them whose deadline is at or before `nowMs` (overdue). */
  applications(nowMs: number): { pending: number; overdue: number } {
    const r = this.db
      .prepare(
        `SELECT count(*) AS pending, coalesce(sum(deadline_at <= ?), 0) AS overdue FROM applications
         WHERE status = 'pending'`,
      )
      .get(nowMs) as { pending: number; overdue: number };
    return { pending: r.pending, overdue: r.overdue };
  }

  /**
   * Nodes by department and status, with the department's city: its region when that is a city or the
   * province, the region's parent when it is a county.
   */
  nodesByDepartment(): DepartmentNodeCount[] {
    return this.db
      .prepare(
        `SELECT CASE WHEN r.level = 'county' THEN coalesce(r.parent_code, r.code) ELSE r.code END AS city,
                d.code AS department, n.status AS status, count(*) AS n
         FROM nodes n JOIN departments d ON d.code = n.department_code JOIN regions r ON r.code = d.region_code
         GROUP BY city, department, status`,
      )
      .all() as DepartmentNodeCount[];
  }
}
