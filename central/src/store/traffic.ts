// Traffic history (流量历史): buckets per node pair and resource at the base resolution, their hourly rollup,
// and the ids of traffic reports already counted. Sums and the approximated percentiles of a rollup are
// computed here in SQL (ROLLUP_COLUMNS); domain/traffic.ts says why p50 is a weighted mean and p99 a max.
import type { TrafficCounts, TrafficPair } from '../domain/traffic.js';
import type { Db } from './db.js';

export type TrafficOrigin = 'live' | 'import';

/** One stored bucket (or hour): its start, counts and where they came from. */
export interface TrafficRow extends TrafficCounts {
  startMs: number;
  origin: TrafficOrigin;
}

/** Which rows a read covers: a pair (resource undefined: every resource, summed per bucket) and a range. */
export interface TrafficRange {
  fromNode: string;
  toNode: string;
  resource?: string | undefined;
  sinceMs: number;
  untilMs: number;
}

type Table = 'traffic_buckets' | 'traffic_hourly';
const START: Record<Table, string> = { traffic_buckets: 'bucket_start', traffic_hourly: 'hour_start' };

// Several rows as one: sums, p50 weighted by batches over the rows that have one, p99 the largest.
const ROLLUP_COLUMNS = `sum(batches) AS batches, sum(records) AS records, sum(bytes) AS bytes,
  CAST(round(sum(latency_p50_ms * batches) * 1.0 /
    nullif(sum(CASE WHEN latency_p50_ms IS NOT NULL THEN batches END), 0)) AS INTEGER) AS p50,
  max(latency_p99_ms) AS p99, sum(errors) AS errors,
  CASE WHEN max(origin = 'live') THEN 'live' ELSE 'import' END AS origin`;

interface Row {
  start: number;
  batches: number;
  records: number;
  bytes: number | null;
  p50: number | null;
  p99: number | null;
  errors: number;
  origin: TrafficOrigin;
}

const toRow = (r: Row): TrafficRow => ({
  startMs: r.start,
  batches: r.batches,
  records: r.records,
  bytes: r.bytes,
  latencyP50Ms: r.p50,
  latencyP99Ms: r.p99,
  errors: r.errors,
  origin: r.origin,
});

export class TrafficStore {
  constructor(private readonly db: Db) {}

  /** Records a traffic report id; true when it was not counted before. */
  markReport(reportId: string, receivedAt: number): boolean {
    return (
      this.db
        .prepare('INSERT INTO traffic_reports (report_id, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING')
        .run(reportId, receivedAt).changes === 1
    );
  }

  /** One bucket (table traffic_buckets) or hour (traffic_hourly) of a pair and resource. */
  get(table: Table, pair: TrafficPair, startMs: number): TrafficRow | undefined {
    const r = this.db
      .prepare(
        `SELECT ${START[table]} AS start, batches, records, bytes, latency_p50_ms AS p50, latency_p99_ms AS p99, errors,
           origin FROM ${table} WHERE from_node = ? AND to_node = ? AND resource = ? AND ${START[table]} = ?`,
      )
      .get(pair.fromNode, pair.toNode, pair.resource, startMs) as Row | undefined;
    return r && toRow(r);
  }

  /** Writes rows of a pair and resource; `replace` false keeps a row already there (its origin is kept). */
  put(table: Table, pair: TrafficPair, rows: readonly TrafficRow[], replace = true): number {
    const st = this.db.prepare(
      `INSERT INTO ${table} (from_node, to_node, resource, ${START[table]}, batches, records, bytes, latency_p50_ms,
         latency_p99_ms, errors, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO ${
         replace
           ? `UPDATE SET batches = excluded.batches, records = excluded.records, bytes = excluded.bytes,
         latency_p50_ms = excluded.latency_p50_ms, latency_p99_ms = excluded.latency_p99_ms, errors = excluded.errors,
         origin = excluded.origin`
           : 'NOTHING'
       }`,
    );
    let written = 0;
    for (const r of rows)
      written += st.run(
        pair.fromNode,
        pair.toNode,
        pair.resource,
        r.startMs,
        r.batches,
        r.records,
        r.bytes,
        r.latencyP50Ms,
        r.latencyP99Ms,
        r.errors,
        r.origin,
      ).changes;
    return written;
  }

