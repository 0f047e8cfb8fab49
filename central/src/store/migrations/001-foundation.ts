// Migration 1: foundation: regions, departments, nodes, tokens, tasks, reports.
import type { Migration } from './migration.js';

export const foundation: Migration = {
  version: 1,
  name: 'foundation: regions, departments, nodes, tokens, tasks, reports',
  sql: `
CREATE TABLE regions (
  code        TEXT PRIMARY KEY,            -- administrative division code (行政区划代码), e.g. 360000
  name        TEXT NOT NULL,
  level       TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
  parent_code TEXT REFERENCES regions(code),
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE departments (
  code        TEXT PRIMARY KEY,            -- e.g. 'gat' (公安厅)
  name        TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions(code),
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE nodes (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  department_code    TEXT NOT NULL REFERENCES departments(code),
  hostname           TEXT NOT NULL DEFAULT '',
  agent_version      TEXT NOT NULL DEFAULT '',
  labels_json        TEXT NOT NULL DEFAULT '{}',
  secret_hash        TEXT NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('online', 'offline')),
  enabled            INTEGER NOT NULL DEFAULT 1,
  enrolled_at        INTEGER NOT NULL,
  last_heartbeat_at  INTEGER,
  health_json        TEXT,
  assignment_version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (department_code, name)
) STRICT;

-- Every liveness transition and enrollment of a node, for the online rate (联通率) and the audit trail.
CREATE TABLE node_events (
  id      INTEGER PRIMARY KEY,
  node_id TEXT NOT NULL REFERENCES nodes(id),
  at      INTEGER NOT NULL,
  kind    TEXT NOT NULL CHECK (kind IN ('enrolled', 'online', 'offline', 'disabled', 'enabled')),
  reason  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX node_events_node_at ON node_events (node_id, at);

CREATE TABLE enrollment_tokens (
  id              TEXT PRIMARY KEY,
  token_hash      TEXT NOT NULL UNIQUE,     -- sha-256 of the token; the token itself is shown once
  department_code TEXT NOT NULL REFERENCES departments(code),
  node_name       TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  used_at         INTEGER,
  used_by_node_id TEXT REFERENCES nodes(id),
  revoked_at      INTEGER
) STRICT;

CREATE TABLE tasks (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('sync', 'exchange')),
  node_id         TEXT NOT NULL REFERENCES nodes(id),
  peer_node_id    TEXT REFERENCES nodes(id),
  resource_code   TEXT NOT NULL DEFAULT '',
  subscription_id TEXT NOT NULL DEFAULT '',
  binding         TEXT NOT NULL,
  params_json     TEXT NOT NULL DEFAULT '{}',
  interval_ms     INTEGER NOT NULL DEFAULT 0,
  enabled         INTEGER NOT NULL DEFAULT 1,
  generation      INTEGER NOT NULL DEFAULT 1,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  deleted_at      INTEGER
) STRICT;
CREATE INDEX tasks_node ON tasks (node_id) WHERE deleted_at IS NULL;

-- Latest outcome per assignment per node (applied / rejected with reason).
CREATE TABLE assignment_acks (
  node_id       TEXT NOT NULL REFERENCES nodes(id),
  assignment_id TEXT NOT NULL,
  generation    INTEGER NOT NULL,
  outcome       TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected')),
  reason        TEXT NOT NULL DEFAULT '',
  at            INTEGER NOT NULL,
  PRIMARY KEY (node_id, assignment_id)
) STRICT;

-- Reports from agents; report_id is the agent's outbox key, so a retried delivery is stored once.
CREATE TABLE reports (
  report_id   TEXT PRIMARY KEY,
  node_id     TEXT NOT NULL REFERENCES nodes(id),
  seq         INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  observed_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  body_json   TEXT NOT NULL
) STRICT;
CREATE INDEX reports_node_seq ON reports (node_id, seq);

CREATE TABLE task_runs (
  run_id      TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL,
  node_id     TEXT NOT NULL REFERENCES nodes(id),
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  status      TEXT NOT NULL,
  records     INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  batches     INTEGER NOT NULL,
  errors      INTEGER NOT NULL,
  lag_ms      INTEGER NOT NULL,
  quarantined INTEGER NOT NULL,
  error       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX task_runs_task ON task_runs (task_id, finished_at);
`,
};
