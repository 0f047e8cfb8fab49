// Migration 18: who spread a flow is stored with its shard plan (origin), no longer read from its reason's
// prefix; and an operator's merge during a tide window holds until that window's end (held_until).
import type { Migration } from './migration.js';

export const shardPlanOrigin: Migration = {
  version: 18,
  name: "shard_plans.origin (tide | surge | operator) and held_until (an operator's merge in a tide window)",
  // Existing plans get their origin once, from the prefixes the brain wrote its reasons with until now ('tide
  // window ...', 'surge ...'; compared case-sensitively, as the old rule did); any other reason was an operator's.
  sql: `
ALTER TABLE shard_plans ADD COLUMN origin TEXT NOT NULL DEFAULT 'operator'
  CHECK (origin IN ('tide', 'surge', 'operator'));
UPDATE shard_plans SET origin = CASE
  WHEN substr(reason, 1, 12) = 'tide window ' THEN 'tide'
  WHEN substr(reason, 1, 6) = 'surge ' THEN 'surge'
  ELSE 'operator' END;
-- ms since epoch: an operator merged the flow while its tide window was open; the tide does not spread it again
-- before this instant (that window's end). NULL: no hold.
ALTER TABLE shard_plans ADD COLUMN held_until INTEGER;
`,
};
