// Applications (共享申请), agreements (共享协议) and subscriptions (订阅). Alarms are in alerts.ts.
import type {
  Agreement,
  AgreementState,
  Application,
  ApplicationState,
  Subscription,
  SubscriptionState,
} from '../api/sharing.js';
import type { Db } from './db.js';
import { and, sqlWhere } from './sql.js';

export type { Agreement, Application, Subscription, SubscriptionState } from '../api/sharing.js';

/** Filters shared by the listings: `departmentCode` matches either party. */
export interface PartyFilter {
  resourceCode?: string;
  departmentCode?: string;
  /** Only records where one party is in this set (a city admin's scope). */
  departmentCodes?: readonly string[];
}

function partyWhere(f: PartyFilter, where: string[], args: unknown[]): void {
  if (f.resourceCode) and(where, args, 'resource_code = ?', f.resourceCode);
  if (f.departmentCode)
    and(
      where,
      args,
      '(provider_department_code = ? OR consumer_department_code = ?)',
      f.departmentCode,
      f.departmentCode,
    );
}
const inScope = (f: PartyFilter) => {
  const scope = f.departmentCodes && new Set(f.departmentCodes);
  return (r: { providerDepartmentCode: string; consumerDepartmentCode: string }): boolean =>
    !scope || scope.has(r.providerDepartmentCode) || scope.has(r.consumerDepartmentCode);
};

export class SharingStore {
  constructor(private readonly db: Db) {}

  // --- applications

  getApplication(id: string): Application | undefined {
    const r = this.db.prepare('SELECT * FROM applications WHERE id = ?').get(id) as ApplicationRow | undefined;
    return r && toApplication(r);
  }

  listApplications(f: PartyFilter & { status?: ApplicationState } = {}): Application[] {
    const where: string[] = [];
    const args: unknown[] = [];
    partyWhere(f, where, args);
    if (f.status) and(where, args, 'status = ?', f.status);
    const rows = this.db
      .prepare(`SELECT * FROM applications ${sqlWhere(where)} ORDER BY submitted_at, rowid`)
      .all(...args) as ApplicationRow[];
    return rows.map(toApplication).filter(inScope(f));
  }

  /** Pending applications whose deadline is at or before `now`. */
  overdueApplications(now: number): Application[] {
    return (
      this.db
        .prepare("SELECT * FROM applications WHERE status = 'pending' AND deadline_at <= ? ORDER BY deadline_at")
        .all(now) as ApplicationRow[]
    ).map(toApplication);
  }

