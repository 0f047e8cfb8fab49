// Migration 10: scheduling policies (策略, issue 11): static and dynamic policies of tasks, kept after they
// expire (for the record and the explanations), and the tasks each one shapes with their nodes.
import type { Migration } from './migration.js';

export const policies: Migration = {
  version: 10,
  name: 'scheduling policies and the tasks they shape',
  sql: `
CREATE TABLE policies (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('static', 'dynamic')),
  -- Bumped by every replacement; nodes acknowledge a generation (node_acks).
  generation INTEGER NOT NULL,
  subscription_id TEXT NOT NULL DEFAULT '',
  -- Validity, ms since epoch: 0 = since ever / no end (until is exclusive).
  valid_from_ms INTEGER NOT NULL DEFAULT 0,
  valid_until_ms INTEGER NOT NULL DEFAULT 0,
  utc_offset_minutes INTEGER NOT NULL,
  -- {windows, outside, holidays, makeUpWorkdays} (common/src/policy.ts).
  spec_json TEXT NOT NULL,
  reason TEXT NOT NULL,
  evidence_json TEXT NOT NULL DEFAULT '[]',
  generated_by TEXT NOT NULL CHECK (generated_by IN ('brain', 'operator')),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- Set when withdrawn (xchg policy delete, or replaced by the brain); no longer delivered.
  expired_at INTEGER
);
CREATE INDEX policies_live ON policies (expired_at, kind);

CREATE TABLE policy_tasks (
  policy_id TEXT NOT NULL REFERENCES policies (id),
  task_id TEXT NOT NULL,
  -- The node that runs the task (the policy is delivered to it).
  node_id TEXT NOT NULL,
  PRIMARY KEY (policy_id, task_id)
);
CREATE INDEX policy_tasks_node ON policy_tasks (node_id, policy_id);
CREATE INDEX policy_tasks_task ON policy_tasks (task_id);
`,
};
