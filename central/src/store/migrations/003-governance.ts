// Migration 3: governance: users, resource catalog, applications, agreements, subscriptions, objections, audit log.
import type { Migration } from './migration.js';

export const governance: Migration = {
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
};
