// The resource catalog (编目 · 注册 · 发布 · 维护): departments describe what they hold; a resource is
// drafted, published and finally retired. Every change of a published resource is a new version, and the
// departments that receive it (active subscriptions) get a notification in the same transaction;
// retiring a resource also stops its flows.
import {
  changedKeys,
  resourceProblem,
  transitionProblem,
  type ResourceContent,
  type ResourceField,
  type ResourceState,
  type ShareMethod,
  type ShareType,
  type UpdateCycle,
  type FieldType,
} from '../domain/catalog.js';
import { actForProblem, Role, type Actor } from '../domain/roles.js';
import { alreadyExists, ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import type { Notification, Resource, ResourceFilter, ResourceVersion, Store } from '../store/index.js';
import type { AuditTrail } from './audit.js';
import type { SubscriptionService } from './subscriptions.js';

export interface FieldInput {
  name: string;
  column?: string;
  type: FieldType;
  description?: string;
  required?: boolean;
  sensitive?: boolean;
  mask?: string;
}

export interface ResourceInput {
  code: string;
  name: string;
  providerDepartmentCode: string;
  description?: string;
  fields: FieldInput[];
  format?: string;
  shareType: ShareType;
  conditions?: string;
  legalBasis?: string;
  shareMethods?: ShareMethod[];
  updateCycle?: UpdateCycle;
  binding?: string;
  providerNodeId?: string | null;
}

export type ResourcePatch = Partial<Omit<ResourceInput, 'code' | 'providerDepartmentCode'>> & { note?: string };

const CONTENT_KEYS: readonly (keyof ResourceContent)[] = [
  'name',
  'description',
  'fields',
  'format',
  'shareType',
  'conditions',
  'legalBasis',
  'shareMethods',
  'updateCycle',
  'binding',
  'providerNodeId',
];

export const contentOf = (r: ResourceContent): ResourceContent =>
  Object.fromEntries(CONTENT_KEYS.map((k) => [k, r[k]])) as unknown as ResourceContent;

const normField = (f: FieldInput): ResourceField => ({
  name: f.name,
  ...(f.column !== undefined && f.column !== '' && f.column !== f.name && { column: f.column }),
  type: f.type,
  description: f.description ?? '',
  required: f.required ?? false,
  sensitive: f.sensitive ?? false,
  ...(f.mask !== undefined && f.mask !== '' && { mask: f.mask }),
});

export class CatalogService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly subscriptions: SubscriptionService,
  ) {}

  create(input: ResourceInput, actor: Actor): Resource {
    const now = this.clock();
    const content: ResourceContent = {
      name: input.name,
      description: input.description ?? '',
      fields: input.fields.map(normField),
      format: input.format ?? 'table',
      shareType: input.shareType,
      conditions: input.conditions ?? '',
      legalBasis: input.legalBasis ?? '',
      shareMethods: input.shareMethods ?? (input.shareType === 'not_shared' ? [] : ['database_sync']),
      updateCycle: input.updateCycle ?? 'irregular',
      binding: input.binding ?? '',
      providerNodeId: input.providerNodeId ?? null,
    };
    const r: Resource = {
      ...content,
      code: input.code,
      providerDepartmentCode: input.providerDepartmentCode,
      status: 'draft',
      version: 1,
      createdAt: now,
      updatedAt: now,
      publishedAt: null,
      retiredAt: null,
    };
    return this.store.tx(() => {
      if (!this.store.regions.getDepartment(input.providerDepartmentCode))
        throw invalid('providerDepartmentCode', `department ${JSON.stringify(input.providerDepartmentCode)} not found`);
      this.mayAct(actor, input.providerDepartmentCode);
      if (this.store.catalog.get(input.code)) throw alreadyExists('resource', input.code);
      this.check(content, input.providerDepartmentCode);
      this.store.catalog.insert(r);
      this.store.catalog.putVersion({
        resourceCode: r.code,
        version: 1,
        content,
        changedKeys: [],
        note: 'created',
        at: now,
        by: actor.name,
      });
      this.audit.record(actor, {
        action: 'resource.create',
        entityType: 'resource',
        entityId: r.code,
        departmentCode: r.providerDepartmentCode,
        resourceCode: r.code,
        details: { version: 1, name: r.name, shareType: r.shareType, fields: r.fields.map((f) => f.name) },
      });
      return r;
    });
  }

  /** Changes a resource: a draft in place, a published one as a new version its consumers are told of. */
  update(code: string, patch: ResourcePatch, actor: Actor): Resource {
    const now = this.clock();
    return this.store.tx(() => {
      const cur = this.require(code);
      this.mayAct(actor, cur.providerDepartmentCode);
      if (cur.status === 'retired')
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `resource ${code} is retired; a retired resource does not change`,
          { field: 'code' },
        );
      const before = contentOf(cur);
      const after: ResourceContent = { ...before };
      for (const k of CONTENT_KEYS) {
        const v = (patch as Record<string, unknown>)[k];
        if (v === undefined) continue;
        if (k === 'fields') after.fields = (v as FieldInput[]).map(normField);
        else (after as unknown as Record<string, unknown>)[k] = v;
      }
      // Changing the share type alone adjusts the methods: a not-shared resource has none, and one that
      // becomes shared starts with database sync.
      if (patch.shareType !== undefined && patch.shareMethods === undefined) {
        if (patch.shareType === 'not_shared') after.shareMethods = [];
        else if (after.shareMethods.length === 0) after.shareMethods = ['database_sync'];
      }
      const changed = changedKeys(before, after);
      if (changed.length === 0) throw invalid('body', 'nothing changes: every given value equals the current one');
      this.check(after, cur.providerDepartmentCode);
      const active = this.store.sharing.listSubscriptions({ resourceCode: code, status: 'active' });
      if (after.shareType === 'not_shared' && active.length)
        throw new XchgError(
          ErrorCode.FAILED_PRECONDITION,
          `shareType: resource ${code} still flows to ${active.length} active subscription(s); stop them (revoke the agreements or delete the subscriptions) before making it not shared`,
          { field: 'shareType' },
        );
      const published = cur.status === 'published';
      const version = published ? cur.version + 1 : cur.version;
      const next: Resource = { ...cur, ...after, version, updatedAt: now };
      this.store.catalog.update(next);
      this.store.catalog.putVersion({
        resourceCode: code,
        version,
        content: after,
        changedKeys: published ? changed : [],
        note: patch.note ?? (published ? 'changed' : 'draft edited'),
        at: now,
        by: actor.name,
      });
      this.audit.record(actor, {
        action: 'resource.update',
        entityType: 'resource',
        entityId: code,
        departmentCode: cur.providerDepartmentCode,
        resourceCode: code,
        details: { version, changed, ...(patch.note && { note: patch.note }) },
      });
      if (published)
        this.notifyConsumers(
          next,
          'resource.changed',
          `resource ${code} changed to version ${version}: ${changed.join(', ')}`,
          { changed, note: patch.note ?? '' },
          now,
        );
      return next;
    });
  }

  publish(code: string, actor: Actor): Resource {
    return this.transition(code, 'published', actor);
  }

  retire(code: string, actor: Actor, reason = ''): Resource {
    return this.transition(code, 'retired', actor, reason);
  }

  get(code: string): Resource & { versions: ResourceVersion[] } {
    const r = this.require(code);
    return { ...r, versions: this.store.catalog.versions(code) };
  }

  versions(code: string): ResourceVersion[] {
    this.require(code);
    return this.store.catalog.versions(code);
  }

  /** The catalog as `actor` sees it: officers see every published or retired resource and their own drafts. */
  list(filter: ResourceFilter, actor: Actor): Resource[] {
    const all = this.store.catalog.list(filter);
    if (actor.role !== Role.OFFICER) return all;
    return all.filter((r) => r.status !== 'draft' || r.providerDepartmentCode === actor.departmentCode);
  }

  notifications(filter: Parameters<Store['catalog']['notifications']>[0]): Notification[] {
    return this.store.catalog.notifications(filter);
  }

  private transition(code: string, to: ResourceState, actor: Actor, reason = ''): Resource {
    const now = this.clock();
    return this.store.tx(() => {
      const cur = this.require(code);
      this.mayAct(actor, cur.providerDepartmentCode);
      const problem = transitionProblem(cur.status, to);
      if (problem)
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `resource ${code}: ${problem}`, { field: 'status' });
      if (to === 'published') this.check(contentOf(cur), cur.providerDepartmentCode);
      const next: Resource = {
        ...cur,
        status: to,
        updatedAt: now,
        ...(to === 'published' && { publishedAt: now }),
        ...(to === 'retired' && { retiredAt: now }),
      };
      this.store.catalog.update(next);
      this.audit.record(actor, {
        action: to === 'published' ? 'resource.publish' : 'resource.retire',
        entityType: 'resource',
        entityId: code,
        departmentCode: cur.providerDepartmentCode,
        resourceCode: code,
        details: { version: cur.version, from: cur.status, ...(reason && { reason }) },
      });
      if (to === 'retired') {
        this.notifyConsumers(
          next,
          'resource.retired',
          `resource ${code} was retired${reason ? `: ${reason}` : ''}; its flows stop`,
          { reason },
          now,
        );
        for (const s of this.store.sharing.listSubscriptions({ resourceCode: code, status: 'active' }))
          this.subscriptions.stopFlow(s, `resource ${code} retired${reason ? `: ${reason}` : ''}`, actor, now);
      }
      return next;
    });
  }

  /** One notification per consumer department with an active subscription of the resource. */
  private notifyConsumers(
    r: Resource,
    kind: string,
    message: string,
    details: Record<string, unknown>,
    at: number,
  ): void {
    const depts = new Set(
      this.store.sharing
        .listSubscriptions({ resourceCode: r.code, status: 'active' })
        .map((s) => s.consumerDepartmentCode),
    );
    for (const departmentCode of depts)
      this.store.catalog.insertNotification({
        departmentCode,
        kind,
        resourceCode: r.code,
        version: r.version,
        message,
        details,
        createdAt: at,
      });
  }

  private check(c: ResourceContent, providerDepartmentCode: string): void {
    const p = resourceProblem(c);
    if (p) throw invalid(p.field, p.problem);
    if (c.providerNodeId) {
      const n = this.store.nodes.get(c.providerNodeId);
      if (!n) throw invalid('providerNodeId', `node ${JSON.stringify(c.providerNodeId)} not found`);
      if (n.departmentCode !== providerDepartmentCode)
        throw invalid(
          'providerNodeId',
          `node ${c.providerNodeId} belongs to ${n.departmentCode}, not to the provider ${providerDepartmentCode}`,
        );
    }
  }

  private require(code: string): Resource {
    const r = this.store.catalog.get(code);
    if (!r) throw notFound('resource', code);
    return r;
  }

  private mayAct(actor: Actor, departmentCode: string): void {
    const problem = actForProblem(actor, departmentCode);
    if (problem) throw new XchgError(ErrorCode.PERMISSION_DENIED, problem);
  }
}
