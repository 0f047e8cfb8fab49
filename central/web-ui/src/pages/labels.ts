// How states read on the pages: a node's status and an alert's severity as colored labels, an alert rule (kind)
// by its translated name.
import type { Alert } from '../api-types.js';
import { el } from '../dom.js';
import { bytes, dateTime, int } from '../format.js';
import { t } from '../i18n/index.js';
import type { AlertKind } from '../../../src/domain/alerts.js';
import type { MessageKey } from '../i18n/zh.js';

/** Every rule central has (a new one fails the web build until it is named here and in the catalogs). */
const KINDS: Record<AlertKind, MessageKey> = {
  node_offline: 'alKind_node_offline',
  spool_backlog: 'alKind_spool_backlog',
  task_failing: 'alKind_task_failing',
  quarantine_growing: 'alKind_quarantine_growing',
  center_unreachable: 'alKind_center_unreachable',
  application_overdue: 'alKind_application_overdue',
  task_refused: 'alKind_task_refused',
  reconcile_drift: 'alKind_reconcile_drift',
  reconcile_failed: 'alKind_reconcile_failed',
  surge_detected: 'alKind_surge_detected',
};

/** Each rule's message, with the placeholders of its params (domain/alerts.ts AlertParamsOf). */
const MESSAGES: Record<AlertKind, MessageKey> = {
  node_offline: 'alMsg_node_offline',
  spool_backlog: 'alMsg_spool_backlog',
  task_failing: 'alMsg_task_failing',
  quarantine_growing: 'alMsg_quarantine_growing',
  center_unreachable: 'alMsg_center_unreachable',
  application_overdue: 'alMsg_application_overdue',
  task_refused: 'alMsg_task_refused',
  reconcile_drift: 'alMsg_reconcile_drift',
  reconcile_failed: 'alMsg_reconcile_failed',
  surge_detected: 'alMsg_surge_detected',
};

const SEVERITIES: Record<string, MessageKey> = {
  info: 'alSev_info',
  warning: 'alSev_warning',
  critical: 'alSev_critical',
};

/** A rule's name in the current language (an unknown kind as it is). */
export function alertKind(kind: string): string {
  const key = Object.hasOwn(KINDS, kind) ? KINDS[kind as AlertKind] : undefined;
  return key ? t(key) : kind;
}

/**
 * An alert's message in the current language from its params: `...At` numbers as times, `bytes` in binary units,
 * other numbers grouped. An alert without params (raised before they were kept) or of a kind this page does not
 * know shows central's English `message`.
 */
export function alertMessage(a: Pick<Alert, 'kind' | 'message' | 'params'>): string {
  const key = Object.hasOwn(MESSAGES, a.kind) ? MESSAGES[a.kind as AlertKind] : undefined;
  if (!key || !a.params) return a.message;
  const vars: Record<string, string | number> = {};
  for (const [name, v] of Object.entries(a.params)) {
    if (typeof v === 'string') vars[name] = v;
    else if (name.endsWith('At')) vars[name] = dateTime(v);
    else vars[name] = name === 'bytes' ? bytes(v) : int(v);
  }
  return t(key, vars);
}

export function severityLabel(severity: string): HTMLElement {
  const key = SEVERITIES[severity];
  return el('span', { class: `sev sev-${severity}` }, key ? t(key) : severity);
}

/** A node's status as a colored label. */
export function statusLabel(status: string): HTMLElement {
  return el('span', { class: `status status-${status}` }, t(status === 'online' ? 'ndOnline' : 'ndOffline'));
}
