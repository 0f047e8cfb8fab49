// /api/v1/resources: the resource catalog (编目 · 注册 · 发布 · 维护), its versions, and
// /api/v1/notifications: what consumer departments are told when a resource they receive changes.
import { Type } from 'typebox';
import { FIELD_TYPES, RESOURCE_STATES, SHARE_METHODS, SHARE_TYPES, UPDATE_CYCLES } from '../../domain/catalog.js';
import { readScopeDepartment } from '../../domain/roles.js';
import { ErrorCode, XchgError } from '../../errors.js';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { Code, Name } from './registry.js';
import { scopeOf } from './scope.js';

export const ResourceCode = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'resource code (资源代码), letters, digits, . - _' });
const Binding = Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]*$', description: "source name in the provider agent's config" });

const FieldIn = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, description: 'the name consumers receive (e.g. a standard data element name)' }),
    column: Type.Optional(Type.String({ maxLength: 64, description: "the provider's source column, when it differs from name" })),
    type: Type.Enum([...FIELD_TYPES]),
    description: Type.Optional(Type.String({ maxLength: 200 })),
    required: Type.Optional(Type.Boolean()),
    sensitive: Type.Optional(Type.Boolean({ description: 'masked on the way out' })),
    mask: Type.Optional(Type.String({ maxLength: 32, description: "rule for a sensitive field: name, idcard, phone, redact, keep:A:B (default redact)" })),
  },
  { additionalProperties: false },
);
const Field = Type.Object({
  name: Type.String(),
  column: Type.Optional(Type.String()),
  type: Type.Enum([...FIELD_TYPES]),
  description: Type.String(),
  required: Type.Boolean(),
  sensitive: Type.Boolean(),
  mask: Type.Optional(Type.String()),
});
const contentSchema = {
  name: Name,
  description: Type.String({ maxLength: 2000 }),
  fields: Type.Array(FieldIn, { minItems: 1, maxItems: 500 }),
  format: Type.String({ minLength: 1, maxLength: 32, description: 'e.g. table, csv, json, pdf, jpg' }),
  shareType: Type.Enum([...SHARE_TYPES], { description: 'unconditional 无条件共享 | conditional 有条件共享 | not_shared 不予共享' }),
  conditions: Type.String({ maxLength: 2000, description: 'conditions of use; required for conditional' }),
  legalBasis: Type.String({ maxLength: 2000, description: 'law or regulation; required for not_shared' }),
  shareMethods: Type.Array(Type.Enum([...SHARE_METHODS]), { maxItems: 3 }),
  updateCycle: Type.Enum([...UPDATE_CYCLES]),
  binding: Binding,
  providerNodeId: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
};
/** A resource's content as stored in each version (what a version changes). */
const Content = Type.Object({
  name: Type.String(),
  description: Type.String(),
  fields: Type.Array(Field),
  format: Type.String(),
  shareType: Type.Enum([...SHARE_TYPES]),
  conditions: Type.String(),
  legalBasis: Type.String(),
  shareMethods: Type.Array(Type.String()),
  updateCycle: Type.String(),
  binding: Type.String(),
  providerNodeId: Type.Union([Type.String(), Type.Null()]),
});
/** A resource: its identity and life cycle around its current content. */
const Resource = Type.Object({
  code: Type.String(),
  providerDepartmentCode: Type.String(),
  ...Content.properties,
  status: Type.Enum([...RESOURCE_STATES]),
  version: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  publishedAt: Type.Union([Type.Integer(), Type.Null()]),
  retiredAt: Type.Union([Type.Integer(), Type.Null()]),
});
const Version = Type.Object({
  resourceCode: Type.String(),
  version: Type.Integer(),
  content: Content,
  changedKeys: Type.Array(Type.String()),
  note: Type.String(),
  at: Type.Integer(),
  by: Type.String(),
});
const Notification = Type.Object({
  id: Type.Integer(),
  departmentCode: Type.String(),
  kind: Type.String(),
  resourceCode: Type.String(),
  version: Type.Integer(),
  message: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.Integer(),
});
const CodeParam = Type.Object({ code: ResourceCode });

