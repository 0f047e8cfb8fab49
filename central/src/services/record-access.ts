// Every read of record values through the HTTP API: a task's quarantined records, its runs' errors and the
// bodies of agents' reports, each shaped by the caller's role, scope and grants (domain/record-access.ts).
// Invariants: a refused caller gets PERMISSION_DENIED and nothing else; a raw read of quarantined records
// is written to the audit log in the transaction that reads them, so no raw value leaves unrecorded.
import type { Report } from '../api/nodes.js';
import type { QuarantineView, TaskRun } from '../api/tasks.js';
import {
  grantedFields,
  grantedRecord,
  recordAccess,
  withholdOrigin,
  withholdValues,
  type ValueView,
} from '../domain/record-access.js';
import { Role, type Actor } from '../domain/roles.js';
import { ErrorCode, notFound, XchgError } from '../errors.js';
import type { ReportFilter, Store, TaskRecord } from '../store/index.js';
import type { AuditTrail } from './audit.js';
import type { ReportService } from './reports.js';

export class RecordAccessService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditTrail,
    private readonly reports: ReportService,
  ) {}

  /**
   * The quarantined records of task `taskId` as `actor` may see them (oldest first, at most `limit`).
   * Throws NOT_FOUND for an unknown task, PERMISSION_DENIED (naming why) when the caller may not see them.
   */
  quarantine(taskId: string, actor: Actor, opts: { includeResent?: boolean; limit?: number } = {}): QuarantineView[] {
    const t = this.task(taskId);
    const view = this.viewOf(actor, t);
    return this.store.tx(() => {
      const rows = this.reports.quarantined(t.id, opts);
      if (view === 'raw') {
        if (rows.length)
          this.audit.record(actor, {
            action: 'quarantine.read',
            entityType: 'task',
            entityId: t.id,
            ...this.parties(t),
            details: {
              view,
              side: t.kind === 'sync' ? 'provider' : 'consumer',
              nodeId: t.nodeId,
              records: rows.length,
              agentIds: rows.map((r) => r.agentId),
            },
          });
        return rows.map((q) => ({ ...q, view, columns: Object.keys(q.record), record: q.record }));
      }
      const fields = view === 'granted' ? this.grant(t) : [];
      return rows.map((q) => {
        const record = view === 'granted' ? grantedRecord(q.record, fields) : null;
        return {
          ...q,
          view,
          origin: withholdOrigin(q.origin),
          reason: withholdValues(q.reason),
          columns: Object.keys(record ?? q.record),
          record,
        };
      });
    });
  }

  /** Recent runs of a task; their error text keeps quoted values only in the raw view. Refusals as quarantine(). */
  taskRuns(taskId: string, actor: Actor): TaskRun[] {
    const t = this.task(taskId);
    const view = this.viewOf(actor, t);
    const runs = this.reports.taskRuns({ taskId: t.id });
    return view === 'raw' ? runs : runs.map((r) => ({ ...r, error: withholdValues(r.error) }));
  }

  /**
   * Reports newest first (ReportService.list), an officer's limited to its department's nodes. Province
   * administrators and auditors read bodies as reported (a page holding quarantined records is audited);
   * everyone else reads them without values: quarantined records keep their metadata and column names, run
   * errors and event messages lose quoted values. Record values for other roles are read per task, through
   * quarantine(), which applies grants.
   */
  listReports(filter: Omit<ReportFilter, 'before'> & { before?: string }, actor: Actor): Report[] {
    let f = filter;
    if (actor.role === Role.OFFICER) {
      const own = this.store.nodes.list({ departmentCode: actor.departmentCode ?? '' }).map((n) => n.id);
      f = { ...f, nodeIds: f.nodeIds ? f.nodeIds.filter((id) => own.includes(id)) : own };
    }
    const raw = actor.role === Role.PROVINCE_ADMIN || actor.role === Role.AUDITOR;
    return this.store.tx(() => {
      const page = this.reports.list(f);
      if (!raw) return page.map(withheldReport);
      const records = page
        .filter((r) => r.kind === 'quarantine')
        .reduce((n, r) => n + quarantineRecords(r.body).length, 0);
      if (records)
        this.audit.record(actor, {
          action: 'quarantine.read',
          entityType: 'reports',
          entityId: f.nodeId ?? '*',
          details: {
            view: 'raw',
            via: 'reports',
            records,
            reports: page.filter((r) => r.kind === 'quarantine').map((r) => r.reportId),
          },
        });
      return page;
    });
  }

  private task(id: string): TaskRecord {
    const t = this.store.tasks.get(id);
    if (!t) throw notFound('task', id);
    return t;
  }

  private viewOf(actor: Actor, t: TaskRecord): ValueView {
    const dept = (id: string | null): string | null => (id ? (this.store.nodes.get(id)?.departmentCode ?? null) : null);
    const region = this.store.nodes.get(t.nodeId)?.regionCode ?? '';
    const inCallerRegion =
      actor.role === Role.CITY_ADMIN &&
      !!actor.regionCode &&
      this.store.regions.subtree(actor.regionCode).includes(region);
    const access = recordAccess(actor, {
      taskId: t.id,
      kind: t.kind,
      nodeDepartmentCode: dept(t.nodeId) ?? '',
      peerDepartmentCode: dept(t.peerNodeId),
      inCallerRegion,
    });
    if (access.view === 'refused') throw new XchgError(ErrorCode.PERMISSION_DENIED, access.problem);
    return access.view;
  }

  /** The fields and masks the consumer's exchange task `t` is granted (its subscription's, by its resource's rules). */
  private grant(t: TaskRecord): ReturnType<typeof grantedFields> {
    const sub = t.subscriptionId ? this.store.sharing.getSubscription(t.subscriptionId) : undefined;
    const resource = t.resourceCode ? this.store.catalog.get(t.resourceCode) : undefined;
    return grantedFields({
      ...(sub && sub.exchangeTaskId === t.id && { subscriptionFields: sub.fields }),
      params: t.params,
      ...(resource && { resourceFields: resource.fields }),
    });
  }

  /** Audit parties of a task: the provider side's department first, the consumer's as the peer. */
  private parties(t: TaskRecord): { departmentCode: string; peerDepartmentCode: string; resourceCode: string } {
    const dept = (id: string | null): string => (id ? (this.store.nodes.get(id)?.departmentCode ?? '') : '');
    const [provider, consumer] = t.kind === 'sync' ? [t.nodeId, t.peerNodeId] : [t.peerNodeId, t.nodeId];
    return { departmentCode: dept(provider), peerDepartmentCode: dept(consumer), resourceCode: t.resourceCode };
  }
}

