// Central's sweeps as jobs: node liveness (offline after a missed heartbeat TTL), governance (overdue
// applications alarmed, lapsed agreements ended), scheduled reconciliation (对账) runs requested, and
// scheduling policies (策略) whose validity ended withdrawn (at the governance interval).
// Each logs what it did under its own component; the runner logs its failures.
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import type { JobSpec } from './runner.js';
import { slicer } from './slices.js';

/** Intervals of the sweeps, in ms (config: livenessCheckIntervalMs, governance.sweepIntervalMs, reconcile.sweepIntervalMs). */
export interface SweepIntervals {
  livenessMs: number;
  governanceMs: number;
  reconcileMs: number;
}

export function sweepJobs(
  services: Pick<Services, 'nodes' | 'sharing' | 'reconcile' | 'policies'>,
  logger: Logger,
  every: SweepIntervals,
): JobSpec[] {
  const governanceLog = logger.child({ component: 'governance' });
  const reconcileLog = logger.child({ component: 'reconcile' });
  const policyLog = logger.child({ component: 'policy' });
  return [
    // Liveness transitions are logged by the node service's onTransition (main.ts).
    { name: 'liveness-sweep', intervalMs: every.livenessMs, run: () => void services.nodes.sweep() },
    {
      name: 'governance-sweep',
      intervalMs: every.governanceMs,
      // At start too: alarms and expiries that fell due while central was down are handled at once.
      runAtStart: true,
      run: () => {
        const done = services.sharing.sweep();
        for (const id of done.overdueAlarms)
          governanceLog.warn({ applicationId: id }, 'application past its answer deadline');
        for (const id of done.expired) governanceLog.info({ agreementId: id }, 'agreement expired; its flows stopped');
      },
    },
    {
      name: 'reconcile-sweep',
      intervalMs: every.reconcileMs,
      // In time slices: the first sweep over a province requests thousands of runs (seconds of transactions).
      run: async () => {
        const started: string[] = [];
        const pause = slicer();
        for (const _ of services.reconcile.sweepSteps(started)) await pause();
        for (const id of started) reconcileLog.info({ runId: id }, 'scheduled verification requested');
      },
    },
    {
      name: 'policy-sweep',
      intervalMs: every.governanceMs,
      runAtStart: true,
      run: () => {
        for (const id of services.policies.expireLapsed())
          policyLog.info({ policyId: id }, 'policy validity ended; withdrawn');
      },
    },
  ];
}
