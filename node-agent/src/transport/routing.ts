// Routing across exchange centers (交换中心) on the wire: the headers a unit carries across centers, the
// check of a route, and one agent's route table (its routes by destination center, and the home center
// of each peer node), which addresses every unit and request the agent sends. The relays read the same
// headers (relay/relay.ts holds the design and its invariants).
//
// Invariants
//  - A unit or request for a peer whose center is unknown, empty or this agent's own goes as it always
//    did: on its subject, into the home center, without routing headers.
//  - A unit for a peer at another center goes on the transit subject with the whole route and hop 0;
//    without a route to that center address() throws (the unit stays in the sender's spool), never
//    publishes where nobody would read it.
//  - Every route held passes routeProblem() and starts at the home center.
import { Subjects } from './subjects.js';

/** The source route of a unit in transit: center codes from the sender's home center to the destination's. */
export const ROUTE_HEADER = 'Xchg-Route';
/** Index in the route of the center whose transit stream the unit is in (0 at the sender's home center). */
export const HOP_HEADER = 'Xchg-Hop';
/** Relays a request crossed so far (hop-by-hop requests on <p>.tq.*). */
export const REQUEST_HOPS_HEADER = 'Xchg-Hops';
/** Why a relay set a unit aside (on the quarantined copy). */
export const QUARANTINE_REASON_HEADER = 'Xchg-Quarantine-Reason';
/** The subject the unit arrived on (on the quarantined copy). */
export const ORIGINAL_SUBJECT_HEADER = 'Xchg-Original-Subject';
/** Relays a request may cross before it is dropped (a routing loop). */
export const MAX_REQUEST_HOPS = 8;

/** A center code as subjects and headers carry it (central's codes: lowercase letters, digits and -). */
const CENTER_CODE = /^[A-Za-z0-9_-]{1,64}$/;

export const isCenterCode = (c: string): boolean => CENTER_CODE.test(c);

/** One route: from the home center to `destinationCenter`, hops[0] = home, last = destination. */
export interface RouteEntry {
  destinationCenter: string;
  hops: string[];
  /** Why central chose it (for logs). */
  reason?: string;
}

/** What is wrong with a route (undefined when it is well formed). */
export function routeProblem(hops: readonly string[]): string | undefined {
  if (hops.length < 2) return `a route needs at least two centers, got ${hops.length}`;
  const bad = hops.find((c) => !isCenterCode(c));
  if (bad !== undefined) return `center code ${JSON.stringify(bad)} is not valid`;
  if (new Set(hops).size !== hops.length) return `route ${hops.join(',')} visits a center twice`;
  return undefined;
}

/** The route a header carries, or the problem with it. */
export function parseRoute(value: string | undefined): { hops: string[] } | { problem: string } {
  if (!value) return { problem: `no ${ROUTE_HEADER} header` };
  const hops = value.split(',');
  const problem = routeProblem(hops);
  return problem ? { problem: `${ROUTE_HEADER} ${JSON.stringify(value)}: ${problem}` } : { hops };
}

/** A subject and the headers to add, as a unit or request is actually published. */
export interface Addressed {
  subject: string;
  headers?: Record<string, string>;
}

/** A unit for a center this agent has no route to (it stays in the spool and is retried). */
export class NoRouteError extends Error {
  constructor(
    readonly center: string,
    readonly node: string,
  ) {
    super(`no route to exchange center ${center} (node ${node}); the unit waits for one`);
    this.name = 'NoRouteError';
  }
}

export class RouteTable {
  private routes = new Map<string, readonly string[]>();
  private peers = new Map<string, string>();

  /** @param home this agent's home center ("" when central never named one: no routing at all) */
  constructor(
    private homeCenter: string,
    private readonly subjects: Subjects,
  ) {}

  get home(): string {
    return this.homeCenter;
  }

  /** The node moved to `home`: the routes held (all from the old home) are dropped, the peers' centers kept. */
  rehome(home: string): void {
    this.homeCenter = home;
    this.routes = new Map();
  }

  /**
   * Replaces the routes and the peers' centers (applies to units sent from then on). Returns the
   * problem of each route refused (not well formed, or not starting at the home center), by destination.
   */
  update(routes: readonly RouteEntry[], peerCenters: ReadonlyMap<string, string>): Map<string, string> {
    const next = new Map<string, readonly string[]>();
    const refused = new Map<string, string>();
    for (const r of routes) {
      const problem = this.problemOf(r);
      if (problem) refused.set(r.destinationCenter, problem);
      else next.set(r.destinationCenter, [...r.hops]);
    }
    this.routes = next;
    this.peers = new Map(peerCenters);
    return refused;
  }

  /** What is wrong with a route for this table (not well formed, not from the home center), or undefined. */
  problemOf(r: RouteEntry): string | undefined {
    const malformed = routeProblem(r.hops);
    if (malformed) return malformed;
    if (r.hops[0] !== this.home) return `route starts at ${r.hops[0]}, this node is at ${this.home || '(none)'}`;
    if (r.hops[r.hops.length - 1] !== r.destinationCenter) return `route does not end at ${r.destinationCenter}`;
    return undefined;
  }

  /** The route to a center, if held. */
  routeTo(center: string): readonly string[] | undefined {
    return this.routes.get(center);
  }

  /** Destination centers with a route. */
  destinations(): string[] {
    return [...this.routes.keys()];
  }

  /** The center of a node when it is another than this agent's (else undefined: the direct path). */
  remoteCenterOf(node: string | undefined): string | undefined {
    const c = node === undefined ? undefined : this.peers.get(node);
    return c && this.home && c !== this.home ? c : undefined;
  }

  /** Where a JetStream unit on `subject` is published (throws NoRouteError when it cannot go yet). */
  address(subject: string): Addressed {
    const node = this.subjects.destinationNode(subject);
    const center = this.remoteCenterOf(node);
    if (!center) return { subject };
    const hops = this.routes.get(center);
    if (!hops) throw new NoRouteError(center, node!);
    return { subject: this.subjects.transit(subject), headers: { [ROUTE_HEADER]: hops.join(','), [HOP_HEADER]: '0' } };
  }

  /** Where a core request on `subject` is published: via the home center's relay when the node is elsewhere. */
  addressRequest(subject: string): Addressed {
    const center = this.remoteCenterOf(this.subjects.destinationNode(subject));
    if (!center) return { subject };
    return { subject: this.subjects.requestVia(center, subject), headers: { [REQUEST_HOPS_HEADER]: '0' } };
  }
}
