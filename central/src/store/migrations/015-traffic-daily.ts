// Migration 15: what the dashboard reads at province scale (2,000 nodes, a year of history: issue 12's bench).
// A daily rollup of the hourly traffic history kept by triggers, the hour index of traffic_hourly, and the
// finish-time index of task_runs.
import type { Migration } from './migration.js';

export const trafficDaily: Migration = {
  version: 15,
  name: 'traffic_daily (local days, kept by triggers on traffic_hourly), hour and task run finish indexes',
  sql: `
-- Reads of every series over a range of hours (the dashboard's today, rolling 24 h, rankings of hours) seek here
-- instead of scanning the whole table, whose key starts with the pair.
CREATE INDEX traffic_hourly_hour ON traffic_hourly (hour_start);

-- Reads of task runs over a time range across tasks (evaluation's runs of a period).
CREATE INDEX task_runs_finished ON task_runs (finished_at);

-- The local day the daily rollup is cut by: local time = UTC + offset_ms, fixed (central's traffic.timeZone when
-- it has no daylight saving time; Asia/Shanghai: 28 800 000). NULL: no fixed offset, traffic_daily is not kept
-- (empty) and readers use traffic_hourly. Central sets it at start (TrafficStore.alignDaily), rebuilding
-- traffic_daily from traffic_hourly when it changes.
CREATE TABLE traffic_day_offset (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  offset_ms INTEGER
) STRICT;
INSERT INTO traffic_day_offset (id, offset_ms) VALUES (1, NULL);

-- The sum of a series' hourly rows per local day (day_start: the local midnight, ms since epoch). Kept equal
-- to those sums by the triggers below in the transaction of every write to traffic_hourly; hours: how many
-- hourly rows went in (the row goes when it reaches 0), bytes_hours: how many of them knew their bytes (bytes
-- is NULL-like when 0). Keyed by day first: a range of days across every series is one range of the table.
CREATE TABLE traffic_daily (
  day_start   INTEGER NOT NULL,
  from_node   TEXT NOT NULL,
  to_node     TEXT NOT NULL,
  resource    TEXT NOT NULL,
  batches     INTEGER NOT NULL,
  records     INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  bytes_hours INTEGER NOT NULL,
  errors      INTEGER NOT NULL,
  hours       INTEGER NOT NULL,
  PRIMARY KEY (day_start, from_node, to_node, resource)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER traffic_hourly_daily_insert AFTER INSERT ON traffic_hourly
WHEN (SELECT offset_ms FROM traffic_day_offset) IS NOT NULL
BEGIN
  INSERT INTO traffic_daily (day_start, from_node, to_node, resource, batches, records, bytes, bytes_hours, errors, hours)
  SELECT ((NEW.hour_start + offset_ms) / 86400000) * 86400000 - offset_ms, NEW.from_node, NEW.to_node, NEW.resource,
    NEW.batches, NEW.records, coalesce(NEW.bytes, 0), NEW.bytes IS NOT NULL, NEW.errors, 1
  FROM traffic_day_offset WHERE true
  ON CONFLICT (day_start, from_node, to_node, resource) DO UPDATE SET batches = batches + excluded.batches,
    records = records + excluded.records, bytes = bytes + excluded.bytes, bytes_hours = bytes_hours + excluded.bytes_hours,
    errors = errors + excluded.errors, hours = hours + 1;
END;

CREATE TRIGGER traffic_hourly_daily_delete AFTER DELETE ON traffic_hourly
WHEN (SELECT offset_ms FROM traffic_day_offset) IS NOT NULL
BEGIN
  UPDATE traffic_daily SET batches = batches - OLD.batches, records = records - OLD.records,
    bytes = bytes - coalesce(OLD.bytes, 0), bytes_hours = bytes_hours - (OLD.bytes IS NOT NULL),
    errors = errors - OLD.errors, hours = hours - 1
  WHERE day_start = (SELECT ((OLD.hour_start + offset_ms) / 86400000) * 86400000 - offset_ms FROM traffic_day_offset)
    AND from_node = OLD.from_node AND to_node = OLD.to_node AND resource = OLD.resource;
  DELETE FROM traffic_daily
  WHERE day_start = (SELECT ((OLD.hour_start + offset_ms) / 86400000) * 86400000 - offset_ms FROM traffic_day_offset)
    AND from_node = OLD.from_node AND to_node = OLD.to_node AND resource = OLD.resource AND hours <= 0;
END;

-- An update (an upsert's DO UPDATE) moves the counts from the old row's day to the new row's: the same day unless
-- hour_start or the pair changed, which the store never does.
CREATE TRIGGER traffic_hourly_daily_update AFTER UPDATE ON traffic_hourly
WHEN (SELECT offset_ms FROM traffic_day_offset) IS NOT NULL
BEGIN
  UPDATE traffic_daily SET batches = batches - OLD.batches, records = records - OLD.records,
    bytes = bytes - coalesce(OLD.bytes, 0), bytes_hours = bytes_hours - (OLD.bytes IS NOT NULL),
    errors = errors - OLD.errors, hours = hours - 1
  WHERE day_start = (SELECT ((OLD.hour_start + offset_ms) / 86400000) * 86400000 - offset_ms FROM traffic_day_offset)
    AND from_node = OLD.from_node AND to_node = OLD.to_node AND resource = OLD.resource;
  INSERT INTO traffic_daily (day_start, from_node, to_node, resource, batches, records, bytes, bytes_hours, errors, hours)
  SELECT ((NEW.hour_start + offset_ms) / 86400000) * 86400000 - offset_ms, NEW.from_node, NEW.to_node, NEW.resource,
    NEW.batches, NEW.records, coalesce(NEW.bytes, 0), NEW.bytes IS NOT NULL, NEW.errors, 1
  FROM traffic_day_offset WHERE true
  ON CONFLICT (day_start, from_node, to_node, resource) DO UPDATE SET batches = batches + excluded.batches,
    records = records + excluded.records, bytes = bytes + excluded.bytes, bytes_hours = bytes_hours + excluded.bytes_hours,
    errors = errors + excluded.errors, hours = hours + 1;
  DELETE FROM traffic_daily
  WHERE day_start = (SELECT ((OLD.hour_start + offset_ms) / 86400000) * 86400000 - offset_ms FROM traffic_day_offset)
    AND from_node = OLD.from_node AND to_node = OLD.to_node AND resource = OLD.resource AND hours <= 0;
END;
`,
};
