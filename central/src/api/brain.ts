// The brain (智能调度) as the API shows it: clustering runs of node pairs by traffic shape (/api/v1/clusters)
// and the surges (浪涌) the detector found, live or over imported history (/api/v1/surges). Times are ms since
// epoch with an ISO 8601 twin in central's time zone (traffic.timeZone).
import { Type, type Static } from 'typebox';
import { Id, Limit, Nullable } from './common.js';

const Iso = Type.String({ description: "ISO 8601 in central's time zone" });

export const ClusterLabel = Type.Object({
  base: Type.String({ description: 'nightly-bulk | office-hours | weekly | sporadic | realtime-steady | mixed' }),
  en: Type.String(),
  zh: Type.String(),
  rule: Type.String({ description: 'the labelling rule that matched, with the values it tested' }),
});

export const ClusterView = Type.Object({
  clusterId: Type.Integer(),
  /** Members the caller sees (a city admin: pairs with a node in its region). */
  size: Type.Integer(),
  label: ClusterLabel,
  silhouette: Type.Number({ description: 'mean silhouette of its members (Rousseeuw 1987), -1..1' }),
  policy: Type.Unknown({ description: 'the static-policy template (domain/cluster-policy.ts PolicyTemplate)' }),
  profile: Type.Unknown({ description: 'member medians and mean profiles (domain/cluster-labels.ts ClusterProfile)' }),
});
export type ClusterView = Static<typeof ClusterView>;

export const ClusterRunView = Type.Object({
  runId: Id,
  createdAt: Type.Integer(),
  created: Iso,
  sinceMs: Type.Integer(),
  untilMs: Type.Integer(),
  bucketMs: Type.Integer(),
  pairs: Type.Integer({ description: 'pairs clustered (a city admin: those with a node in its region)' }),
  k: Type.Integer(),
  criterion: Type.Unknown({ description: 'how k was chosen: mean silhouette per k tried, and the dimensions' }),
  clusters: Type.Array(ClusterView),
});
export type ClusterRunView = Static<typeof ClusterRunView>;

export const ClusterMember = Type.Object({
  fromNode: Id,
  toNode: Id,
  resource: Type.String(),
  features: Type.Unknown({ description: 'domain/traffic-features.ts TrafficFeatures' }),
});

export const ClusterDetail = Type.Object({
  ...ClusterView.properties,
  runId: Id,
  members: Type.Array(ClusterMember),
});
export type ClusterDetail = Static<typeof ClusterDetail>;

export const ClusterParams = Type.Object({ id: Type.Integer({ minimum: 0 }) });

/** GET /dashboard/clusters: the newest run with each cluster's first members. */
export const ClusterBoard = Type.Object({
  ...ClusterRunView.properties,
  clusters: Type.Array(ClusterDetail, { description: 'each with its first `members` member pairs (size: all)' }),
});
export type ClusterBoard = Static<typeof ClusterBoard>;

export const ClusterBoardQuery = Type.Object(
  { members: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'members listed a cluster (10)' })) },
  { additionalProperties: false },
);

/** The dashboard's answer: null before the first clustering run (instead of GET /clusters' 404). */
export const DashboardClusters = Type.Object({ run: Nullable(ClusterBoard) });
export type DashboardClusters = Static<typeof DashboardClusters>;

/** GET /clusters/:id: how many members to list (size says how many there are). */
export const ClusterQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'members listed, at most' })) },
  { additionalProperties: false },
);

/** POST /clusters/run: what the run did. */
export const ClusterRunSummary = Type.Object({
  run: Nullable(ClusterRunView),
  skipped: Type.Integer({ description: 'pairs with too little history (brain.minHistoryDays)' }),
  policies: Type.Object({ created: Type.Integer(), replaced: Type.Integer(), withoutTask: Type.Integer() }),
});
export type ClusterRunSummary = Static<typeof ClusterRunSummary>;

export const SurgeOrigin = Type.Enum(['live', 'import']);

export const SurgeView = Type.Object({
  surgeId: Id,
  fromNode: Id,
  toNode: Id,
  resource: Type.String(),
  origin: SurgeOrigin,
  start: Iso,
  end: Nullable(Iso),
  startMs: Type.Integer(),
  endMs: Nullable(Type.Integer()),
  detected: Iso,
  detectedAtMs: Type.Integer(),
  /** (detected − start) / bucket: how many buckets after its start the detector decided. */
  delayBuckets: Type.Integer(),
  peak: Type.Number({ description: 'largest records per bucket during the surge' }),
  expected: Type.Number({ description: 'the forecast at the peak bucket, records per bucket' }),
  evidence: Type.Unknown({
    description: 'rule, the buckets it rested on with p-values, forecast dispersion and level',
  }),
  actions: Type.Array(Type.Unknown(), {
    description:
      'what the brain did: dynamic-policy, alert, policy-withdrawn, spread and unspread ({action, taskId, nodes, epoch}: dynamic node allocation)',
  }),
});
export type SurgeView = Static<typeof SurgeView>;

export const SurgeQuery = Type.Object(
  {
    from: Type.Optional(Id),
    to: Type.Optional(Id),
    origin: Type.Optional(SurgeOrigin),
    since: Type.Optional(Type.String({ description: 'surges overlapping [since, until): ISO 8601 or ms' })),
    until: Type.Optional(Type.String()),
    open: Type.Optional(Type.Boolean({ description: 'only surges still going on' })),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type SurgeQuery = Static<typeof SurgeQuery>;