export function registerCatalogRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/resources',
    {
      schema: {
        tags: ['catalog'],
        summary: 'List the resource catalog (officers see published resources and their own drafts)',
        querystring: Type.Object(
          { status: Type.Optional(Type.Enum([...RESOURCE_STATES])), provider: Type.Optional(Code), shareType: Type.Optional(Type.Enum([...SHARE_TYPES])) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Resource) },
      },
    },
    async (req) =>
      deps.catalog.list(
        { ...(req.query.status && { status: req.query.status }), ...(req.query.provider && { providerDepartmentCode: req.query.provider }), ...(req.query.shareType && { shareType: req.query.shareType }) },
        principal(req),
      ),
  );

  app.post(
    '/resources',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Catalog a resource (编目); it starts as a draft',
        body: Type.Object(
          {
            code: ResourceCode,
            providerDepartmentCode: Code,
            name: Name,
            fields: contentSchema.fields,
            shareType: contentSchema.shareType,
            description: Type.Optional(contentSchema.description),
            format: Type.Optional(contentSchema.format),
            conditions: Type.Optional(contentSchema.conditions),
            legalBasis: Type.Optional(contentSchema.legalBasis),
            shareMethods: Type.Optional(contentSchema.shareMethods),
            updateCycle: Type.Optional(contentSchema.updateCycle),
            binding: Type.Optional(contentSchema.binding),
            providerNodeId: Type.Optional(contentSchema.providerNodeId),
          },
          { additionalProperties: false },
        ),
        response: { 201: Resource },
      },
    },
    async (req, reply) => reply.status(201).send(deps.catalog.create(req.body, principal(req))),
  );

  app.get(
    '/resources/:code',
    { schema: { tags: ['catalog'], summary: 'One resource with its version history', params: CodeParam, response: { 200: Type.Object({ ...Resource.properties, versions: Type.Array(Version) }) } } },
    async (req) => {
      const r = deps.catalog.get(req.params.code);
      const p = principal(req);
      const dept = readScopeDepartment(p);
      if (r.status === 'draft' && dept !== undefined && dept !== r.providerDepartmentCode)
        throw new XchgError(ErrorCode.PERMISSION_DENIED, `resource ${r.code} is a draft of ${r.providerDepartmentCode}; officer ${p.name} sees its own department's drafts only`);
      return r;
    },
  );

  app.get(
    '/resources/:code/versions',
    { schema: { tags: ['catalog'], summary: 'Every version of a resource, oldest first', params: CodeParam, response: { 200: Type.Array(Version) } } },
    async (req) => deps.catalog.versions(req.params.code),
  );

  app.patch(
    '/resources/:code',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Change a resource (维护): a draft in place; a published one becomes a new version and its consumers are notified',
        params: CodeParam,
        body: Type.Object(
          {
            name: Type.Optional(contentSchema.name),
            description: Type.Optional(contentSchema.description),
            fields: Type.Optional(contentSchema.fields),
            format: Type.Optional(contentSchema.format),
            shareType: Type.Optional(contentSchema.shareType),
            conditions: Type.Optional(contentSchema.conditions),
            legalBasis: Type.Optional(contentSchema.legalBasis),
            shareMethods: Type.Optional(contentSchema.shareMethods),
            updateCycle: Type.Optional(contentSchema.updateCycle),
            binding: Type.Optional(contentSchema.binding),
            providerNodeId: Type.Optional(contentSchema.providerNodeId),
            note: Type.Optional(Type.String({ maxLength: 500, description: 'what changed and why (kept with the version)' })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Resource },
      },
    },
    async (req) => deps.catalog.update(req.params.code, req.body, principal(req)),
  );

  app.post(
    '/resources/:code/publish',
    { schema: { tags: ['catalog'], summary: 'Publish a draft (发布): it can be subscribed to or applied for', params: CodeParam, response: { 200: Resource } } },
    async (req) => deps.catalog.publish(req.params.code, principal(req)),
  );

  app.post(
    '/resources/:code/retire',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Retire a resource: no new applications or subscriptions, its flows stop and its consumers are notified',
        params: CodeParam,
        body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
        response: { 200: Resource },
      },
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => deps.catalog.retire(req.params.code, principal(req), req.body?.reason ?? ''),
  );

  app.get(
    '/notifications',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Notices to consumer departments about resources they receive (changed, retired), newest first',
        querystring: Type.Object(
          { department: Type.Optional(Code), resource: Type.Optional(ResourceCode), since: Type.Optional(Type.Integer({ minimum: 0 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Notification) },
      },
    },
    async (req) => {
      const p = principal(req);
      const own = readScopeDepartment(p);
      if (own !== undefined && req.query.department && req.query.department !== own)
        throw new XchgError(ErrorCode.PERMISSION_DENIED, `officer ${p.name} reads the notices of ${own} only`, { field: 'department' });
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
