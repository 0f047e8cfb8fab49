// Routing between exchange centers (交换中心), pure: link health and cost from probe measurements (测试粒子),
// the k best loop-free routes of a center pair, and the choice of one route with hysteresis so that a
// noisy link does not make routes flap. Time is an argument; the caller stores what it returns.
//
// Cost of a link, in milliseconds of expected one-way delay for a batch (lower is better):
//   cost = p50 + lossPenaltyMs × loss / (1 − loss) + p50 × ρ / (1 − ρ)
// - p50: median probe latency of the link.
// - loss / (1 − loss): expected retransmissions per delivery when each attempt is lost with probability
//   `loss` (geometric distribution); each costs about one re-send delay (lossPenaltyMs).
// - ρ / (1 − ρ): M/M/1 queueing delay in units of service time at utilisation ρ = load / capacity
//   (Kleinrock, Queueing Systems vol. 1, §3.2), capped at ρ = 0.95 so an overloaded link stays finite.
// A degraded link adds degradedPenaltyMs, so a route over it is taken only when every alternative is
// worse; a down link (stale probes, total loss, or a center that does not answer) is not usable at all.
//
// Choice (hysteresis), in this order:
//  1. A pinned route is kept whatever its state (the reason says when it is degraded or down).
//  2. A current route that is still healthy is kept unless a candidate is cheaper by more than
//     switchMargin, every link of that candidate has been healthy for recoverHoldMs ("move back only after
//     the link has been healthy for a while"), and the same candidate has stayed that much cheaper for
//     switchHoldMs (the challenger: one noisy probe round never moves traffic).
//  3. A current route with a degraded or down link is left at once for the cheapest healthy candidate
//     (no hold: leaving must be fast); without one, for the cheapest usable candidate; when no route is
//     usable the current one is kept and the reason says so.
// Invariant: with every link healthy and costs moving within switchMargin, the chosen route never changes.

import type { Problem } from './centers.js';

/** A configured link between two centers; probes measure it in both directions as one state. */
export interface LinkSpec {
  id: string;
  /** Center codes of the two ends; a link is never to itself. */
  a: string;
  b: string;
  /** Configured capacity, bytes per second (0: unknown, no load term). */
  capacityBps: number;
}

/** What the probes last told about a link (aggregated by the caller over a probe window). */
export interface LinkMeasure {
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Fraction of probes lost in the window, 0..1. */
  loss: number;
  /** Data-plane traffic on the link, bytes per second (for the load term). */
  loadBps: number;
  /** When the last probe answer arrived, ms since epoch; absent: never measured. */
  measuredAt?: number;
  /** Since when the link has been healthy without interruption (ms since epoch); absent: not healthy. */
  healthySince?: number;
}

export type LinkHealth = 'up' | 'degraded' | 'down';

/** Thresholds and weights of routing; defaults in ROUTING_DEFAULTS. */
export interface RoutingPolicy {
  /** p99 latency above which a link is degraded, ms (default 250). */
  degradedLatencyP99Ms: number;
  /** Loss above which a link is degraded (default 0.05 = 5 %). */
  degradedLoss: number;
  /** A link without a probe answer for this long is down, ms (default 3 probe intervals: 15 000). */
  staleAfterMs: number;
  /** Delay charged per expected retransmission, ms (default 1 000). */
  lossPenaltyMs: number;
  /** Cost added to a degraded link, ms (default 10 000). */
  degradedPenaltyMs: number;
  /** Relative cost gain a healthy route must beat to be replaced (default 0.2 = 20 %). */
  switchMargin: number;
  /** How long every link of a route must have been healthy before traffic moves (back) onto it, ms (default 60 000). */
  recoverHoldMs: number;
  /** How long a cheaper healthy route must stay cheaper by switchMargin before it replaces a healthy one, ms (default 30 000). */
  switchHoldMs: number;
  /** Routes of at most this many links are considered (default 4). */
  maxHops: number;
  /** Candidate routes kept per pair (default 3). */
  candidates: number;
}

export const ROUTING_DEFAULTS: Readonly<RoutingPolicy> = {
  degradedLatencyP99Ms: 250,
  degradedLoss: 0.05,
  staleAfterMs: 15_000,
  lossPenaltyMs: 1_000,
  degradedPenaltyMs: 10_000,
  switchMargin: 0.2,
  recoverHoldMs: 60_000,
  switchHoldMs: 30_000,
  maxHops: 4,
  candidates: 3,
};

/** Health of a link at `now`, with the reason when it is not up. */
export function linkHealth(
  m: LinkMeasure | undefined,
  policy: RoutingPolicy,
  now: number,
): { health: LinkHealth; reason?: string } {
  if (!m || m.measuredAt === undefined) return { health: 'down', reason: 'never measured' };
  const ageMs = now - m.measuredAt;
  if (ageMs > policy.staleAfterMs) return { health: 'down', reason: `no probe answer for ${ageMs} ms` };
  if (m.loss >= 1) return { health: 'down', reason: 'every probe lost' };
  if (m.loss > policy.degradedLoss)
    return { health: 'degraded', reason: `loss ${pct(m.loss)} over ${pct(policy.degradedLoss)}` };
  if (m.latencyP99Ms > policy.degradedLatencyP99Ms)
    return { health: 'degraded', reason: `p99 ${m.latencyP99Ms} ms over ${policy.degradedLatencyP99Ms} ms` };
  return { health: 'up' };
}

