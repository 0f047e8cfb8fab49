// Routing as jobs: route evaluation every probe interval (link states from the probe windows, then every
// needed pair's route; changes pushed to the nodes concerned) and the sweep of raw probe windows past their
// retention. Route and link-state changes are logged under component "routing".
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import type { JobSpec } from './runner.js';

/** Intervals of the routing jobs, in ms (config routing.probeIntervalMs and routing.sweepIntervalMs). */
export interface RoutingIntervals {
  evaluateMs: number;
  sweepMs: number;
}

export function routingJobs(
  services: Pick<Services, 'routing' | 'probes'>,
  logger: Logger,
  every: RoutingIntervals,
): JobSpec[] {
  const log = logger.child({ component: 'routing' });
  return [
    {
      name: 'route-evaluate',
      intervalMs: every.evaluateMs,
      runAtStart: true,
      run: () => {
        const r = services.routing.evaluate();
        for (const l of r.links) {
          const fields = { linkId: l.linkId, from: l.from ?? null, to: l.to, reason: l.reason };
          if (l.to === 'up') log.info(fields, 'link state changed');
          else log.warn(fields, 'link state changed');
        }
        for (const c of r.changes)
          log.info(
            { from: c.from, to: c.to, previous: c.previous, route: c.route, reason: c.reason },
            c.previous ? 'route changed' : 'route chosen',
          );
      },
    },
    {
      name: 'probe-sweep',
      intervalMs: every.sweepMs,
      run: () => {
        const deleted = services.probes.sweep(Date.now());
        if (deleted) log.debug({ deleted }, 'old probe windows deleted');
      },
    },
  ];
}
