// Probe windows (测试粒子) in, link states out: ProbeReports from relays are checked and stored once per
// report_id (inside the Report call's transaction), each evaluation aggregates every link's recent windows
// (domain/link-state.ts) into its state and keeps since when it has been healthy, and old windows are swept.
// Invariants: a link's healthySince is set at the first evaluation that finds it up and cleared by the first
// that does not (the recovery hold of routing counts from it); raw windows older than the retention are gone
// after the next sweep; nothing here pushes anything to nodes (services/routing.ts does).
import type { Link } from '../api/centers.js';
import type { LinkState, RouteProbe } from '../api/routing.js';
import { aggregateLink, nextHealthySince, probeOverheadPct, type ProbeWindow } from '../domain/link-state.js';
import { linkCost, linkHealth, type LinkMeasure, type RoutingPolicy } from '../domain/routing.js';
import { invalid } from '../errors.js';
import type { LinkStateRecord, Store } from '../store/index.js';

/** Settings of probe aggregation and retention (config routing.*). */
export interface ProbeOptions {
  /** Sliding window aggregated into a link's state, ms (default 30 000). */
  windowMs: number;
  /** How long raw windows are kept, ms (default 6 h). */
  retentionMs: number;
}

/** A link whose state changed at an evaluation (for the log). */
export interface LinkTransition {
  linkId: string;
  from: LinkState['state'] | undefined;
  to: LinkState['state'];
  reason: string | null;
}

const MAX_U32 = 0xffff_ffff;

export class ProbeService {
  constructor(
    private readonly store: Store,
    private readonly policy: RoutingPolicy,
    private readonly opts: ProbeOptions,
  ) {}

  /**
   * Stores one ProbeReport body (proto ProbeReport, camelCase) from node `nodeId`; call inside the Report
   * transaction. Returns false for a report id already stored. A malformed window is refused naming the field.
   */
  ingest(nodeId: string, reportId: string, body: Record<string, unknown>, receivedAt: number, at: string): boolean {
    const w = checkedWindow(body, receivedAt, at);
    // A relay configured without link ids probes a neighbour as the two-center route [from, to]: that is the
    // link between them, when central knows one.
    if (!w.linkId && w.route.length === 2 && w.route[0] === w.fromCenter && w.route[1] === w.toCenter) {
      const link = this.store.centers.linkBetween(w.fromCenter, w.toCenter);
      if (link) return this.store.probes.insertWindow(reportId, nodeId, { ...w, linkId: link.id, route: [] });
    }
    return this.store.probes.insertWindow(reportId, nodeId, w);
  }

  /**
   * Aggregates every link's windows into its state at `now`, stores the states (healthySince carried
   * across evaluations) and returns the measures routing rates links with; call inside a transaction.
   */
  evaluateLinks(
    links: readonly Link[],
    now: number,
  ): { measures: Map<string, LinkMeasure>; transitions: LinkTransition[] } {
    const windows = this.store.probes.linkWindowsSince(now - this.opts.windowMs);
    const previous = this.store.probes.linkStates();
    const measures = new Map<string, LinkMeasure>();
    const transitions: LinkTransition[] = [];
    for (const link of links) {
      // Only windows between the link's own ends count (a relay reporting a stale link id is ignored).
      const own = (windows.get(link.id) ?? []).filter(
        (w) => (w.fromCenter === link.a && w.toCenter === link.b) || (w.fromCenter === link.b && w.toCenter === link.a),
      );
      const evidence = aggregateLink(own, now, this.opts.windowMs);
      const { health, reason } = linkHealth(evidence, this.policy, now);
      const prev = previous.get(link.id);
      const healthySince = nextHealthySince(prev?.healthySince ?? undefined, health, now);
      this.store.probes.upsertLinkState({
        linkId: link.id,
        state: health,
        reason: reason ?? null,
        stateSince: prev?.state === health ? prev.stateSince : now,
        healthySince: healthySince ?? null,
        evidence: evidence ?? null,
        evaluatedAt: now,
      });
      if (prev?.state !== health)
        transitions.push({ linkId: link.id, from: prev?.state, to: health, reason: reason ?? null });
      if (evidence) measures.set(link.id, { ...evidence, ...(healthySince !== undefined && { healthySince }) });
    }
    this.store.probes.deleteLinkStatesExcept(links.map((l) => l.id));
    return { measures, transitions };
  }

  /** The stored measures of the links (as of the last evaluation), for rating routes between evaluations. */
  storedMeasures(): Map<string, LinkMeasure> {
    const out = new Map<string, LinkMeasure>();
    for (const [id, s] of this.store.probes.linkStates())
      if (s.evidence) out.set(id, { ...s.evidence, ...(s.healthySince !== null && { healthySince: s.healthySince }) });
    return out;
  }