/** Cost of a link in ms (formula in the file's top comment); Infinity when it is down. */
export function linkCost(spec: LinkSpec, m: LinkMeasure | undefined, policy: RoutingPolicy, now: number): number {
  const { health } = linkHealth(m, policy, now);
  if (health === 'down' || !m) return Infinity;
  const loss = Math.min(m.loss, 0.99);
  const rho = spec.capacityBps > 0 ? Math.min(m.loadBps / spec.capacityBps, 0.95) : 0;
  const cost = m.latencyP50Ms + (policy.lossPenaltyMs * loss) / (1 - loss) + (m.latencyP50Ms * rho) / (1 - rho);
  return health === 'degraded' ? cost + policy.degradedPenaltyMs : cost;
}

/** A route: the centers it crosses in order (first = source center, last = destination center). */
export type Route = readonly string[];

export interface RatedRoute {
  centers: Route;
  /** Link ids along the route, in order. */
  links: string[];
  /** Sum of the link costs, ms (Infinity when a link is down). */
  cost: number;
  /** The worst link health on the route. */
  health: LinkHealth;
  /** Earliest healthySince of its links (undefined when one is not healthy). */
  healthySince?: number;
}

/** Center adjacency of the links: center → [neighbour, link]. */
function adjacency(links: readonly LinkSpec[]): Map<string, [string, LinkSpec][]> {
  const adj = new Map<string, [string, LinkSpec][]>();
  const add = (x: string, y: string, l: LinkSpec) => {
    const list = adj.get(x) ?? [];
    list.push([y, l]);
    adj.set(x, list);
  };
  for (const l of links) {
    add(l.a, l.b, l);
    add(l.b, l.a, l);
  }
  return adj;
}

/**
 * Every loop-free route from `from` to `to` of at most policy.maxHops links, rated, cheapest first
 * (ties by fewer hops, then by center codes). Exhaustive depth-first search: a province's center graph is
 * a tree of cities under the province plus a few direct links, and maxHops bounds the search.
 */
export function rateRoutes(
  links: readonly LinkSpec[],
  measures: ReadonlyMap<string, LinkMeasure>,
  from: string,
  to: string,
  policy: RoutingPolicy,
  now: number,
): RatedRoute[] {
  const adj = adjacency(links);
  const out: RatedRoute[] = [];
  const path = [from];
  const via: LinkSpec[] = [];
  const walk = (at: string): void => {
    if (at === to) {
      out.push(rate(path, via, measures, policy, now));
      return;
    }
    if (via.length >= policy.maxHops) return;
    for (const [next, link] of adj.get(at) ?? []) {
      if (path.includes(next)) continue;
      path.push(next);
      via.push(link);
      walk(next);
      path.pop();
      via.pop();
    }
  };
  if (from !== to) walk(from);
  return out.sort(
    (x, y) =>
      x.cost - y.cost || x.centers.length - y.centers.length || x.centers.join('>').localeCompare(y.centers.join('>')),
  );
}

function rate(
  path: string[],
  via: LinkSpec[],
  measures: ReadonlyMap<string, LinkMeasure>,
  policy: RoutingPolicy,
  now: number,
): RatedRoute {
  let cost = 0;
  let health: LinkHealth = 'up';
  let healthySince: number | undefined = -Infinity;
  for (const l of via) {
    const m = measures.get(l.id);
    cost += linkCost(l, m, policy, now);
    const h = linkHealth(m, policy, now).health;
    if (h === 'down' || (h === 'degraded' && health === 'up')) health = h;
    healthySince =
      h === 'up' && m?.healthySince !== undefined && healthySince !== undefined
        ? Math.max(healthySince, m.healthySince)
        : undefined;
  }
  return {
    centers: [...path],
    links: via.map((l) => l.id),
    cost,
    health,
    ...(healthySince !== undefined ? { healthySince } : {}),
  };
}

/** What central remembers of a pair between rounds. */
export interface PairRouteState {
  centers: Route;
  /** When the route was chosen, ms since epoch. */
  since: number;
  reason: string;
  /** A healthy route cheaper by switchMargin than the current one, and since when it has been. */
  challenger?: { centers: Route; since: number };
}

export interface RouteChoice extends PairRouteState {
  /** Whether the route differs from the current one (since is then `now`). */
  changed: boolean;
}

const same = (x: Route, y: Route) => x.length === y.length && x.every((c, i) => c === y[i]);

/**
 * Chooses the route of one pair from its rated candidates (rateRoutes), the pair's current route, and an
 * operator's pin, by the rules of the file's top comment. Returns undefined when there is no route at all.
 * The result is the pair's next state (store it as given, challenger included).
 */
