// Migration 2: quarantined records reported by agents.
import type { Migration } from './migration.js';

export const quarantine: Migration = {
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
};
