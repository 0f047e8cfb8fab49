// The brain's jobs: the clustering of pairs with their static policies (every brain.clusterIntervalMs, once at
// start), and the surge watch (every brain.surgeIntervalMs: closed buckets fed to the detectors, imports replayed)
// followed by the tide allocation (flows spread over standbys while their pre-warm window holds).
// With `workers`, the clustering reads and computes in a worker thread and writes its policies in time slices
// (seconds of CPU at 2,000 nodes kept off central's event loop); without, it runs in process (tests from sources).
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import { JobWorkersStopped, type JobWorkers } from './job-worker.js';
import type { JobSpec } from './runner.js';
import { slicer } from './slices.js';

export function brainJobs(
  services: Pick<Services, 'clusters' | 'surges' | 'tide'>,
  logger: Logger,
  every: { clusterMs: number; surgeMs: number },
  workers?: JobWorkers,
): JobSpec[] {
  const log = logger.child({ component: 'brain' });
  const { clusters } = services;
  return [
    {
      name: 'brain-cluster',
      intervalMs: every.clusterMs,
      runAtStart: true,
      run: async () => {
        try {
          const r = workers
            ? await clusters.runAsync(
                (window) => workers.run<'cluster'>({ kind: 'cluster', window, calendar: clusters.calendarSpec }),
                slicer(),
              )
            : clusters.run();
          if (!r.run) log.info({ skipped: r.skipped }, 'no pair has enough history to cluster');
        } catch (err) {
          if (!(err instanceof JobWorkersStopped)) throw err;
        }
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