export function chooseRoute(
  rated: readonly RatedRoute[],
  current: PairRouteState | undefined,
  pin: Route | undefined,
  policy: RoutingPolicy,
  now: number,
): RouteChoice | undefined {
  const choose = (r: Route, reason: string): RouteChoice =>
    current && same(current.centers, r)
      ? { centers: current.centers, since: current.since, reason, changed: false }
      : { centers: r, since: now, reason, changed: true };
  if (pin) {
    const p = rated.find((r) => same(r.centers, pin));
    const state = p && p.health !== 'up' ? `; its ${p.health === 'down' ? 'links are down' : 'state is degraded'}` : '';
    return choose(pin, `pinned by an operator${p ? state : '; not a configured path'}`);
  }
  const best = rated[0];
  if (!best) return current ? choose(current.centers, 'no route is configured; keeping the last one') : undefined;
  const cur = current ? rated.find((r) => same(r.centers, current.centers)) : undefined;
  if (current && cur && cur.health === 'up') return keepOrImprove(rated, current, cur, policy, now);
  const healthy = rated.find((r) => r.health === 'up');
  const usable = healthy ?? rated.find((r) => Number.isFinite(r.cost));
  if (!usable)
    return current
      ? choose(current.centers, 'every route is down; keeping the last one')
      : choose(best.centers, 'every route is down');
  if (!cur)
    return choose(
      usable.centers,
      current ? 'the previous route is no longer configured' : `cheapest route (${fmt(usable.cost)} ms)`,
    );
  if (same(usable.centers, cur.centers))
    return choose(cur.centers, `every route is degraded or down; keeping the cheapest (${fmt(cur.cost)} ms)`);
  const why =
    cur.health === 'down' ? 'a link of the previous route is down' : 'a link of the previous route is degraded';
  return choose(
    usable.centers,
    `${why}; moved to the ${healthy ? 'cheapest healthy' : 'cheapest usable'} route (${fmt(usable.cost)} ms)`,
  );
}

/** Rule 2: a healthy current route gives way only to a settled, cheaper challenger that stayed cheaper. */
function keepOrImprove(
  rated: readonly RatedRoute[],
  current: PairRouteState,
  cur: RatedRoute,
  policy: RoutingPolicy,
  now: number,
): RouteChoice {
  const settled = (r: RatedRoute) =>
    r.health === 'up' && r.healthySince !== undefined && now - r.healthySince >= policy.recoverHoldMs;
  const better = rated.find((r) => r.cost < cur.cost * (1 - policy.switchMargin) && settled(r));
  // A route kept from a round when nothing better was usable says so no longer once its links are up.
  const fallback = /^(every route is|no route is configured)/.test(current.reason);
  const keptReason = fallback ? `its links are up (${fmt(cur.cost)} ms); kept` : current.reason;
  const keep = { centers: current.centers, since: current.since, reason: keptReason, changed: false };
  if (!better) return keep;
  const since = current.challenger && same(current.challenger.centers, better.centers) ? current.challenger.since : now;
  if (now - since < policy.switchHoldMs) return { ...keep, challenger: { centers: better.centers, since } };
  const reason = `cheaper by ${pct(1 - better.cost / cur.cost)} (${fmt(better.cost)} vs ${fmt(cur.cost)} ms) for ${Math.round((now - since) / 1000)} s`;
  return { centers: better.centers, since: now, reason, changed: true };
}

/**
 * Why `route` cannot be pinned as the route from `from` to `to`, or undefined: it must start at `from`, end
 * at `to`, name only existing centers, visit none twice (a loop), and cross a configured link at every hop.
 * The field is `route`, or `route.<i>` for the center at fault.
 */
export function pinProblem(
  route: readonly string[],
  from: string,
  to: string,
  isCenter: (code: string) => boolean,
  hasLink: (a: string, b: string) => boolean,
): Problem | undefined {
  const field = 'route';
  if (from === to)
    return { field: 'to', problem: `from and to are the same center ${from}: a route joins two centers` };
  for (const [i, c] of route.entries())
    if (!isCenter(c)) return { field: `${field}.${i}`, problem: `center ${JSON.stringify(c)} does not exist` };
  if (route.length < 2 || route[0] !== from || route.at(-1) !== to)
    return { field, problem: `route ${route.join('>') || '(empty)'} must start at ${from} and end at ${to}` };
  const seen = new Set<string>();
  for (const [i, c] of route.entries()) {
    if (seen.has(c)) return { field: `${field}.${i}`, problem: `route ${route.join('>')} visits ${c} twice (a loop)` };
    seen.add(c);
  }
  for (let i = 1; i < route.length; i++)
    if (!hasLink(route[i - 1]!, route[i]!))
      return {
        field: `${field}.${i}`,
        problem: `no link between ${route[i - 1]} and ${route[i]} (route ${route.join('>')}); create one with xchg link create`,
      };
  return undefined;
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10} %`;
}

function fmt(ms: number): string {
  return Number.isFinite(ms) ? String(Math.round(ms * 10) / 10) : '∞';
}
