// Sharing governance (共享): one entry point over its four concerns, so routes and tests keep one name for
// them — applications (applications.ts), agreements (agreements.ts), subscriptions (subscriptions.ts, with
// the preconditions in domain/subscription.ts) and the governance sweep (governance-sweep.ts). Alarms are
// their own service (alerts.ts). This file wires and delegates; the rules live in those modules.
import type { AgreementView, ApplicationView, SubscriptionView } from '../api/sharing.js';
import type { Actor } from '../domain/roles.js';
import type { AgreementState, ApplicationState } from '../domain/sharing.js';
import type { PartyFilter, Store, Subscription } from '../store/index.js';
import { AgreementService } from './agreements.js';
import type { AlertService } from './alerts.js';
import { ApplicationService, type ApplicationOptions, type ApplyInput, type ApproveInput } from './applications.js';
import type { AssignmentService } from './assignments.js';
import type { AuditTrail } from './audit.js';
import { GovernanceSweep } from './governance-sweep.js';
import { SubscriptionService, type SubscribeInput } from './subscriptions.js';

export type { AgreementView, ApplicationView } from '../api/sharing.js';
export type { ApplyInput, ApproveInput } from './applications.js';
export type { SubscribeInput } from './subscriptions.js';
/** Options of sharing governance: the working calendar, the answer deadline and the default validity. */
export type SharingOptions = ApplicationOptions;

export class SharingService {
  readonly applications: ApplicationService;
  readonly subscriptions: SubscriptionService;
  readonly agreements: AgreementService;
  readonly governance: GovernanceSweep;

  constructor(
    store: Store,
    clock: () => number,
    audit: AuditTrail,
    assignments: AssignmentService,
    alerts: AlertService,
    opts: SharingOptions,
  ) {
    this.applications = new ApplicationService(store, clock, audit, opts);
    this.subscriptions = new SubscriptionService(store, clock, audit, assignments);
    this.agreements = new AgreementService(store, clock, audit, this.subscriptions);
    this.governance = new GovernanceSweep(store, clock, audit, alerts, this.agreements);
  }

  // --- applications

  apply(input: ApplyInput, actor: Actor): ApplicationView {
    return this.applications.apply(input, actor);
  }

  /** Approves a pending application: it becomes an agreement for the fields granted. */
  approve(id: string, input: ApproveInput, actor: Actor): { application: ApplicationView; agreement: AgreementView } {
    return this.applications.approve(id, input, actor);
  }

  /** Rejects a pending application with the reason the applicant is told. Nothing else is created. */
  reject(id: string, reason: string, actor: Actor): ApplicationView {
    return this.applications.reject(id, reason, actor);
  }

  getApplication(id: string, actor: Actor): ApplicationView {
    return this.applications.get(id, actor);
  }

  listApplications(
    filter: PartyFilter & { status?: ApplicationState; overdue?: boolean },
    actor: Actor,
  ): ApplicationView[] {
    return this.applications.list(filter, actor);
  }

  // --- agreements

  getAgreement(id: string, actor: Actor): AgreementView & { subscriptions: SubscriptionView[] } {
    return this.agreements.get(id, actor);
  }

  listAgreements(filter: PartyFilter & { status?: AgreementState }, actor: Actor): AgreementView[] {
    return this.agreements.list(filter, actor);
  }

  /** Revokes an active agreement: its flows stop (tasks disabled) in the same transaction. */
  revokeAgreement(id: string, reason: string, actor: Actor): AgreementView {
    return this.agreements.revoke(id, reason, actor);
  }

  // --- subscriptions

  /** Subscribes a consumer node to a resource: two tasks (sync at the provider, exchange at the consumer). */
  subscribe(input: SubscribeInput, actor: Actor): SubscriptionView {
    return this.subscriptions.subscribe(input, actor);
  }

  /** Ends a subscription at the consumer's wish: its tasks are deleted. */
  unsubscribe(id: string, actor: Actor): SubscriptionView {
    return this.subscriptions.unsubscribe(id, actor);
  }

  getSubscription(id: string, actor: Actor): SubscriptionView {
    return this.subscriptions.get(id, actor);
  }

  listSubscriptions(
    filter: PartyFilter & { status?: 'active' | 'stopped'; agreementId?: string },
    actor: Actor,
  ): SubscriptionView[] {
    return this.subscriptions.list(filter, actor);
  }

  /** The subscription with the state of its flow (SubscriptionService.view). */
  subscriptionView(s: Subscription): SubscriptionView {
    return this.subscriptions.view(s);
  }

  /** Stops an active subscription's flow inside the caller's transaction (SubscriptionService.stopFlow). */
  stopFlow(s: Subscription, reason: string, actor: Actor, now?: number): void {
    this.subscriptions.stopFlow(s, reason, actor, now);
  }

  // --- the sweep

  /** The governance sweep (GovernanceSweep.sweep): overdue alarms raised, lapsed agreements ended. */
  sweep(): { overdueAlarms: string[]; expired: string[] } {
    return this.governance.sweep();
  }
}
