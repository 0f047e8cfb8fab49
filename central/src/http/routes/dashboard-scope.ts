// What a dashboard reader sees: an officer its department, a city admin its region subtree (scope.ts), the
// province-wide roles everything. Every /dashboard route narrows its answer by it in the service.
import type { FastifyRequest } from 'fastify';
import type { DashboardScope } from '../../services/dashboard.js';
import { principal, Role } from '../auth.js';
import type { HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

export function dashboardScope(req: FastifyRequest, deps: HttpDeps): DashboardScope {
  const p = principal(req);
  if (p.role === Role.OFFICER && p.departmentCode) return { departmentCode: p.departmentCode };
  const regionCodes = scopeOf(req, deps);
  return regionCodes ? { regionCodes, regionCode: p.regionCode ?? null } : {};
}