  /** Deletes the imported rows of a pair and resource in [sinceMs, untilMs); returns how many. */
  deleteImported(table: Table, pair: TrafficPair, sinceMs: number, untilMs: number): number {
    return this.db
      .prepare(
        `DELETE FROM ${table} WHERE from_node = ? AND to_node = ? AND resource = ? AND ${START[table]} >= ?
           AND ${START[table]} < ? AND origin = 'import'`,
      )
      .run(pair.fromNode, pair.toNode, pair.resource, sinceMs, untilMs).changes;
  }

  /** Makes the hours in [sinceMs, untilMs) (hour-aligned) the rollup of their buckets, for one pair and resource. */
  rollupHours(pair: TrafficPair, sinceMs: number, untilMs: number): void {
    const args = [pair.fromNode, pair.toNode, pair.resource, sinceMs, untilMs] as const;
    this.db
      .prepare(
        'DELETE FROM traffic_hourly WHERE from_node = ? AND to_node = ? AND resource = ? AND hour_start >= ? AND hour_start < ?',
      )
      .run(...args);
    this.db
      .prepare(
        `INSERT INTO traffic_hourly (from_node, to_node, resource, hour_start, batches, records, bytes, latency_p50_ms,
           latency_p99_ms, errors, origin)
         SELECT from_node, to_node, resource, (bucket_start / 3600000) * 3600000 AS h, ${ROLLUP_COLUMNS}
         FROM traffic_buckets WHERE from_node = ? AND to_node = ? AND resource = ? AND bucket_start >= ? AND bucket_start < ?
         GROUP BY h`,
      )
      .run(...args);
  }

  /**
   * Rows of a range grouped into steps of `stepMs` (aligned to the epoch; stepMs a multiple of the table's
   * resolution), resources summed, in time order; only steps with rows.
   */
  read(table: Table, range: TrafficRange, stepMs: number): TrafficRow[] {
    const col = START[table];
    const byResource = range.resource !== undefined ? 'AND resource = ?' : '';
    const args: (string | number)[] = [range.fromNode, range.toNode];
    if (range.resource !== undefined) args.push(range.resource);
    args.push(range.sinceMs, range.untilMs);
    return (
      this.db
        .prepare(
          `SELECT (${col} / ${stepMs}) * ${stepMs} AS start, ${ROLLUP_COLUMNS} FROM ${table}
           WHERE from_node = ? AND to_node = ? ${byResource} AND ${col} >= ? AND ${col} < ? GROUP BY start ORDER BY start`,
        )
        .all(...args) as Row[]
    ).map(toRow);
  }

  /**
   * Records per base bucket of each of `series` (exact resource) in [sinceMs, untilMs), in one statement (the
   * primary key's seek per series, inside SQLite): series key (JSON [fromNode, toNode, resource]) → bucket start →
   * records; every series asked for has an entry, empty when it has no rows. The surge watch's tick.
   */
  recordsOf(series: readonly TrafficPair[], sinceMs: number, untilMs: number): Map<string, Map<number, number>> {
    const out = new Map<string, Map<number, number>>();
    for (const p of series) out.set(JSON.stringify([p.fromNode, p.toNode, p.resource]), new Map());
    const keys = JSON.stringify([...out.keys()].map((k) => JSON.parse(k) as string[]));
    const rows = this.db
      .prepare(
        `SELECT b.from_node AS f, b.to_node AS t, b.resource AS r, b.bucket_start AS start, b.records AS records
         FROM json_each(?) AS k JOIN traffic_buckets b ON b.from_node = k.value ->> 0 AND b.to_node = k.value ->> 1
           AND b.resource = k.value ->> 2 AND b.bucket_start >= ? AND b.bucket_start < ?`,
      )
      .all(keys, sinceMs, untilMs) as { f: string; t: string; r: string; start: number; records: number }[];
    for (const r of rows) out.get(JSON.stringify([r.f, r.t, r.r]))?.set(r.start, r.records);
    return out;
  }

