// Migration 17: an alert keeps its message's named parameters (JSON object; domain/alerts.ts AlertParamsOf) so the
// dashboard shows it in the viewer's language. Alerts raised before have none (NULL): they show `message`.
import type { Migration } from './migration.js';

export const alertParams: Migration = {
  version: 17,
  name: 'alerts.params: the named parameters of the message (JSON), NULL for older alerts',
  sql: `
ALTER TABLE alerts ADD COLUMN params TEXT CHECK (params IS NULL OR json_type(params) = 'object');
`,
};
