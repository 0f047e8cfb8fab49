// /api/v1/dashboard: the figures the dashboard's first page shows — the headline summary and the exchange
// volume trend — within the caller's scope (a city admin's region subtree, an officer's department); the other
// pages' routes are in dashboard-pages.ts and dashboard-nodes.ts.
import { DashboardSummary, DashboardTrend, DashboardTrendQuery } from '../../api/dashboard.js';
import type { App, HttpDeps } from '../types.js';
import { registerDashboardNodeRoutes } from './dashboard-nodes.js';
import { registerDashboardPageRoutes } from './dashboard-pages.js';
import { dashboardScope } from './dashboard-scope.js';

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

  registerDashboardPageRoutes(app, deps);
  registerDashboardNodeRoutes(app, deps);
}
