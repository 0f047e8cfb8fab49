// Alarms (告警) as a service: the one path by which anything in central raises an alarm, and the listing
// GET /alerts shows. Invariant: raise() runs inside the caller's transaction, so an alarm commits together
// with what caused it (an overdue application, a refused task, a drifting subscription) or not at all.
import type { NewAlert } from '../domain/alerts.js';
import type { Alert, AlertFilter, Store } from '../store/index.js';

export { ALERT_KINDS, type AlertKind, type NewAlert } from '../domain/alerts.js';

export class AlertService {
  constructor(private readonly store: Store) {}

  /**
   * Raises an alarm unless one of its kind for its entity exists already; true when it is new (callers
   * audit or log only new alarms). The place for severity, acknowledgement and delivery when they come.
   */
  raise(alert: NewAlert): boolean {
    return this.store.alerts.raise(alert);
  }

  /** Alarms, newest first (at most `limit`, default 1000). */
  list(filter: AlertFilter = {}): Alert[] {
    return this.store.alerts.list(filter);
  }
}
