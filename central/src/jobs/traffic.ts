// The traffic sweep as a job: deletes base buckets past traffic.baseRetentionMs (their hours stay), hourly rows
// past traffic.hourlyRetentionMs and counted report ids past 7 days. The rollup itself is written with the
// buckets (services/traffic.ts), so nothing waits for this job to be seen.
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import type { JobSpec } from './runner.js';

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
      run: () => {
        const deleted = services.traffic.sweep(clock());
        if (deleted.buckets + deleted.hours + deleted.ids > 0)
          log.info(deleted, 'traffic history past retention deleted');
      },
    },
  ];
}
