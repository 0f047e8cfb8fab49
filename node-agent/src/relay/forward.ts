// What a relay does with one unit in transit, decided from its subject and headers alone (the body is
// never read): forward it to the next center of its route, on which subject and with which headers, or
// quarantine it with the reason. Pure.
import type { Subjects } from '../transport/subjects.js';
import { HOP_HEADER, parseRoute, ROUTE_HEADER } from '../transport/routing.js';

/** The JetStream message id header (the unit's id; every center's stream deduplicates by it). */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

export type Decision =
  | {
      kind: 'forward';
      /** The next center of the route. */
      next: string;
      /** The transit subject when `next` is not the last center, else the unit's own subject. */
      subject: string;
      msgId: string;
      /** The unit's headers with the hop advanced (the message id goes separately). */
      headers: Record<string, string>;
    }
  | { kind: 'quarantine'; reason: string };

/** Where the relay at `center` sends a unit that arrived on `subject` with `headers`. */
export function decide(
  center: string,
  neighbors: ReadonlySet<string>,
  subjects: Subjects,
  subject: string,
  headers: Readonly<Record<string, string>>,
): Decision {
  const original = subjects.fromTransit(subject);
  if (!original) return quarantine(`subject ${subject} does not name a unit in transit`);
  const route = parseRoute(headers[ROUTE_HEADER]);
  if ('problem' in route) return quarantine(route.problem);
  const hops = route.hops;
  const hopText = headers[HOP_HEADER] ?? '';
  const hop = /^\d{1,3}$/.test(hopText) ? Number(hopText) : NaN;
  if (!(hop >= 0 && hop < hops.length - 1))
    return quarantine(`${HOP_HEADER} ${JSON.stringify(hopText)} is not a hop before the end of ${hops.join(',')}`);
  if (hops[hop] !== center)
    return quarantine(`route ${hops.join(',')} names ${hops[hop]} at hop ${hop}, this relay is at ${center}`);
  const next = hops[hop + 1]!;
  if (!neighbors.has(next)) return quarantine(`next center ${next} is not a neighbour of ${center}`);
  const msgId = headers[MSG_ID_HEADER];
  if (!msgId) return quarantine(`no ${MSG_ID_HEADER} header (a unit without an id cannot be deduplicated)`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k !== MSG_ID_HEADER) out[k] = v;
  out[HOP_HEADER] = String(hop + 1);
  return { kind: 'forward', next, subject: hop + 1 === hops.length - 1 ? original : subject, msgId, headers: out };
}

const quarantine = (reason: string): Decision => ({ kind: 'quarantine', reason });
