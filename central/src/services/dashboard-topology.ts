// The dashboard's topology: exchange centers, links with their probe-based state, and the flows between
// departments over the last 24 hours or 7 days (the hourly traffic history, one query) with the route each
// crosses, within the caller's scope. A scoped caller (city admin, officer) sees the flows with an end on its
// nodes, the centers and links on those flows (and the centers placed in its regions), nothing else. Reads only.
import type {
  Topology,
  TopologyFlow,
  TopologyLink,
  TopologyQuery,
  TopologyRange,
  TopologyRoute,
} from '../api/dashboard-topology.js';
import { TOPOLOGY_FLOW_LIMITS } from '../api/dashboard-topology.js';
import type { Link } from '../api/centers.js';
import { HOUR_MS } from '../domain/traffic.js';
import type { Store } from '../store/index.js';
import { TrafficFlowStore, type NodeEnd, type PairTotals } from '../store/traffic-flows.js';
import type { DashboardScope } from './dashboard.js';
import type { ProbeService } from './probes.js';

const RANGE_HOURS: Record<TopologyRange, number> = { '24h': 24, '7d': 7 * 24 };

/** How long the flow sums of a range and scope are reused, ms (their staleness at most). */
export const FLOW_CACHE_MS = 30_000;

const key = (from: string, to: string): string => `${from}>${to}`;

export class TopologyService {
  private readonly flows: TrafficFlowStore;
  private readonly cache = new Map<string, { at: number; all: FlowSums[] }>();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly probes: Pick<ProbeService, 'view'>,
  ) {
    this.flows = new TrafficFlowStore(store.db);
  }

  /**
   * The topology of the range: the hours from `range` before the end of the current hour up to it (the
   * current hour included, as far as it went). Flows are sorted by records, largest first, at most `limit`.
   */
  topology(q: TopologyQuery, scope: DashboardScope): Topology {
    const now = this.clock();
    const range = q.range ?? '24h';
    const limit = q.limit ?? TOPOLOGY_FLOW_LIMITS.default;
    const untilMs = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS;
    const sinceMs = untilMs - RANGE_HOURS[range] * HOUR_MS;
    const { all, scoped } = this.flowSums(scope, sinceMs, untilMs, now);
    const shown = all.slice(0, limit);
    const pairs = new Map(this.store.routes.pairs().map((p) => [key(p.from, p.to), p]));
    const flows = shown.map((f): TopologyFlow => {
      if (f.fromCenter === f.toCenter)
        return { ...f, route: [f.fromCenter], routeState: 'up', routeReason: 'within one center', routeSince: null };
      const p = pairs.get(key(f.fromCenter, f.toCenter));
      return p
        ? { ...f, route: p.route, routeState: p.state, routeReason: p.reason, routeSince: p.since }
        : {
            ...f,
            route: null,
            routeState: 'none',
            routeReason: `no route chosen yet from ${f.fromCenter} to ${f.toCenter} (no task of the flow crosses centers)`,
            routeSince: null,
          };
    });
    const counts = this.store.routes.changeCounts();
    // A scoped caller's routes: those of every flow in its scope (not only the flows shown).
    const routeKeys = scoped
      ? new Set(all.filter((f) => f.fromCenter !== f.toCenter).map((f) => key(f.fromCenter, f.toCenter)))
      : new Set(pairs.keys());
    const routes = [...routeKeys].flatMap((k): TopologyRoute[] => {
      const p = pairs.get(k);
      if (!p) return [];
      const { from, to, route, state, reason, since } = p;
      return [{ from, to, route, state, pinned: p.pin !== null, reason, since, changes: counts.get(k) ?? 0 }];
    });
    const { centers, links } = this.network(flows, scope, now);
    const ends = new Set(flows.flatMap((f) => [f.fromDepartment, f.toDepartment]));
    return {
      range,
      generatedAt: now,
      sinceMs,
      untilMs,
      regionCode: scope.regionCode ?? null,
      centers,
      links,
      departments: this.store.regions
        .listDepartments()
        .filter((d) => ends.has(d.code))
        .map(({ code, name, regionCode }) => ({ code, name, regionCode })),
      flows,
      flowsTotal: all.length,
      routes,
    };
  }

  /**
   * The flows of [sinceMs, untilMs) in the scope, largest first, and whether the scope is narrowed. Kept
   * FLOW_CACHE_MS per (range start, scope): a wall of dashboards asking every few seconds reads the history once
   * (their sums may lag new traffic by up to that; link states and routes are read fresh every time).
   */
  private flowSums(
    scope: DashboardScope,
    sinceMs: number,
    untilMs: number,
    now: number,
  ): { all: FlowSums[]; scoped: boolean } {
    const k = [sinceMs, untilMs, scope.departmentCode ?? '', ...(scope.regionCodes ?? ['*'])].join('|');
    const hit = this.cache.get(k);
    const scoped = scope.regionCodes !== undefined || scope.departmentCode !== undefined;
    if (hit && now - hit.at >= 0 && now - hit.at < FLOW_CACHE_MS) return { all: hit.all, scoped };
    const nodes = new Map(this.flows.nodeEnds().map((n) => [n.id, n]));
    const ids = scopedNodes([...nodes.values()], scope)?.map((n) => n.id);
    const all = flowsOf(this.flows.pairTotals(ids, sinceMs, untilMs), nodes);
    if (this.cache.size >= 64) this.cache.clear(); // ranges and scopes are few; old hours are never asked again
    this.cache.set(k, { at: now, all });
    return { all, scoped };
  }

  /** Every center and link for a province-wide caller; else those on the flows and the centers of its regions. */
  private network(
    flows: readonly TopologyFlow[],
    scope: DashboardScope,
    now: number,
  ): { centers: Topology['centers']; links: TopologyLink[] } {
    const allCenters = this.store.centers.list();
    let links: Link[] = this.store.centers.listLinks();
    let wanted: Set<string> | undefined;
    if (scope.regionCodes || scope.departmentCode) {
      const own = new Set(scope.regionCodes ?? []);
      wanted = new Set(allCenters.filter((c) => c.regionCode !== null && own.has(c.regionCode)).map((c) => c.code));
      const onFlows = new Set<string>();
      for (const f of flows) {
        const hops = f.route ?? [f.fromCenter, f.toCenter];
        for (const c of [f.fromCenter, f.toCenter, ...hops]) wanted.add(c);
        for (let i = 1; i < hops.length; i++) onFlows.add(key(...sorted(hops[i - 1]!, hops[i]!)));
      }
      links = links.filter((l) => onFlows.has(key(...sorted(l.a, l.b))));
    }
    const states = this.store.probes.linkStates();
    return {
      centers: allCenters
        .filter((c) => !wanted || wanted.has(c.code))
        .map(({ code, name, regionCode, level }) => ({ code, name, regionCode, level })),
      links: links.map((l) => {
        const s = this.probes.view(l, states.get(l.id), now);
        return {
          id: l.id,
          a: l.a,
          b: l.b,
          capacityBps: l.capacityBps,
          state: s.state,
          reason: s.reason,
          latencyP50Ms: s.latencyP50Ms,
          loss: s.loss,
          loadBps: s.loadBps,
          utilisation: s.utilisation,
          measuredAt: s.measuredAt,
        };
      }),
    };
  }
}

