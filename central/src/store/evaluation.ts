// Aggregates for evaluation (考核) over a period [since, until): per department counts of the catalog,
// applications, data moved (from task runs) and objections; node liveness events for online rates.
import type { DepartmentCounts } from '../api/evaluation.js';
import type { Db } from './db.js';

export type { DepartmentCounts } from '../api/evaluation.js';

type Counter = Exclude<keyof DepartmentCounts, 'departmentCode'>;
const DAY_MS = 86_400_000;

export class EvaluationStore {
  constructor(private readonly db: Db) {}

  /** Counts per department (every department appears, with zeros when it did nothing). */
  departmentCounts(since: number, until: number, now: number): DepartmentCounts[] {
    const out = new Map<string, DepartmentCounts>();
    for (const { code } of this.db.prepare('SELECT code FROM departments ORDER BY code').all() as { code: string }[])
      out.set(code, {
        departmentCode: code,
        resourcesPublished: 0,
        resourcesTotal: 0,
        applicationsReceived: 0,
        applicationsAnswered: 0,
        applicationsAnsweredOnTime: 0,
        applicationsPending: 0,
        applicationsOverdue: 0,
        applicationsMade: 0,
        providedRecords: 0,
        providedBatches: 0,
        usedRecords: 0,
        usedBatches: 0,
        objectionsRaised: 0,
        objectionsRaisedResolved: 0,
        objectionsReceived: 0,
        objectionsResolved: 0,
      });
    const add = (sql: string, args: unknown[], cols: Partial<Record<string, Counter>>): void => {
      for (const row of this.db.prepare(sql).all(...args) as Record<string, unknown>[]) {
        const d = out.get(String(row['dept']));
        if (!d) continue;
        for (const [col, key] of Object.entries(cols)) d[key!] += Number(row[col] ?? 0);
      }
    };
    add(
      `SELECT provider_department_code AS dept, SUM(status = 'published') AS pub, COUNT(*) AS total FROM resources GROUP BY 1`,
      [],
      { pub: 'resourcesPublished', total: 'resourcesTotal' },
    );
    add(
      `SELECT provider_department_code AS dept, COUNT(*) AS received,
         SUM(answered_at IS NOT NULL) AS answered, SUM(answered_at IS NOT NULL AND answered_at < deadline_at) AS on_time,
         SUM(status = 'pending') AS pending, SUM(status = 'pending' AND deadline_at <= ?) AS overdue
       FROM applications WHERE submitted_at >= ? AND submitted_at < ? GROUP BY 1`,
      [now, since, until],
      {
        received: 'applicationsReceived',
        answered: 'applicationsAnswered',
        on_time: 'applicationsAnsweredOnTime',
        pending: 'applicationsPending',
        overdue: 'applicationsOverdue',
      },
    );
    add(
      `SELECT consumer_department_code AS dept, COUNT(*) AS made FROM applications WHERE submitted_at >= ? AND submitted_at < ? GROUP BY 1`,
      [since, until],
      {
        made: 'applicationsMade',
      },
    );
    // Data provided: runs of sync tasks on the department's nodes; data used: runs of its exchange tasks.
    const runs = this.runsByDepartment(since, until, now);
    add(runs.sql, runs.args, {
      p_rec: 'providedRecords',
      p_bat: 'providedBatches',
      u_rec: 'usedRecords',
      u_bat: 'usedBatches',
    });
    add(
      `SELECT consumer_department_code AS dept, COUNT(*) AS raised, SUM(status = 'answered') AS resolved
       FROM objections WHERE raised_at >= ? AND raised_at < ? GROUP BY 1`,
      [since, until],
      { raised: 'objectionsRaised', resolved: 'objectionsRaisedResolved' },
    );
    add(
      `SELECT provider_department_code AS dept, COUNT(*) AS received, SUM(status = 'answered') AS resolved
       FROM objections WHERE raised_at >= ? AND raised_at < ? GROUP BY 1`,
      [since, until],
      { received: 'objectionsReceived', resolved: 'objectionsResolved' },
    );
    return [...out.values()];
  }

  /**
   * The query of the runs' sums per department (p_rec, p_bat: sync tasks; u_rec, u_bat: exchange tasks): from
   * task_run_daily when the period is whole local days of its offset (its end may be now: no run finished later),
   * else from the runs, summed per task before the joins (one range of the covering index, migration 16).
   */
  private runsByDepartment(since: number, until: number, now: number): { sql: string; args: number[] } {
    const days = this.wholeDays(since, until, now);
    const kinds = (kind: string, rec: string, bat: string): string =>
      `SUM(CASE WHEN ${kind} = 'sync' THEN ${rec} ELSE 0 END) AS p_rec,
       SUM(CASE WHEN ${kind} = 'sync' THEN ${bat} ELSE 0 END) AS p_bat,
       SUM(CASE WHEN ${kind} = 'exchange' THEN ${rec} ELSE 0 END) AS u_rec,
       SUM(CASE WHEN ${kind} = 'exchange' THEN ${bat} ELSE 0 END) AS u_bat`;
    if (days)
      return {
        sql: `SELECT n.department_code AS dept, ${kinds('d.kind', 'd.records', 'd.batches')}
              FROM task_run_daily d JOIN nodes n ON n.id = d.node_id WHERE d.day_start >= ? AND d.day_start < ? GROUP BY 1`,
        args: [days.since, days.until],
      };
    return {
      sql: `SELECT n.department_code AS dept, ${kinds('t.kind', 'r.records', 'r.batches')}
            FROM (SELECT task_id, node_id, sum(records) AS records, sum(batches) AS batches FROM task_runs
                  WHERE finished_at >= ? AND finished_at < ? GROUP BY task_id, node_id) r
            JOIN tasks t ON t.id = r.task_id JOIN nodes n ON n.id = r.node_id GROUP BY 1`,
      args: [since, until],
    };
  }

  /**
   * The days of task_run_daily covering [since, until): when its offset is set, `since` is a local midnight and
   * `until` one too, or in the local day of `now` (a period up to now, `until` read from the clock a moment before
   * `now`): then that day is taken whole, as far as it has gone (runs that finished between the two readings, or
   * stamped later by a skewed agent clock, count too). Else undefined.
   */
  private wholeDays(since: number, until: number, now: number): { since: number; until: number } | undefined {
    const o = (this.db.prepare('SELECT offset_ms AS o FROM traffic_day_offset').get() as { o: number | null }).o;
    if (o === null || (since + o) % DAY_MS !== 0) return undefined;
    if ((until + o) % DAY_MS === 0) return { since, until };
    const day = (t: number): number => Math.floor((t + o) / DAY_MS) * DAY_MS - o;
    return until <= now && day(until) === day(now) ? { since, until: day(now) + DAY_MS } : undefined;
  }

  /** Liveness events of every node up to `until`, in time order, grouped by node. */
  nodeEvents(until: number): Map<string, { at: number; kind: string }[]> {
    const out = new Map<string, { at: number; kind: string }[]>();
    for (const e of this.db
      .prepare('SELECT node_id, at, kind FROM node_events WHERE at < ? ORDER BY node_id, at, id')
      .iterate(until) as IterableIterator<{ node_id: string; at: number; kind: string }>) {
      let list = out.get(e.node_id);
      if (!list) out.set(e.node_id, (list = []));
      list.push({ at: e.at, kind: e.kind });
    }
    return out;
  }
}
