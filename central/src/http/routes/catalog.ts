// /api/v1/resources: the resource catalog (编目 · 注册 · 发布 · 维护), its versions, and
// /api/v1/notifications: what consumer departments are told when a resource they receive changes.
import { Type } from 'typebox';
import {
  CreateResourceBody,
  Notification,
  NotificationQuery,
  Resource,
  ResourceCodeParams,
  ResourceDetail,
  ResourceQuery,
  ResourceVersion,
  UpdateResourceBody,
} from '../../api/catalog.js';
import { OptionalReasonBody } from '../../api/common.js';
import { readScopeDepartment } from '../../domain/roles.js';
import { ErrorCode, XchgError } from '../../errors.js';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

export function registerCatalogRoutes(app: App, deps: HttpDeps): void {
  registerResourceReads(app, deps);
  registerResourceWrites(app, deps);
  registerNotificationRoutes(app, deps);
}

function registerResourceReads(app: App, deps: HttpDeps): void {
  app.get(
    '/resources',
    {
      schema: {
        tags: ['catalog'],
        summary: 'List the resource catalog (officers see published resources and their own drafts)',
        querystring: ResourceQuery,
        response: { 200: Type.Array(Resource) },
      },
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...(q.status && { status: q.status }),
        ...(q.provider && { providerDepartmentCode: q.provider }),
        ...(q.shareType && { shareType: q.shareType }),
      };
      return deps.catalog.list(filter, principal(req));
    },
  );

  app.get(
    '/resources/:code',
    {
      schema: {
        tags: ['catalog'],
        summary: 'One resource with its version history',
        params: ResourceCodeParams,
        response: { 200: ResourceDetail },
      },
    },
    async (req) => {
      const r = deps.catalog.get(req.params.code);
      const p = principal(req);
      const dept = readScopeDepartment(p);
      if (r.status === 'draft' && dept !== undefined && dept !== r.providerDepartmentCode)
        throw new XchgError(
          ErrorCode.PERMISSION_DENIED,
          `resource ${r.code} is a draft of ${r.providerDepartmentCode}; officer ${p.name} sees its own department's drafts only`,
        );
      return r;
    },
  );

  app.get(
    '/resources/:code/versions',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Every version of a resource, oldest first',
        params: ResourceCodeParams,
        response: { 200: Type.Array(ResourceVersion) },
      },
    },
    async (req) => deps.catalog.versions(req.params.code),
  );
}

function registerResourceWrites(app: App, deps: HttpDeps): void {
  app.post(
    '/resources',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Catalog a resource (编目); it starts as a draft',
        body: CreateResourceBody,
        response: { 201: Resource },
      },
    },
    async (req, reply) => reply.status(201).send(deps.catalog.create(req.body, principal(req))),
  );

  app.patch(
    '/resources/:code',
    {
      schema: {
        tags: ['catalog'],
        summary:
          'Change a resource (维护): a draft in place; a published one becomes a new version and its consumers are notified',
        params: ResourceCodeParams,
        body: UpdateResourceBody,
        response: { 200: Resource },
      },
    },
    async (req) => deps.catalog.update(req.params.code, req.body, principal(req)),
  );

  app.post(
    '/resources/:code/publish',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Publish a draft (发布): it can be subscribed to or applied for',
        params: ResourceCodeParams,
        response: { 200: Resource },
      },
    },
    async (req) => deps.catalog.publish(req.params.code, principal(req)),
  );

  app.post(
    '/resources/:code/retire',
    {
      schema: {
        tags: ['catalog'],
        summary:
          'Retire a resource: no new applications or subscriptions, its flows stop and its consumers are notified',
        params: ResourceCodeParams,
        body: OptionalReasonBody,
        response: { 200: Resource },
      },
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => deps.catalog.retire(req.params.code, principal(req), req.body?.reason ?? ''),
  );
}

function registerNotificationRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/notifications',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Notices to consumer departments about resources they receive (changed, retired), newest first',
        querystring: NotificationQuery,
        response: { 200: Type.Array(Notification) },
      },
    },
    async (req) => {
      const p = principal(req);
      const own = readScopeDepartment(p);
      if (own !== undefined && req.query.department && req.query.department !== own)
        throw new XchgError(ErrorCode.PERMISSION_DENIED, `officer ${p.name} reads the notices of ${own} only`, {
          field: 'department',
        });
      const scope = scopeOf(req, deps);
      const departmentCodes = scope && deps.registry.listDepartments(scope).map((d) => d.code);
      return deps.catalog.notifications({
        ...((own ?? req.query.department) && { departmentCode: own ?? req.query.department }),
        ...(departmentCodes && { departmentCodes }),
        ...(req.query.resource && { resourceCode: req.query.resource }),
        ...(req.query.since !== undefined && { since: req.query.since }),
        ...(req.query.limit !== undefined && { limit: req.query.limit }),
      });
    },
  );
}
