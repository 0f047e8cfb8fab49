// Agreements (共享协议): what an approved application grants — a consumer department, the fields, a
// validity. Invariant: an agreement that ends (revoked, or expired by the governance sweep) stops its
// subscriptions' flows in the same transaction.
import type { AgreementView, SubscriptionView } from '../api/sharing.js';
import type { Actor } from '../domain/roles.js';
import { agreementStateAt, type AgreementState } from '../domain/sharing.js';
import { ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import type { Agreement, PartyFilter, Store } from '../store/index.js';
import type { AuditTrail } from './audit.js';
import { mayAct, mayRead, readFilter } from './sharing-access.js';
import type { SubscriptionService } from './subscriptions.js';

export class AgreementService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly subscriptions: SubscriptionService,
  ) {}

  get(id: string, actor: Actor): AgreementView & { subscriptions: SubscriptionView[] } {
    const ag = this.store.sharing.getAgreement(id);
    if (!ag) throw notFound('agreement', id);
    mayRead(actor, ag);
    return {
      ...ag,
      state: agreementStateAt(ag, this.clock()),
      subscriptions: this.store.sharing.listSubscriptions({ agreementId: id }).map((s) => this.subscriptions.view(s)),
    };
  }

  list(filter: PartyFilter & { status?: AgreementState }, actor: Actor): AgreementView[] {
    const now = this.clock();
    return this.store.sharing
      .listAgreements(readFilter(filter, actor))
      .map((ag) => ({ ...ag, state: agreementStateAt(ag, now) }));
  }

  /** Revokes an active agreement: its flows stop (tasks disabled) in the same transaction. */
  revoke(id: string, reason: string, actor: Actor): AgreementView {
    const now = this.clock();
    const why = reason.trim();
    return this.store.tx(() => {
      const ag = this.store.sharing.getAgreement(id);
      if (!ag) throw notFound('agreement', id);
      mayAct(actor, ag.providerDepartmentCode);
      if (!why) throw invalid('reason', 'required: say why the agreement is revoked');
      const state = agreementStateAt(ag, now);
      if (state !== 'active')
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `agreement ${id} is already ${state}`, {
          field: 'agreement',
        });
      this.end(ag, 'revoked', why, actor, now);
      return { ...this.store.sharing.getAgreement(id)!, state: 'revoked' };
    });
  }

  /**
   * Ends an agreement (revoked by its provider, or expired by the governance sweep) and stops its active
   * subscriptions' flows. Runs inside the caller's transaction.
   */
  end(ag: Agreement, status: 'revoked' | 'expired', reason: string, actor: Actor, now: number): void {
    this.store.sharing.endAgreement(ag.id, { status, at: now, by: actor.name, reason });
    const parties = {
      departmentCode: ag.providerDepartmentCode,
      peerDepartmentCode: ag.consumerDepartmentCode,
      resourceCode: ag.resourceCode,
    };
    this.audit.record(
      actor,
      {
        action: `agreement.${status === 'revoked' ? 'revoke' : 'expire'}`,
        entityType: 'agreement',
        entityId: ag.id,
        ...parties,
        details: { reason },
      },
      now,
    );
    for (const s of this.store.sharing.listSubscriptions({ agreementId: ag.id, status: 'active' }))
      this.subscriptions.stopFlow(s, `agreement ${ag.id} ${status}: ${reason}`, actor, now);
  }
}
