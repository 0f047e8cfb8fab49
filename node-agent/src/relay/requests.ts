// Core NATS requests across centers (stream progress, readiness, online query, reconciliation): a
// sender publishes a request for a node at another center on <p>.tq.<dest center>.<subject without
// prefix> into its home center; the relay there passes it to the next center of its own route to the
// destination (hop by hop, not source-routed: a request is small and short-lived, and each relay knows
// its routes), on the tq subject, or on the original subject once the next center is the destination,
// and answers the request with the reply it gets. A request that carries its own route (Xchg-Route: a
// route probe, relay/probes.ts, measuring one candidate route) goes to the center after this one on it.
//
// Invariants
//  - A request crosses at most MAX_REQUEST_HOPS relays (Xchg-Hops counts them); past that it is dropped
//    with a WARN (a routing loop): the asker sees a timeout, as for a node that does not answer.
//  - A request that cannot be passed on (no route, neighbour not connected, no reply in time) gets no
//    answer: requests are questions the askers repeat, never data.
import type { Msg, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { NatsTransport } from '../transport/nats-transport.js';
import { MAX_REQUEST_HOPS, parseRoute, REQUEST_HOPS_HEADER, ROUTE_HEADER } from '../transport/routing.js';
import type { Subjects } from '../transport/subjects.js';
import type { RelayCounters } from './metrics.js';
import type { Neighbors } from './neighbors.js';

export interface RequestBridgeDeps {
  center: string;
  subjects: Subjects;
  home: NatsTransport;
  neighbors: Neighbors;
  /** The next center toward `center` (the relay's route to it), or undefined when it has none. */
  nextHop: (center: string) => string | undefined;
  counters: RelayCounters;
  log: Logger;
  /** How long a relayed request waits for its reply (ms). */
  timeoutMs: number;
}

/** Queue group of the relays at one center: each request is relayed once even with several relays. */
const RELAY_QUEUE = 'xchg-relay';

/** Subscribes the center's relayed requests; unsubscribed when the home connection closes. */
export function bridgeRequests(deps: RequestBridgeDeps): Subscription {
  const throttle = new Map<string, number>();
  const drop = (reason: string, fields: Record<string, unknown>): void => {
    deps.counters.requestsDropped++;
    const now = Date.now();
    if (now - (throttle.get(reason) ?? 0) < 5_000) return;
    throttle.set(reason, now);
    deps.log.warn({ ...fields, reason }, 'relayed request dropped');
  };
  return deps.home.nc.subscribe(deps.subjects.requestViaFilter(), {
    queue: RELAY_QUEUE,
    callback: (err, m) => {
      if (err) return deps.log.warn({ err: err.message }, 'relayed request subscription error');
      relayOne(deps, m, drop).catch((e: unknown) =>
        drop('no reply in time', { subject: m.subject, err: (e as Error).message }),
      );
    },
  });
}

async function relayOne(
  deps: RequestBridgeDeps,
  m: Msg,
  drop: (reason: string, fields: Record<string, unknown>) => void,
): Promise<void> {
  const via = deps.subjects.fromRequestVia(m.subject);
  if (!via) return drop('not a relayed request subject', { subject: m.subject });
  const hops = Number(m.headers?.get(REQUEST_HOPS_HEADER) || 0) + 1;
  if (!(hops <= MAX_REQUEST_HOPS)) return drop('over the hop limit (a routing loop?)', { subject: m.subject, hops });
  const route = m.headers?.get(ROUTE_HEADER) || undefined;
  let target: NatsTransport | undefined = deps.home;
  let subject = via.subject;
  if (via.center !== deps.center) {
    const next = route ? nextOnRoute(route, deps.center, via.center) : deps.nextHop(via.center);
    if (!next) return drop(route ? 'its route does not lead on from here' : 'no route to the center', { route });
    target = deps.neighbors.get(next);
    if (!target) return drop('neighbour not connected', { neighbor: next });
    if (next !== via.center) subject = m.subject;
  }
  const headers = { [REQUEST_HOPS_HEADER]: String(hops), ...(route && { [ROUTE_HEADER]: route }) };
  const reply = await target.request(subject, m.data, deps.timeoutMs, headers);
  deps.counters.requestsRelayed++;
  if (m.reply) m.respond(reply.data);
}

/** The center after `center` on a request's own route when that route ends at `dest`, else undefined. */
function nextOnRoute(value: string, center: string, dest: string): string | undefined {
  const r = parseRoute(value);
  if (!('hops' in r) || r.hops[r.hops.length - 1] !== dest) return undefined;
  const i = r.hops.indexOf(center);
  return i >= 0 ? r.hops[i + 1] : undefined;
}
