// The traffic sweep as a job: deletes base buckets past traffic.baseRetentionMs (their hours stay), hourly rows
// past traffic.hourlyRetentionMs and counted report ids past 7 days. The rollup itself is written with the
// buckets (services/traffic.ts), so nothing waits for this job to be seen. It runs in time slices (jobs/slices.ts):
// at 3,000 series a run takes seconds, and HTTP and gRPC are answered between its steps.
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import type { JobSpec } from './runner.js';
import { slicer } from './slices.js';

/** The sweep, every `sweepMs` (config traffic.sweepIntervalMs); `clock` gives now (default Date.now). */
export function trafficJobs(
  services: Pick<Services, 'traffic'>,
  logger: Logger,
  sweepMs: number,
  clock: () => number = Date.now,
): JobSpec[] {
  const log = logger.child({ component: 'traffic' });
  return [
    {
      name: 'traffic-sweep',
      intervalMs: sweepMs,
      run: async () => {
        const deleted = { buckets: 0, hours: 0, ids: 0 };
        const pause = slicer();
        for (const _ of services.traffic.sweepSteps(clock(), deleted)) await pause();
        if (deleted.buckets + deleted.hours + deleted.ids > 0)
          log.info(deleted, 'traffic history past retention deleted');
      },
    },
  ];
}
