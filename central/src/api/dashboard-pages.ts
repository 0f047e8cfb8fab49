// The dashboard pages' records beyond the first page (GET /dashboard/rankings, /approvals, /evaluation, /cities):
// department rankings as provider and consumer and top resources from the hourly traffic history, approval
// response times against the deadline, evaluation (考核) per department, the province's cities compared.
// Every answer is bounded (a limit on each list) and scoped like the summary.
import { Type, type Static } from 'typebox';
import { DepartmentReport, Period } from './evaluation.js';
import { Nullable } from './common.js';

export const RANKING_RANGES = ['7d', '30d'] as const;
export type RankingRange = (typeof RANKING_RANGES)[number];

export const RankingQuery = Type.Object(
  {
    range: Type.Optional(
      Type.Enum([...RANKING_RANGES], { description: 'last 7 or 30 local days, today included (default 7d)' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'rows per ranking (default 10)' })),
  },
  { additionalProperties: false },
);
export type RankingQuery = Static<typeof RankingQuery>;

const Volume = {
  records: Type.Integer(),
  batches: Type.Integer(),
  bytes: Nullable(Type.Integer({ description: 'null: unknown (imported history without bytes)' })),
};

export const DepartmentVolume = Type.Object({
  departmentCode: Type.String(),
  name: Type.String(),
  regionCode: Type.String(),
  ...Volume,
});
export type DepartmentVolume = Static<typeof DepartmentVolume>;

export const ResourceVolume = Type.Object({
  resourceCode: Type.String(),
  name: Nullable(Type.String({ description: 'null: not in the catalog (a binding name of an uncataloged flow)' })),
  providerDepartmentCode: Nullable(Type.String()),
  ...Volume,
});
export type ResourceVolume = Static<typeof ResourceVolume>;

export const DashboardRankings = Type.Object({
  range: Type.Enum([...RANKING_RANGES]),
  sinceMs: Type.Integer(),
  untilMs: Type.Integer(),
  timeZone: Type.String(),
  providers: Type.Array(DepartmentVolume, { description: 'records sent by the departments’ nodes, most first' }),
  consumers: Type.Array(DepartmentVolume, { description: 'records received by the departments’ nodes, most first' }),
  resources: Type.Array(ResourceVolume, {
    description: 'resources by records sent from nodes in scope, most first (history without a resource left out)',
  }),
});
export type DashboardRankings = Static<typeof DashboardRankings>;

export const APPROVAL_RANGES = ['30d', '90d', '365d'] as const;
export type ApprovalRange = (typeof APPROVAL_RANGES)[number];

export const ApprovalQuery = Type.Object(
  {
    range: Type.Optional(
      Type.Enum([...APPROVAL_RANGES], {
        description: 'applications submitted in the last 30/90/365 days (default 90d)',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'department rows (default 50)' })),
  },
  { additionalProperties: false },
);
export type ApprovalQuery = Static<typeof ApprovalQuery>;

export const ApprovalStats = Type.Object({
  received: Type.Integer({ description: 'applications submitted in the range' }),
  answered: Type.Integer(),
  answeredOnTime: Type.Integer({ description: 'answered before their deadline' }),
  pending: Type.Integer(),
  overdue: Type.Integer({ description: 'pending past their deadline' }),
  medianWorkingDays: Nullable(Type.Number({ description: 'median response of the answered, in working days' })),
  p90WorkingDays: Nullable(Type.Number({ description: '90th percentile (nearest rank) of the same' })),
  onTimeShare: Nullable(
    Type.Number({ description: '0..1: answered on time / (answered + overdue pending); null when neither' }),
  ),
});
export type ApprovalStats = Static<typeof ApprovalStats>;

export const DepartmentApprovals = Type.Object({
  departmentCode: Type.String(),
  name: Type.String(),
  regionCode: Type.String(),
  ...ApprovalStats.properties,
});
export type DepartmentApprovals = Static<typeof DepartmentApprovals>;

export const DashboardApprovals = Type.Object({
  range: Type.Enum([...APPROVAL_RANGES]),
  sinceMs: Type.Integer(),
  untilMs: Type.Integer(),
  deadlineWorkingDays: Type.Integer({ description: 'the answer deadline in working days (central setting)' }),
  overall: ApprovalStats,
  departments: Type.Array(DepartmentApprovals, {
    description: 'provider departments that received applications in the range, most received first',
  }),
});
export type DashboardApprovals = Static<typeof DashboardApprovals>;

export const EvaluationQuery = Type.Object(
  {
    range: Type.Optional(
      Type.Enum([...RANKING_RANGES], { description: 'the period: last 7 or 30 days (default 30d)' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'department rows (default 100)' })),
  },
  { additionalProperties: false },
);
export type EvaluationQuery = Static<typeof EvaluationQuery>;

export const DashboardEvaluation = Type.Object({
  period: Period,
  total: Type.Integer({ description: 'departments in scope (the rows may be fewer: limit)' }),
  departments: Type.Array(DepartmentReport, {
    description: 'most provided plus used records first, then by code (services/evaluation.ts counts)',
  }),
});
export type DashboardEvaluation = Static<typeof DashboardEvaluation>;

export const CityRow = Type.Object({
  regionCode: Type.String(),
  name: Type.String(),
  level: Type.String({ description: 'city, or province for the departments directly under the province' }),
  departments: Type.Integer(),
  nodes: Type.Integer(),
  nodesOnline: Type.Integer(),
  onlineRate: Nullable(Type.Number({ description: '联通率 now: online / nodes' })),
  todayRecords: Type.Integer({ description: 'records today of pairs with either end in the city' }),
  weekRecords: Type.Integer({ description: 'the same over the last 7 local days' }),
  approvalsReceived: Type.Integer({ description: 'applications to the city’s departments, last 90 days' }),
  approvalsOnTimeShare: Nullable(Type.Number({ description: 'as in /dashboard/approvals, 0..1' })),
});
export type CityRow = Static<typeof CityRow>;

export const DashboardCities = Type.Object({
  generatedAt: Type.Integer(),
  cities: Type.Array(CityRow, { description: 'the province’s own departments first, then each city by code' }),
});
export type DashboardCities = Static<typeof DashboardCities>;