  /**
   * Hourly rows of every series with either end in `nodeIds` (undefined: every series) in [sinceMs, untilMs),
   * summed per hour, in time order; only hours with rows. The dashboard's totals and trends across pairs.
   */
  hourlyAcross(nodeIds: readonly string[] | undefined, sinceMs: number, untilMs: number): TrafficRow[] {
    const args: (string | number)[] = [sinceMs, untilMs];
    let scope = '';
    if (nodeIds) {
      const ids = JSON.stringify(nodeIds);
      scope = `AND (from_node IN (SELECT value FROM json_each(?)) OR to_node IN (SELECT value FROM json_each(?)))`;
      args.push(ids, ids);
    }
    return (
      this.db
        .prepare(
          `SELECT hour_start AS start, ${ROLLUP_COLUMNS} FROM traffic_hourly
           WHERE hour_start >= ? AND hour_start < ? ${scope} GROUP BY hour_start ORDER BY hour_start`,
        )
        .all(...args) as Row[]
    ).map(toRow);
  }

  /**
   * Daily rows (traffic_daily: the local days of the fixed offset `dailyOffset()`) of every series with either end
   * in `nodeIds` (undefined: every series) with day_start in [sinceMs, untilMs), summed per day, in time order;
   * only days with rows. Latencies are not kept per day (null); origin is 'live'. Same sums as hourlyAcross over
   * those days' hours. Empty when no offset is set.
   */
  dailyAcross(nodeIds: readonly string[] | undefined, sinceMs: number, untilMs: number): TrafficRow[] {
    const args: (string | number)[] = [sinceMs, untilMs];
    let scope = '';
    if (nodeIds) {
      const ids = JSON.stringify(nodeIds);
      scope = `AND (from_node IN (SELECT value FROM json_each(?)) OR to_node IN (SELECT value FROM json_each(?)))`;
      args.push(ids, ids);
    }
    const rows = this.db
      .prepare(
        `SELECT day_start AS start, sum(batches) AS batches, sum(records) AS records,
           CASE WHEN sum(bytes_hours) > 0 THEN sum(bytes) END AS bytes, sum(errors) AS errors
         FROM traffic_daily WHERE day_start >= ? AND day_start < ? ${scope} GROUP BY day_start ORDER BY day_start`,
      )
      .all(...args) as { start: number; batches: number; records: number; bytes: number | null; errors: number }[];
    return rows.map((r) => ({ ...r, startMs: r.start, latencyP50Ms: null, latencyP99Ms: null, origin: 'live' }));
  }

  /** The fixed offset (ms, local minus UTC) traffic_daily is cut by; null: traffic_daily is not kept. */
  dailyOffset(): number | null {
    return (this.db.prepare('SELECT offset_ms AS o FROM traffic_day_offset').get() as { o: number | null }).o;
  }