const sorted = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

/** The nodes of a scope; undefined when the scope is everything. */
function scopedNodes(all: readonly NodeEnd[], scope: DashboardScope): NodeEnd[] | undefined {
  if (!scope.regionCodes && !scope.departmentCode) return undefined;
  const regions = scope.regionCodes && new Set(scope.regionCodes);
  return all.filter(
    (n) =>
      (!regions || regions.has(n.regionCode)) && (!scope.departmentCode || n.departmentCode === scope.departmentCode),
  );
}

type FlowSums = Omit<TopologyFlow, 'route' | 'routeState' | 'routeReason' | 'routeSince'>;

/** Node pairs summed into flows by (provider department, consumer department, their centers), largest first. */
function flowsOf(totals: readonly PairTotals[], nodes: ReadonlyMap<string, NodeEnd>): FlowSums[] {
  const out = new Map<string, FlowSums>();
  for (const t of totals) {
    const from = nodes.get(t.fromNode);
    const to = nodes.get(t.toNode);
    if (!from || !to) continue; // a deleted node's history: no department or center to draw it at
    const fromCenter = from.homeCenter ?? '';
    const toCenter = to.homeCenter ?? '';
    const k = [from.departmentCode, to.departmentCode, fromCenter, toCenter].join('\u0000');
    const f = out.get(k) ?? {
      fromDepartment: from.departmentCode,
      toDepartment: to.departmentCode,
      fromCenter,
      toCenter,
      pairs: 0,
      batches: 0,
      records: 0,
      bytes: null,
      errors: 0,
    };
    f.pairs++;
    f.batches += t.batches;
    f.records += t.records;
    f.errors += t.errors;
    if (t.bytes !== null) f.bytes = (f.bytes ?? 0) + t.bytes;
    out.set(k, f);
  }
  return [...out.values()].sort(
    (a, b) =>
      b.records - a.records ||
      a.fromDepartment.localeCompare(b.fromDepartment) ||
      a.toDepartment.localeCompare(b.toDepartment),
  );
}
