// Sharing governance: applications for conditional resources answered before a working-day deadline,
// agreements (协议) that approvals create, subscriptions that turn a resource into a pair of tasks, and
// the sweep that alarms overdue applications and ends lapsed agreements. Invariants: a rejected or
// pending application moves nothing; a subscription's tasks carry only the fields its grant covers; an
// agreement that ends (revoked or expired) disables its subscriptions' tasks in the same transaction, so
// the agents stop the flow with their next poll.
import type { AgreementView, ApplicationView, SubscriptionView } from '../api/sharing.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import { taskFields, unknownFields } from '../domain/catalog.js';
import { actForProblem, Role, SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import { accessFor, agreementStateAt, answerProblem, approvedFieldsProblem, isOverdue, type AgreementState, type ApplicationState } from '../domain/sharing.js';
import { alreadyExists, ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import { newId } from '../ids.js';
import type { Agreement, Application, PartyFilter, Resource, Store, Subscription, Alert } from '../store/index.js';
import type { AssignmentService } from './assignments.js';
import type { AuditTrail } from './audit.js';

export interface SharingOptions {
  calendar: WorkingCalendar;
  /** Working days a provider has to answer (default 10). */
  approvalWorkingDays: number;
  /** Validity of an agreement when the approver names no end (default 365 days). */
  agreementValidityDays: number;
}

export type { AgreementView, ApplicationView } from '../api/sharing.js';

export interface ApplyInput {
  resourceCode: string;
  consumerDepartmentCode?: string;
  purpose: string;
  /** Fields asked for; default every field of the resource. */
  fields?: string[];
}

export interface ApproveInput {
  /** Fields granted, a subset of those requested; default all requested. */
  fields?: string[];
  /** End of validity (ms since epoch); default validDays after approval. */
  validUntil?: number;
  validDays?: number;
  note?: string;
}

export interface SubscribeInput {
  resourceCode?: string;
  agreementId?: string;
  consumerNodeId: string;
  sinkBinding: string;
  method?: string;
  intervalMs?: number;
  filters?: unknown[];
}

const DAY_MS = 86_400_000;

export class SharingService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly assignments: AssignmentService,
    private readonly opts: SharingOptions,
  ) {}

  // --- applications

  apply(input: ApplyInput, actor: Actor): ApplicationView {
    const now = this.clock();
    const consumer = input.consumerDepartmentCode ?? actor.departmentCode;
    if (!consumer) throw invalid('consumerDepartmentCode', 'required: name the department that applies (you act for no department)');
    const purpose = input.purpose.trim();
    return this.store.tx(() => {
      if (!this.store.regions.getDepartment(consumer)) throw invalid('consumerDepartmentCode', `department ${JSON.stringify(consumer)} not found`);
      mayAct(actor, consumer);
      const r = this.resource(input.resourceCode);
      if (r.status !== 'published') throw new XchgError(ErrorCode.FAILED_PRECONDITION, `resourceCode: resource ${r.code} is ${r.status}; only a published resource is applied for`, { field: 'resourceCode' });
      const access = accessFor(r);
      if (access.kind === 'refused') throw new XchgError(ErrorCode.PERMISSION_DENIED, `resourceCode: ${access.reason}`, { field: 'resourceCode' });
      if (access.kind === 'subscribe')
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `resourceCode: resource ${r.code} is shared unconditionally (无条件共享): subscribe to it directly, no application needed`, { field: 'resourceCode' });
      if (consumer === r.providerDepartmentCode) throw invalid('consumerDepartmentCode', `${consumer} provides ${r.code} itself; a department does not apply for its own resource`);
      if (!purpose) throw invalid('purpose', 'required: declare what the data is for (申请用途)');
      const fields = input.fields ?? r.fields.map((f) => f.name);
      if (fields.length === 0) throw invalid('fields', 'ask for at least one field');
      const unknown = unknownFields(r.fields, fields);
      if (unknown.length) throw invalid('fields', `not fields of resource ${r.code}: ${unknown.join(', ')}`);
      if (new Set(fields).size !== fields.length) throw invalid('fields', 'a field appears twice');
      const a: Application = {
        id: newId('app'),
        resourceCode: r.code,
        resourceVersion: r.version,
        providerDepartmentCode: r.providerDepartmentCode,
        consumerDepartmentCode: consumer,
        applicant: actor.name,
        purpose,
        requestedFields: fields,
        status: 'pending',
        submittedAt: now,
        deadlineAt: this.opts.calendar.deadline(now, this.opts.approvalWorkingDays),
        answeredAt: null,
        answeredBy: null,
        reason: '',
        approvedFields: null,
        agreementId: null,
      };
      this.store.sharing.insertApplication(a);
      this.audit.record(
        actor,
        {
          action: 'application.submit',
          entityType: 'application',
          entityId: a.id,
          departmentCode: a.providerDepartmentCode,
          peerDepartmentCode: consumer,
          resourceCode: r.code,
          details: { purpose, fields, deadlineAt: a.deadlineAt, resourceVersion: r.version },
        },
        now,
      );
      return { ...a, overdue: false };
    });
  }

  /** Approves a pending application: it becomes an agreement for the fields granted. */
  approve(id: string, input: ApproveInput, actor: Actor): { application: ApplicationView; agreement: AgreementView } {
    const now = this.clock();
    return this.store.tx(() => {
      const a = this.answerable(id, actor);
      const r = this.resource(a.resourceCode);
      if (r.status !== 'published') throw new XchgError(ErrorCode.FAILED_PRECONDITION, `resource ${r.code} is ${r.status}; reject the application instead`, { field: 'resourceCode' });
      const fields = input.fields ?? a.requestedFields;
      const problem = approvedFieldsProblem(a.requestedFields, fields);
      if (problem) throw invalid('fields', problem);
      const gone = unknownFields(r.fields, fields);
      if (gone.length) throw invalid('fields', `no longer fields of resource ${r.code}: ${gone.join(', ')}`);
      if (input.validUntil !== undefined && input.validDays !== undefined) throw invalid('validUntil', 'give validUntil or validDays, not both');
      const validUntil = input.validUntil ?? now + (input.validDays ?? this.opts.agreementValidityDays) * DAY_MS;
      if (validUntil <= now) throw invalid('validUntil', 'must be in the future');
      const ag: Agreement = {
        id: newId('agr'),
        applicationId: a.id,
        resourceCode: a.resourceCode,
        providerDepartmentCode: a.providerDepartmentCode,
        consumerDepartmentCode: a.consumerDepartmentCode,
        fields,
        purpose: a.purpose,
        validFrom: now,
        validUntil,
        status: 'active',
        createdAt: now,
        endedAt: null,
        endedBy: null,
        endReason: '',
      };
      this.store.sharing.insertAgreement(ag);
      if (!this.store.sharing.answerApplication(a.id, { status: 'approved', at: now, by: actor.name, reason: input.note ?? '', approvedFields: fields, agreementId: ag.id }))
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `application ${a.id} was answered meanwhile`);
      const parties = { departmentCode: a.providerDepartmentCode, peerDepartmentCode: a.consumerDepartmentCode, resourceCode: a.resourceCode };
      this.audit.record(actor, { action: 'application.approve', entityType: 'application', entityId: a.id, ...parties, details: { fields, agreementId: ag.id, onTime: now < a.deadlineAt, ...(input.note && { note: input.note }) } }, now);
      this.audit.record(actor, { action: 'agreement.create', entityType: 'agreement', entityId: ag.id, ...parties, details: { applicationId: a.id, fields, purpose: a.purpose, validFrom: now, validUntil } }, now);
      return { application: this.applicationView(this.store.sharing.getApplication(a.id)!, now), agreement: { ...ag, state: 'active' } };
    });
  }

  /** Rejects a pending application with the reason the applicant is told. Nothing else is created. */
  reject(id: string, reason: string, actor: Actor): ApplicationView {
    const now = this.clock();
    const why = reason.trim();
    return this.store.tx(() => {
      const a = this.answerable(id, actor);
      if (!why) throw invalid('reason', 'required: a rejection states its reason (拒绝须说明理由)');
      if (!this.store.sharing.answerApplication(a.id, { status: 'rejected', at: now, by: actor.name, reason: why, approvedFields: null, agreementId: null }))
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `application ${a.id} was answered meanwhile`);
      this.audit.record(
        actor,
        {
          action: 'application.reject',
          entityType: 'application',
          entityId: a.id,
          departmentCode: a.providerDepartmentCode,
          peerDepartmentCode: a.consumerDepartmentCode,
          resourceCode: a.resourceCode,
          details: { reason: why, onTime: now < a.deadlineAt },
        },
        now,
      );
      return this.applicationView(this.store.sharing.getApplication(a.id)!, now);
    });
  }

  getApplication(id: string, actor: Actor): ApplicationView {
    const a = this.store.sharing.getApplication(id);
    if (!a) throw notFound('application', id);
    mayRead(actor, a);
    return this.applicationView(a, this.clock());
  }

  listApplications(filter: PartyFilter & { status?: ApplicationState; overdue?: boolean }, actor: Actor): ApplicationView[] {
    const now = this.clock();
    return this.store.sharing
      .listApplications(readFilter(filter, actor))
      .map((a) => this.applicationView(a, now))
      .filter((a) => filter.overdue === undefined || a.overdue === filter.overdue);
  }

  // --- agreements

  getAgreement(id: string, actor: Actor): AgreementView & { subscriptions: SubscriptionView[] } {
    const ag = this.store.sharing.getAgreement(id);
    if (!ag) throw notFound('agreement', id);
    mayRead(actor, ag);
    return { ...ag, state: agreementStateAt(ag, this.clock()), subscriptions: this.store.sharing.listSubscriptions({ agreementId: id }).map((s) => this.subscriptionView(s)) };
  }

  listAgreements(filter: PartyFilter & { status?: AgreementState }, actor: Actor): AgreementView[] {
    const now = this.clock();
    return this.store.sharing.listAgreements(readFilter(filter, actor)).map((ag) => ({ ...ag, state: agreementStateAt(ag, now) }));
  }

  /** Revokes an active agreement: its flows stop (tasks disabled) in the same transaction. */
  revokeAgreement(id: string, reason: string, actor: Actor): AgreementView {
    const now = this.clock();
    const why = reason.trim();
    return this.store.tx(() => {
      const ag = this.store.sharing.getAgreement(id);
      if (!ag) throw notFound('agreement', id);
      mayAct(actor, ag.providerDepartmentCode);
      if (!why) throw invalid('reason', 'required: say why the agreement is revoked');
      const state = agreementStateAt(ag, now);
      if (state !== 'active') throw new XchgError(ErrorCode.FAILED_PRECONDITION, `agreement ${id} is already ${state}`, { field: 'agreement' });
      this.endAgreement(ag, 'revoked', why, actor, now);
      return { ...this.store.sharing.getAgreement(id)!, state: 'revoked' };
    });
  }

  // --- subscriptions

  /** Subscribes a consumer node to a resource: two tasks (sync at the provider, exchange at the consumer). */
  subscribe(input: SubscribeInput, actor: Actor): SubscriptionView {
    const now = this.clock();
    return this.store.tx(() => {
      let ag: Agreement | undefined;
      if (input.agreementId) {
        ag = this.store.sharing.getAgreement(input.agreementId);
        if (!ag) throw new XchgError(ErrorCode.NOT_FOUND, `agreementId: agreement ${JSON.stringify(input.agreementId)} not found`, { field: 'agreementId' });
        const state = agreementStateAt(ag, now);
        if (state !== 'active') throw new XchgError(ErrorCode.FAILED_PRECONDITION, `agreementId: agreement ${ag.id} is ${state}; apply again`, { field: 'agreementId' });
        if (input.resourceCode && input.resourceCode !== ag.resourceCode) throw invalid('resourceCode', `agreement ${ag.id} is for resource ${ag.resourceCode}, not ${input.resourceCode}`);
      }
      const code = input.resourceCode ?? ag?.resourceCode;
      if (!code) throw invalid('resourceCode', 'required: name the resource (or the agreement it is granted by)');
      const r = this.resource(code);
      if (r.status !== 'published') throw new XchgError(ErrorCode.FAILED_PRECONDITION, `resourceCode: resource ${r.code} is ${r.status}; only a published resource is subscribed to`, { field: 'resourceCode' });
      const access = accessFor(r);
      if (access.kind === 'refused') throw new XchgError(ErrorCode.PERMISSION_DENIED, `resourceCode: ${access.reason}`, { field: 'resourceCode' });
      if (access.kind === 'apply' && !ag)
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `agreementId: resource ${r.code} is conditional (有条件共享): apply for it and subscribe on the agreement its approval creates`,
          { field: 'agreementId' },
        );
      const node = this.store.nodes.get(input.consumerNodeId);
      if (!node) throw invalid('consumerNodeId', `node ${JSON.stringify(input.consumerNodeId)} not found`);
      mayAct(actor, node.departmentCode);
      if (ag && node.departmentCode !== ag.consumerDepartmentCode)
        throw new XchgError(ErrorCode.PERMISSION_DENIED, `consumerNodeId: node ${node.id} belongs to ${node.departmentCode}; agreement ${ag.id} is held by ${ag.consumerDepartmentCode}`, { field: 'consumerNodeId' });
      if (!r.providerNodeId || !r.binding)
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `resource ${r.code} names no provider node and binding yet; its provider sets providerNodeId and binding`, { field: 'resourceCode' });
      const method = input.method ?? r.shareMethods[0] ?? 'database_sync';
      if (!(r.shareMethods as string[]).includes(method)) throw invalid('method', `resource ${r.code} is shared by ${r.shareMethods.join(', ')}, not ${method}`);
      const dup = this.store.sharing
        .listSubscriptions({ resourceCode: r.code, status: 'active', consumerNodeId: node.id })
        .find((s) => s.sinkBinding === input.sinkBinding);
      if (dup) throw alreadyExists('subscription', `${r.code} → ${node.id}/${input.sinkBinding} (${dup.id})`);

      const fields = ag ? ag.fields : r.fields.map((f) => f.name);
      const id = newId('sub');
      // What the agents enforce on their own (node-agent/src/policy/agreement.ts): the agreement, the fields
      // it covers, and its end, so a flow stops at expiry even while central cannot be reached.
      const params = {
        fields: taskFields(r.fields, fields),
        agreementId: ag?.id ?? '',
        allowedFields: fields,
        ...(ag && { agreementValidUntil: ag.validUntil }),
        ...(input.filters && { filters: input.filters }),
      };
      const common = { resourceCode: r.code, subscriptionId: id, params, ...(input.intervalMs !== undefined && { intervalMs: input.intervalMs }) };
      const exchange = this.assignments.createTask(
        { ...common, name: `${r.code} → ${node.departmentCode} (receive)`, kind: 'exchange', nodeId: node.id, peerNodeId: r.providerNodeId, binding: input.sinkBinding },
        actor,
      );
      const sync = this.assignments.createTask(
        { ...common, name: `${r.code} → ${node.departmentCode} (send)`, kind: 'sync', nodeId: r.providerNodeId, peerNodeId: node.id, binding: r.binding },
        actor,
      );
      const s: Subscription = {
        id,
        resourceCode: r.code,
        agreementId: ag?.id ?? null,
        providerDepartmentCode: r.providerDepartmentCode,
        consumerDepartmentCode: node.departmentCode,
        providerNodeId: r.providerNodeId,
        consumerNodeId: node.id,
        sinkBinding: input.sinkBinding,
        method,
        fields,
        syncTaskId: sync.id,
        exchangeTaskId: exchange.id,
        status: 'active',
        createdAt: now,
        createdBy: actor.name,
        stoppedAt: null,
        stopReason: '',
      };
      this.store.sharing.insertSubscription(s);
      this.audit.record(
        actor,
        {
          action: 'subscription.create',
          entityType: 'subscription',
          entityId: id,
          departmentCode: r.providerDepartmentCode,
          peerDepartmentCode: node.departmentCode,
          resourceCode: r.code,
          details: { agreementId: s.agreementId, consumerNodeId: node.id, sinkBinding: s.sinkBinding, method, fields, syncTaskId: sync.id, exchangeTaskId: exchange.id },
        },
        now,
      );
      return this.subscriptionView(s);
    });
  }

  /** Ends a subscription at the consumer's wish: its tasks are deleted. */
  unsubscribe(id: string, actor: Actor): SubscriptionView {
    const now = this.clock();
    return this.store.tx(() => {
      const s = this.store.sharing.getSubscription(id);
      if (!s) throw notFound('subscription', id);
      mayAct(actor, s.consumerDepartmentCode);
      const tasks = [s.exchangeTaskId, s.syncTaskId].filter((t) => this.store.tasks.get(t));
      if (s.status !== 'active' && tasks.length === 0) throw new XchgError(ErrorCode.FAILED_PRECONDITION, `subscription ${id} was already stopped: ${s.stopReason}`, { field: 'subscription' });
      for (const t of tasks) this.assignments.deleteTask(t, actor);
      if (s.status === 'active') this.store.sharing.stopSubscription(id, now, `deleted by ${actor.name}`);
      this.audit.record(
        actor,
        { action: 'subscription.delete', entityType: 'subscription', entityId: id, departmentCode: s.providerDepartmentCode, peerDepartmentCode: s.consumerDepartmentCode, resourceCode: s.resourceCode, details: { deletedTasks: tasks } },
        now,
      );
      return this.subscriptionView(this.store.sharing.getSubscription(id)!);
    });
  }

  getSubscription(id: string, actor: Actor): SubscriptionView {
    const s = this.store.sharing.getSubscription(id);
    if (!s) throw notFound('subscription', id);
    mayRead(actor, s);
    return this.subscriptionView(s);
  }

  listSubscriptions(filter: PartyFilter & { status?: 'active' | 'stopped'; agreementId?: string }, actor: Actor): SubscriptionView[] {
    return this.store.sharing.listSubscriptions(readFilter(filter, actor)).map((s) => this.subscriptionView(s));
  }

  /**
   * The subscription with the state of its flow: stopped by its status; else refused while a node refuses
   * the current generation of one of its tasks (the refusals name node, task and reason), pending while one
   * is not acknowledged yet, active when both are applied.
   */
  subscriptionView(s: Subscription): SubscriptionView {
    if (s.status === 'stopped') return { ...s, state: 'stopped', refusals: [] };
    const tasks = [s.syncTaskId, s.exchangeTaskId].map((id) => this.store.tasks.get(id)).filter((t) => t !== undefined);
    const views = tasks.map((t) => this.assignments.view(t));
    const refusals = views.flatMap((v) => (v.refusal ? [v.refusal] : []));
    const state = refusals.length ? 'refused' : views.some((v) => v.state === 'pending') ? 'pending' : 'active';
    return { ...s, state, refusals };
  }

  alerts(filter: { kind?: string; departmentCode?: string; limit?: number } = {}): Alert[] {
    return this.store.sharing.alerts(filter);
  }

  // --- the sweep

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
        if (!this.store.sharing.raiseAlert({ kind: 'application_overdue', entityId: a.id, departmentCode: a.providerDepartmentCode, message, at: now })) continue;
        overdueAlarms.push(a.id);
        this.audit.record(
          SYSTEM_ACTOR,
          { action: 'application.overdue', entityType: 'application', entityId: a.id, departmentCode: a.providerDepartmentCode, peerDepartmentCode: a.consumerDepartmentCode, resourceCode: a.resourceCode, details: { deadlineAt: a.deadlineAt } },
          now,
        );
      }
      const expired: string[] = [];
      for (const ag of this.store.sharing.lapsedAgreements(now)) {
        this.endAgreement(ag, 'expired', `validity ended at ${new Date(ag.validUntil).toISOString()}`, SYSTEM_ACTOR, now);
        expired.push(ag.id);
      }
      return { overdueAlarms, expired };
    });
  }

  // --- helpers

  private endAgreement(ag: Agreement, status: 'revoked' | 'expired', reason: string, actor: Actor, now: number): void {
    this.store.sharing.endAgreement(ag.id, { status, at: now, by: actor.name, reason });
    const parties = { departmentCode: ag.providerDepartmentCode, peerDepartmentCode: ag.consumerDepartmentCode, resourceCode: ag.resourceCode };
    this.audit.record(actor, { action: `agreement.${status === 'revoked' ? 'revoke' : 'expire'}`, entityType: 'agreement', entityId: ag.id, ...parties, details: { reason } }, now);
    for (const s of this.store.sharing.listSubscriptions({ agreementId: ag.id, status: 'active' })) this.stopFlow(s, `agreement ${ag.id} ${status}: ${reason}`, actor, now);
  }

  /**
   * Stops an active subscription's flow: both tasks disabled (not deleted: they stay visible as what was
   * once allowed; the agents stop them with their next poll) and the subscription marked stopped with the
   * reason. Runs inside the caller's transaction.
   */
  stopFlow(s: Subscription, reason: string, actor: Actor, now: number = this.clock()): void {
    for (const t of [s.syncTaskId, s.exchangeTaskId]) if (this.store.tasks.get(t)?.enabled) this.assignments.updateTask(t, { enabled: false }, actor);
    this.store.sharing.stopSubscription(s.id, now, reason);
    this.audit.record(
      actor,
      { action: 'subscription.stop', entityType: 'subscription', entityId: s.id, departmentCode: s.providerDepartmentCode, peerDepartmentCode: s.consumerDepartmentCode, resourceCode: s.resourceCode, details: { reason } },
      now,
    );
  }

  private answerable(id: string, actor: Actor): Application {
    const a = this.store.sharing.getApplication(id);
    if (!a) throw notFound('application', id);
    mayAct(actor, a.providerDepartmentCode);
    if (a.applicant === actor.name)
      throw new XchgError(ErrorCode.PERMISSION_DENIED, `${actor.name} submitted application ${id}; an application is answered by someone else`, { field: 'application' });
    const problem = answerProblem(a.status);
    if (problem) throw new XchgError(ErrorCode.FAILED_PRECONDITION, `application ${id}: ${problem}`, { field: 'application' });
    return a;
  }

  private resource(code: string): Resource {
    const r = this.store.catalog.get(code);
    if (!r) throw new XchgError(ErrorCode.NOT_FOUND, `resourceCode: resource ${JSON.stringify(code)} not found`, { field: 'resourceCode' });
    return r;
  }

  private applicationView(a: Application, now: number): ApplicationView {
    return { ...a, overdue: isOverdue(a, now) };
  }
}

function mayAct(actor: Actor, departmentCode: string): void {
  const problem = actForProblem(actor, departmentCode);
  if (problem) throw new XchgError(ErrorCode.PERMISSION_DENIED, problem);
}

/** Officers read the records their department is a party to. */
function mayRead(actor: Actor, r: { providerDepartmentCode: string; consumerDepartmentCode: string }): void {
  if (actor.role === Role.OFFICER && actor.departmentCode !== r.providerDepartmentCode && actor.departmentCode !== r.consumerDepartmentCode)
    throw new XchgError(ErrorCode.PERMISSION_DENIED, `officer ${actor.name} of ${actor.departmentCode ?? '(none)'} reads only records of its department`);
}

function readFilter<F extends PartyFilter>(filter: F, actor: Actor): F {
  if (actor.role !== Role.OFFICER) return filter;
  if (filter.departmentCode && filter.departmentCode !== actor.departmentCode)
    throw new XchgError(ErrorCode.PERMISSION_DENIED, `officer ${actor.name} of ${actor.departmentCode ?? '(none)'} reads only records of its department`, { field: 'department' });
  return { ...filter, departmentCode: actor.departmentCode ?? '' };
}
