// Evaluation (考核) over a period: per department (resources, applications answered on time, data provided
// and used, objections) and per region (node online rate, 联通率) (/api/v1/reports/departments, /regions).
import { Type, type Static } from 'typebox';
import { Code, Nullable } from './common.js';
import { RegionLevel } from './registry.js';

export const Period = Type.Object({ since: Type.Integer(), until: Type.Integer() });
export type Period = Static<typeof Period>;

const countProperties = {
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
};
const Rate = Nullable(Type.Number());

/** What a department did in a period, counted. */
export const DepartmentCounts = Type.Object({ departmentCode: Type.String(), ...countProperties });
export type DepartmentCounts = Static<typeof DepartmentCounts>;

export const DepartmentReport = Type.Object({
  departmentCode: Type.String(),
  name: Type.String(),
  regionCode: Type.String(),
  ...countProperties,
  /** Answered on time / received; null when nothing was received. */
  onTimeRate: Rate,
  /** Objections the department received that were answered / received. */
  objectionResolutionRate: Rate,
});
export type DepartmentReport = Static<typeof DepartmentReport>;

export const RegionReport = Type.Object({
  regionCode: Type.String(),
  name: Type.String(),
  level: RegionLevel,
  /** Nodes of departments in the region and the regions under it. */
  nodes: Type.Integer(),
  onlineMs: Type.Integer(),
  observedMs: Type.Integer(),
  /** Online time / observed time of those nodes over the period; null when none was observed. */
  onlineRate: Rate,
});
export type RegionReport = Static<typeof RegionReport>;

/** GET /reports/departments: the period and a row per department. */
export const DepartmentsAnswer = Type.Object({ period: Period, departments: Type.Array(DepartmentReport) });
export type DepartmentsAnswer = Static<typeof DepartmentsAnswer>;
/** GET /reports/regions: the period and a row per region. */
export const RegionsAnswer = Type.Object({ period: Period, regions: Type.Array(RegionReport) });
export type RegionsAnswer = Static<typeof RegionsAnswer>;

/** The period asked for (defaults: until now, since 30 days before until) and the region to narrow to. */
export const PeriodQuery = Type.Object(
  {
    since: Type.Optional(
      Type.Integer({ minimum: 0, description: 'start, ms since epoch (default 30 days before until)' }),
    ),
    until: Type.Optional(Type.Integer({ minimum: 0, description: 'end, ms since epoch, exclusive (default now)' })),
    region: Type.Optional(Code),
  },
  { additionalProperties: false },
);
