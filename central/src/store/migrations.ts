// Numbered schema migrations of central.db. Applied in order inside one transaction each; the schema
// version is PRAGMA user_version. Never edit a released migration: add the next number.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
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
  },
  {
    version: 2,
    name: 'quarantined records reported by agents',
    sql: `
-- Records an agent could not process or verify, with the reason and the original values (as reported).
CREATE TABLE quarantine_records (
  node_id    TEXT NOT NULL REFERENCES nodes(id),
  agent_id   INTEGER NOT NULL,              -- the record's id in that agent's spool
  task_id    TEXT NOT NULL,
  side       TEXT NOT NULL,
  origin     TEXT NOT NULL,
  row_index  INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  field      TEXT NOT NULL DEFAULT '',
  record     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  resent_at  INTEGER,
  PRIMARY KEY (node_id, agent_id)
) STRICT;
CREATE INDEX quarantine_records_task ON quarantine_records (task_id, created_at);
`,
  },
  {
    version: 3,
    name: 'governance: users, resource catalog, applications, agreements, subscriptions, objections, audit log',
    sql: `
-- People who use the HTTP API and the CLI; the bearer token is stored only as its sha-256.
CREATE TABLE users (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  role            TEXT NOT NULL CHECK (role IN ('province_admin', 'city_admin', 'operator', 'officer', 'auditor')),
  region_code     TEXT REFERENCES regions(code),        -- city_admin: the subtree it sees
  department_code TEXT REFERENCES departments(code),    -- officer: the department it acts for
  token_hash      TEXT NOT NULL UNIQUE,
  created_at      INTEGER NOT NULL,
  created_by      TEXT NOT NULL,
  revoked_at      INTEGER
) STRICT;

-- The resource catalog (信息资源目录): one row per resource with its current content.
CREATE TABLE resources (
  code                     TEXT PRIMARY KEY,
  name                     TEXT NOT NULL,
  provider_department_code TEXT NOT NULL REFERENCES departments(code),
  description              TEXT NOT NULL DEFAULT '',
  fields_json              TEXT NOT NULL,
  format                   TEXT NOT NULL,
  share_type               TEXT NOT NULL CHECK (share_type IN ('unconditional', 'conditional', 'not_shared')),
  conditions               TEXT NOT NULL DEFAULT '',
  legal_basis              TEXT NOT NULL DEFAULT '',
  share_methods_json       TEXT NOT NULL,
  update_cycle             TEXT NOT NULL,
  binding                  TEXT NOT NULL DEFAULT '',
  provider_node_id         TEXT REFERENCES nodes(id),
  status                   TEXT NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
  version                  INTEGER NOT NULL,
  created_at               INTEGER NOT NULL,
  updated_at               INTEGER NOT NULL,
  published_at             INTEGER,
  retired_at               INTEGER
) STRICT;
CREATE INDEX resources_provider ON resources (provider_department_code);

-- Every version of a resource's content; a change to a published resource adds one.
CREATE TABLE resource_versions (
  resource_code TEXT NOT NULL REFERENCES resources(code),
  version       INTEGER NOT NULL,
  content_json  TEXT NOT NULL,
  changed_keys  TEXT NOT NULL DEFAULT '[]',
  note          TEXT NOT NULL DEFAULT '',
  at            INTEGER NOT NULL,
  by            TEXT NOT NULL,
  PRIMARY KEY (resource_code, version)
) STRICT;

-- What a department is told: a resource it receives changed or was retired.
CREATE TABLE notifications (
  id              INTEGER PRIMARY KEY,
  department_code TEXT NOT NULL REFERENCES departments(code),
  kind            TEXT NOT NULL,
  resource_code   TEXT NOT NULL REFERENCES resources(code),
  version         INTEGER NOT NULL,
  message         TEXT NOT NULL,
  details_json    TEXT NOT NULL DEFAULT '{}',
  created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX notifications_department ON notifications (department_code, created_at);

-- Applications (共享申请) for conditional resources, answered before deadline_at.
CREATE TABLE applications (
  id                       TEXT PRIMARY KEY,
  resource_code            TEXT NOT NULL REFERENCES resources(code),
  resource_version         INTEGER NOT NULL,
  provider_department_code TEXT NOT NULL REFERENCES departments(code),
  consumer_department_code TEXT NOT NULL REFERENCES departments(code),
  applicant                TEXT NOT NULL,
  purpose                  TEXT NOT NULL,
  requested_fields_json    TEXT NOT NULL,
  status                   TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  submitted_at             INTEGER NOT NULL,
  deadline_at              INTEGER NOT NULL,
  answered_at              INTEGER,
  answered_by              TEXT,
  reason                   TEXT NOT NULL DEFAULT '',
  approved_fields_json     TEXT,
  agreement_id             TEXT
) STRICT;
CREATE INDEX applications_status ON applications (status, deadline_at);

-- Agreements (共享协议): what an approval grants, for how long.
CREATE TABLE agreements (
  id                       TEXT PRIMARY KEY,
  application_id           TEXT NOT NULL UNIQUE REFERENCES applications(id),
  resource_code            TEXT NOT NULL REFERENCES resources(code),
  provider_department_code TEXT NOT NULL REFERENCES departments(code),
  consumer_department_code TEXT NOT NULL REFERENCES departments(code),
  fields_json              TEXT NOT NULL,
  purpose                  TEXT NOT NULL,
  valid_from               INTEGER NOT NULL,
  valid_until              INTEGER NOT NULL,
  status                   TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'expired')),
  created_at               INTEGER NOT NULL,
  ended_at                 INTEGER,
  ended_by                 TEXT,
  end_reason               TEXT NOT NULL DEFAULT ''
) STRICT;

-- Subscriptions (订阅): a running flow of a resource to a consumer node, carried by two tasks.
CREATE TABLE subscriptions (
  id                       TEXT PRIMARY KEY,
  resource_code            TEXT NOT NULL REFERENCES resources(code),
  agreement_id             TEXT REFERENCES agreements(id),
  provider_department_code TEXT NOT NULL REFERENCES departments(code),
  consumer_department_code TEXT NOT NULL REFERENCES departments(code),
  provider_node_id         TEXT NOT NULL REFERENCES nodes(id),
  consumer_node_id         TEXT NOT NULL REFERENCES nodes(id),
  sink_binding             TEXT NOT NULL,
  method                   TEXT NOT NULL,
  fields_json              TEXT NOT NULL,
  sync_task_id             TEXT NOT NULL,
  exchange_task_id         TEXT NOT NULL,
  status                   TEXT NOT NULL CHECK (status IN ('active', 'stopped')),
  created_at               INTEGER NOT NULL,
  created_by               TEXT NOT NULL,
  stopped_at               INTEGER,
  stop_reason              TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX subscriptions_resource ON subscriptions (resource_code, status);
CREATE INDEX subscriptions_agreement ON subscriptions (agreement_id);

-- Alarms raised once per entity and kind (e.g. an application past its deadline).
CREATE TABLE alerts (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL,
  entity_id       TEXT NOT NULL,
  department_code TEXT NOT NULL DEFAULT '',
  message         TEXT NOT NULL,
  at              INTEGER NOT NULL,
  UNIQUE (kind, entity_id)
) STRICT;

-- Objections (疑义/纠错): a consumer flags data as wrong, the provider verifies and answers.
CREATE TABLE objections (
  id                       TEXT PRIMARY KEY,
  resource_code            TEXT NOT NULL REFERENCES resources(code),
  provider_department_code TEXT NOT NULL REFERENCES departments(code),
  consumer_department_code TEXT NOT NULL REFERENCES departments(code),
  record_key               TEXT NOT NULL DEFAULT '',
  note                     TEXT NOT NULL,
  raised_by                TEXT NOT NULL,
  raised_at                INTEGER NOT NULL,
  status                   TEXT NOT NULL CHECK (status IN ('open', 'answered')),
  result                   TEXT CHECK (result IN ('corrected', 'confirmed_correct')),
  answer_note              TEXT NOT NULL DEFAULT '',
  answered_by              TEXT,
  answered_at              INTEGER
) STRICT;
CREATE INDEX objections_resource ON objections (resource_code, raised_at);

-- The append-only, hash-chained audit log. hash = sha256(prev_hash || canonical JSON of the entry);
-- audit_head holds the last seq and hash, updated in the same transaction as each append.
CREATE TABLE audit_log (
  seq                  INTEGER PRIMARY KEY,
  at                   INTEGER NOT NULL,
  actor                TEXT NOT NULL,
  action               TEXT NOT NULL,
  entity_type          TEXT NOT NULL,
  entity_id            TEXT NOT NULL,
  department_code      TEXT NOT NULL DEFAULT '',
  peer_department_code TEXT NOT NULL DEFAULT '',
  resource_code        TEXT NOT NULL DEFAULT '',
  details_json         TEXT NOT NULL,
  prev_hash            TEXT NOT NULL,
  hash                 TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_department ON audit_log (department_code, at);
CREATE INDEX audit_log_peer ON audit_log (peer_department_code, at);
CREATE INDEX audit_log_resource ON audit_log (resource_code, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TABLE audit_head (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  seq  INTEGER NOT NULL,
  hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');
`,
  },
  {
    version: 4,
    name: 'reports listed newest first',
    sql: `
-- GET /reports lists newest first and pages back with a cursor: the order is (received_at, seq, report_id),
-- report_id making it total. One index for all nodes, one per node; the latter replaces (node_id, seq).
CREATE INDEX reports_received ON reports (received_at, seq, report_id);
CREATE INDEX reports_node_received ON reports (node_id, received_at, seq, report_id);
DROP INDEX reports_node_seq;
`,
  },
  {
    version: 5,
    name: 'reconciliation runs and schedules',
    sql: `
-- Verification runs (对账) of a subscription: requested by an operator or by the schedule, carried out by
-- the consumer's agent, which reports counts and sample keys of the differences (never row values).
CREATE TABLE verifications (
  id               TEXT PRIMARY KEY,
  subscription_id  TEXT NOT NULL,
  exchange_task_id TEXT NOT NULL,
  consumer_node_id TEXT NOT NULL,
  provider_node_id TEXT NOT NULL,
  repair           INTEGER NOT NULL,
  trigger          TEXT NOT NULL CHECK (trigger IN ('manual', 'scheduled')),
  state            TEXT NOT NULL CHECK (state IN ('requested', 'running', 'done', 'failed')),
  requested_by     TEXT NOT NULL,
  requested_at     INTEGER NOT NULL,
  started_at       INTEGER,
  finished_at      INTEGER,
  error            TEXT NOT NULL DEFAULT '',
  result_json      TEXT
) STRICT;
CREATE INDEX verifications_subscription ON verifications (subscription_id, requested_at);
CREATE INDEX verifications_open ON verifications (consumer_node_id, state);

-- How often a subscription is verified when its own setting differs from central's default (0: never).
CREATE TABLE verify_schedules (
  subscription_id TEXT PRIMARY KEY,
  interval_ms     INTEGER NOT NULL CHECK (interval_ms >= 0),
  updated_at      INTEGER NOT NULL
) STRICT;
`,
  },
];
