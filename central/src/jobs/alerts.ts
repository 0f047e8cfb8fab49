// The alert jobs: the rules over nodes, tasks, quarantine and applications (alerts.evaluateIntervalMs), the
// centers' NATS check (alerts.centerCheckIntervalMs) and the webhook outbox (alerts.webhook.pollIntervalMs).
// Also wires the webhook URLs into the alert service and gives main.ts the per-node hook for liveness changes.
import type { Logger } from 'pino';
import type { AlertsConfig } from '../config-alerts.js';
import { AlertRules } from '../services/alert-rules.js';
import { AlertWebhook } from '../services/alert-webhook.js';
import type { Services } from '../services/index.js';
import type { Store } from '../store/index.js';
import type { JobSpec } from './runner.js';
import { slicer } from './slices.js';

/** What main.ts adds: the jobs, and `nodeChanged` to call after a node's liveness transition. */
export interface AlertJobs {
  jobs: JobSpec[];
  nodeChanged: (nodeId: string) => void;
}

export function alertJobs(
  store: Store,
  services: Pick<Services, 'alerts'>,
  config: AlertsConfig,
  logger: Logger,
  clock: () => number = Date.now,
): AlertJobs {
  const log = logger.child({ component: 'alerts' });
  const rules = new AlertRules(store, services.alerts, clock, config);
  services.alerts.configure({ webhookUrls: config.webhook.urls });
  const jobs: JobSpec[] = [
    {
      name: 'alert-rules',
      intervalMs: config.evaluateIntervalMs,
      runAtStart: true,
      // In time slices (at 2,000 nodes and 6,000 tasks the rules take about a second at once).
      run: async () => {
        const out = { opened: 0 };
        const pause = slicer();
        for (const _ of rules.evaluateSteps(out)) await pause();
        const opened = out.opened;
        if (opened) log.info({ opened }, 'alerts opened by the rules');
      },
    },
  ];
  if (config.centerCheckIntervalMs > 0)
    jobs.push({
      name: 'alert-centers',
      intervalMs: config.centerCheckIntervalMs,
      run: async () => {
        const opened = await rules.centers();
        if (opened) log.warn({ opened }, 'exchange centers unreachable');
      },
    });
  if (config.webhook.urls.length) {
    const webhook = new AlertWebhook(store, config.webhook, log, clock);
    jobs.push({
      name: 'alert-webhook',
      intervalMs: config.webhook.pollIntervalMs,
      run: () => webhook.deliverDue().then(() => undefined),
    });
  }
  return {
    jobs,
    nodeChanged: (nodeId) => {
      try {
        rules.node(nodeId);
      } catch (err) {
        log.error({ err, nodeId }, 'node alert rules failed');
      }
    },
  };
}
