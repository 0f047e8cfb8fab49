// Migration 8: the probe interval each relay was last handed, so a central restarted with another
// routing.probeIntervalMs re-hands every relay its RelaySpec (the generation goes up).
import type { Migration } from './migration.js';

export const relayProbeInterval: Migration = {
  version: 8,
  name: 'probe interval last handed to each relay',
  sql: `
-- NULL: not recorded yet (a relay designated before this migration, or since the last start).
ALTER TABLE center_relays ADD COLUMN probe_interval_ms INTEGER;
`,
};
