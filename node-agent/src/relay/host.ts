// Routing on one agent: applies the routing assignments (central's RouteSpecs and RelaySpec, else the
// config's static routes and relay) to the data plane's route table and to the relay this node runs,
// without a restart, and answers each new or changed assignment with an outcome (applied or refused).
//
// Invariants
//  - Central's route to a destination replaces the config's; the table is replaced whole on each set, so a
//    changed route applies to units sent from then on (units in transit keep the route they carry).
//  - At most one relay runs. A spec for another center replaces it (closed first); a changed neighbour
//    list updates it in place; no spec stops it. Relay changes run one at a time, in set order.
//  - An outcome is returned once per assignment generation, as the task supervisor does for tasks.
//  - The config may list routes from several centers (a node that may be moved): only those from the home
//    center apply. After a move (rehome) the relay of the old center is stopped and the last set applied
//    again for the new home.
//  - The relay's probe windows go to onProbe (the agent's report outbox).
import type { Logger } from 'pino';
import type { RouteEntry, RouteTable } from '../transport/routing.js';
import type { ProbeWindow } from './probes.js';
import { Relay, type RelaySettings } from './relay.js';
import { relaySpecProblem, type RelaySpec, type RoutingAssignment } from './spec.js';

/** Whether an assignment was applied (as the supervisor's Outcome). */
export interface RoutingOutcome {
  assignmentId: string;
  generation: number;
  applied: boolean;
  reason: string;
}

export interface RoutingHostOptions {
  /** The data plane's route table; undefined when the node has no exchange center (nothing to route). */
  routes: RouteTable | undefined;
  /** The home center's URLs and the province's subject prefix and stream (for the relay). */
  home: { natsUrls: string[]; prefix: string; stream: string } | undefined;
  /** Routes from the agent config (default: none). */
  staticRoutes: readonly RouteEntry[];
  /** The relay from the agent config, if any. */
  staticRelay: RelaySpec | undefined;
  logger: Logger;
  relaySettings?: Partial<RelaySettings>;
  /** Told of each probe window of the relay (default: none kept). */
  onProbe?: (w: ProbeWindow) => void;
}

/** Where the relay's home connection goes: the home center's URLs, the province's prefix and stream. */
export interface RelayHome {
  natsUrls: string[];
  prefix: string;
  stream: string;
}

export class RoutingHost {
  private relay: Relay | undefined;
  private readonly answered = new Map<string, number>();
  private changing: Promise<void> = Promise.resolve();
  /** The route table as last logged (JSON). */
  private logged: string | undefined;
  private readonly log: Logger;
  private home: RelayHome | undefined;
  /** The last set applied and its peers' centers (applied again after a move). */
  private last: { set: readonly RoutingAssignment[]; peers: ReadonlyMap<string, string> } = {
    set: [],
    peers: new Map(),
  };

  constructor(private readonly opts: RoutingHostOptions) {
    this.log = opts.logger.child({ component: 'routing' });
    this.home = opts.home;
  }

  /** The relay's counters, when this node runs one. */
  relayStats(): ReturnType<Relay['stats']> | undefined {
    return this.relay?.stats();
  }

  /** Applies a set's routing assignments and the peers' centers (node → center, from its tasks). */
  apply(set: readonly RoutingAssignment[], peers: ReadonlyMap<string, string>): RoutingOutcome[] {
    this.last = { set, peers };
    const outcomes = [...this.applyRoutes(set, peers), ...this.applyRelay(set)];
    return outcomes.filter((o) => {
      if (this.answered.get(o.assignmentId) === o.generation) return false;
      this.answered.set(o.assignmentId, o.generation);
      return true;
    });
  }

  /**
   * The node's home center moved (or its URLs changed; the route table was re-homed by the data plane):
   * the relay running is stopped and the last set applied again — routes from the new home, a relay there
   * when one is assigned for it. Resolves once the relay changes are done.
   */
  async rehome(home: RelayHome): Promise<void> {
    this.home = home;
    this.changing = this.changing.then(() => this.setRelay(undefined));
    // The held set's routes start at the old home: left aside (central's next set has the new home's).
    const center = this.opts.routes?.home;
    const set = this.last.set.filter((a) => a.kind !== 'route' || a.route.hops[0] === center);
    this.apply(set, this.last.peers);
    await this.changing;
  }

