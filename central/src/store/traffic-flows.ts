// Traffic per node pair over a range, for the dashboard's topology: the daily and hourly rollups (traffic_daily
// and traffic_hourly, kept current in the transaction that writes their buckets) summed per pair in one
// statement, resources summed.
import type { Db } from './db.js';

/** What flowed from one node to another over a range, resources summed. */
export interface PairTotals {
  fromNode: string;
  toNode: string;
  batches: number;
  records: number;
  /** null: no row of the pair knows its bytes (history imported without them). */
  bytes: number | null;
  errors: number;
}

/** Where a node's traffic is drawn: its department, the department's region and the node's home center. */
export interface NodeEnd {
  id: string;
  departmentCode: string;
  regionCode: string;
  homeCenter: string | null;
}

interface Row {
  from_node: string;
  to_node: string;
  batches: number;
  records: number;
  bytes: number | null;
  errors: number;
}

export class TrafficFlowStore {
  constructor(private readonly db: Db) {}

  /** Every node's department, region and home center (four columns: not the whole node record with its health). */
  nodeEnds(): NodeEnd[] {
    return this.db
      .prepare(
        `SELECT n.id, n.department_code AS departmentCode, d.region_code AS regionCode, n.home_center AS homeCenter
         FROM nodes n JOIN departments d ON d.code = n.department_code`,
      )
      .all() as NodeEnd[];
  }

  /**
   * Sums over [sinceMs, untilMs) (hour-aligned) per node pair; `nodeIds`: only pairs with an end among them
   * (undefined: every pair). Pairs without a row in the range are absent. The whole local days inside the range
   * are read from traffic_daily (kept when central's zone has a fixed offset: migration 15), the hours before
   * the first and after the last from traffic_hourly; without daily rows, every hour from traffic_hourly.
   *
   * The hours are read in key order: the series with a row in a range come from the hour index alone (it holds
   * the key's columns: no row lookups), then each series' hours are one range of the primary key. A plain GROUP
   * BY over the hour index looked every row up at random: 7 days of 3,000 series took ~1 s, this ~0.3 s, and
   * with the days from traffic_daily less (2,000-node bench store, loaded machine).
   */
  pairTotals(nodeIds: readonly string[] | undefined, sinceMs: number, untilMs: number): PairTotals[] {
    const ids = nodeIds && JSON.stringify(nodeIds);
    const scope = ids
      ? 'AND (from_node IN (SELECT value FROM json_each(:ids)) OR to_node IN (SELECT value FROM json_each(:ids)))'
      : '';
    const days = this.wholeDays(sinceMs, untilMs);
    const ranges: [number, number][] = days
      ? [
          [sinceMs, days[0]],
          [days[1], untilMs],
        ]
      : [[sinceMs, untilMs]];
    const hours = ranges.filter(([a, b]) => a < b);
    const parts = hours.map((_, i) => `SELECT * FROM (${hourlyPart(`:s${i}`, `:e${i}`, scope)})`);
    const params: Record<string, number | string> = { ...(ids && { ids }) };
    hours.forEach(([a, b], i) => Object.assign(params, { [`s${i}`]: a, [`e${i}`]: b }));
    if (days) {
      parts.push(
        `SELECT from_node, to_node, sum(batches) AS batches, sum(records) AS records,
           CASE WHEN sum(bytes_hours) > 0 THEN sum(bytes) END AS bytes, sum(errors) AS errors
         FROM traffic_daily WHERE day_start >= :d0 AND day_start < :d1 ${scope} GROUP BY from_node, to_node`,
      );
      Object.assign(params, { d0: days[0], d1: days[1] });
    }
    if (parts.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT from_node, to_node, sum(batches) AS batches, sum(records) AS records, sum(bytes) AS bytes,
           sum(errors) AS errors
         FROM (${parts.join(' UNION ALL ')}) GROUP BY from_node, to_node`,
      )
      .all(params) as Row[];
    return rows.map((r) => ({
      fromNode: r.from_node,
      toNode: r.to_node,
      batches: r.batches,
      records: r.records,
      bytes: r.bytes,
      errors: r.errors,
    }));
  }

  /** The whole local days [first, end) inside [sinceMs, untilMs) when traffic_daily is kept; else undefined. */
  private wholeDays(sinceMs: number, untilMs: number): [number, number] | undefined {
    const o = (
      this.db.prepare('SELECT offset_ms AS o FROM traffic_day_offset').get() as { o: number | null } | undefined
    )?.o;
    if (o === null || o === undefined) return undefined;
    const dayStart = (t: number): number => Math.floor((t + o) / DAY_MS) * DAY_MS - o;
    const first = dayStart(sinceMs) === sinceMs ? sinceMs : dayStart(sinceMs) + DAY_MS;
    const end = dayStart(untilMs);
    return first < end ? [first, end] : undefined;
  }
}

const DAY_MS = 86_400_000;

/** Per pair, the sums of the hours in [s, e) (named parameters), series first from the hour index. */
function hourlyPart(s: string, e: string, scope: string): string {
  return `WITH s AS (
      SELECT DISTINCT from_node, to_node, resource FROM traffic_hourly
      WHERE hour_start >= ${s} AND hour_start < ${e} ${scope})
    SELECT s.from_node, s.to_node, sum(h.batches) AS batches, sum(h.records) AS records, sum(h.bytes) AS bytes,
      sum(h.errors) AS errors
    FROM s CROSS JOIN traffic_hourly h
      ON h.from_node = s.from_node AND h.to_node = s.to_node AND h.resource = s.resource
        AND h.hour_start >= ${s} AND h.hour_start < ${e}
    GROUP BY s.from_node, s.to_node`;
}