  /**
   * Makes traffic_daily and task_run_daily follow local days of `offsetMs` (null: not kept). When the offset differs
   * from the stored one, they are rebuilt from traffic_hourly and task_runs (emptied for null); returns whether they
   * were. Run inside a
   * transaction by the caller. The rows go in in key order (sorted first): inserted in the hours' order, a year of
   * 3,000 series took 213 s on the shared bench machine, sorted 41 s (6 M hours, 850,000 days).
   */
  alignDaily(offsetMs: number | null): boolean {
    if (this.dailyOffset() === offsetMs) return false;
    this.db.prepare('UPDATE traffic_day_offset SET offset_ms = ?').run(offsetMs);
    this.db.prepare('DELETE FROM traffic_daily').run();
    if (offsetMs !== null)
      this.db
        .prepare(
          `INSERT INTO traffic_daily (day_start, from_node, to_node, resource, batches, records, bytes, bytes_hours,
             errors, hours)
           SELECT ((hour_start + o.offset_ms) / 86400000) * 86400000 - o.offset_ms AS d, from_node, to_node, resource,
             sum(batches), sum(records), coalesce(sum(bytes), 0), count(bytes), sum(errors), count(*)
           FROM traffic_hourly, traffic_day_offset o
           GROUP BY from_node, to_node, resource, d ORDER BY d, from_node, to_node, resource`,
        )
        .run(); // the offset from its INTEGER column: a bound JS number would be REAL, and the division not floored
    // The runs' daily rollup (migration 16) is cut by the same days.
    this.db.prepare('DELETE FROM task_run_daily').run();
    if (offsetMs !== null)
      this.db
        .prepare(
          `INSERT INTO task_run_daily (day_start, node_id, kind, records, batches, runs)
           SELECT ((r.finished_at + o.offset_ms) / 86400000) * 86400000 - o.offset_ms AS d, r.node_id, t.kind,
             sum(r.records), sum(r.batches), count(*)
           FROM task_runs r JOIN tasks t ON t.id = r.task_id, traffic_day_offset o
           GROUP BY d, r.node_id, t.kind ORDER BY d, r.node_id, t.kind`,
        )
        .run();
    return true;
  }

  /**
   * Up to `limit` series (pair and resource) of a table after `after`, in key order: a skip-scan over the
   * primary key (one index seek per series), never a scan of the rows.
   */
  series(table: Table, after: TrafficPair | undefined, limit: number): TrafficPair[] {
    const st = this.db.prepare(
      `SELECT from_node, to_node, resource FROM ${table}
       WHERE (from_node, to_node, resource) > (?, ?, ?) ORDER BY from_node, to_node, resource LIMIT 1`,
    );
    const out: TrafficPair[] = [];
    // Node ids are never empty, so ('', '', '') is before every series.
    let key = after ? [after.fromNode, after.toNode, after.resource] : ['', '', ''];
    while (out.length < limit) {
      const r = st.get(...key) as { from_node: string; to_node: string; resource: string } | undefined;
      if (!r) break;
      key = [r.from_node, r.to_node, r.resource];
      out.push({ fromNode: r.from_node, toNode: r.to_node, resource: r.resource });
    }
    return out;
  }

  /** Whether a series has a row of `table` in [sinceMs, untilMs) (one index seek). */
  hasRows(table: Table, pair: TrafficPair, sinceMs: number, untilMs: number): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM ${table} WHERE from_node = ? AND to_node = ? AND resource = ? AND ${START[table]} >= ?
             AND ${START[table]} < ? LIMIT 1`,
        )
        .get(pair.fromNode, pair.toNode, pair.resource, sinceMs, untilMs) !== undefined
    );
  }

  /** Deletes a series' rows of `table` before `beforeMs` (a range of its primary key); returns how many. */
  pruneSeries(table: Table, pair: TrafficPair, beforeMs: number): number {
    return this.db
      .prepare(`DELETE FROM ${table} WHERE from_node = ? AND to_node = ? AND resource = ? AND ${START[table]} < ?`)
      .run(pair.fromNode, pair.toNode, pair.resource, beforeMs).changes;
  }

  /** Deletes counted report ids received before `beforeMs` (indexed); returns how many. */
  pruneReportIds(beforeMs: number): number {
    return this.db.prepare('DELETE FROM traffic_reports WHERE received_at < ?').run(beforeMs).changes;
  }

  /** Rows in each table (for tests and the size measure). */
  counts(): { buckets: number; hours: number; ids: number } {
    const n = (t: string): number => (this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { buckets: n('traffic_buckets'), hours: n('traffic_hourly'), ids: n('traffic_reports') };
  }
}
