// Routes between exchange centers: each evaluation turns the probe windows into link states
// (services/probes.ts), rates the candidate routes of every pair of centers some flow or relay needs, and
// chooses one with hysteresis (domain/routing.ts); operators pin and unpin; nodes get a RouteSpec per center
// they exchange with. Invariants: a pair's route changes only here, in one transaction with its history row,
// its audit entry, the pair's generation (the RouteSpec generation) and the assignment version of every node
// concerned (the nodes at the pair's source center whose tasks' peers are at its destination, and the relay
// of the source center), whose long-polls are woken after commit; a pin is refused unless it is a loop-free
// chain of existing centers and links; a pair nobody needs and nobody pinned is forgotten (its history stays).
import type { Link } from '../api/centers.js';
import type { LinkView, RouteDetail, RouteSummary } from '../api/routing.js';
import { SYSTEM_ACTOR, type Actor } from '../domain/roles.js';
import {
  chooseRoute,
  pinProblem,
  rateRoutes,
  ROUTING_DEFAULTS,
  type LinkMeasure,
  type LinkSpec,
  type PairRouteState,
  type RoutingPolicy,
} from '../domain/routing.js';
import { ErrorCode, invalid, notFound, XchgError } from '../errors.js';
import type { RoutePairRecord, Store } from '../store/index.js';
import type { AssignmentService } from './assignments.js';
import type { AuditTrail } from './audit.js';
import type { LinkTransition, ProbeService } from './probes.js';
import type { RelayAssignment, RelayService } from './relays.js';
import { candidateOf, linkViews, pairDetail, pairSummary, sameRoute } from './route-views.js';

/** A RouteSpec assignment (the proto's Assignment with spec "route"). */
export interface RouteAssignment {
  id: string;
  generation: number;
  spec: 'route';
  route: {
    routeId: string;
    hops: string[];
    reason: string;
    destinationCenter: string;
    pinned: boolean;
    changedAtMs: number;
  };
}

/** A change of a pair's route made by an evaluation, a pin or an unpin. */
export interface RouteChangeMade {
  from: string;
  to: string;
  previous: string[] | null;
  route: string[];
  reason: string;
}

/** What one evaluation did (for the job's log). */
export interface Evaluation {
  pairs: number;
  changes: RouteChangeMade[];
  links: LinkTransition[];
  /** Nodes whose assignment version went up. */
  woken: number;
}

/** Probe and routing settings (config routing.*): the routing policy plus the probe cadence and windows. */
export interface RoutingSettings extends RoutingPolicy {
  /** Probe round interval handed to relays and the route evaluation interval, ms (default 5000). */
  probeIntervalMs: number;
  /** Sliding window of probe windows aggregated into a link's state, ms (default 30 000). */
  windowMs: number;
  /** How long raw probe windows are kept, ms (default 6 h). */
  probeRetentionMs: number;
  /** How often the probe sweep runs, ms (default 60 000). */
  sweepIntervalMs: number;
}

/** Central's defaults (the same as config.ts DEFAULTS.routing). */
export const ROUTING_SETTINGS_DEFAULTS: Readonly<RoutingSettings> = {
  ...ROUTING_DEFAULTS,
  probeIntervalMs: 5_000,
  windowMs: 30_000,
  probeRetentionMs: 6 * 3_600_000,
  sweepIntervalMs: 60_000,
};

const key = (from: string, to: string): string => `${from}>${to}`;

