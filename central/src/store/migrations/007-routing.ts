// Migration 7: the relay role of nodes, probe windows (测试粒子), link states and routes between centers.
import type { Migration } from './migration.js';

export const routing: Migration = {
  version: 7,
  name: 'relays, probe windows, link states, routes and their changes',
  sql: `
-- The relay (中继) of a center: a node homed there that forwards units hop by hop and probes the center's
-- links. One per center; a node relays its home center only. generation goes up whenever its RelaySpec
-- changes (designation, a link or a neighbour's URLs), so the node re-applies it.
CREATE TABLE center_relays (
  center     TEXT PRIMARY KEY REFERENCES centers(code) ON DELETE CASCADE,
  node_id    TEXT NOT NULL UNIQUE REFERENCES nodes(id),
  generation INTEGER NOT NULL,
  set_at     INTEGER NOT NULL,
  set_by     TEXT NOT NULL
) STRICT;

-- Raw probe windows as relays reported them (ProbeReport), once per report_id; kept routing.probeRetentionMs.
-- link_id is '' for a probe of a whole route (route: JSON array of centers).
CREATE TABLE probe_windows (
  report_id       TEXT PRIMARY KEY,
  node_id         TEXT NOT NULL,
  from_center     TEXT NOT NULL,
  to_center       TEXT NOT NULL,
  link_id         TEXT NOT NULL,
  route           TEXT NOT NULL,
  window_start    INTEGER NOT NULL,
  window_end      INTEGER NOT NULL,
  sent            INTEGER NOT NULL,
  answered        INTEGER NOT NULL,
  rtt_p50_us      INTEGER NOT NULL,
  rtt_p99_us      INTEGER NOT NULL,
  forwarded_bytes INTEGER NOT NULL,
  probe_bytes     INTEGER NOT NULL,
  queue_depth     INTEGER NOT NULL,
  received_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX probe_windows_link ON probe_windows (link_id, window_end);
CREATE INDEX probe_windows_received ON probe_windows (received_at);

-- Each link's state at the last evaluation: up | degraded | down, since when, since when healthy without
-- interruption (the recovery hold), and the aggregated evidence (JSON, domain/link-state.ts LinkEvidence).
CREATE TABLE link_states (
  link_id       TEXT PRIMARY KEY,
  state         TEXT NOT NULL CHECK (state IN ('up', 'degraded', 'down')),
  reason        TEXT,
  state_since   INTEGER NOT NULL,
  healthy_since INTEGER,
  evidence      TEXT,
  evaluated_at  INTEGER NOT NULL
) STRICT;

-- The route of each ordered pair of centers some flow or relay needs (or an operator pinned). route: JSON
-- array of centers, NULL when no route exists; generation goes up with every change of route or pin (it is
-- the RouteSpec assignment's generation). alternatives: the rated candidates, JSON.
CREATE TABLE route_pairs (
  from_center  TEXT NOT NULL,
  to_center    TEXT NOT NULL,
  route        TEXT,
  since        INTEGER NOT NULL,
  reason       TEXT NOT NULL,
  challenger   TEXT,
  pin          TEXT,
  pinned_by    TEXT,
  generation   INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('up', 'degraded', 'down', 'none')),
  cost         REAL,
  alternatives TEXT NOT NULL,
  evaluated_at INTEGER NOT NULL,
  PRIMARY KEY (from_center, to_center)
) STRICT;

-- Every choice and change of a pair's route: when, from what to what, why. previous NULL: the first choice.
CREATE TABLE route_changes (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  from_center TEXT NOT NULL,
  to_center   TEXT NOT NULL,
  at          INTEGER NOT NULL,
  previous    TEXT,
  route       TEXT NOT NULL,
  reason      TEXT NOT NULL,
  cost        REAL,
  pinned      INTEGER NOT NULL,
  actor       TEXT NOT NULL
) STRICT;
CREATE INDEX route_changes_pair ON route_changes (from_center, to_center, id);
`,
};