  /** What the route probes from `from` measured over the window, by route ("a>b>c"). */
  routeEvidence(from: string, now: number): Map<string, RouteProbe> {
    const byRoute = new Map<string, ProbeWindow[]>();
    for (const w of this.store.probes.routeWindowsSince(from, now - this.opts.windowMs)) {
      const k = w.route.join('>');
      byRoute.set(k, [...(byRoute.get(k) ?? []), w]);
    }
    const out = new Map<string, RouteProbe>();
    for (const [k, ws] of byRoute) {
      const ev = aggregateLink(ws, now, this.opts.windowMs);
      if (ev)
        out.set(k, {
          latencyP50Ms: round(ev.latencyP50Ms) ?? 0,
          latencyP99Ms: round(ev.latencyP99Ms) ?? 0,
          loss: round(ev.loss, 4) ?? 0,
          windows: ev.windows,
          measuredAt: ev.measuredAt ?? null,
        });
    }
    return out;
  }

  /** A link's state as the API shows it, at `now` (staleness is measured to it). */
  view(link: Link, rec: LinkStateRecord | undefined, now: number): LinkState {
    const ev = rec?.evidence ?? undefined;
    const measure: LinkMeasure | undefined = ev && {
      ...ev,
      ...(rec?.healthySince != null && { healthySince: rec.healthySince }),
    };
    const cost = rec ? linkCost(link, measure, this.policy, rec.evaluatedAt) : Infinity;
    return {
      state: rec?.state ?? 'down',
      reason: rec ? rec.reason : 'not evaluated yet',
      stateSince: rec?.stateSince ?? null,
      healthySince: rec?.healthySince ?? null,
      latencyP50Ms: ev ? round(ev.latencyP50Ms) : null,
      latencyP99Ms: ev ? round(ev.latencyP99Ms) : null,
      loss: ev ? round(ev.loss, 4) : null,
      loadBps: ev ? round(ev.loadBps) : null,
      utilisation: ev && link.capacityBps > 0 ? round(ev.loadBps / link.capacityBps, 4) : null,
      queueDepth: ev ? ev.queueDepth : null,
      measuredAt: ev?.measuredAt ?? null,
      ageMs: ev?.measuredAt !== undefined ? Math.max(0, now - ev.measuredAt) : null,
      probes: { windows: ev?.windows ?? 0, sent: ev?.sent ?? 0, answered: ev?.answered ?? 0 },
      probeBps: ev ? round(ev.probeBps) : null,
      probeOverheadPct: ev ? round(probeOverheadPct(ev.probeBps, link.capacityBps) ?? NaN, 5) : null,
      cost: Number.isFinite(cost) ? round(cost) : null,
      evaluatedAt: rec?.evaluatedAt ?? null,
    };
  }

  /** Deletes windows older than the retention; returns how many. */
  sweep(now: number): number {
    return this.store.tx(() => this.store.probes.prune(now - this.opts.retentionMs));
  }
}

const round = (x: number, digits = 3): number | null => {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** The window of a ProbeReport body, or a refusal naming the field (`items[i].probe.<field>`). */
function checkedWindow(b: Record<string, unknown>, receivedAt: number, at: string): ProbeWindow {
  const field = (name: string) => `${at}.${name}`;
  const str = (name: string): string => {
    const v = b[name];
    if (typeof v !== 'string' || v.length === 0 || v.length > 64)
      throw invalid(field(snake(name)), 'must be a center code of 1-64 characters');
    return v;
  };
  const num = (name: string, max = Number.MAX_SAFE_INTEGER): number => {
    const v = Number(b[name] ?? 0);
    if (!Number.isSafeInteger(v) || v < 0 || v > max)
      throw invalid(field(snake(name)), `must be an integer from 0 to ${max}`);
    return v;
  };
  const route = Array.isArray(b['route']) ? (b['route'] as unknown[]).map(String) : [];
  const w: ProbeWindow = {
    fromCenter: str('fromCenter'),
    toCenter: str('toCenter'),
    linkId: typeof b['linkId'] === 'string' ? b['linkId'] : '',
    route,
    windowStartMs: num('windowStartMs'),
    windowEndMs: num('windowEndMs'),
    sent: num('sent', MAX_U32),
    answered: num('answered', MAX_U32),
    rttP50Us: num('rttP50Us', MAX_U32),
    rttP99Us: num('rttP99Us', MAX_U32),
    forwardedBytes: num('forwardedBytes'),
    probeBytes: num('probeBytes'),
    queueDepth: num('queueDepth'),
    receivedAt,
  };
  if (w.fromCenter === w.toCenter) throw invalid(field('to_center'), `is from_center (${w.fromCenter}) itself`);
  if (!w.linkId && route.length < 2)
    throw invalid(field('link_id'), 'a link probe names its link; a route probe its route');
  if (w.linkId.length > 64) throw invalid(field('link_id'), 'must be at most 64 characters');
  if (route.length > 17) throw invalid(field('route'), 'at most 17 centers');
  if (w.windowEndMs < w.windowStartMs) throw invalid(field('window_end_ms'), 'is before window_start_ms');
  if (w.answered > w.sent) throw invalid(field('answered'), `${w.answered} answered of ${w.sent} sent`);
  return w;
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
