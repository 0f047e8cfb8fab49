// Applications for conditional resources (共享申请): submitted with a purpose, answered by the provider
// before a working-day deadline (never approved by the clock); an approval creates the agreement (协议) for
// the fields granted. Invariants: an answer is final; a rejected or pending application moves nothing.
import type { AgreementView, ApplicationView } from '../api/sharing.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import { unknownFields } from '../domain/catalog.js';
import type { Actor } from '../domain/roles.js';
import {
  accessFor,
  answerProblem,
  approvedFieldsProblem,
  isOverdue,
  type ApplicationState,
} from '../domain/sharing.js';
import { ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import { newId } from '../ids.js';
import type { Agreement, Application, PartyFilter, Store } from '../store/index.js';
import type { AuditTrail } from './audit.js';
import { mayAct, mayRead, readFilter, requireResource } from './sharing-access.js';

export interface ApplicationOptions {
  calendar: WorkingCalendar;
  /** Working days a provider has to answer (default 10). */
  approvalWorkingDays: number;
  /** Validity of an agreement when the approver names no end (default 365 days). */
  agreementValidityDays: number;
}

export interface ApplyInput {
  /** The conditional resource applied for. */
  resourceCode: string;
  /** The applying department; default the actor's (an officer's own). */
  consumerDepartmentCode?: string;
  /** What the data is for (申请用途); required, not blank. */
  purpose: string;
  /** Fields asked for; default every field of the resource. */
  fields?: string[];
}

export interface ApproveInput {
  /** Fields granted, a subset of those requested; default all requested. */
  fields?: string[];
  /** End of validity (ms since epoch); default validDays after approval. */
  validUntil?: number;
  /** Validity in days from approval; default agreementValidityDays. */
  validDays?: number;
  note?: string;
}

const DAY_MS = 86_400_000;

export class ApplicationService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly opts: ApplicationOptions,
  ) {}

  apply(input: ApplyInput, actor: Actor): ApplicationView {
    const now = this.clock();
    const consumer = input.consumerDepartmentCode ?? actor.departmentCode;
    if (!consumer)
      throw invalid('consumerDepartmentCode', 'required: name the department that applies (you act for no department)');
    const purpose = input.purpose.trim();
    return this.store.tx(() => {
      if (!this.store.regions.getDepartment(consumer))
        throw invalid('consumerDepartmentCode', `department ${JSON.stringify(consumer)} not found`);
      mayAct(actor, consumer);
      const r = requireResource(this.store, input.resourceCode);
      if (r.status !== 'published')
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `resourceCode: resource ${r.code} is ${r.status}; only a published resource is applied for`,
          { field: 'resourceCode' },
        );
      const access = accessFor(r);
      if (access.kind === 'refused')
        throw new XchgError(ErrorCode.PERMISSION_DENIED, `resourceCode: ${access.reason}`, { field: 'resourceCode' });
      if (access.kind === 'subscribe')
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `resourceCode: resource ${r.code} is shared unconditionally (无条件共享): subscribe to it directly, no application needed`,
          { field: 'resourceCode' },
        );
      if (consumer === r.providerDepartmentCode)
        throw invalid(
          'consumerDepartmentCode',
          `${consumer} provides ${r.code} itself; a department does not apply for its own resource`,
        );
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
      const { fields, validUntil } = this.grant(a, input, now);
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
      if (
        !this.store.sharing.answerApplication(a.id, {
          status: 'approved',
          at: now,
          by: actor.name,
          reason: input.note ?? '',
          approvedFields: fields,
          agreementId: ag.id,
        })
      )
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `application ${a.id} was answered meanwhile`);
      const parties = {
        departmentCode: a.providerDepartmentCode,
        peerDepartmentCode: a.consumerDepartmentCode,
        resourceCode: a.resourceCode,
      };
      this.audit.record(
        actor,
        {
          action: 'application.approve',
          entityType: 'application',
          entityId: a.id,
          ...parties,
          details: { fields, agreementId: ag.id, onTime: now < a.deadlineAt, ...(input.note && { note: input.note }) },
        },
        now,
      );
      this.audit.record(
        actor,
        {
          action: 'agreement.create',
          entityType: 'agreement',
          entityId: ag.id,
          ...parties,
          details: { applicationId: a.id, fields, purpose: a.purpose, validFrom: now, validUntil },
        },
        now,
      );
      return {
        application: this.applicationView(this.store.sharing.getApplication(a.id)!, now),
        agreement: { ...ag, state: 'active' },
      };
    });
  }

  /** What an approval grants: the fields (a subset of those requested, still in the resource) and the end. */
  private grant(a: Application, input: ApproveInput, now: number): { fields: string[]; validUntil: number } {
    const r = requireResource(this.store, a.resourceCode);
    if (r.status !== 'published')
      throw new XchgError(
        ErrorCode.FAILED_PRECONDITION,
        `resource ${r.code} is ${r.status}; reject the application instead`,
        {
          field: 'resourceCode',
        },
      );
    const fields = input.fields ?? a.requestedFields;
    const problem = approvedFieldsProblem(a.requestedFields, fields);
    if (problem) throw invalid('fields', problem);
    const gone = unknownFields(r.fields, fields);
    if (gone.length) throw invalid('fields', `no longer fields of resource ${r.code}: ${gone.join(', ')}`);
    if (input.validUntil !== undefined && input.validDays !== undefined)
      throw invalid('validUntil', 'give validUntil or validDays, not both');
    const validUntil = input.validUntil ?? now + (input.validDays ?? this.opts.agreementValidityDays) * DAY_MS;
    if (validUntil <= now) throw invalid('validUntil', 'must be in the future');
    return { fields, validUntil };
  }

  /** Rejects a pending application with the reason the applicant is told. Nothing else is created. */
  reject(id: string, reason: string, actor: Actor): ApplicationView {
    const now = this.clock();
    const why = reason.trim();
    return this.store.tx(() => {
      const a = this.answerable(id, actor);
      if (!why) throw invalid('reason', 'required: a rejection states its reason (拒绝须说明理由)');
      if (
        !this.store.sharing.answerApplication(a.id, {
          status: 'rejected',
          at: now,
          by: actor.name,
          reason: why,
          approvedFields: null,
          agreementId: null,
        })
      )
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

  get(id: string, actor: Actor): ApplicationView {
    const a = this.store.sharing.getApplication(id);
    if (!a) throw notFound('application', id);
    mayRead(actor, a);
    return this.applicationView(a, this.clock());
  }

  list(filter: PartyFilter & { status?: ApplicationState; overdue?: boolean }, actor: Actor): ApplicationView[] {
    const now = this.clock();
    return this.store.sharing
      .listApplications(readFilter(filter, actor))
      .map((a) => this.applicationView(a, now))
      .filter((a) => filter.overdue === undefined || a.overdue === filter.overdue);
  }

  private answerable(id: string, actor: Actor): Application {
    const a = this.store.sharing.getApplication(id);
    if (!a) throw notFound('application', id);
    mayAct(actor, a.providerDepartmentCode);
    if (a.applicant === actor.name)
      throw new XchgError(
        ErrorCode.PERMISSION_DENIED,
        `${actor.name} submitted application ${id}; an application is answered by someone else`,
        { field: 'application' },
      );
    const problem = answerProblem(a.status);
    if (problem)
      throw new XchgError(ErrorCode.FAILED_PRECONDITION, `application ${id}: ${problem}`, { field: 'application' });
    return a;
  }

  private applicationView(a: Application, now: number): ApplicationView {
    return { ...a, overdue: isOverdue(a, now) };
  }
}
