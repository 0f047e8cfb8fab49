// Migration 4: reports listed newest first.
import type { Migration } from './migration.js';

export const reportsOrder: Migration = {
  version: 4,
  name: 'reports listed newest first',
  sql: `
-- GET /reports lists newest first and pages back with a cursor: the order is (received_at, seq, report_id),
-- report_id making it total. One index for all nodes, one per node; the latter replaces (node_id, seq).
CREATE INDEX reports_received ON reports (received_at, seq, report_id);
CREATE INDEX reports_node_received ON reports (node_id, received_at, seq, report_id);
DROP INDEX reports_node_seq;
`,
};
