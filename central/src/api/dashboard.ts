// The dashboard's own records: the headline summary and the exchange volume trend (GET /dashboard/...),
// scoped like every other read (a city admin's region subtree, an officer's department).
import { Type, type Static } from 'typebox';
import { Nullable } from './common.js';

export const DashboardSummary = Type.Object({
  generatedAt: Type.Integer({ description: 'ms since epoch' }),
  todayStartMs: Type.Integer({ description: "start of today in central's traffic time zone, ms since epoch" }),
  timeZone: Type.String({ description: 'IANA time zone of "today"' }),
  regionCode: Nullable(Type.String({ description: "a city admin's region; null: the whole province" })),
  departments: Type.Object({
    total: Type.Integer(),
    connected: Type.Integer({ description: 'departments with at least one node online' }),
  }),
  nodes: Type.Object({
    total: Type.Integer(),
    online: Type.Integer(),
    onlineRate: Nullable(Type.Number({ description: '联通率: online / total, 0..1; null when there are no nodes' })),
  }),
  today: Type.Object({
    batches: Type.Integer(),
    records: Type.Integer(),
    bytes: Nullable(Type.Integer({ description: 'null: unknown (only imported history without bytes)' })),
    errors: Type.Integer(),
  }),
  resources: Type.Object({ published: Type.Integer() }),
  applications: Type.Object({
    pending: Type.Integer(),
    overdue: Type.Integer({ description: 'pending past their deadline' }),
  }),
  alerts: Type.Object({ open: Type.Integer(), critical: Type.Integer({ description: 'open and critical' }) }),
});
export type DashboardSummary = Static<typeof DashboardSummary>;

export const TREND_RANGES = ['today', '7d', '30d'] as const;
export type TrendRange = (typeof TREND_RANGES)[number];

export const DashboardTrendQuery = Type.Object(
  { range: Type.Optional(Type.Enum([...TREND_RANGES], { description: 'default today' })) },
  { additionalProperties: false },
);
export type DashboardTrendQuery = Static<typeof DashboardTrendQuery>;

export const DashboardTrendBucket = Type.Object({
  startMs: Type.Integer({ description: 'step start, ms since epoch' }),
  batches: Type.Integer(),
  records: Type.Integer(),
  bytes: Nullable(Type.Integer()),
});
export type DashboardTrendBucket = Static<typeof DashboardTrendBucket>;

export const DashboardTrend = Type.Object({
  range: Type.Enum([...TREND_RANGES]),
  stepMs: Type.Integer({ description: 'today: 3 600 000 (hours); 7d and 30d: 86 400 000 (local days)' }),
  sinceMs: Type.Integer(),
  untilMs: Type.Integer(),
  timeZone: Type.String(),
  buckets: Type.Array(DashboardTrendBucket, {
    description: 'every step of the range up to the current one, zeros included, in time order',
  }),
});
export type DashboardTrend = Static<typeof DashboardTrend>;
