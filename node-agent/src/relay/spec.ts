// The relay role's spec, one type for both ways it arrives: a RelaySpec assignment from central, or the
// agent config's static `relay` section (tests and centers without central's routing); and the routing
// assignments (routes, relay) as the agent keeps them. Pure.
import type { RelaySpec__Output } from '../../../proto/index.js';
import { isCenterCode, type RouteEntry } from '../transport/routing.js';

/** A routing assignment as the agent keeps it (a decoded RouteSpec or RelaySpec), under its id and generation. */
export type RoutingAssignment =
  | { kind: 'route'; id: string; generation: number; route: RouteEntry }
  | { kind: 'relay'; id: string; generation: number; relay: RelaySpec };

/** A neighbour center the relay forwards to, and how it reaches it (the link's URLs from this end). */
export interface RelayNeighbor {
  center: string;
  /** Link id (for logs and metrics; "" when configured statically). */
  linkId: string;
  natsUrls: string[];
  /** Configured capacity of the link, bytes per second (0: unknown). */
  capacityBps: number;
}

/** The relay (中继) at one center. */
export interface RelaySpec {
  /** Code of the center the relay runs at (the agent's home center). */
  center: string;
  neighbors: RelayNeighbor[];
  /** Probe round interval, ms (0: no probes). */
  probeIntervalMs: number;
}

/** The spec of a RelaySpec assignment. */
export function relaySpecOf(r: RelaySpec__Output): RelaySpec {
  return {
    center: r.center,
    neighbors: r.neighbors.map((n) => ({
      center: n.center,
      linkId: n.linkId,
      natsUrls: [...n.natsUrls],
      capacityBps: Number(n.capacityBps),
    })),
    probeIntervalMs: r.probeIntervalMs,
  };
}

/** The spec of the config's static `relay` section (link ids and capacities optional there). */
export function relaySpecFromConfig(c: {
  center: string;
  neighbors: readonly { center: string; natsUrls: readonly string[]; linkId?: string; capacityBps?: number }[];
  probeIntervalMs?: number;
}): RelaySpec {
  return {
    center: c.center,
    neighbors: c.neighbors.map((n) => ({
      center: n.center,
      linkId: n.linkId ?? '',
      natsUrls: [...n.natsUrls],
      capacityBps: n.capacityBps ?? 0,
    })),
    probeIntervalMs: c.probeIntervalMs ?? 0,
  };
}

/** What is wrong with a spec for a relay whose home center is `home` ("" : not known), or undefined. */
export function relaySpecProblem(spec: RelaySpec, home: string): string | undefined {
  if (home && spec.center !== home) return `relay spec is for center ${spec.center}, this node is homed at ${home}`;
  if (spec.neighbors.length === 0) return 'relay spec has no neighbour centers';
  const codes = [spec.center, ...spec.neighbors.map((n) => n.center)];
  const bad = codes.find((c) => !isCenterCode(c));
  if (bad !== undefined) return `center code ${JSON.stringify(bad)} is not valid`;
  if (new Set(codes).size !== codes.length) return "relay neighbours repeat a center or name the relay's own";
  const noUrl = spec.neighbors.find((n) => n.natsUrls.length === 0);
  return noUrl ? `neighbour ${noUrl.center} has no NATS URLs` : undefined;
}

/** Whether two specs need different connections (probe interval aside). */
export function sameNeighbors(a: RelaySpec, b: RelaySpec): boolean {
  const key = (s: RelaySpec): string =>
    JSON.stringify([s.center, ...s.neighbors.map((n) => [n.center, n.natsUrls]).sort()]);
  return key(a) === key(b);
}
