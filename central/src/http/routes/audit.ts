// /api/v1/audit: the append-only, hash-chained audit log — filtered listing and chain verification.
import { Type } from 'typebox';
import { AuditEntry, AuditQuery, AuditVerdict } from '../../api/audit.js';
import { readScopeDepartment } from '../../domain/roles.js';
import { ErrorCode, XchgError } from '../../errors.js';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

export function registerAuditRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit entries in sequence order; department matches either party',
        querystring: AuditQuery,
        response: { 200: Type.Array(AuditEntry) },
      },
    },
    async (req) => {
      const p = principal(req);
      const own = readScopeDepartment(p);
      if (own !== undefined && req.query.department && req.query.department !== own)
        throw new XchgError(ErrorCode.PERMISSION_DENIED, `officer ${p.name} reads the audit entries of ${own} only`, {
          field: 'department',
        });
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
        response: { 200: AuditVerdict },
      },
    },
    async () => deps.audit.verify(),
  );
}