  insertApplication(a: Application): void {
    this.db
      .prepare(
        `INSERT INTO applications (id, resource_code, resource_version, provider_department_code, consumer_department_code, applicant,
           purpose, requested_fields_json, status, submitted_at, deadline_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        a.id,
        a.resourceCode,
        a.resourceVersion,
        a.providerDepartmentCode,
        a.consumerDepartmentCode,
        a.applicant,
        a.purpose,
        JSON.stringify(a.requestedFields),
        a.status,
        a.submittedAt,
        a.deadlineAt,
      );
  }

  /** Records the answer of a pending application; false when it was answered meanwhile. */
  answerApplication(
    id: string,
    a: {
      status: 'approved' | 'rejected';
      at: number;
      by: string;
      reason: string;
      approvedFields: string[] | null;
      agreementId: string | null;
    },
  ): boolean {
    return (
      this.db
        .prepare(
          `UPDATE applications SET status = ?, answered_at = ?, answered_by = ?, reason = ?, approved_fields_json = ?, agreement_id = ?
           WHERE id = ? AND status = 'pending'`,
        )
        .run(a.status, a.at, a.by, a.reason, a.approvedFields && JSON.stringify(a.approvedFields), a.agreementId, id)
        .changes === 1
    );
  }

  // --- agreements

  getAgreement(id: string): Agreement | undefined {
    const r = this.db.prepare('SELECT * FROM agreements WHERE id = ?').get(id) as AgreementRow | undefined;
    return r && toAgreement(r);
  }

  listAgreements(f: PartyFilter & { status?: AgreementState } = {}): Agreement[] {
    const where: string[] = [];
    const args: unknown[] = [];
    partyWhere(f, where, args);
    if (f.status) and(where, args, 'status = ?', f.status);
    const rows = this.db
      .prepare(`SELECT * FROM agreements ${sqlWhere(where)} ORDER BY created_at, rowid`)
      .all(...args) as AgreementRow[];
    return rows.map(toAgreement).filter(inScope(f));
  }

  /** Active agreements whose validity ended at or before `now`. */
  lapsedAgreements(now: number): Agreement[] {
    return (
      this.db
        .prepare("SELECT * FROM agreements WHERE status = 'active' AND valid_until <= ? ORDER BY valid_until")
        .all(now) as AgreementRow[]
    ).map(toAgreement);
  }

  insertAgreement(a: Agreement): void {
    this.db
      .prepare(
        `INSERT INTO agreements (id, application_id, resource_code, provider_department_code, consumer_department_code, fields_json, purpose,
           valid_from, valid_until, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        a.id,
        a.applicationId,
        a.resourceCode,
        a.providerDepartmentCode,
        a.consumerDepartmentCode,
        JSON.stringify(a.fields),
        a.purpose,
        a.validFrom,
        a.validUntil,
        a.status,
        a.createdAt,
      );
  }

  /** Ends an active agreement (revoked or expired); false when it was not active. */
  endAgreement(id: string, e: { status: 'revoked' | 'expired'; at: number; by: string; reason: string }): boolean {
    return (
      this.db
        .prepare(
          "UPDATE agreements SET status = ?, ended_at = ?, ended_by = ?, end_reason = ? WHERE id = ? AND status = 'active'",
        )
        .run(e.status, e.at, e.by, e.reason, id).changes === 1
    );
  }

  // --- subscriptions

  getSubscription(id: string): Subscription | undefined {
    const r = this.db.prepare('SELECT * FROM subscriptions WHERE id = ?').get(id) as SubscriptionRow | undefined;
    return r && toSubscription(r);
  }

  listSubscriptions(
    f: PartyFilter & { status?: SubscriptionState; agreementId?: string; consumerNodeId?: string } = {},
  ): Subscription[] {
    const where: string[] = [];
    const args: unknown[] = [];
    partyWhere(f, where, args);
    if (f.status) and(where, args, 'status = ?', f.status);
    if (f.agreementId) and(where, args, 'agreement_id = ?', f.agreementId);
    if (f.consumerNodeId) and(where, args, 'consumer_node_id = ?', f.consumerNodeId);
    const rows = this.db
      .prepare(`SELECT * FROM subscriptions ${sqlWhere(where)} ORDER BY created_at, rowid`)
      .all(...args) as SubscriptionRow[];
    return rows.map(toSubscription).filter(inScope(f));
  }

  insertSubscription(s: Subscription): void {
    this.db
      .prepare(
        `INSERT INTO subscriptions (id, resource_code, agreement_id, provider_department_code, consumer_department_code, provider_node_id,
           consumer_node_id, sink_binding, method, fields_json, sync_task_id, exchange_task_id, status, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.resourceCode,
        s.agreementId,
        s.providerDepartmentCode,
        s.consumerDepartmentCode,
        s.providerNodeId,
        s.consumerNodeId,
        s.sinkBinding,
        s.method,
        JSON.stringify(s.fields),
        s.syncTaskId,
        s.exchangeTaskId,
        s.status,
        s.createdAt,
        s.createdBy,
      );
  }

  stopSubscription(id: string, at: number, reason: string): boolean {
    return (
      this.db
        .prepare(
          "UPDATE subscriptions SET status = 'stopped', stopped_at = ?, stop_reason = ? WHERE id = ? AND status = 'active'",
        )
        .run(at, reason, id).changes === 1
    );
  }
}

interface ApplicationRow {
  id: string;
  resource_code: string;
  resource_version: number;
  provider_department_code: string;
  consumer_department_code: string;
  applicant: string;
  purpose: string;
  requested_fields_json: string;
  status: ApplicationState;
  submitted_at: number;
  deadline_at: number;
  answered_at: number | null;
  answered_by: string | null;
  reason: string;
  approved_fields_json: string | null;
  agreement_id: string | null;
}
const toApplication = (r: ApplicationRow): Application => ({
  id: r.id,
  resourceCode: r.resource_code,
  resourceVersion: r.resource_version,
  providerDepartmentCode: r.provider_department_code,
  consumerDepartmentCode: r.consumer_department_code,
  applicant: r.applicant,
  purpose: r.purpose,
  requestedFields: JSON.parse(r.requested_fields_json) as string[],
  status: r.status,
  submittedAt: r.submitted_at,
  deadlineAt: r.deadline_at,
  answeredAt: r.answered_at,
  answeredBy: r.answered_by,
  reason: r.reason,
  approvedFields: r.approved_fields_json === null ? null : (JSON.parse(r.approved_fields_json) as string[]),
  agreementId: r.agreement_id,
});

interface AgreementRow {
  id: string;
  application_id: string;
  resource_code: string;
  provider_department_code: string;
  consumer_department_code: string;
  fields_json: string;
  purpose: string;
  valid_from: number;
  valid_until: number;
  status: AgreementState;
  created_at: number;
  ended_at: number | null;
  ended_by: string | null;
  end_reason: string;
}
const toAgreement = (r: AgreementRow): Agreement => ({
  id: r.id,
  applicationId: r.application_id,
  resourceCode: r.resource_code,
  providerDepartmentCode: r.provider_department_code,
  consumerDepartmentCode: r.consumer_department_code,
  fields: JSON.parse(r.fields_json) as string[],
  purpose: r.purpose,
  validFrom: r.valid_from,
  validUntil: r.valid_until,
  status: r.status,
  createdAt: r.created_at,
  endedAt: r.ended_at,
  endedBy: r.ended_by,
  endReason: r.end_reason,
});

interface SubscriptionRow {
  id: string;
  resource_code: string;
  agreement_id: string | null;
  provider_department_code: string;
  consumer_department_code: string;
  provider_node_id: string;
  consumer_node_id: string;
  sink_binding: string;
  method: string;
  fields_json: string;
  sync_task_id: string;
  exchange_task_id: string;
  status: SubscriptionState;
  created_at: number;
  created_by: string;
  stopped_at: number | null;
  stop_reason: string;
}
const toSubscription = (r: SubscriptionRow): Subscription => ({
  id: r.id,
  resourceCode: r.resource_code,
  agreementId: r.agreement_id,
  providerDepartmentCode: r.provider_department_code,
  consumerDepartmentCode: r.consumer_department_code,
  providerNodeId: r.provider_node_id,
  consumerNodeId: r.consumer_node_id,
  sinkBinding: r.sink_binding,
  method: r.method,
  fields: JSON.parse(r.fields_json) as string[],
  syncTaskId: r.sync_task_id,
  exchangeTaskId: r.exchange_task_id,
  status: r.status,
  createdAt: r.created_at,
  createdBy: r.created_by,
  stoppedAt: r.stopped_at,
  stopReason: r.stop_reason,
});
