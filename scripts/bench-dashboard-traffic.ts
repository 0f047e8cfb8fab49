// The dashboard bench's traffic history: every generated pair gets hourly rows over the history (its shape's
// active hours only: office hours on weekdays, a nightly batch, round the clock, or now and then), and the live
// share gets 5-min buckets over the base retention whose hours are rolled up by the store's own rollupHours, as
// central does for live reports. Bulk INSERT … SELECT over temporary tables: a year for 3,000 pairs in seconds.
import type { Db } from '../central/src/store/db.js';
import type { TrafficStore } from '../central/src/store/traffic.js';
import type { GenPair } from './bench-dashboard-flows.js';
import type { ProvinceSize } from './bench-dashboard-gen.js';

const HOUR_MS = 3_600_000;
const BUCKET_MS = 300_000;
const DAY_MS = 86_400_000;
/** Asia/Shanghai, central's default traffic time zone: local hours and weekdays of the shapes. */
const LOCAL_OFFSET_MS = 8 * HOUR_MS;

/** Whether a step of local hour `lh` and weekday `wd` (0 Sunday) is active for series `s` at step index `i`. */
const ACTIVE = `CASE s.shape
  WHEN 'office' THEN h.lh BETWEEN 9 AND 17 AND h.wd BETWEEN 1 AND 5
  WHEN 'nightly' THEN h.lh = 2
  WHEN 'realtime' THEN 1
  ELSE (h.i + s.k * 7) % 53 = 0 END`;

/** Records of a step: `per` divides the hourly level (12 for 5-min buckets); varies with the step index i. */
const RECORDS = (per: number): string => `max(1, s.level * (80 + (h.i + s.k * 7) % 41) / ${100 * per})`;

/**
 * Writes the hourly history of every pair over [now - historyDays, the current hour) and, for the live pairs, the
 * buckets over [now - baseDays, the current bucket) with their hours rolled up (the current hour included, as far as it
 * has gone). Each table in one transaction.
 */
export function insertTraffic(
  db: Db,
  traffic: TrafficStore,
  pairs: readonly GenPair[],
  size: ProvinceSize,
  now: number,
): void {
  const hourNow = Math.floor(now / HOUR_MS) * HOUR_MS;
  const baseStart = Math.floor((now - size.baseDays * DAY_MS) / HOUR_MS) * HOUR_MS;
  const historyStart = hourNow - size.historyDays * 24 * HOUR_MS;
  db.exec(`CREATE TEMP TABLE gen_series (from_node TEXT, to_node TEXT, resource TEXT, k INTEGER, shape TEXT,
    level INTEGER, live INTEGER, PRIMARY KEY (from_node, to_node, resource)) WITHOUT ROWID`);
  const ins = db.prepare('INSERT INTO temp.gen_series VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() =>
    pairs.forEach((p, k) => ins.run(p.from, p.to, p.resource, k, p.shape, p.level, p.live ? 1 : 0)),
  )();
  steps(db, 'gen_hours', historyStart, hourNow, HOUR_MS);
  steps(db, 'gen_buckets', baseStart, Math.floor(now / BUCKET_MS) * BUCKET_MS, BUCKET_MS);
  const columns = `from_node, to_node, resource, %START%, batches, records, bytes, latency_p50_ms, latency_p99_ms, errors, origin`;
  const select = (per: number, origin: string): string => `
    SELECT s.from_node, s.to_node, s.resource, h.t, max(1, ${RECORDS(per)} / 500), ${RECORDS(per)},
      ${RECORDS(per)} * 210, 200 + s.k % 300, 800 + s.k % 1200, CASE WHEN (h.i + s.k) % 97 = 0 THEN 1 ELSE 0 END,
      '${origin}'
    FROM temp.gen_series s CROSS JOIN temp.%STEPS% h WHERE %WHERE% AND ${ACTIVE}`;
  db.transaction(() => {
    // Imported pairs: every hour; live pairs: the hours before their buckets begin.
    db.exec(
      `INSERT INTO traffic_hourly (${columns.replace('%START%', 'hour_start')}) ${select(1, 'import')
        .replaceAll('%STEPS%', 'gen_hours')
        .replace('%WHERE%', `(s.live = 0 OR h.t < ${baseStart})`)}`,
    );
  })();
  db.transaction(() => {
    db.exec(
      `INSERT INTO traffic_buckets (${columns.replace('%START%', 'bucket_start')}) ${select(12, 'live')
        .replaceAll('%STEPS%', 'gen_buckets')
        .replace('%WHERE%', 's.live = 1')}`,
    );
    for (const p of pairs)
      if (p.live)
        traffic.rollupHours({ fromNode: p.from, toNode: p.to, resource: p.resource }, baseStart, hourNow + HOUR_MS);
  })();
  db.exec('DROP TABLE temp.gen_series; DROP TABLE temp.gen_hours; DROP TABLE temp.gen_buckets');
}

/** A temporary table of steps [from, until) of `stepMs`: start t, index i, local hour lh and weekday wd. */
function steps(db: Db, name: string, from: number, until: number, stepMs: number): void {
  db.exec(`CREATE TEMP TABLE ${name} (t INTEGER PRIMARY KEY, i INTEGER, lh INTEGER, wd INTEGER)`);
  db.exec(
    `WITH RECURSIVE s(t) AS (SELECT ${from} UNION ALL SELECT t + ${stepMs} FROM s WHERE t + ${stepMs} < ${until})
     INSERT INTO temp.${name} SELECT t, t / ${stepMs}, ((t + ${LOCAL_OFFSET_MS}) / ${HOUR_MS}) % 24,
       ((t + ${LOCAL_OFFSET_MS}) / ${DAY_MS} + 4) % 7 FROM s`,
  );
}
