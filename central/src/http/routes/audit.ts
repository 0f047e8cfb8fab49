// /api/v1/audit: the append-only, hash-chained audit log — filtered listing and chain verification.
import { Type } from 'typebox';
import { readScopeDepartment } from '../../domain/roles.js';
import { ErrorCode, XchgError } from '../../errors.js';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { ResourceCode } from './catalog.js';
import { Code } from './registry.js';
import { scopeOf } from './scope.js';

const Entry = Type.Object({
  seq: Type.Integer(),
  at: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  entityType: Type.String(),
  entityId: Type.String(),
  departmentCode: Type.String(),
  peerDepartmentCode: Type.String(),
  resourceCode: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
});

export function registerAuditRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit entries in sequence order; department matches either party',
        querystring: Type.Object(
          {
            department: Type.Optional(Code),
            resource: Type.Optional(ResourceCode),
            action: Type.Optional(Type.String({ maxLength: 64, description: 'an action (task.create) or a prefix of actions (task)' })),
            entity: Type.Optional(Type.String({ maxLength: 64 })),
            since: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch, inclusive' })),
            until: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch, exclusive' })),
            afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Entry) },
      },
    },
    async (req) => {
      const p = principal(req);
      const own = readScopeDepartment(p);
      if (own !== undefined && req.query.department && req.query.department !== own)
        throw new XchgError(ErrorCode.PERMISSION_DENIED, `officer ${p.name} reads the audit entries of ${own} only`, { field: 'department' });
      const scope = scopeOf(req, deps);
      const q = req.query;
      const department = own ?? q.department;
      return deps.audit.list({
        ...(department && { departmentCode: department }),
        ...(scope && { departmentCodes: deps.registry.listDepartments(scope).map((d) => d.code) }),
        ...(q.resource && { resourceCode: q.resource }),
        ...(q.action && { action: q.action }),
        ...(q.entity && { entityId: q.entity }),
        ...(q.since !== undefined && { since: q.since }),
        ...(q.until !== undefined && { until: q.until }),
        ...(q.afterSeq !== undefined && { afterSeq: q.afterSeq }),
        ...(q.limit !== undefined && { limit: q.limit }),
      });
    },
  );

  app.get(
    '/audit/verify',
    {
      schema: {
        tags: ['audit'],
        summary: 'Recompute the hash chain; names the first broken entry and what is wrong with it',
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            entries: Type.Integer(),
            headHash: Type.String(),
            checkedAt: Type.Integer(),
            firstBroken: Type.Optional(Type.Object({ seq: Type.Integer(), problem: Type.String() })),
          }),
        },
      },
    },
    async () => deps.audit.verify(),
  );
}
