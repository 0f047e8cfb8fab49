// /api/v1/dashboard: the figures the dashboard's first page shows — the headline summary and the exchange
// volume trend — within the caller's scope (a city admin's region subtree, an officer's department).
import type { FastifyRequest } from 'fastify';
import { DashboardSummary, DashboardTrend, DashboardTrendQuery } from '../../api/dashboard.js';
import type { DashboardScope } from '../../services/dashboard.js';
import { principal, Role } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

function dashboardScope(req: FastifyRequest, deps: HttpDeps): DashboardScope {
  const p = principal(req);
  if (p.role === Role.OFFICER && p.departmentCode) return { departmentCode: p.departmentCode };
  const regionCodes = scopeOf(req, deps);
  return regionCodes ? { regionCodes, regionCode: p.regionCode ?? null } : {};
}

export function registerDashboardRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/dashboard/summary',
    {
      schema: {
        tags: ['dashboard'],
        summary: 'Headline figures: departments, nodes and 联通率, today’s exchanges, resources, applications, alerts',
        response: { 200: DashboardSummary },
      },
    },
    async (req) => deps.dashboard.summary(dashboardScope(req, deps)),
  );

  app.get(
    '/dashboard/trend',
    {
      schema: {
        tags: ['dashboard'],
        summary: 'Exchange volume across pairs: today by hour, or the last 7 / 30 days by day',
        querystring: DashboardTrendQuery,
        response: { 200: DashboardTrend },
      },
    },
    async (req) => deps.dashboard.trend(req.query.range ?? 'today', dashboardScope(req, deps)),
  );
}
