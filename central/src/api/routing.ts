// Routing between exchange centers as the API shows it: link states from probes (测试粒子), the route of each
// pair of centers with its alternatives, evidence and history, pins, and the relay (中继) of each center
// (/api/v1/links, /api/v1/routes, /api/v1/relays, /api/v1/centers/:code/relay). Costs are ms of expected
// one-way delay (domain/routing.ts); null stands for an infinite cost (a link that is down).
import { Type, type Static } from 'typebox';
import { CenterCode, Link } from './centers.js';
import { Id, Nullable } from './common.js';

export const LINK_HEALTHS = ['up', 'degraded', 'down'] as const;
export const LinkHealth = Type.Enum([...LINK_HEALTHS]);
export type LinkHealth = Static<typeof LinkHealth>;

/** A pair's route state: the worst link health on its route, or none when no route exists. */
export const ROUTE_STATES = [...LINK_HEALTHS, 'none'] as const;
export const RouteState = Type.Enum([...ROUTE_STATES]);
export type RouteState = Static<typeof RouteState>;

const Ms = (description: string) => Nullable(Type.Number({ description }));
const At = (description: string) => Nullable(Type.Integer({ description }));

/** What the probes of a link say, as of the last route evaluation. */
export const LinkState = Type.Object({
  state: LinkHealth,
  reason: Nullable(Type.String({ description: 'why it is not up' })),
  stateSince: At('since when the link has been in this state, ms since epoch'),
  healthySince: At('since when it has been up without interruption (the recovery hold counts from it)'),
  latencyP50Ms: Ms('median one-way latency = probe round trip / 2, ms'),
  latencyP99Ms: Ms('p99 one-way latency = probe round trip / 2 (highest window p99 in the window), ms'),
  loss: Nullable(Type.Number({ description: 'fraction of probes lost in the window, 0..1' })),
  loadBps: Nullable(Type.Number({ description: 'data bytes forwarded per second (busier direction)' })),
  utilisation: Nullable(Type.Number({ description: 'loadBps / capacityBps' })),
  queueDepth: Nullable(Type.Integer({ description: 'transit backlog at the last window, messages' })),
  measuredAt: At('end of the latest probe window with an answer, ms since epoch'),
  ageMs: At('how old that is when the answer was made (staleness), ms'),
  probes: Type.Object({ windows: Type.Integer(), sent: Type.Integer(), answered: Type.Integer() }),
  probeBps: Nullable(Type.Number({ description: 'probe bytes per second over the link, both directions' })),
  probeOverheadPct: Nullable(Type.Number({ description: 'probeBps / capacityBps × 100' })),
  cost: Nullable(Type.Number({ description: 'the link cost routing uses, ms; null: down (infinite)' })),
  evaluatedAt: At('when central last evaluated the link (null: not yet)'),
});
export type LinkState = Static<typeof LinkState>;

/** A link with its state (GET /links, /links/:id). */
export const LinkView = Type.Object({ ...Link.properties, state: LinkState });
export type LinkView = Static<typeof LinkView>;

/** One rated candidate route of a pair. */
export const RouteCandidate = Type.Object({
  centers: Type.Array(Type.String()),
  links: Type.Array(Type.String()),
  cost: Nullable(Type.Number({ description: 'sum of link costs, ms; null: a link is down' })),
  health: LinkHealth,
});
export type RouteCandidate = Static<typeof RouteCandidate>;

/** What the route probes of a candidate measured end to end over the window (latency = round trip / 2). */
export const RouteProbe = Type.Object({
  latencyP50Ms: Type.Number(),
  latencyP99Ms: Type.Number(),
  loss: Type.Number(),
  windows: Type.Integer(),
  measuredAt: Nullable(Type.Integer()),
});
export type RouteProbe = Static<typeof RouteProbe>;

/** A candidate with its route probes, as GET /routes/:from/:to shows it (null: no route probe in the window). */
export const RouteCandidateView = Type.Object({ ...RouteCandidate.properties, probe: Nullable(RouteProbe) });
export type RouteCandidateView = Static<typeof RouteCandidateView>;

