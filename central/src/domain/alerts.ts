// Alarms (告警), pure: the kinds central raises and what a raise says. An alarm is a record of what
// happened, kept once per (kind, entity): raising the same pair again changes nothing, so a sweep may
// repeat itself. Severity, acknowledgement and delivery (webhooks) are for a later issue.
import type { Alert } from '../api/alerts.js';

export type { Alert } from '../api/alerts.js';

/** Every kind of alarm central raises, and who raises it. */
export const ALERT_KINDS = {
  /** A pending application past its answer deadline (the governance sweep); entityId: the application. */
  APPLICATION_OVERDUE: 'application_overdue',
  /** A node refused a task generation (its acknowledgement); entityId: `<task>@<generation>`. */
  TASK_REFUSED: 'task_refused',
  /** A scheduled verification found the sink differing from the source; entityId: the verification run. */
  RECONCILE_DRIFT: 'reconcile_drift',
  /** A scheduled verification failed; entityId: the verification run. */
  RECONCILE_FAILED: 'reconcile_failed',
  /** The brain's detector found a pair's traffic surging above its forecast (浪涌); entityId: the surge. */
  SURGE_DETECTED: 'surge_detected',
} as const;
export type AlertKind = (typeof ALERT_KINDS)[keyof typeof ALERT_KINDS];

/** What a raise gives: the alarm without its id (the store numbers alarms in the order raised). */
export type NewAlert = Omit<Alert, 'id' | 'kind'> & { kind: AlertKind };
