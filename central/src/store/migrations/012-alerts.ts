// Migration 12: alerts (告警) get a lifecycle — state, severity, start, last seen and count, acknowledgement,
// end — and a durable webhook outbox. Existing rows keep their meaning (see the comments in the SQL).
import type { Migration } from './migration.js';

export const alerts: Migration = {
  version: 12,
  name: 'alerts: state firing/acknowledged/resolved, severity, acknowledgement, end; webhook outbox',
  sql: `
-- SQLite cannot drop the old UNIQUE (kind, entity_id): the table is rebuilt. Only one alert of a kind and
-- entity may be open (firing or acknowledged); a resolved one that fires again is a new row.
CREATE TABLE alerts_v12 (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL,
  entity_id       TEXT NOT NULL,
  department_code TEXT NOT NULL DEFAULT '',
  message         TEXT NOT NULL,
  severity        TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  state           TEXT NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
  started_at      INTEGER NOT NULL,
  last_seen_at    INTEGER NOT NULL,
  count           INTEGER NOT NULL DEFAULT 1,
  acked_by        TEXT,
  acked_at        INTEGER,
  ack_note        TEXT NOT NULL DEFAULT '',
  ended_at        INTEGER,
  end_reason      TEXT NOT NULL DEFAULT ''
) STRICT;
-- Old rows: an overdue application that has since been answered is resolved at its answer; every other old
-- alarm (overdue and still pending, a refused task generation, a verification's drift or failure, a surge)
-- stays firing for an operator to acknowledge. Old alarms had no severity: warning.
INSERT INTO alerts_v12 (id, kind, entity_id, department_code, message, severity, state, started_at, last_seen_at,
                        ended_at, end_reason)
SELECT al.id, al.kind, al.entity_id, al.department_code, al.message, 'warning',
       CASE WHEN ap.status IS NOT NULL AND ap.status <> 'pending' THEN 'resolved' ELSE 'firing' END,
       al.at, al.at,
       CASE WHEN ap.status IS NOT NULL AND ap.status <> 'pending' THEN max(al.at, coalesce(ap.answered_at, al.at)) END,
       CASE WHEN ap.status IS NOT NULL AND ap.status <> 'pending' THEN 'application ' || ap.status ELSE '' END
FROM alerts al
LEFT JOIN applications ap ON al.kind = 'application_overdue' AND ap.id = al.entity_id;
DROP TABLE alerts;
ALTER TABLE alerts_v12 RENAME TO alerts;
CREATE UNIQUE INDEX alerts_open ON alerts (kind, entity_id) WHERE state <> 'resolved';
CREATE INDEX alerts_state ON alerts (state, id);

-- Webhook deliveries (one row per alert change and URL) until the receiver answers 2xx or the row is older
-- than alerts.webhook.giveUpAfterMs. Written in the transaction of the change, so a restart loses nothing.
CREATE TABLE alert_outbox (
  id              INTEGER PRIMARY KEY,
  alert_id        INTEGER NOT NULL,
  url             TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at);
`,
};