export class RoutingService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
    private readonly probes: ProbeService,
    private readonly relays: RelayService,
    private readonly assignments: Pick<AssignmentService, 'wakeNode'>,
    readonly policy: RoutingPolicy,
  ) {}

  /** One round: link states from the probes, then every needed or pinned pair's route. */
  evaluate(): Evaluation {
    let woken: string[] = [];
    const result = this.store.tx(() => {
      const now = this.clock();
      const links = this.store.centers.listLinks();
      const { measures, transitions } = this.probes.evaluateLinks(links, now);
      const specs = links.map(({ id, a, b, capacityBps }) => ({ id, a, b, capacityBps }));
      const needed = this.neededPairs();
      const centers = new Set(this.store.centers.list().map((c) => c.code));
      const todo = new Map<string, { from: string; to: string; prev?: RoutePairRecord }>(needed);
      for (const p of this.store.routes.pairs()) {
        const k = key(p.from, p.to);
        if ((!needed.has(k) && !p.pin) || !centers.has(p.from) || !centers.has(p.to))
          this.store.routes.deletePair(p.from, p.to);
        else todo.set(k, { from: p.from, to: p.to, prev: p });
      }
      const changes: RouteChangeMade[] = [];
      for (const { from, to, prev } of todo.values()) {
        if (!centers.has(from) || !centers.has(to)) continue;
        const c = this.choosePair(from, to, prev, specs, measures, now, { actor: SYSTEM_ACTOR });
        if (c) changes.push(c);
      }
      woken = this.bumpConcerned(changes);
      return { pairs: todo.size, changes, links: transitions, woken: woken.length };
    });
    for (const id of woken) this.assignments.wakeNode(id);
    return result;
  }

  /** Pins the pair's route (the whole route, `from` first and `to` last); it applies at once. */
  pin(from: string, to: string, route: readonly string[], actor: Actor = SYSTEM_ACTOR): RouteDetail {
    return this.operatorChange(from, to, actor, (prev, now) => {
      const isCenter = (c: string) => this.store.centers.get(c) !== undefined;
      for (const [field, c] of [['from', from] as const, ['to', to] as const])
        if (!isCenter(c)) throw invalid(field, `center ${JSON.stringify(c)} does not exist`);
      const p = pinProblem(route, from, to, isCenter, (a, b) => this.store.centers.linkBetween(a, b) !== undefined);
      if (p) throw invalid(p.field, p.problem);
      const base = prev ?? this.emptyPair(from, to, now);
      this.audit.record(actor, {
        action: 'route.pin',
        entityType: 'route',
        entityId: key(from, to),
        details: { from, to, route, previousPin: prev?.pin ?? null, previousRoute: prev?.route ?? null },
      });
      return { next: { ...base, pin: [...route], pinnedBy: actorName(actor) }, fresh: false };
    });
  }

  /** Removes the pair's pin; the cheapest usable route is chosen at once (it may be the same). */
  unpin(from: string, to: string, actor: Actor = SYSTEM_ACTOR): RouteDetail {
    return this.operatorChange(from, to, actor, (prev) => {
      if (!prev?.pin)
        throw new XchgError(ErrorCode.FAILED_PRECONDITION, `route from ${from} to ${to} is not pinned`, {
          field: 'route',
        });
      this.audit.record(actor, {
        action: 'route.unpin',
        entityType: 'route',
        entityId: key(from, to),
        details: { from, to, pin: prev.pin, pinnedBy: prev.pinnedBy },
      });
      return { next: { ...prev, pin: null, pinnedBy: null }, fresh: true };
    });
  }

  list(filter: { centers?: ReadonlySet<string> } = {}): RouteSummary[] {
    const needed = this.neededPairs();
    const counts = this.store.routes.changeCounts();
    return this.store.routes
      .pairs()
      .filter((p) => !filter.centers || filter.centers.has(p.from) || filter.centers.has(p.to))
      .map((p) => pairSummary(p, counts.get(key(p.from, p.to)) ?? 0, needed.has(key(p.from, p.to))));
  }

  /** The pair's route, alternatives, evidence and history; a pair never evaluated shows its candidates. */
  show(from: string, to: string): RouteDetail {
    for (const c of [from, to]) if (!this.store.centers.get(c)) throw notFound('center', c);
    if (from === to) throw invalid('to', `from and to are the same center ${from}`);
    const now = this.clock();
    const stored = this.store.routes.pair(from, to);
    const p: RoutePairRecord = stored ?? {
      ...this.emptyPair(from, to, now),
      reason: `not evaluated: no flow or relay exchanges from ${from} to ${to} and no route is pinned`,
      alternatives: rateRoutes(this.specs(), this.probes.storedMeasures(), from, to, this.policy, now)
        .slice(0, this.policy.candidates)
        .map(candidateOf),
    };
    const counts = this.store.routes.changeCounts();
    return pairDetail(
      { store: this.store, probes: this.probes },
      p,
      counts.get(key(from, to)) ?? 0,
      this.neededPairs().has(key(from, to)),
      now,
    );
  }

  /** The node's RouteSpecs (one per other center it exchanges with) and, for a relay, its RelaySpec. */
  assignmentsFor(nodeId: string): (RouteAssignment | RelayAssignment)[] {
    const home = this.store.nodes.get(nodeId)?.homeCenter;
    if (!home) return [];
    const relay = this.relays.assignmentFor(nodeId);
    const dests = relay
      ? this.store.centers.list().map((c) => c.code)
      : [...new Set(this.store.routes.peerCentersOf(nodeId).values())].sort();
    const out: (RouteAssignment | RelayAssignment)[] = [];
    for (const dest of dests) {
      const p = dest === home ? undefined : this.store.routes.pair(home, dest);
      if (!p?.route) continue;
      const id = `route.${home}.${dest}`;
      out.push({
        id,
        generation: p.generation,
        spec: 'route',
        route: {
          routeId: id,
          hops: p.route,
          reason: p.reason,
          destinationCenter: dest,
          pinned: p.pin !== null,
          changedAtMs: p.since,
        },
      });
    }
    return relay ? [...out, relay] : out;
  }

  /** Links with their state as of the last evaluation. */
  links(links: readonly Link[]): LinkView[] {
    return linkViews({ store: this.store, probes: this.probes }, links, this.clock());
  }

  /** Runs a pin or unpin: the change, then the pair's choice at once with the stored link measures. */
  private operatorChange(
    from: string,
    to: string,
    actor: Actor,
    change: (prev: RoutePairRecord | undefined, now: number) => { next: RoutePairRecord; fresh: boolean },
  ): RouteDetail {
    let woken: string[] = [];
    this.store.tx(() => {
      const now = this.clock();
      const { next, fresh } = change(this.store.routes.pair(from, to), now);
      if (!next.pin && !this.neededPairs().has(key(from, to))) {
        this.store.routes.deletePair(from, to); // unpinned and nobody needs it
        return;
      }
      this.choosePair(from, to, next, this.specs(), this.probes.storedMeasures(), now, {
        actor,
        fresh,
        bump: true,
        ...(fresh && { reasonPrefix: 'unpinned by an operator; ' }),
      });
      woken = this.bumpConcerned([{ from, to }]); // the pair's generation went up either way (pinned flag)
    });
    for (const id of woken) this.assignments.wakeNode(id);
    return this.show(from, to);
  }

  /**
   * Chooses and stores one pair's route; records the change (history, audit) when the route differs from the
   * stored one. `fresh`: choose as if there were no current route (after an unpin). `bump`: raise the pair's
   * generation even when the route stays (the pinned flag of the RouteSpec changed).
   */
  private choosePair(
    from: string,
    to: string,
    prev: RoutePairRecord | undefined,
    specs: readonly LinkSpec[],
    measures: ReadonlyMap<string, LinkMeasure>,
    now: number,
    how: { actor: Actor; fresh?: boolean; bump?: boolean; reasonPrefix?: string },
  ): RouteChangeMade | undefined {
    const rated = rateRoutes(specs, measures, from, to, this.policy, now);
    const current: PairRouteState | undefined =
      prev?.route && !how.fresh
        ? {
            centers: prev.route,
            since: prev.since,
            reason: prev.reason,
            ...(prev.challenger && { challenger: prev.challenger }),
          }
        : undefined;
    const choice = chooseRoute(rated, current, prev?.pin ?? undefined, this.policy, now);
    const base = prev ?? this.emptyPair(from, to, now);
    const alternatives = rated.slice(0, this.policy.candidates).map(candidateOf);
    if (!choice) {
      const reason = `no route: no chain of at most ${this.policy.maxHops} links joins ${from} and ${to}`;
      this.store.routes.upsertPair({
        ...base,
        route: null,
        reason,
        state: 'none',
        cost: null,
        alternatives,
        evaluatedAt: now,
      });
      return undefined;
    }
    const r = rated.find((x) => sameRoute(x.centers, choice.centers));
    const changed = !prev?.route || !sameRoute(prev.route, choice.centers);
    const reason = changed || how.bump ? `${how.reasonPrefix ?? ''}${choice.reason}` : choice.reason;
    const cost = r && Number.isFinite(r.cost) ? r.cost : null;
    this.store.routes.upsertPair({
      ...base,
      route: [...choice.centers],
      since: changed ? now : (prev?.since ?? now),
      reason,
      challenger: choice.challenger
        ? { centers: [...choice.challenger.centers], since: choice.challenger.since }
        : null,
      generation: base.generation + (changed || how.bump ? 1 : 0),
      state: r?.health ?? 'down',
      cost,
      alternatives,
      evaluatedAt: now,
    });
    if (!changed) return undefined;
    const made = { from, to, previous: prev?.route ?? null, route: [...choice.centers], reason };
    this.store.routes.addChange(from, to, {
      at: now,
      ...made,
      cost,
      pinned: base.pin !== null,
      actor: actorName(how.actor),
    });
    this.audit.record(
      how.actor,
      {
        action: made.previous ? 'route.change' : 'route.choose',
        entityType: 'route',
        entityId: key(from, to),
        details: { ...made, cost, pinned: base.pin !== null },
      },
      now,
    );
    return made;
  }

  /** Bumps the assignment version of the nodes a change concerns; returns their ids (to wake after commit). */
  private bumpConcerned(changes: readonly Pick<RouteChangeMade, 'from' | 'to'>[]): string[] {
    if (changes.length === 0) return [];
    const ids = new Set<string>();
    const flows = this.store.routes.crossFlows();
    for (const c of changes) {
      for (const f of flows) if (f.nodeCenter === c.from && f.peerCenter === c.to) ids.add(f.nodeId);
      const relay = this.store.routes.relay(c.from);
      if (relay && this.relays.relayOf(relay.nodeId)) ids.add(relay.nodeId);
    }
    for (const id of ids) this.store.nodes.bumpAssignmentVersion(id);
    return [...ids];
  }

  /** Pairs some flow needs (both directions: data one way, receipts back) and every relay's center to every other. */
  private neededPairs(): Map<string, { from: string; to: string }> {
    const out = new Map<string, { from: string; to: string }>();
    const add = (from: string, to: string) => {
      if (from !== to) out.set(key(from, to), { from, to });
    };
    for (const f of this.store.routes.crossFlows()) {
      add(f.nodeCenter, f.peerCenter);
      add(f.peerCenter, f.nodeCenter);
    }
    const centers = this.store.centers.list().map((c) => c.code);
    for (const r of this.store.routes.relays())
      if (this.relays.relayOf(r.nodeId)) for (const c of centers) add(r.center, c);
    return out;
  }

  private specs(): LinkSpec[] {
    return this.store.centers.listLinks().map(({ id, a, b, capacityBps }) => ({ id, a, b, capacityBps }));
  }

  private emptyPair(from: string, to: string, now: number): RoutePairRecord {
    return {
      from,
      to,
      route: null,
      since: now,
      reason: '',
      challenger: null,
      pin: null,
      pinnedBy: null,
      generation: 0,
      state: 'none',
      cost: null,
      alternatives: [],
      evaluatedAt: now,
    };
  }
}

const actorName = (a: Actor | string): string => (typeof a === 'string' ? a : a.name);
