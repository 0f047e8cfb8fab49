// The `alerts` section of central's config (config.ts includes it): the thresholds of the alert rules, the
// evaluation intervals and the webhook. Its own file to keep config.ts short; config.ts still owns loading.
import { Type, type Static } from 'typebox';

const Ms = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum });

export const AlertsConfigSchema = Type.Object(
  {
    /** How often the rules over nodes, tasks, quarantine and applications run, ms (10 000). */
    evaluateIntervalMs: Ms(20, 3_600_000),
    /** Severity of a node offline alert (critical). */
    nodeOfflineSeverity: Type.Enum(['info', 'warning', 'critical']),
    /**
     * Spool backlog of a node, from its heartbeat health (spoolDepth: batches in its outbox; spoolBytes); a
     * threshold of 0 is off. Warning at 1 000 batches or 256 MiB, critical at 10 000 batches or 1 GiB.
     */
    spoolBacklog: Type.Object(
      {
        warningBatches: Type.Integer({ minimum: 0 }),
        criticalBatches: Type.Integer({ minimum: 0 }),
        warningBytes: Type.Integer({ minimum: 0 }),
        criticalBytes: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    /** Consecutive failed runs of a task that raise task_failing (3); 0: off. */
    taskFailingRuns: Type.Integer({ minimum: 0, maximum: 1000 }),
    /** Records one task quarantines within quarantineWindowMs that raise quarantine_growing (100); 0: off. */
    quarantineRecords: Type.Integer({ minimum: 0 }),
    quarantineWindowMs: Ms(1000, 31 * 86_400_000),
    /** How often every exchange center's NATS URLs are asked for their INFO line, ms (60 000); 0: never. */
    centerCheckIntervalMs: Ms(0, 86_400_000),
    /** How long each URL may take to answer, ms (2 000). */
    centerCheckTimeoutMs: Ms(50, 60_000),
    /**
     * Webhook: each alert change (opened, escalated, acknowledged, resolved) POSTed as JSON to every URL, with
     * X-Xchg-Signature: sha256=<hex HMAC-SHA256 of the raw body under secret>. Retried from a durable outbox.
     */
    webhook: Type.Object(
      {
        /** http(s) URLs; none: no webhook. */
        urls: Type.Array(Type.String({ pattern: '^https?://' })),
        /** Shared secret of the signature, 16 characters at least; required with urls. */
        secret: Type.String(),
        /** How often the outbox is looked at for due deliveries, ms (1 000). */
        pollIntervalMs: Ms(20, 600_000),
        /** How long one POST may take, ms (5 000). */
        timeoutMs: Ms(100, 120_000),
        /** First retry delay, ms (1 000); each next × 1.6 up to retryMaxMs (120 000), ±20 % jitter. */
        retryBaseMs: Ms(10, 3_600_000),
        retryMaxMs: Ms(10, 86_400_000),
        /** A delivery still failing this long after the change is dropped with an ERROR log line, ms (24 h). */
        giveUpAfterMs: Ms(1000, 31 * 86_400_000),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type AlertsConfig = Static<typeof AlertsConfigSchema>;

export const ALERTS_DEFAULTS: AlertsConfig = {
  evaluateIntervalMs: 10_000,
  nodeOfflineSeverity: 'critical',
  spoolBacklog: {
    warningBatches: 1_000,
    criticalBatches: 10_000,
    warningBytes: 256 * 1024 * 1024,
    criticalBytes: 1024 * 1024 * 1024,
  },
  taskFailingRuns: 3,
  quarantineRecords: 100,
  quarantineWindowMs: 3_600_000,
  centerCheckIntervalMs: 60_000,
  centerCheckTimeoutMs: 2_000,
  webhook: {
    urls: [],
    secret: '',
    pollIntervalMs: 1_000,
    timeoutMs: 5_000,
    retryBaseMs: 1_000,
    retryMaxMs: 120_000,
    giveUpAfterMs: 24 * 3_600_000,
  },
};

/** What is wrong across the section's settings (each setting alone is checked by the schema). */
export function alertsConfigProblems(a: AlertsConfig): string[] {
  const problems: string[] = [];
  const b = a.spoolBacklog;
  const order = (warn: number, crit: number, what: string): void => {
    if (warn > 0 && crit > 0 && crit <= warn)
      problems.push(`alerts.spoolBacklog.critical${what}: ${crit} must be above warning${what} (${warn})`);
  };
  order(b.warningBatches, b.criticalBatches, 'Batches');
  order(b.warningBytes, b.criticalBytes, 'Bytes');
  const w = a.webhook;
  if (w.urls.length && w.secret.length < 16)
    problems.push('alerts.webhook.secret: at least 16 characters are needed when alerts.webhook.urls are set');
  if (w.retryMaxMs < w.retryBaseMs)
    problems.push(`alerts.webhook.retryMaxMs: ${w.retryMaxMs} must be at least retryBaseMs (${w.retryBaseMs})`);
  return problems;
}
