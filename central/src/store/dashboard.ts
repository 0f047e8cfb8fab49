// The dashboard pages' reads: department and resource volumes from the traffic history (one grouped query each
// over a range of traffic_daily's days when the range is whole local days, else of traffic_hourly's hours), node pair volumes, applications of a range, and one node's quarantine
// (counts per task, reasons, newest records) by its primary key prefix. Reads only.
import type { Db } from './db.js';

/** Sums of a group of hourly traffic rows. */
export interface VolumeRow {
  key: string;
  records: number;
  batches: number;
  /** null: no row of the group knows its bytes. */
  bytes: number | null;
}

/** Sums of the hours of one node pair. */
export interface PairVolume {
  fromNode: string;
  toNode: string;
  records: number;
  /** Records from the split on (pairVolumes' splitMs). */
  recordsSince: number;
}

/** What the approval statistics need of an application. */
export interface ApplicationTiming {
  providerDepartmentCode: string;
  status: string;
  submittedAt: number;
  deadlineAt: number;
  answeredAt: number | null;
}

/** One quarantined record without its values. */
export interface QuarantineRow {
  taskId: string;
  side: string;
  rowIndex: number;
  field: string;
  reason: string;
  createdAt: number;
  resentAt: number | null;
}

const json = (v: readonly string[]): string => JSON.stringify(v);
const DAY_MS = 86_400_000;

export class DashboardStore {
  constructor(private readonly db: Db) {}

  /**
   * Where sums over [sinceMs, untilMs) come from: traffic_daily (one row a series a day, migration 15) when both
   * ends are local midnights of its offset, else traffic_hourly; rows aliased h.
   */
  private source(sinceMs: number, untilMs: number): { table: string; start: string; bytes: string } {
    const o = (this.db.prepare('SELECT offset_ms AS o FROM traffic_day_offset').get() as { o: number | null }).o;
    return o !== null && (sinceMs + o) % DAY_MS === 0 && (untilMs + o) % DAY_MS === 0
      ? { table: 'traffic_daily', start: 'day_start', bytes: 'CASE WHEN sum(h.bytes_hours) > 0 THEN sum(h.bytes) END' }
      : { table: 'traffic_hourly', start: 'hour_start', bytes: 'sum(h.bytes)' };
  }

  /**
   * Records per department of the sending (`side` 'from') or receiving ('to') node over [sinceMs, untilMs),
   * most first; `departmentCodes` limits the departments (undefined: all).
   */
  departmentVolumes(
    side: 'from' | 'to',
    sinceMs: number,
    untilMs: number,
    departmentCodes: readonly string[] | undefined,
    limit: number,
  ): VolumeRow[] {
    const node = side === 'from' ? 'h.from_node' : 'h.to_node';
    const scope = departmentCodes ? 'AND n.department_code IN (SELECT value FROM json_each(?))' : '';
    const args: (string | number)[] = [sinceMs, untilMs, ...(departmentCodes ? [json(departmentCodes)] : []), limit];
    const t = this.source(sinceMs, untilMs);
    // Summed per node first, then per department: one node lookup a node, not a row (30 days of a province:
    // 79 -> 16 ms).
    const known = t.table === 'traffic_daily' ? 'sum(h.bytes_hours)' : 'count(h.bytes)';
    return this.db
      .prepare(
        `SELECT n.department_code AS key, sum(v.records) AS records, sum(v.batches) AS batches,
           CASE WHEN sum(v.known) > 0 THEN sum(v.bytes) END AS bytes
         FROM (SELECT ${node} AS node, sum(h.records) AS records, sum(h.batches) AS batches, sum(h.bytes) AS bytes,
                 ${known} AS known
               FROM ${t.table} h WHERE h.${t.start} >= ? AND h.${t.start} < ? GROUP BY ${node}) v
         JOIN nodes n ON n.id = v.node WHERE 1 ${scope}
         GROUP BY n.department_code ORDER BY records DESC, key LIMIT ?`,
      )
      .all(...args) as VolumeRow[];
  }

