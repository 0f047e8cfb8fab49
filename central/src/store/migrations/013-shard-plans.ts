// Migration 13: shard plans of sync tasks (dynamic node allocation, 动态节点分配; domain/shards.ts): one row per
// task spread at least once, the current plan; every change is in the audit log.
import type { Migration } from './migration.js';

export const shardPlans: Migration = {
  version: 13,
  name: 'shard_plans: the current shard plan of each spread sync task (epoch, shards, state, split cursor)',
  sql: `
CREATE TABLE shard_plans (
  task_id           TEXT PRIMARY KEY REFERENCES tasks (id),
  epoch             INTEGER NOT NULL,
  count             INTEGER NOT NULL CHECK (count BETWEEN 2 AND 9),
  state             TEXT NOT NULL CHECK (state IN ('single', 'splitting', 'split', 'merging')),
  -- The primary's cursor at the split, as its source writes it (JSON); NULL until it reported split-ready.
  split_cursor_json TEXT,
  -- [{index, nodeId, state: pending|active|withdrawn|done, cursorJson}], shard order.
  standbys_json     TEXT NOT NULL,
  reason            TEXT NOT NULL,
  updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX shard_plans_state ON shard_plans (state) WHERE state <> 'single';
`,
};
