// Migration 9: traffic history (流量历史) per node pair and resource: buckets at the base resolution, their
// hourly rollup, and the ids of traffic reports already counted.
import type { Migration } from './migration.js';

export const traffic: Migration = {
  version: 9,
  name: 'traffic buckets, hourly rollup and counted traffic report ids',
  sql: `
-- What flowed from one node to another for one resource in one bucket of traffic.bucketMs (5 min by default),
-- counted by the consumer's agent (TrafficReport) or imported from a file (origin 'import'). resource '' is
-- the pair as a whole (history imported without a resource). bucket_start: ms since epoch, a multiple of the
-- bucket length. bytes, latency_*: NULL when unknown (imported rows); latency = commit time at the consumer
-- minus the envelope's creation at the provider (includes the clock skew of the two machines). Kept
-- traffic.baseRetentionMs (60 days by default).
CREATE TABLE traffic_buckets (
  from_node      TEXT NOT NULL,
  to_node        TEXT NOT NULL,
  resource       TEXT NOT NULL,
  bucket_start   INTEGER NOT NULL,
  batches        INTEGER NOT NULL,
  records        INTEGER NOT NULL,
  bytes          INTEGER,
  latency_p50_ms INTEGER,
  latency_p99_ms INTEGER,
  errors         INTEGER NOT NULL,
  origin         TEXT NOT NULL CHECK (origin IN ('live', 'import')),
  PRIMARY KEY (from_node, to_node, resource, bucket_start)
) STRICT, WITHOUT ROWID;

-- The same per hour (hour_start: ms since epoch, a multiple of 3 600 000), kept traffic.hourlyRetentionMs
-- (3 years). Written in the transaction that writes its buckets: an hour still within the base retention is
-- the rollup of its buckets (services/traffic.ts says how p50/p99 are approximated); older hours are all
-- that is left. origin 'live' when any live bucket went into it.
CREATE TABLE traffic_hourly (
  from_node      TEXT NOT NULL,
  to_node        TEXT NOT NULL,
  resource       TEXT NOT NULL,
  hour_start     INTEGER NOT NULL,
  batches        INTEGER NOT NULL,
  records        INTEGER NOT NULL,
  bytes          INTEGER,
  latency_p50_ms INTEGER,
  latency_p99_ms INTEGER,
  errors         INTEGER NOT NULL,
  origin         TEXT NOT NULL CHECK (origin IN ('live', 'import')),
  PRIMARY KEY (from_node, to_node, resource, hour_start)
) STRICT, WITHOUT ROWID;

-- Traffic reports already counted, by report_id (a retried Report call counts once); kept 7 days, long past
-- any retry of a report central stored (an agent retries within minutes of a lost reply).
CREATE TABLE traffic_reports (
  report_id   TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX traffic_reports_received ON traffic_reports (received_at);
`,
};
