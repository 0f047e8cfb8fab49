// /api/v1/dashboard/rankings, /approvals, /evaluation and /cities: the overview page's figures beyond the
// headline, scoped like the summary; /cities compares the province's cities and is for province-wide roles.
import {
  ApprovalQuery,
  DashboardApprovals,
  DashboardCities,
  DashboardEvaluation,
  DashboardRankings,
  EvaluationQuery,
  RankingQuery,
} from '../../api/dashboard-pages.js';
import { requireRole, Role } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { dashboardScope } from './dashboard-scope.js';

export function registerDashboardPageRoutes(app: App, deps: HttpDeps): void {
  const scoped = (req: Parameters<typeof dashboardScope>[0]) => deps.dashboard.resolveScope(dashboardScope(req, deps));

  app.get(
    '/dashboard/rankings',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'Department rankings as provider and as consumer and the top resources, by records over the last 7 or 30 days',
        querystring: RankingQuery,
        response: { 200: DashboardRankings },
      },
    },
    async (req) => deps.dashboard.pages.rankings(req.query.range ?? '7d', req.query.limit ?? 10, scoped(req)),
  );

  app.get(
    '/dashboard/approvals',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'Approval response times against the deadline: median and p90 in working days, on-time share, per provider department',
        querystring: ApprovalQuery,
        response: { 200: DashboardApprovals },
      },
    },
    async (req) => deps.dashboard.pages.approvals(req.query.range ?? '90d', req.query.limit ?? 50, scoped(req)),
  );

  app.get(
    '/dashboard/evaluation',
    {
      schema: {
        tags: ['dashboard'],
        summary: 'Evaluation (考核) per department over the last 7 or 30 days, most active first',
        querystring: EvaluationQuery,
        response: { 200: DashboardEvaluation },
      },
    },
    async (req) => deps.dashboard.pages.evaluationReport(req.query.range ?? '30d', req.query.limit ?? 100, scoped(req)),
  );

  app.get(
    '/dashboard/cities',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'The province’s cities compared: nodes online and 联通率, records today and over 7 days, approvals on time (province-wide roles)',
        response: { 200: DashboardCities },
      },
    },
    async (req) => {
      requireRole(req, Role.PROVINCE_ADMIN, Role.OPERATOR, Role.AUDITOR);
      return deps.dashboard.pages.cities();
    },
  );
}
