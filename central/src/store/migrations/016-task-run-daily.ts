// Migration 16: evaluation's data provided and used at province scale. Migration 15's task_runs_finished made
// the runs of a month slower, not faster (each of 720,000 runs looked up at random: 42 s against a 0.75 s
// scan on the bench store): it becomes covering; and a daily rollup of the runs per node and task kind, kept
// by a trigger and cut by the days of traffic_day_offset, serves periods of whole local days.
import type { Migration } from './migration.js';

export const taskRunDaily: Migration = {
  version: 16,
  name: 'task_run_daily (runs per local day, node and task kind, kept by a trigger); task_runs_finished covering',
  sql: `
DROP INDEX task_runs_finished;
CREATE INDEX task_runs_finished ON task_runs (finished_at, task_id, node_id, records, batches);

-- Sums of the runs that finished in a local day (day_start: local midnight of traffic_day_offset's offset, ms
-- since epoch) on a node, by the kind of their task ('sync': data provided, 'exchange': data used). A run counts
-- when its task exists as it is stored (evaluation joins runs to tasks the same way). Runs are never updated or
-- deleted (task_runs is insert-only: a repeated run_id does nothing). Empty while the offset is NULL;
-- TrafficStore.alignDaily rebuilds it with traffic_daily.
CREATE TABLE task_run_daily (
  day_start INTEGER NOT NULL,
  node_id   TEXT NOT NULL,
  kind      TEXT NOT NULL,
  records   INTEGER NOT NULL,
  batches   INTEGER NOT NULL,
  runs      INTEGER NOT NULL,
  PRIMARY KEY (day_start, node_id, kind)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER task_runs_daily_insert AFTER INSERT ON task_runs
WHEN (SELECT offset_ms FROM traffic_day_offset) IS NOT NULL
BEGIN
  INSERT INTO task_run_daily (day_start, node_id, kind, records, batches, runs)
  SELECT ((NEW.finished_at + o.offset_ms) / 86400000) * 86400000 - o.offset_ms, NEW.node_id, t.kind, NEW.records,
    NEW.batches, 1
  FROM traffic_day_offset o JOIN tasks t ON t.id = NEW.task_id WHERE true
  ON CONFLICT (day_start, node_id, kind) DO UPDATE SET records = records + excluded.records,
    batches = batches + excluded.batches, runs = runs + 1;
END;
`,
};
