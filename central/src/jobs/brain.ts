// The brain's jobs: the clustering of pairs with their static policies (every brain.clusterIntervalMs, once at
// start), and the surge watch (every brain.surgeIntervalMs: closed buckets fed to the detectors, imports replayed)
// followed by the tide allocation (flows spread over standbys while their pre-warm window holds).
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import type { JobSpec } from './runner.js';

export function brainJobs(
  services: Pick<Services, 'clusters' | 'surges' | 'tide'>,
  logger: Logger,
  every: { clusterMs: number; surgeMs: number },
): JobSpec[] {
  const log = logger.child({ component: 'brain' });
  return [
    {
      name: 'brain-cluster',
      intervalMs: every.clusterMs,
      runAtStart: true,
      run: () => {
        const r = services.clusters.run();
        if (!r.run) log.info({ skipped: r.skipped }, 'no pair has enough history to cluster');
      },
    },
    {
      name: 'brain-surges',
      intervalMs: every.surgeMs,
      run: async () => {
        await services.surges.tick();
        const acts = services.tide.tick();
        if (acts.length) log.info({ actions: acts }, 'tide allocation changed');
      },
    },
  ];
}
