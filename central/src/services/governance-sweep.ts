// The governance sweep (a job, central/src/jobs/sweeps.ts): alarms pending applications past their answer
// deadline (never answering them) and ends agreements whose validity ran out, stopping their flows. It
// may run any number of times: an alarm is raised once per application, an agreement ends once.
import { SYSTEM_ACTOR } from '../domain/roles.js';
import type { Store } from '../store/index.js';
import type { AgreementService } from './agreements.js';
import { ALERT_KINDS, alertParams, type AlertService } from './alerts.js';
import type { AuditTrail } from './audit.js';

export class GovernanceSweep {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly alerts: AlertService,
    private readonly agreements: AgreementService,
  ) {}

  /**
   * Raises one alarm per pending application past its deadline (never answering it) and ends every
   * active agreement whose validity ran out, stopping its flows. Returns what it did.
   */
  sweep(): { overdueAlarms: string[]; expired: string[] } {
    const now = this.clock();
    return this.store.tx(() => {
      const overdueAlarms: string[] = [];
      for (const a of this.store.sharing.overdueApplications(now)) {
        const message = `application ${a.id} of ${a.consumerDepartmentCode} for ${a.resourceCode} is past its answer deadline; ${a.providerDepartmentCode} has not answered`;
        if (
          !this.alerts.raise({
            kind: ALERT_KINDS.APPLICATION_OVERDUE,
            entityId: a.id,
            departmentCode: a.providerDepartmentCode,
            message,
            params: alertParams(ALERT_KINDS.APPLICATION_OVERDUE, {
              application: a.id,
              consumer: a.consumerDepartmentCode,
              resource: a.resourceCode,
              provider: a.providerDepartmentCode,
            }),
            at: now,
          })
        )
          continue;
        overdueAlarms.push(a.id);
        this.audit.record(
          SYSTEM_ACTOR,
          {
            action: 'application.overdue',
            entityType: 'application',
            entityId: a.id,
            departmentCode: a.providerDepartmentCode,
            peerDepartmentCode: a.consumerDepartmentCode,
            resourceCode: a.resourceCode,
            details: { deadlineAt: a.deadlineAt },
          },
          now,
        );
      }
      const expired: string[] = [];
      for (const ag of this.store.sharing.lapsedAgreements(now)) {
        this.agreements.end(
          ag,
          'expired',
          `validity ended at ${new Date(ag.validUntil).toISOString()}`,
          SYSTEM_ACTOR,
          now,
        );
        expired.push(ag.id);
      }
      return { overdueAlarms, expired };
    });
  }
}
