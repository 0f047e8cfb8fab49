// The dashboard bench's province (issue 12, Done means): a generated central.db of a province at scale, written
// straight into the store (bulk SQL, bench-only; the schema is the store's own, migrations included) so that it
// takes seconds, not the hours the HTTP API would. Deterministic per seed (ids and values), except the tokens.
import { rmSync } from 'node:fs';
import { openDatabase, type Db } from '../central/src/store/db.js';
import { TrafficStore } from '../central/src/store/traffic.js';
import { insertTraffic } from './bench-dashboard-traffic.js';
import { alertsAndRuns, catalogAndSubscriptions, users } from './bench-dashboard-flows.js';
import { cityCode, nodesAndCenters, prng, regionsAndDepartments } from './bench-dashboard-places.js';

/** How big a province to generate. */
export interface ProvinceSize {
  /** Cities under the province (each with COUNTIES_PER_CITY counties and its own exchange center). */
  cities: number;
  departments: number;
  nodes: number;
  /** Active subscriptions, each one traffic series (provider node → consumer node, resource). */
  pairs: number;
  /** Days of hourly history ending at the last full hour (365: a year). */
  historyDays: number;
  /** Share of the pairs reporting live, with 5-min buckets over the last baseDays (the rest imported history). */
  liveShare: number;
  baseDays: number;
}

/** Issue 12's province: 14 cities, ~600 departments, 2,000 nodes, 3,000 active pairs, a year of history. */
export const PROVINCE: ProvinceSize = {
  cities: 14,
  departments: 600,
  nodes: 2000,
  pairs: 3000,
  historyDays: 365,
  liveShare: 0.2,
  baseDays: 60,
};

/** What was generated, and the tokens of the two readers the bench signs in as. */
export interface GeneratedProvince {
  rows: Record<string, number>;
  /** Seconds TrafficStore.alignDaily took to build traffic_daily from the hours. */
  dailyBuildS: number;
  /** The city the city admin holds (its region code) and that city's node ids. */
  cityCode: string;
  cityNodeIds: string[];
  /** One active pair of the city admin's city, for GET /traffic over a year. */
  cityPair: { from: string; to: string };
  /** Entities of the city admin's city, for path parameters (the pair's provider node, its department, …). */
  samples: { nodeId: string; departmentCode: string; resourceCode: string; taskId: string; centerCode: string };
  provinceAdminToken: string;
  cityAdminToken: string;
  nowMs: number;
}

/**
 * Writes the province into a new central.db at `file` (an existing file is replaced) and returns the row
 * counts and the readers' tokens. `nowMs`: the generation's now (nodes heartbeat just before it).
 */
export function generateProvince(file: string, size: ProvinceSize, nowMs: number, seed = 12): GeneratedProvince {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  const db = openDatabase(file);
  db.pragma('synchronous = OFF'); // bench-only bulk load: a crash means generating again
  const rnd = prng(seed);
  // The big tables' secondary indexes are made after their rows (sorted once, not kept while rows go in out of
  // their order: with them the load took 152 s instead of 30), from the store's own definitions.
  const indexes = db
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
         AND tbl_name IN ('traffic_hourly', 'traffic_buckets', 'task_runs')`,
    )
    .all() as { name: string; sql: string }[];
  for (const i of indexes) db.exec(`DROP INDEX ${i.name}`);
  try {
    const geo = db.transaction(() => regionsAndDepartments(db, size, nowMs, rnd))();
    db.transaction(() => nodesAndCenters(db, size, geo, nowMs, rnd))();
    const pairs = db.transaction(() => catalogAndSubscriptions(db, size, geo, nowMs, rnd))();
    db.transaction(() => alertsAndRuns(db, size, nowMs, rnd))();
    const tokens = db.transaction(() => users(db, nowMs))();
    const traffic = new TrafficStore(db);
    insertTraffic(db, traffic, pairs, size, nowMs);
    for (const i of indexes) db.exec(i.sql);
    // The daily rollup as central's start makes it for Asia/Shanghai (a rebuild: migration 15 on an existing store).
    const t0 = performance.now();
    db.transaction(() => traffic.alignDaily(8 * 3_600_000))();
    const dailyBuildS = (performance.now() - t0) / 1000;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const city = 0;
    const cityNodeIds = (
      db
        .prepare(
          `SELECT n.id FROM nodes n JOIN departments d ON d.code = n.department_code JOIN regions r ON r.code = d.region_code
           WHERE r.code = ? OR r.parent_code = ? ORDER BY n.id`,
        )
        .all(cityCode(city), cityCode(city)) as { id: string }[]
    ).map((r) => r.id);
    const inCity = new Set(cityNodeIds);
    const both = pairs.filter((p) => inCity.has(p.from) && inCity.has(p.to));
    const pair =
      both.find((p) => p.shape === 'office') ?? both[0] ?? pairs.find((p) => inCity.has(p.from)) ?? pairs[0]!;
    return {
      rows: counts(db),
      dailyBuildS,
      cityCode: cityCode(city),
      cityNodeIds,
      cityPair: { from: pair.from, to: pair.to },
      samples: {
        nodeId: pair.from,
        departmentCode: (
          db.prepare('SELECT department_code AS d FROM nodes WHERE id = ?').get(pair.from) as { d: string }
        ).d,
        resourceCode: pair.resource,
        taskId: `${pair.subscription}-s`,
        centerCode: 'city1',
      },
      ...tokens,
      nowMs,
    };
  } finally {
    db.close();
  }
}

/** Rows of every table the generator writes. */
export function counts(db: Db): Record<string, number> {
  const tables = ['regions', 'departments', 'nodes', 'node_events', 'centers', 'links', 'link_states', 'resources'];
  tables.push('applications', 'agreements', 'subscriptions', 'tasks', 'task_runs', 'alerts', 'users');
  tables.push('traffic_hourly', 'traffic_buckets', 'traffic_daily');
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  return out;
}
