// /api/v1/reports/departments and /api/v1/reports/regions: evaluation (考核) over a period.
import { Type } from 'typebox';
import type { App, HttpDeps } from '../types.js';
import { Code } from './registry.js';
import { scopeOf } from './scope.js';

const Period = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'start, ms since epoch (default 30 days before until)' })),
    until: Type.Optional(Type.Integer({ minimum: 0, description: 'end, ms since epoch, exclusive (default now)' })),
    region: Type.Optional(Code),
  },
  { additionalProperties: false },
);
const Rate = Type.Union([Type.Number(), Type.Null()]);
const PeriodOut = Type.Object({ since: Type.Integer(), until: Type.Integer() });
const Department = Type.Object({
  departmentCode: Type.String(),
  name: Type.String(),
  regionCode: Type.String(),
  resourcesPublished: Type.Integer(),
  resourcesTotal: Type.Integer(),
  applicationsReceived: Type.Integer(),
  applicationsAnswered: Type.Integer(),
  applicationsAnsweredOnTime: Type.Integer(),
  applicationsPending: Type.Integer(),
  applicationsOverdue: Type.Integer(),
  applicationsMade: Type.Integer(),
  providedRecords: Type.Integer(),
  providedBatches: Type.Integer(),
  usedRecords: Type.Integer(),
  usedBatches: Type.Integer(),
  objectionsRaised: Type.Integer(),
  objectionsRaisedResolved: Type.Integer(),
  objectionsReceived: Type.Integer(),
  objectionsResolved: Type.Integer(),
  onTimeRate: Rate,
  objectionResolutionRate: Rate,
});
const Region = Type.Object({
  regionCode: Type.String(),
  name: Type.String(),
  level: Type.String(),
  nodes: Type.Integer(),
  onlineMs: Type.Integer(),
  observedMs: Type.Integer(),
  onlineRate: Rate,
});

export function registerEvaluationRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/reports/departments',
    {
      schema: {
        tags: ['evaluation'],
        summary: 'Per department: resources published, applications answered (on time), data provided and used, objections',
        querystring: Period,
        response: { 200: Type.Object({ period: PeriodOut, departments: Type.Array(Department) }) },
      },
    },
    async (req) => {
      const period = deps.evaluation.period(req.query.since, req.query.until);
      return { period, departments: deps.evaluation.departments(period, scopeOf(req, deps, req.query.region)) };
    },
  );

  app.get(
    '/reports/regions',
    {
      schema: {
        tags: ['evaluation'],
        summary: 'Per region: node online rate (联通率) over the period, from liveness events',
        querystring: Period,
        response: { 200: Type.Object({ period: PeriodOut, regions: Type.Array(Region) }) },
      },
    },
    async (req) => {
      const period = deps.evaluation.period(req.query.since, req.query.until);
      return { period, regions: deps.evaluation.regions(period, scopeOf(req, deps, req.query.region)) };
    },
  );
}
