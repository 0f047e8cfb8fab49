// How routes and links read in the API: a stored pair as a summary or with its alternatives, the probe
// evidence of every link its candidates cross and its history; links with their state. Reads only.
import type { Link } from '../api/centers.js';
import type { LinkEvidenceView, LinkView, RouteCandidate, RouteDetail, RouteSummary } from '../api/routing.js';
import type { RatedRoute, Route } from '../domain/routing.js';
import type { RoutePairRecord, Store } from '../store/index.js';
import type { ProbeService } from './probes.js';

export const sameRoute = (x: Route, y: Route): boolean => x.length === y.length && x.every((c, i) => c === y[i]);

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** A rated route as stored and shown (an infinite cost as null). */
export function candidateOf(r: RatedRoute): RouteCandidate {
  return {
    centers: [...r.centers],
    links: [...r.links],
    cost: Number.isFinite(r.cost) ? round(r.cost) : null,
    health: r.health,
  };
}

export function pairSummary(p: RoutePairRecord, changes: number, needed: boolean): RouteSummary {
  return {
    from: p.from,
    to: p.to,
    route: p.route,
    cost: p.cost === null ? null : round(p.cost),
    state: p.state,
    pinned: p.pin !== null,
    reason: p.reason,
    since: p.since,
    changes,
    generation: p.generation,
    needed,
    evaluatedAt: p.evaluatedAt,
  };
}

/**
 * The pair with its alternatives (each with what its route probes measured end to end), the evidence of every
 * link they cross, and its last 20 choices.
 */
export function pairDetail(
  deps: { store: Store; probes: ProbeService },
  p: RoutePairRecord,
  changes: number,
  needed: boolean,
  now: number,
): RouteDetail {
  const linkIds = new Set(p.alternatives.flatMap((a) => a.links));
  if (p.route)
    for (let i = 1; i < p.route.length; i++) {
      const l = deps.store.centers.linkBetween(p.route[i - 1]!, p.route[i]!);
      if (l) linkIds.add(l.id);
    }
  const states = deps.store.probes.linkStates();
  const routeProbes = deps.probes.routeEvidence(p.from, now);
  const evidence: LinkEvidenceView[] = [...linkIds].sort().flatMap((id) => {
    const l = deps.store.centers.getLink(id);
    return l
      ? [{ linkId: l.id, a: l.a, b: l.b, capacityBps: l.capacityBps, ...deps.probes.view(l, states.get(id), now) }]
      : [];
  });
  return {
    ...pairSummary(p, changes, needed),
    pin: p.pin,
    pinnedBy: p.pinnedBy,
    challenger: p.challenger,
    alternatives: p.alternatives.map((a) => ({ ...a, probe: routeProbes.get(a.centers.join('>')) ?? null })),
    evidence,
    history: deps.store.routes.changes(p.from, p.to, 20),
  };
}

/** Links with their state as of the last evaluation (staleness measured to `now`). */
export function linkViews(
  deps: { store: Store; probes: ProbeService },
  links: readonly Link[],
  now: number,
): LinkView[] {
  const states = deps.store.probes.linkStates();
  return links.map((l) => ({ ...l, state: deps.probes.view(l, states.get(l.id), now) }));
}