function quarantineRecords(body: unknown): Record<string, unknown>[] {
  const records = (body as { records?: unknown } | null)?.records;
  return Array.isArray(records) ? (records as Record<string, unknown>[]) : [];
}

/** A report body without record values (see RecordAccessService.listReports). */
function withheldReport(r: Report): Report {
  const b = (r.body ?? {}) as Record<string, unknown>;
  if (r.kind === 'quarantine') {
    const records = quarantineRecords(b).map((q) => {
      const { recordJson, ...rest } = q;
      let columns: string[] = [];
      try {
        columns = Object.keys(JSON.parse(String(recordJson ?? '{}')) as Record<string, unknown>);
      } catch {
        columns = [];
      }
      return {
        ...rest,
        origin: withholdOrigin(String(q['origin'] ?? '')),
        reason: withholdValues(String(q['reason'] ?? '')),
        columns,
        values: 'withheld',
      };
    });
    const byReason = Object.fromEntries(
      Object.entries((b['byReason'] as Record<string, number> | undefined) ?? {}).map(([k, n]) => [
        withholdValues(k),
        n,
      ]),
    );
    return { ...r, body: { ...b, byReason, records } };
  }
  if (r.kind === 'task_run' && typeof b['error'] === 'string')
    return { ...r, body: { ...b, error: withholdValues(b['error']) } };
  if (r.kind === 'event' && typeof b['message'] === 'string')
    return { ...r, body: { ...b, message: withholdValues(b['message']) } };
  return r;
}
