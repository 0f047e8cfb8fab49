// /api/v1/reports/departments and /api/v1/reports/regions: evaluation (考核) over a period.
import { DepartmentsAnswer, PeriodQuery, RegionsAnswer } from '../../api/evaluation.js';
import type { App, HttpDeps } from '../types.js';
import { officerDepartment, scopeOf } from './scope.js';

export function registerEvaluationRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/reports/departments',
    {
      schema: {
        tags: ['evaluation'],
        summary:
          'Per department: resources published, applications answered (on time), data provided and used, objections',
        querystring: PeriodQuery,
        response: { 200: DepartmentsAnswer },
      },
    },
    async (req) => {
      const period = deps.evaluation.period(req.query.since, req.query.until);
      const own = officerDepartment(req); // an officer sees its own department's figures
      const departments = deps.evaluation.departments(period, scopeOf(req, deps, req.query.region));
      return {
        period,
        departments: own === undefined ? departments : departments.filter((d) => d.departmentCode === own),
      };
    },
  );

  app.get(
    '/reports/regions',
    {
      schema: {
        tags: ['evaluation'],
        summary: 'Per region: node online rate (联通率) over the period, from liveness events',
        querystring: PeriodQuery,
        response: { 200: RegionsAnswer },
      },
    },
    async (req) => {
      const period = deps.evaluation.period(req.query.since, req.query.until);
      return { period, regions: deps.evaluation.regions(period, scopeOf(req, deps, req.query.region)) };
    },
  );
}