/** A pair of centers and its route (GET /routes). */
export const RouteSummary = Type.Object({
  from: Type.String(),
  to: Type.String(),
  route: Nullable(Type.Array(Type.String(), { description: 'centers crossed in order; null: no route exists' })),
  cost: Nullable(Type.Number()),
  state: RouteState,
  pinned: Type.Boolean(),
  reason: Type.String({ description: 'why this route: set when it was last chosen or changed' }),
  since: Type.Integer({ description: 'when the route was last chosen or changed, ms since epoch' }),
  changes: Type.Integer({ description: 'how many times the route has changed (the first choice not counted)' }),
  generation: Type.Integer({ description: 'the RouteSpec generation nodes hold' }),
  needed: Type.Boolean({ description: 'a flow or a relay exchanges over this pair (false: only pinned)' }),
  evaluatedAt: Type.Integer(),
});
export type RouteSummary = Static<typeof RouteSummary>;

/** One choice or change of a pair's route. */
export const RouteChange = Type.Object({
  at: Type.Integer(),
  previous: Nullable(Type.Array(Type.String(), { description: 'null: the first choice' })),
  route: Type.Array(Type.String()),
  reason: Type.String(),
  cost: Nullable(Type.Number()),
  pinned: Type.Boolean(),
  actor: Type.String(),
});
export type RouteChange = Static<typeof RouteChange>;

/** The probe evidence of one link of a candidate route. */
export const LinkEvidenceView = Type.Object({
  linkId: Type.String(),
  a: Type.String(),
  b: Type.String(),
  capacityBps: Type.Integer(),
  ...LinkState.properties,
});
export type LinkEvidenceView = Static<typeof LinkEvidenceView>;

/** GET /routes/:from/:to: the route, the alternatives with their costs, the evidence and the history. */
export const RouteDetail = Type.Object({
  ...RouteSummary.properties,
  pin: Nullable(Type.Array(Type.String())),
  pinnedBy: Nullable(Type.String()),
  challenger: Nullable(
    Type.Object(
      { centers: Type.Array(Type.String()), since: Type.Integer() },
      { description: 'a cheaper healthy route waiting out switchHoldMs' },
    ),
  ),
  alternatives: Type.Array(RouteCandidateView),
  evidence: Type.Array(LinkEvidenceView),
  history: Type.Array(RouteChange, { description: 'latest first, at most 20' }),
});
export type RouteDetail = Static<typeof RouteDetail>;

/** `{ from, to }` of a pair in the path. */
export const RouteParams = Type.Object({ from: CenterCode, to: CenterCode });

/** GET /routes. */
export const RouteQuery = Type.Object({ center: Type.Optional(CenterCode) }, { additionalProperties: false });

/** PUT /routes/:from/:to/pin: the whole route, from first and to last. */
export const PinRouteBody = Type.Object(
  {
    route: Type.Array(CenterCode, {
      minItems: 2,
      maxItems: 17,
      description: 'centers in order, the pair’s from first and its to last',
    }),
  },
  { additionalProperties: false },
);
export type PinRouteBody = Static<typeof PinRouteBody>;

/** A neighbour of a relay's center: the link and the URLs the relay dials. */
export const RelayNeighbor = Type.Object({
  center: Type.String(),
  linkId: Type.String(),
  natsUrls: Type.Array(Type.String()),
  capacityBps: Type.Integer(),
});

/** The relay (中继) of a center and the RelaySpec it is handed. */
export const Relay = Type.Object({
  center: Type.String(),
  nodeId: Type.String(),
  nodeName: Type.String(),
  generation: Type.Integer(),
  setAt: Type.Integer(),
  setBy: Type.String(),
  neighbors: Type.Array(RelayNeighbor),
  probeIntervalMs: Type.Integer(),
});
export type Relay = Static<typeof Relay>;

/** PUT /centers/:code/relay. */
export const SetRelayBody = Type.Object({ nodeId: Id }, { additionalProperties: false });
export type SetRelayBody = Static<typeof SetRelayBody>;
