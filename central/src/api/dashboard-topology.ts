// The dashboard's topology (GET /dashboard/topology): exchange centers, the links between them with their
// probe-based state, and the department-to-department flows of a range with the route each one crosses,
// within the caller's scope (a city admin: flows with an end in its region subtree, and only the centers and
// links on them).
import { Type, type Static } from 'typebox';
import { CenterLevel } from './centers.js';
import { Nullable } from './common.js';
import { LinkHealth, RouteState } from './routing.js';

export const TOPOLOGY_RANGES = ['24h', '7d'] as const;
export type TopologyRange = (typeof TOPOLOGY_RANGES)[number];

/** Flows shown by default and at most (the largest by records; `flowsTotal` says how many there were). */
export const TOPOLOGY_FLOW_LIMITS = { default: 200, max: 1000 } as const;

export const TopologyQuery = Type.Object(
  {
    range: Type.Optional(
      Type.Enum([...TOPOLOGY_RANGES], { description: 'the flows of the last 24 hours or 7 days; default 24h' }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: TOPOLOGY_FLOW_LIMITS.max,
        description: `flows shown, the largest by records first (default ${TOPOLOGY_FLOW_LIMITS.default})`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type TopologyQuery = Static<typeof TopologyQuery>;

export const TopologyCenter = Type.Object({
  code: Type.String(),
  name: Type.String(),
  regionCode: Nullable(Type.String()),
  level: CenterLevel,
});
export type TopologyCenter = Static<typeof TopologyCenter>;

export const TopologyLink = Type.Object({
  id: Type.String(),
  a: Type.String({ description: 'center code of one end' }),
  b: Type.String({ description: 'center code of the other end' }),
  capacityBps: Type.Integer({ description: 'configured capacity, bytes per second' }),
  state: LinkHealth,
  reason: Nullable(Type.String({ description: 'why it is not up' })),
  latencyP50Ms: Nullable(Type.Number({ description: 'median one-way latency (probe round trip / 2), ms' })),
  loss: Nullable(Type.Number({ description: 'fraction of probes lost in the window, 0..1' })),
  loadBps: Nullable(Type.Number({ description: 'data bytes forwarded per second (busier direction)' })),
  utilisation: Nullable(Type.Number({ description: 'loadBps / capacityBps' })),
  measuredAt: Nullable(Type.Integer({ description: 'end of the latest probe window with an answer, ms' })),
});
export type TopologyLink = Static<typeof TopologyLink>;

export const TopologyDepartment = Type.Object({
  code: Type.String(),
  name: Type.String(),
  regionCode: Type.String(),
});
export type TopologyDepartment = Static<typeof TopologyDepartment>;

export const TopologyFlow = Type.Object({
  fromDepartment: Type.String(),
  toDepartment: Type.String(),
  fromCenter: Type.String({ description: 'home center of the provider nodes' }),
  toCenter: Type.String({ description: 'home center of the consumer nodes' }),
  pairs: Type.Integer({ description: 'node pairs summed into the flow' }),
  batches: Type.Integer(),
  records: Type.Integer(),
  bytes: Nullable(Type.Integer({ description: 'null: unknown (only imported history without bytes)' })),
  errors: Type.Integer(),
  route: Nullable(
    Type.Array(Type.String(), {
      description: 'centers crossed in order ([center] within one center); null: no route chosen yet',
    }),
  ),
  routeState: RouteState,
  routeReason: Type.String({ description: 'why this route (when it was last chosen or changed)' }),
  routeSince: Nullable(Type.Integer({ description: 'when the route was last chosen or changed, ms' })),
});
export type TopologyFlow = Static<typeof TopologyFlow>;

export const TopologyRoute = Type.Object({
  from: Type.String(),
  to: Type.String(),
  route: Nullable(Type.Array(Type.String())),
  state: RouteState,
  pinned: Type.Boolean(),
  reason: Type.String(),
  since: Type.Integer(),
  changes: Type.Integer({ description: 'times the route changed (the first choice not counted)' }),
});
export type TopologyRoute = Static<typeof TopologyRoute>;

export const Topology = Type.Object({
  range: Type.Enum([...TOPOLOGY_RANGES]),
  generatedAt: Type.Integer({ description: 'ms since epoch' }),
  sinceMs: Type.Integer({ description: 'start of the first hour summed (the hourly traffic history), ms' }),
  untilMs: Type.Integer({ description: 'end of the current hour, ms (exclusive)' }),
  regionCode: Nullable(Type.String({ description: "a city admin's region; null: the whole province" })),
  centers: Type.Array(TopologyCenter),
  links: Type.Array(TopologyLink),
  departments: Type.Array(TopologyDepartment, { description: 'the ends of the flows shown' }),
  flows: Type.Array(TopologyFlow, {
    description: 'largest by records first, at most limit; sums reused for 30 s per range and scope (their staleness)',
  }),
  flowsTotal: Type.Integer({ description: 'flows in the range within the scope, before the limit' }),
  routes: Type.Array(TopologyRoute, {
    description: 'routes between centers: every stored pair for a province-wide reader, else those its flows cross',
  }),
});
export type Topology = Static<typeof Topology>;
