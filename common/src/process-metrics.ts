// Process metrics of central and the agent: prom-client's default Node.js collectors under a prefix, less
// the three gauges it names with a "_total" suffix (`promtool check metrics` warns: only counters end in
// _total). Their figures stay exported by type, without the suffix (<prefix>nodejs_active_handles{type} …).
import { collectDefaultMetrics, type Registry } from 'prom-client';

const TOTAL_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Registers the default process and Node.js metrics on `registry`, names starting with `prefix`. */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of TOTAL_GAUGES) registry.removeSingleMetric(prefix + name);
}
