// Migration 14: an exchange center's optional monitoring URL (nats-server's HTTP monitoring endpoint, -m)
// and the latest health sample central read from it (/varz, /jsz). One row per center, replaced each poll.
import type { Migration } from './migration.js';

export const centerHealth: Migration = {
  version: 14,
  name: 'centers.monitor_url and center_health: the latest nats-server monitoring sample of each center',
  sql: `
ALTER TABLE centers ADD COLUMN monitor_url TEXT;   -- http(s)://host:port of nats-server monitoring; NULL: none
CREATE TABLE center_health (
  center_code    TEXT PRIMARY KEY,
  monitor_url    TEXT NOT NULL,                    -- the URL the sample came from
  sampled_at     INTEGER NOT NULL,
  ok             INTEGER NOT NULL,                 -- 1: /varz and /jsz answered
  error          TEXT NOT NULL DEFAULT '',         -- why not, when ok = 0
  server_version TEXT NOT NULL DEFAULT '',
  server_name    TEXT NOT NULL DEFAULT '',
  jetstream      INTEGER NOT NULL DEFAULT 0,
  figures_json   TEXT                              -- CenterFigures (domain/center-health.ts); NULL when ok = 0
) STRICT;
`,
};
