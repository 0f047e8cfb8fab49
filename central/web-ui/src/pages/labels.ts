// How states read on the pages: a node's status and an alert's severity as colored labels, an alert rule (kind)
// by its translated name.
import { el } from '../dom.js';
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

export function severityLabel(severity: string): HTMLElement {
  const key = SEVERITIES[severity];
  return el('span', { class: `sev sev-${severity}` }, key ? t(key) : severity);
}

/** A node's status as a colored label. */
export function statusLabel(status: string): HTMLElement {
  return el('span', { class: `status status-${status}` }, t(status === 'online' ? 'ndOnline' : 'ndOffline'));
}
