// Migration 5: reconciliation runs and schedules.
import type { Migration } from './migration.js';

export const reconcile: Migration = {
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
};
