// The dashboard bench (scripts/bench-dashboard*.ts) at a small size: the generated store is consistent (counts
// per table, every pair's nodes exist, the hours of live pairs are the rollup of their buckets, the daily rollup
// equals the hours), a real central over it shows a city admin only that city, and the phase's JSON has its
// fields. No timing is asserted (speed is `npm run bench -- --only dashboard`).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { generateProvince, type ProvinceSize } from '../../scripts/bench-dashboard-gen.js';
import { COUNTIES_PER_CITY } from '../../scripts/bench-dashboard-places.js';
import { dashboardPhase, jobRuns, loopDelayMaxMs, percentile } from '../../scripts/bench-dashboard.js';
import { tmpDir } from '../helpers/tmp.js';
import { EvaluationStore } from '../../central/src/store/evaluation.js';

const SMALL: ProvinceSize = {
  cities: 3,
  departments: 30,
  nodes: 90,
  pairs: 120,
  historyDays: 21,
  liveShare: 0.3,
  baseDays: 5,
};
const DAY_MS = 86_400_000;

const one = (db: Database.Database, sql: string, ...args: unknown[]): number =>
  (db.prepare(sql).get(...args) as { n: number }).n;

describe('bench dashboard', () => {
  it('bench dashboard - the generated province is consistent: counts, pairs of existing nodes, rollups', () => {
    const file = join(tmpDir('xchg-bench-dash-'), 'central.db');
    const now = Date.parse('2026-11-30T10:17:00Z');
    const g = generateProvince(file, SMALL, now);
    expect(g.rows).toMatchObject({
      regions: 1 + SMALL.cities * (1 + COUNTIES_PER_CITY),
      departments: SMALL.departments,
      nodes: SMALL.nodes,
      subscriptions: SMALL.pairs,
      tasks: 2 * SMALL.pairs,
      task_runs: 2 * SMALL.pairs * 120, // every 6 h over 30 days
      users: 2,
      centers: 1 + SMALL.cities,
    });
    expect(g.rows['traffic_hourly']).toBeGreaterThan(SMALL.pairs * SMALL.historyDays);
    expect(g.rows['traffic_buckets']).toBeGreaterThan(0);
    const db = new Database(file, { readonly: true });
    try {
      // Every pair, task, resource's and alert's node exists; every department has a node.
      expect(
        one(db, 'SELECT count(*) AS n FROM subscriptions WHERE provider_node_id NOT IN (SELECT id FROM nodes)'),
      ).toBe(0);
      expect(
        one(db, 'SELECT count(*) AS n FROM subscriptions WHERE consumer_node_id NOT IN (SELECT id FROM nodes)'),
      ).toBe(0);
      for (const t of ['traffic_hourly', 'traffic_buckets'])
        expect(
          one(
            db,
            `SELECT count(*) AS n FROM ${t} WHERE from_node NOT IN (SELECT id FROM nodes) OR to_node NOT IN (SELECT id FROM nodes)`,
          ),
        ).toBe(0);
      expect(one(db, 'SELECT count(*) AS n FROM tasks WHERE node_id NOT IN (SELECT id FROM nodes)')).toBe(0);
      expect(
        one(db, 'SELECT count(*) AS n FROM departments WHERE code NOT IN (SELECT department_code FROM nodes)'),
      ).toBe(0);
      // Every series is a subscription's flow.
      expect(
        one(
          db,
          `SELECT count(*) AS n FROM (SELECT DISTINCT from_node, to_node, resource FROM traffic_hourly) h
           WHERE NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.provider_node_id = h.from_node
             AND s.consumer_node_id = h.to_node AND s.resource_code = h.resource)`,
        ),
      ).toBe(0);
      // Some nodes offline, some applications overdue and alerted, some alerts open.
      expect(one(db, "SELECT count(*) AS n FROM nodes WHERE status = 'offline'")).toBeGreaterThan(0);
      const overdue = one(
        db,
        "SELECT count(*) AS n FROM applications WHERE status = 'pending' AND deadline_at <= ?",
        now,
      );
      expect(overdue).toBeGreaterThan(0);
      expect(
        one(db, "SELECT count(*) AS n FROM alerts WHERE kind = 'application_overdue' AND state <> 'resolved'"),
      ).toBe(overdue);
      // The hours of the live pairs since their buckets begin are the sums of those buckets.
      const mismatched = `SELECT count(*) AS n FROM (SELECT from_node, to_node, resource, (bucket_start / 3600000) * 3600000 AS h,
          sum(records) AS r FROM traffic_buckets GROUP BY 1, 2, 3, 4) b
        LEFT JOIN traffic_hourly t ON t.from_node = b.from_node AND t.to_node = b.to_node AND t.resource = b.resource
          AND t.hour_start = b.h WHERE t.records IS NOT b.r`;
      expect(one(db, mismatched)).toBe(0);
      // The daily rollup (Asia/Shanghai days) equals the hours of each series and day.
      const days = `SELECT count(*) AS n FROM (SELECT from_node, to_node, resource,
          ((hour_start + 28800000) / ${DAY_MS}) * ${DAY_MS} - 28800000 AS d, sum(records) AS r, count(*) AS c
          FROM traffic_hourly GROUP BY 1, 2, 3, 4) h
        FULL JOIN traffic_daily t ON t.from_node = h.from_node AND t.to_node = h.to_node AND t.resource = h.resource
          AND t.day_start = h.d WHERE t.records IS NOT h.r OR t.hours IS NOT h.c`;
      expect(one(db, days)).toBe(0);
      expect(g.rows['traffic_daily']).toBeGreaterThan(0);
      // Evaluation's runs per department: from task_run_daily over whole local days (the end now) as from the runs
      // (a start 1 ms earlier is not a local midnight: the runs path; no run finished in that ms).
      const midnight = Math.floor((now + 8 * 3_600_000) / DAY_MS) * DAY_MS - 8 * 3_600_000 - 20 * DAY_MS;
      expect(one(db, 'SELECT count(*) AS n FROM task_runs WHERE finished_at = ?', midnight - 1)).toBe(0);
      const evaluation = new EvaluationStore(db);
      const fromDays = evaluation.departmentCounts(midnight, now, now);
      expect(evaluation.departmentCounts(midnight - 1, now, now)).toEqual(fromDays);
      expect(fromDays.reduce((n, d) => n + d.providedRecords, 0)).toBeGreaterThan(0);
      expect(one(db, 'SELECT count(*) AS n FROM task_run_daily')).toBeGreaterThan(0);
      // The city admin's city: its nodes are those of departments in the city or its counties.
      expect(g.cityNodeIds.length).toBeGreaterThan(0);
      expect(g.cityNodeIds.length).toBeLessThan(SMALL.nodes);
      expect(g.cityNodeIds).toContain(g.cityPair.from);
      expect(g.cityNodeIds).toContain(g.cityPair.to);
    } finally {
      db.close();
    }
  });

  it('bench dashboard - the phase over a real central: a city admin sees only its city; the JSON has the figures', async () => {
    const dir = tmpDir('xchg-bench-dash-phase-');
    let seen: { nodes: string[]; summaryNodes: number; cityNodes: number; provinceNodes: number } | undefined;
    const out = await dashboardPhase({
      dir,
      quick: true,
      rounds: 2,
      size: SMALL,
      say: () => undefined,
      inspect: async (base, g) => {
        const get = async <T>(path: string, token: string): Promise<T> => {
          const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
          expect(res.status, path).toBe(200);
          return (await res.json()) as T;
        };
        const nodes = await get<{ id: string }[]>('/api/v1/nodes', g.cityAdminToken);
        const summary = await get<{ nodes: { total: number } }>('/api/v1/dashboard/summary', g.cityAdminToken);
        const all = await get<{ nodes: { total: number } }>('/api/v1/dashboard/summary', g.provinceAdminToken);
        seen = {
          nodes: nodes.map((n) => n.id),
          summaryNodes: summary.nodes.total,
          cityNodes: g.cityNodeIds.length,
          provinceNodes: all.nodes.total,
        };
        expect(seen.nodes.filter((id) => !g.cityNodeIds.includes(id))).toEqual([]);
      },
    });
    expect(seen).toBeDefined();
    expect(new Set(seen!.nodes).size).toBe(seen!.nodes.length);
    expect(seen!.nodes.length).toBe(seen!.cityNodes);
    expect(seen!.summaryNodes).toBe(seen!.cityNodes);
    expect(seen!.provinceNodes).toBe(SMALL.nodes);
    expect(out['dashboard_limit_ms']).toBe(300);
    expect(typeof out['dashboard_p95_ms']).toBe('number');
    expect(out['dashboard_p95_ms']).toBeGreaterThan(0);
    const per = out['dashboard_endpoint_p95_ms'] as Record<string, Record<string, number>>;
    for (const name of [
      '/api/v1/dashboard/summary',
      '/api/v1/dashboard/trend?range=30d',
      '/api/v1/nodes',
      '/api/v1/alerts',
    ])
      expect(Object.keys(per[name] ?? {}).sort(), name).toEqual(['city', 'province']);
    expect(Object.keys(per).some((n) => n.startsWith('/api/v1/traffic?'))).toBe(true);
    // The worst endpoint's p95 is the figure.
    const all = Object.values(per).flatMap((by) => Object.values(by));
    expect(out['dashboard_p95_ms']).toBe(Math.max(...all));
    expect(out['dashboard_rows']).toMatchObject({ nodes: SMALL.nodes, subscriptions: SMALL.pairs });
    expect(out['dashboard_db_mb']).toBeGreaterThan(0);
    expect(out['dashboard_skipped']).toEqual([]);
    expect(out['dashboard_rounds']).toBe(2); // quick: no minimum duration
    const jobs = out['dashboard_central_jobs'] as Record<string, { runs: number }>;
    expect(jobs['alert-rules']?.runs).toBeGreaterThan(0); // run at start
    // Central's loop delay while its start-up jobs ran, and over the whole phase (which includes that time).
    expect(typeof out['dashboard_job_loop_block_ms']).toBe('number');
    expect(out['dashboard_loop_block_max_ms']).toBeGreaterThanOrEqual(out['dashboard_job_loop_block_ms'] as number);
  }, 300_000);

  it('bench dashboard - the loop delay figure is read from central metrics in ms, absent from an older central', () => {
    const text = ['xchg_job_runs_total{job="a",outcome="ok"} 1', 'xchg_central_event_loop_delay_max_seconds 0.0834'];
    expect(loopDelayMaxMs(text.join('\n'))).toBe(83.4);
    expect(loopDelayMaxMs(text[0]!)).toBeUndefined();
  });

  it('bench dashboard - job runs from central metrics: runs, mean, runs over 0.25 s', () => {
    const text = [
      'xchg_job_duration_seconds_bucket{le="0.1",job="alert-rules"} 7',
      'xchg_job_duration_seconds_bucket{le="0.25",job="alert-rules"} 8',
      'xchg_job_duration_seconds_bucket{le="0.5",job="alert-rules"} 10',
      'xchg_job_duration_seconds_sum{job="alert-rules"} 2.5',
      'xchg_job_duration_seconds_count{job="alert-rules"} 10',
      'xchg_http_request_duration_seconds_count{route="/x"} 3',
    ].join('\n');
    expect(jobRuns(text)).toEqual({ 'alert-rules': { runs: 10, mean_ms: 250, over_250ms: 2 } });
  });

  it('bench dashboard - p95 is the nearest rank', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(xs, 95)).toBe(19);
    expect(percentile([5], 95)).toBe(5);
  });
});
