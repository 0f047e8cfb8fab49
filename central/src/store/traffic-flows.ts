// Traffic per node pair over a range, for the dashboard's topology: the hourly rollup (traffic_hourly, kept
// current in the transaction that writes its buckets) summed per pair in one query, resources summed.
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

  /**
   * Sums of the hours in [sinceMs, untilMs) (hour-aligned) per node pair; `nodeIds`: only pairs with an end
   * among them (undefined: every pair). Pairs without a row in the range are absent.
   */
  pairTotals(nodeIds: readonly string[] | undefined, sinceMs: number, untilMs: number): PairTotals[] {
    const args: (string | number)[] = [sinceMs, untilMs];
    let scope = '';
    if (nodeIds) {
      const ids = JSON.stringify(nodeIds);
      scope = `AND (from_node IN (SELECT value FROM json_each(?)) OR to_node IN (SELECT value FROM json_each(?)))`;
      args.push(ids, ids);
    }
    const rows = this.db
      .prepare(
        `SELECT from_node, to_node, sum(batches) AS batches, sum(records) AS records, sum(bytes) AS bytes,
           sum(errors) AS errors
         FROM traffic_hourly WHERE hour_start >= ? AND hour_start < ? ${scope}
         GROUP BY from_node, to_node`,
      )
      .all(...args) as Row[];
    return rows.map((r) => ({
      fromNode: r.from_node,
      toNode: r.to_node,
      batches: r.batches,
      records: r.records,
      bytes: r.bytes,
      errors: r.errors,
    }));
  }
}
