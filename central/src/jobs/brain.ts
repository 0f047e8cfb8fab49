// The brain's jobs: the clustering of pairs with their static policies (every brain.clusterIntervalMs, once at
// start), and the surge watch (every brain.surgeIntervalMs: closed buckets fed to the detectors, imports replayed)
// followed by the tide allocation (flows spread over standbys while their pre-warm window holds).
// With `workers`, the clustering reads and computes in a worker thread and writes its policies in time slices
// (seconds of CPU at 2,000 nodes kept off central's event loop); without, it runs in process (tests from sources).
// The job and an operator's POST /clusters/run share one clusterRunner: one clustering at a time.
import type { Logger } from 'pino';
import type { ClusterRunResult } from '../services/brain-clusters.js';
import type { Services } from '../services/index.js';
import { JobWorkersStopped, type JobWorkers } from './job-worker.js';
import type { JobSpec } from './runner.js';
import { slicer } from './slices.js';

/**
 * Runs the clustering: in a worker thread with its writes in time slices when `workers` are given, else in
 * process. One run at a time: a call while one runs (the job's, or an operator's) resolves with that run's
 * result. Rejects with the computation's error, or JobWorkersStopped once central stops.
 */
export function clusterRunner(clusters: Services['clusters'], workers?: JobWorkers): () => Promise<ClusterRunResult> {
  let running: Promise<ClusterRunResult> | undefined;
  const once = (): Promise<ClusterRunResult> =>
    workers
      ? clusters.runAsync(
          (window) => workers.run<'cluster'>({ kind: 'cluster', window, calendar: clusters.calendarSpec }),
          slicer(),
        )
      : Promise.resolve().then(() => clusters.run());
  return () => (running ??= once().finally(() => (running = undefined)));
}

export function brainJobs(
  services: Pick<Services, 'clusters' | 'surges' | 'tide'>,
  logger: Logger,
  every: { clusterMs: number; surgeMs: number },
  runClusters: () => Promise<ClusterRunResult> = clusterRunner(services.clusters),
): JobSpec[] {
  const log = logger.child({ component: 'brain' });
  return [
    {
      name: 'brain-cluster',
      intervalMs: every.clusterMs,
      runAtStart: true,
      run: async () => {
        try {
          const r = await runClusters();
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
