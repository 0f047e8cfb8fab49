// Alerts (告警) as a service: the one path by which anything in central raises, resolves or acknowledges an
// alert, and the listing. Invariants: raise() and resolve() run inside the caller's transaction (or their own),
// so an alert commits together with what caused it or not at all; every change that a webhook receiver should
// hear of (opened, escalated, acknowledged, resolved) is written to the outbox in that same transaction.
import type { AlertEventKind } from '../api/alerts.js';
import { ackProblem, fire, type Alert, type NewAlert } from '../domain/alerts.js';
import type { Actor } from '../domain/roles.js';
import { ErrorCode, XchgError, notFound } from '../errors.js';
import type { AlertFilter, Store } from '../store/index.js';
import type { AuditTrail } from './audit.js';

export { ALERT_KINDS, alertParams, type AlertKind, type NewAlert } from '../domain/alerts.js';

/** Who hears of alert changes besides the API. */
export interface AlertServiceOptions {
  /** Webhook URLs every change is posted to (config alerts.webhook.urls); none: nothing is queued. */
  webhookUrls: readonly string[];
}

export class AlertService {
  private opts: AlertServiceOptions = { webhookUrls: [] };

  /** `audit`: where acknowledgements are recorded (absent: not audited). */
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
    private readonly audit?: AuditTrail,
  ) {}

  /** Sets where changes are delivered (main.ts, from config alerts.webhook). */
  configure(opts: AlertServiceOptions): void {
    this.opts = opts;
  }

  /**
   * Raises an alert (severity default warning). With none open for its kind and entity a new firing alert is
   * opened: true. With one open it is seen again (count, last seen, message; severity rises, never falls: an
   * escalation is posted to the webhook): false. Callers audit or log only new alerts.
   */
  raise(a: NewAlert): boolean {
    return this.store.tx(() => {
      const open = this.store.alerts.open(a.kind, a.entityId);
      const f = fire(open, a.severity ?? 'warning');
      if (f.kind === 'open') {
        const id = this.store.alerts.insert({ ...a, severity: f.severity });
        this.changed(id, 'opened', a.at);
        return true;
      }
      this.store.alerts.seen(open!.id, a.at, a.message, a.params, f.severity);
      if (f.escalated) this.changed(open!.id, 'escalated', a.at);
      return false;
    });
  }

  /**
   * Ends the open alert of this kind and entity (the condition is gone: the node is back, the surge ended);
   * true when one was open. A later raise opens a new alert.
   */
  resolve(kind: string, entityId: string, reason = 'condition cleared', at: number = this.clock()): boolean {
    return this.store.tx(() => {
      const open = this.store.alerts.open(kind, entityId);
      if (!open) return false;
      this.store.alerts.resolve(open.id, Math.max(at, open.startedAt), reason);
      this.changed(open.id, 'resolved', at);
      return true;
    });
  }

  /** Records who took an open alert, when, with a note; FAILED_PRECONDITION when it ended or was acknowledged. */
  acknowledge(id: number, actor: Actor, note: string, visible?: readonly string[]): Alert {
    const now = this.clock();
    return this.store.tx(() => {
      const a = this.get(id, visible);
      const problem = ackProblem(a.state);
      if (problem) throw new XchgError(ErrorCode.FAILED_PRECONDITION, `alert ${id}: ${problem}`);
      this.store.alerts.acknowledge(id, actor.name, now, note);
      this.audit?.record(
        actor,
        {
          action: 'alert.ack',
          entityType: 'alert',
          entityId: String(id),
          departmentCode: a.departmentCode,
          details: { kind: a.kind, entityId: a.entityId, note },
        },
        now,
      );
      this.changed(id, 'acknowledged', now);
      return this.store.alerts.get(id)!;
    });
  }

  /** One alert; NOT_FOUND when absent or outside `visible` departments (a city admin's scope). */
  get(id: number, visible?: readonly string[]): Alert {
    const a = this.store.alerts.get(id);
    if (!a || (visible && !visible.includes(a.departmentCode))) throw notFound('alert', String(id));
    return a;
  }

  /** Alerts, newest first (at most `limit`, default 1000). */
  list(filter: AlertFilter = {}): Alert[] {
    return this.store.alerts.list(filter);
  }

  /** Open alerts of a kind (what the rules compare their verdicts with). */
  openOfKind(kind: string): Alert[] {
    return this.store.alerts.openOfKind(kind);
  }

  private changed(id: number, event: AlertEventKind, at: number): void {
    if (!this.opts.webhookUrls.length) return;
    const alert = this.store.alerts.get(id)!;
    this.store.alerts.enqueue(id, this.opts.webhookUrls, JSON.stringify({ event, alert, at }), at);
  }
}
