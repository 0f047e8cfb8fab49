// Migration 11: what the brain (智能调度) concluded: clustering runs with their clusters and members, and the
// surges (浪涌) the detector found, live or over imported history, with the actions taken.
import type { Migration } from './migration.js';

export const brain: Migration = {
  version: 11,
  name: 'brain: clustering runs, clusters, members, surges, the static policy of each pair',
  sql: `
-- One clustering of all pairs with history over [since_ms, until_ms); the newest is the one in force.
CREATE TABLE cluster_runs (
  run_id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  since_ms INTEGER NOT NULL,
  until_ms INTEGER NOT NULL,
  bucket_ms INTEGER NOT NULL,
  pairs INTEGER NOT NULL,
  k INTEGER NOT NULL,
  -- the criterion k was chosen by (mean silhouette per k) and the standardised dimensions
  criterion_json TEXT NOT NULL
) STRICT;

CREATE TABLE clusters (
  run_id TEXT NOT NULL REFERENCES cluster_runs(run_id) ON DELETE CASCADE,
  cluster_id INTEGER NOT NULL,
  size INTEGER NOT NULL,
  label_json TEXT NOT NULL,
  profile_json TEXT NOT NULL,
  policy_json TEXT NOT NULL,
  silhouette REAL NOT NULL,
  PRIMARY KEY (run_id, cluster_id)
) STRICT;

CREATE TABLE cluster_members (
  run_id TEXT NOT NULL REFERENCES cluster_runs(run_id) ON DELETE CASCADE,
  from_node TEXT NOT NULL,
  to_node TEXT NOT NULL,
  resource TEXT NOT NULL,
  cluster_id INTEGER NOT NULL,
  features_json TEXT NOT NULL,
  PRIMARY KEY (run_id, from_node, to_node, resource)
) STRICT;

-- A surge of one pair: open while end_ms is NULL. origin 'live' (found as buckets arrived) or 'import'
-- (found by replaying imported history in time order, without look-ahead).
CREATE TABLE surges (
  surge_id TEXT PRIMARY KEY,
  from_node TEXT NOT NULL,
  to_node TEXT NOT NULL,
  resource TEXT NOT NULL,
  origin TEXT NOT NULL CHECK (origin IN ('live', 'import')),
  start_ms INTEGER NOT NULL,
  end_ms INTEGER,
  detected_at_ms INTEGER NOT NULL,
  peak REAL NOT NULL,
  expected REAL NOT NULL,
  evidence_json TEXT NOT NULL,
  actions_json TEXT NOT NULL,
  UNIQUE (from_node, to_node, resource, origin, start_ms)
) STRICT;
CREATE INDEX surges_by_start ON surges (start_ms);

-- The static policy the brain keeps for each pair (replaced, not duplicated, when a clustering run changes it).
CREATE TABLE brain_policies (
  from_node TEXT NOT NULL,
  to_node TEXT NOT NULL,
  resource TEXT NOT NULL,
  policy_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  PRIMARY KEY (from_node, to_node, resource)
) STRICT;
`,
};
