// Alerts (告警), pure: the kinds central raises, their lifecycle firing → acknowledged → resolved, severity
// and its escalation, the rules' verdicts over node health and task runs, and the webhook's retry delay.
// Invariant: at most one open (firing or acknowledged) alert per (kind, entity); time is an argument.
import type { Alert, AlertMessageParams, AlertSeverity, AlertState } from '../api/alerts.js';

export type { Alert, AlertMessageParams, AlertSeverity, AlertState } from '../api/alerts.js';

/** Every kind of alert central raises, and who raises it. */
export const ALERT_KINDS = {
  /** A pending application past its answer deadline (the governance sweep); entityId: the application. Ends when answered. */
  APPLICATION_OVERDUE: 'application_overdue',
  /** A node refused a task generation (its acknowledgement); entityId: `<task>@<generation>`. */
  TASK_REFUSED: 'task_refused',
  /** A scheduled verification found the sink differing from the source (data-quality drift); entityId: the run. */
  RECONCILE_DRIFT: 'reconcile_drift',
  /** A scheduled verification failed; entityId: the verification run. */
  RECONCILE_FAILED: 'reconcile_failed',
  /** The brain's detector found a pair's traffic surging above its forecast (浪涌); entityId: the surge. Ends with it. */
  SURGE_DETECTED: 'surge_detected',
  /** A node missed its heartbeat TTL (liveness); entityId: the node. Ends when it heartbeats again. */
  NODE_OFFLINE: 'node_offline',
  /** A node's spool holds more than the backlog thresholds (heartbeat health); entityId: the node. */
  SPOOL_BACKLOG: 'spool_backlog',
  /** A task's last runs all failed (task_run reports); entityId: the task. Ends with a run that does not fail. */
  TASK_FAILING: 'task_failing',
  /** A task quarantined many records within the window (quarantine reports); entityId: the task. */
  QUARANTINE_GROWING: 'quarantine_growing',
  /** None of an exchange center's NATS URLs answers with its INFO line; entityId: the center code. */
  CENTER_UNREACHABLE: 'center_unreachable',
} as const;
export type AlertKind = (typeof ALERT_KINDS)[keyof typeof ALERT_KINDS];

/**
 * The named parameters each kind's message carries (stored with the alert; the dashboard's catalogs have one
 * message per kind with these placeholders). Names ending in `At` are epoch ms; `bytes` is bytes; free text
 * from elsewhere (an agent's reason, a connection error) stays as it came.
 */
export interface AlertParamsOf {
  node_offline: { node: string; department: string; sinceAt: number };
  spool_backlog: { node: string; department: string; batches: number; bytes: number };
  task_failing: { task: string; node: string; runs: number };
  quarantine_growing: { task: string; records: number; windowMin: number };
  center_unreachable: { center: string; detail: string };
  application_overdue: { application: string; consumer: string; resource: string; provider: string };
  task_refused: { node: string; department: string; task: string; generation: number; reason: string };
  reconcile_drift: { subscription: string; missing: number; extra: number; different: number; rows: number };
  reconcile_failed: { verification: string; subscription: string; error: string };
  surge_detected: { from: string; to: string; resource: string; peak: number; expected: number };
}

/** The parameters of `kind`'s message as stored (checked against AlertParamsOf where the kind is known). */
export function alertParams<K extends AlertKind>(_kind: K, params: AlertParamsOf[K]): AlertMessageParams {
  return { ...params };
}

export const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = { info: 0, warning: 1, critical: 2 };

/** What a raise gives: the kind, the entity, where it belongs, what it says, when; severity default warning. */
export interface NewAlert {
  kind: AlertKind;
  entityId: string;
  /** The department the alert belongs to ('' for province-wide ones such as a center): scopes who sees it. */
  departmentCode: string;
  /** English, for the CLI and the webhook. */
  message: string;
  /**
   * The message's named parameters (alertParams(kind, …)): the dashboard renders them in its language. Every
   * rule central has gives them; without them (null) the dashboard shows `message`.
   */
  params?: AlertMessageParams;
  /** When it was seen, epoch ms. */
  at: number;
  /** Default 'warning'. */
  severity?: AlertSeverity;
}

/** How a raise changes the open alert of its (kind, entity), if any. */
export type Firing =
  { kind: 'open'; severity: AlertSeverity } | { kind: 'seen'; severity: AlertSeverity; escalated: boolean };

/**
 * A raise against the open alert of its kind and entity: none open → a new alert; open → seen again (count and
 * last-seen move) and its severity rises to the new one when higher (warning → critical), never falls.
 */
export function fire(open: Pick<Alert, 'severity'> | undefined, incoming: AlertSeverity): Firing {
  if (!open) return { kind: 'open', severity: incoming };
  const escalated = SEVERITY_RANK[incoming] > SEVERITY_RANK[open.severity];
  return { kind: 'seen', severity: escalated ? incoming : open.severity, escalated };
}

/** Why an acknowledgement is refused, or undefined when it may be recorded. */
export function ackProblem(state: AlertState): string | undefined {
  if (state === 'resolved') return 'the alert has ended (resolved); only open alerts are acknowledged';
  if (state === 'acknowledged') return 'the alert is already acknowledged';
  return undefined;
}

/** Backlog thresholds of a node's spool (config alerts.spoolBacklog); a threshold of 0 is off. */
export interface BacklogThresholds {
  warningBatches: number;
  criticalBatches: number;
  warningBytes: number;
  criticalBytes: number;
}

/**
 * The backlog verdict of a node's last health: critical when batches (spoolDepth) or bytes (spoolBytes) reach a
 * critical threshold, warning when one reaches a warning threshold, else undefined (the alert ends).
 */
export function backlogSeverity(
  health: { spoolDepth?: number | undefined; spoolBytes?: number | undefined },
  t: BacklogThresholds,
): AlertSeverity | undefined {
  const depth = health.spoolDepth ?? 0;
  const bytes = health.spoolBytes ?? 0;
  const reaches = (v: number, limit: number): boolean => limit > 0 && v >= limit;
  if (reaches(depth, t.criticalBatches) || reaches(bytes, t.criticalBytes)) return 'critical';
  if (reaches(depth, t.warningBatches) || reaches(bytes, t.warningBytes)) return 'warning';
  return undefined;
}

/** Failed runs at the end of a task's runs, newest first (`statuses[0]` is the newest run). */
export function trailingFailures(statusesNewestFirst: readonly string[]): number {
  let n = 0;
  for (const s of statusesNewestFirst) {
    if (s !== 'failed') break;
    n++;
  }
  return n;
}

/**
 * Delay before webhook attempt `attempts + 1`: base × 1.6^attempts up to max, ±20 % jitter (STYLE.md's backoff;
 * `random` in [0, 1) is an argument so that tests can fix it).
 */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, random: number): number {
  const raw = Math.min(maxMs, baseMs * Math.pow(1.6, attempts));
  return Math.max(1, Math.round(raw * (0.8 + 0.4 * random)));
}