  /**
   * Records per resource sent over [sinceMs, untilMs) by `fromNodes` (undefined: every node), most first;
   * rows without a resource (pair history imported as a whole) are left out.
   */
  resourceVolumes(
    sinceMs: number,
    untilMs: number,
    fromNodes: readonly string[] | undefined,
    limit: number,
  ): VolumeRow[] {
    const scope = fromNodes ? 'AND from_node IN (SELECT value FROM json_each(?))' : '';
    const args: (string | number)[] = [sinceMs, untilMs, ...(fromNodes ? [json(fromNodes)] : []), limit];
    const t = this.source(sinceMs, untilMs);
    return this.db
      .prepare(
        `SELECT resource AS key, sum(records) AS records, sum(batches) AS batches, ${t.bytes} AS bytes
         FROM ${t.table} h WHERE ${t.start} >= ? AND ${t.start} < ? AND resource <> '' ${scope}
         GROUP BY resource ORDER BY records DESC, key LIMIT ?`,
      )
      .all(...args) as VolumeRow[];
  }

  /**
   * Records per node pair over [sinceMs, untilMs) and, in the same scan, over [splitMs, untilMs) (recordsSince;
   * splitMs within the range and, for traffic_daily, a local midnight like sinceMs), resources summed; pairs
   * without rows are absent.
   */
  pairVolumes(sinceMs: number, splitMs: number, untilMs: number): PairVolume[] {
    const t = this.source(sinceMs, untilMs);
    return this.db
      .prepare(
        `SELECT from_node AS fromNode, to_node AS toNode, sum(records) AS records,
           coalesce(sum(CASE WHEN ${t.start} >= ? THEN records END), 0) AS recordsSince
         FROM ${t.table} h WHERE ${t.start} >= ? AND ${t.start} < ? GROUP BY from_node, to_node`,
      )
      .all(splitMs, sinceMs, untilMs) as PairVolume[];
  }

  /** Applications submitted in [sinceMs, untilMs) to `providers` (undefined: all), at most `limit`. */
  applications(
    sinceMs: number,
    untilMs: number,
    providers: readonly string[] | undefined,
    limit = 200_000,
  ): ApplicationTiming[] {
    const scope = providers ? 'AND provider_department_code IN (SELECT value FROM json_each(?))' : '';
    const args: (string | number)[] = [sinceMs, untilMs, ...(providers ? [json(providers)] : []), limit];
    return this.db
      .prepare(
        `SELECT provider_department_code AS providerDepartmentCode, status, submitted_at AS submittedAt,
           deadline_at AS deadlineAt, answered_at AS answeredAt
         FROM applications WHERE submitted_at >= ? AND submitted_at < ? ${scope} LIMIT ?`,
      )
      .all(...args) as ApplicationTiming[];
  }

  /** Quarantined records of a node per task: all and not yet resent. */
  quarantineByTask(nodeId: string): { taskId: string; total: number; open: number }[] {
    return this.db
      .prepare(
        `SELECT task_id AS taskId, count(*) AS total, coalesce(sum(resent_at IS NULL), 0) AS open
         FROM quarantine_records WHERE node_id = ? GROUP BY task_id`,
      )
      .all(nodeId) as { taskId: string; total: number; open: number }[];
  }

  /** The most frequent reasons of a node's quarantined records (verbatim: the caller takes values out). */
  quarantineReasons(nodeId: string, limit: number): { reason: string; count: number }[] {
    return this.db
      .prepare(
        `SELECT reason, count(*) AS count FROM quarantine_records WHERE node_id = ?
         GROUP BY reason ORDER BY count DESC, reason LIMIT ?`,
      )
      .all(nodeId, limit) as { reason: string; count: number }[];
  }

  /** A node's newest quarantined records (by their spool id, which grows), without their values. */
  recentQuarantine(nodeId: string, limit: number): QuarantineRow[] {
    return this.db
      .prepare(
        `SELECT task_id AS taskId, side, row_index AS rowIndex, field, reason, created_at AS createdAt,
           resent_at AS resentAt
         FROM quarantine_records WHERE node_id = ? ORDER BY agent_id DESC LIMIT ?`,
      )
      .all(nodeId, limit) as QuarantineRow[];
  }
}