  /** Stops the relay (after its forwards in flight settled). */
  async close(): Promise<void> {
    this.changing = this.changing.then(() => this.setRelay(undefined));
    await this.changing;
  }

  private applyRoutes(set: readonly RoutingAssignment[], peers: ReadonlyMap<string, string>): RoutingOutcome[] {
    const assigned = set.filter((a) => a.kind === 'route');
    const table = this.opts.routes;
    // Central's route replaces the config's to the same center, unless refused (then the config's stays).
    const problems = new Map(assigned.map((a) => [a, table ? table.problemOf(a.route) : 'this node has no center']));
    const fromHome = this.opts.staticRoutes.filter((r) => table && r.hops[0] === table.home);
    const byDest = new Map(fromHome.map((r) => [r.destinationCenter, r]));
    for (const a of assigned) if (!problems.get(a)) byDest.set(a.route.destinationCenter, a.route);
    const refused = table?.update([...byDest.values()], peers) ?? new Map<string, string>();
    for (const [a, reason] of problems) if (reason) refused.set(`${a.route.destinationCenter} (${a.id})`, reason);
    for (const [dest, reason] of refused) this.log.error({ destination: dest, reason }, 'route refused');
    const held = table && JSON.stringify(Object.fromEntries(table.destinations().map((d) => [d, table.routeTo(d)])));
    if (held && held !== (this.logged ?? '{}'))
      this.log.info({ routes: JSON.parse(held) as unknown }, 'routes changed');
    this.logged = held;
    return assigned.map((a) => {
      const reason = problems.get(a) ?? '';
      return { assignmentId: a.id, generation: a.generation, applied: !reason, reason };
    });
  }

  private applyRelay(set: readonly RoutingAssignment[]): RoutingOutcome[] {
    const assigned = set.filter((a) => a.kind === 'relay');
    const last = assigned[assigned.length - 1];
    const spec = last?.relay ?? (this.opts.staticRelay?.center ? this.opts.staticRelay : undefined);
    const problem = spec && this.relayProblem(spec);
    if (problem) this.log.error({ center: spec.center, reason: problem }, 'relay spec refused');
    // A refused spec changes nothing: the relay running (if any) keeps forwarding as it was.
    if (!problem) this.changing = this.changing.then(() => this.setRelay(spec));
    return assigned.map((a) => {
      const reason = a !== last ? 'another relay assignment of this node replaces it' : (problem ?? '');
      return { assignmentId: a.id, generation: a.generation, applied: !reason, reason };
    });
  }

  private relayProblem(spec: RelaySpec): string | undefined {
    if (!this.home || !this.opts.routes) return 'this node has no exchange center to relay at';
    return relaySpecProblem(spec, this.opts.routes.home);
  }

  /** Starts, updates, replaces or stops the relay to match `spec`. */
  private async setRelay(spec: RelaySpec | undefined): Promise<void> {
    const current = this.relay;
    const home = this.home;
    if (current && spec && spec.center === current.center) {
      // Neighbours, link ids or the probe interval changed.
      if (JSON.stringify(spec) !== JSON.stringify(current.currentSpec))
        await current.update(spec).catch((err: unknown) => this.failed(err));
      return;
    }
    if (current) {
      this.relay = undefined;
      await current.close();
    }
    if (!spec || !home) return;
    const routes = this.opts.routes;
    this.relay = Relay.start({
      spec,
      homeUrls: home.natsUrls,
      prefix: home.prefix,
      stream: home.stream,
      logger: this.opts.logger,
      nextHop: (center) => routes?.routeTo(center)?.[1],
      routes: () =>
        routes?.destinations().map((d) => ({ destinationCenter: d, hops: [...(routes.routeTo(d) ?? [])] })) ?? [],
      ...(this.opts.onProbe && { onProbe: this.opts.onProbe }),
      ...(this.opts.relaySettings && { settings: this.opts.relaySettings }),
    });
  }

  private failed(err: unknown): void {
    this.log.error({ err: (err as Error).message }, 'relay update failed');
  }
}
