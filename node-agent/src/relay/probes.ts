// Probes (测试粒子) of a relay: every probe interval it measures the link to each neighbour center and each
// route it holds across more than one link, and hands one window per link and per route to its owner (the
// agent queues it as a ProbeReport for central, which turns windows into link states and routes).
//
// Design
//  - A probe is a small timed core-NATS request answered by the relay at the far end on <p>.probe.<center>
//    (answerProbes; queue group, so one answer per center). No JetStream, nothing stored anywhere.
//  - Link probes: LINK_PROBES requests of PROBE_PAYLOAD_BYTES per neighbour per round, over the relay's own
//    connection to that neighbour (the link's URLs: whatever slows or breaks the link shows), sent at 0, T/4
//    and T/2 of the round (T = the interval), each with a timeout of min(2 s, 0.4 T): every answer or loss
//    is known before the round ends. A probe that times out or finds nobody answering counts as sent and
//    lost — also while a neighbour that was connected is down (its client keeps reconnecting). A neighbour
//    not yet connected since the relay (re)started is not measured at all: its probes are not sent and no
//    window is reported, so central sees the link stale (down) rather than a loss the link never had (the
//    first round after a start counted 1 of 3 lost and sent city pairs on a detour for 25 s).
//  - Route probes: one request per round along a route of ≥ 3 centers from this center (its RouteSpecs), on
//    <p>.tq.<dest>.probe.<dest> with Xchg-Route = the route, sent to route[1] over its link; each relay on
//    the way passes it to the next center of that route (requests.ts), the destination's relay answers. At
//    most ROUTE_PROBES_PER_ROUND routes per round, taken in turn: more routes make each probed less often,
//    never more traffic.
//  - A window per neighbour: sent, answered, RTT p50/p99 (nearest rank, µs), the bytes the relay forwarded
//    to it in the window (RelayCounters), the probe bytes (requests and replies as they go on the link:
//    payload, subject, reply inbox, headers, protocol line — estimated by wireBytes), and the backlog of the
//    transit consumer at the window's end (queue depth). A route window the same, with `route` set.
//
// Bound at the default interval (T = 5 s): a probe puts at most ~310 bytes on each link it crosses (request
// ~230 with its subject, inbox and headers, reply ~80). A link carries the link probes of its two ends and
// the route probes through it, at most ROUTE_PROBES_PER_ROUND per relay per round:
//   one relay on one of its links: (3 + 2) × 310 B / 5 s = 310 B/s = 2.5 kbit/s = 0.0025 % of 100 Mbit/s;
//   worst case, the seed's 56 centers all probing routes through one link:
//   (2 × 3 + 56 × 2) × 310 B / 5 s = 7.3 KB/s = 58.5 kbit/s = 0.06 % of 100 Mbit/s (0.6 % of 10 Mbit/s).
// Each window reports its probe bytes, so central shows the measured overhead per link.
import type { Msg, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { ProbeReport__Output } from '../../../proto/index.js';
import { sleep } from '../backoff.js';
import type { NatsTransport } from '../transport/nats-transport.js';
import { REQUEST_HOPS_HEADER, ROUTE_HEADER, type RouteEntry } from '../transport/routing.js';
import type { Subjects } from '../transport/subjects.js';
import type { RelayCounters } from './metrics.js';
import type { Neighbors } from './neighbors.js';
import type { RelayNeighbor } from './spec.js';

/** Link probes per neighbour per round. */
export const LINK_PROBES = 3;
/** Route probes per round at most (each route of ≥ 3 centers in turn). */
export const ROUTE_PROBES_PER_ROUND = 2;
/** Payload of a probe request, bytes. */
export const PROBE_PAYLOAD_BYTES = 100;
/** Reply inbox of a request as the NATS client makes it (_INBOX.<nuid>.<token>), bytes. */
const INBOX_BYTES = 38;
/** Protocol line of a message besides its subject and inbox ("HPUB … <sizes>\r\n", trailing CRLF), bytes. */
const FRAMING_BYTES = 24;
/** Queue group of the relays at one center: each probe is answered once. */
const RELAY_QUEUE = 'xchg-relay';

/** One probe window: the proto's ProbeReport, as the agent reports it. */
export type ProbeWindow = ProbeReport__Output;

/** How long a probe waits for its answer at interval `intervalMs` (ms): well below the interval. */
export const probeTimeoutMs = (intervalMs: number): number =>
  Math.max(1, Math.min(2_000, Math.floor(intervalMs * 0.4)));

export interface ProberDeps {
  center: string;
  subjects: Subjects;
  neighbors: Neighbors;
  counters: RelayCounters;
  /** The probe interval now (ms; 0: no probes). */
  intervalMs: () => number;
  /** The neighbours now (with their link ids). */
  neighborSpecs: () => readonly RelayNeighbor[];
  /** The routes held now (those from this center across ≥ 2 links are probed). */
  routes: () => readonly RouteEntry[];
  /** Backlog of the relay's transit consumer. */
  queueDepth: () => Promise<number>;
  onWindow: (w: ProbeWindow) => void;
  log: Logger;
  signal: AbortSignal;
}

/** What the probes of one link or route measured in a round. */
interface Samples {
  sent: number;
  rttsUs: number[];
  bytes: number;
}

/** Answers the probes for `center` on its home connection; unsubscribed when that connection closes. */
export function answerProbes(home: NatsTransport, subjects: Subjects, center: string): Subscription {
  const reply = Buffer.from(`probe-ok ${center}`);
  return home.nc.subscribe(subjects.probe(center), {
    queue: RELAY_QUEUE,
    callback: (err, m: Msg) => {
      if (!err && m.reply) m.respond(reply);
    },
  });
}

/** Probe rounds until the signal aborts (a round in progress is not reported). */
export async function runProbes(deps: ProberDeps): Promise<void> {
  let turn = 0;
  let seq = 0;
  while (!deps.signal.aborted) {
    const intervalMs = deps.intervalMs();
    if (intervalMs <= 0) {
      if (!(await sleep(1_000, deps.signal))) return;
      continue;
    }
    const start = Date.now();
    const before = deps.counters.snapshot().forwarded;
    const timeoutMs = probeTimeoutMs(intervalMs);
    const neighbors = deps.neighborSpecs();
    const routes = routesToProbe(deps, turn++);
    const links = neighbors.map((n) => probeLink(deps, n, intervalMs, timeoutMs, () => seq++));
    const paths = routes.map((r) => probeRoute(deps, r, timeoutMs, seq++));
    if (!(await sleep(start + intervalMs - Date.now(), deps.signal))) return;
    const [linkSamples, routeSamples] = await Promise.all([Promise.all(links), Promise.all(paths)]);
    const queueDepth = await deps.queueDepth().catch(() => Math.max(0, deps.counters.pending));
    const after = deps.counters.snapshot().forwarded;
    const base = { fromCenter: deps.center, windowStartMs: start, windowEndMs: Date.now(), queueDepth };
    neighbors.forEach((n, i) => {
      const forwardedBytes = (after[n.center]?.bytes ?? 0) - (before[n.center]?.bytes ?? 0);
      const route = n.linkId ? [] : [deps.center, n.center];
      emit(deps, { ...base, toCenter: n.center, linkId: n.linkId, route, forwardedBytes }, linkSamples[i]!);
    });
    routes.forEach((r, i) => {
      const w = { ...base, toCenter: r.destinationCenter, linkId: '', route: [...r.hops], forwardedBytes: 0 };
      emit(deps, w, routeSamples[i]!);
    });
  }
}

function emit(
  deps: ProberDeps,
  w: Omit<ProbeWindow, 'sent' | 'answered' | 'rttP50Us' | 'rttP99Us' | 'probeBytes'>,
  s: Samples,
): void {
  if (s.sent === 0) return; // nothing measured: no window (central sees the link stale)
  const rtts = [...s.rttsUs].sort((a, b) => a - b);
  const window: ProbeWindow = {
    ...w,
    sent: s.sent,
    answered: rtts.length,
    rttP50Us: percentile(rtts, 0.5),
    rttP99Us: percentile(rtts, 0.99),
    probeBytes: s.bytes,
  };
  deps.log.debug(window, 'probe window');
  try {
    deps.onWindow(window);
  } catch (err) {
    deps.log.warn({ err: (err as Error).message, to: w.toCenter }, 'probe window not recorded');
  }
}

/** Nearest-rank percentile of sorted values (0 when there are none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The routes probed this round: from this center, across ≥ 2 links, first hop a neighbour; in turn. */
function routesToProbe(deps: ProberDeps, turn: number): RouteEntry[] {
  const neighbors = new Set(deps.neighborSpecs().map((n) => n.center));
  const all = deps
    .routes()
    .filter((r) => r.hops.length >= 3 && r.hops[0] === deps.center && neighbors.has(r.hops[1]!))
    .sort((a, b) => a.destinationCenter.localeCompare(b.destinationCenter));
  if (all.length <= ROUTE_PROBES_PER_ROUND) return all;
  const from = (turn * ROUTE_PROBES_PER_ROUND) % all.length;
  return [...all, ...all].slice(from, from + ROUTE_PROBES_PER_ROUND);
}

/** LINK_PROBES probes to a neighbour at 0, T/4 and T/2 of the round. */
async function probeLink(
  deps: ProberDeps,
  n: RelayNeighbor,
  intervalMs: number,
  timeoutMs: number,
  nextSeq: () => number,
): Promise<Samples> {
  const s: Samples = { sent: 0, rttsUs: [], bytes: 0 };
  const subject = deps.subjects.probe(n.center);
  const start = Date.now();
  for (let i = 0; i < LINK_PROBES; i++) {
    const at = start + Math.floor((i * intervalMs) / (LINK_PROBES + 1));
    if (!(await sleep(at - Date.now(), deps.signal))) break;
    await probeOnce(deps, deps.neighbors.get(n.center), subject, {}, timeoutMs, nextSeq(), s);
  }
  return s;
}

/** One probe along a route, passed on by the relays of its centers. */
async function probeRoute(deps: ProberDeps, r: RouteEntry, timeoutMs: number, seq: number): Promise<Samples> {
  const s: Samples = { sent: 0, rttsUs: [], bytes: 0 };
  const dest = r.destinationCenter;
  const subject = deps.subjects.requestVia(dest, deps.subjects.probe(dest));
  const headers = { [REQUEST_HOPS_HEADER]: '0', [ROUTE_HEADER]: r.hops.join(',') };
  await probeOnce(deps, deps.neighbors.get(r.hops[1]!), subject, headers, timeoutMs, seq, s);
  return s;
}

async function probeOnce(
  deps: ProberDeps,
  t: NatsTransport | undefined,
  subject: string,
  headers: Record<string, string>,
  timeoutMs: number,
  seq: number,
  s: Samples,
): Promise<void> {
  if (!t) return; // never connected since the start: nothing measured (see the top comment)
  s.sent++;
  const payload = probePayload(deps.center, seq);
  const hdrs = Object.keys(headers).length ? headers : undefined;
  s.bytes += wireBytes(subject, payload.length, hdrs);
  const t0 = process.hrtime.bigint();
  try {
    const reply = await t.request(subject, payload, timeoutMs, hdrs);
    s.rttsUs.push(Math.min(0xffff_ffff, Number((process.hrtime.bigint() - t0) / 1000n)));
    s.bytes += wireBytes(undefined, reply.data.length);
  } catch {
    // timed out, no responders, connection down: lost
  }
}

/** A probe request's payload: who and which, padded to PROBE_PAYLOAD_BYTES. */
function probePayload(center: string, seq: number): Buffer {
  return Buffer.from(`probe ${center} ${seq} `.padEnd(PROBE_PAYLOAD_BYTES, '.').slice(0, PROBE_PAYLOAD_BYTES));
}

/**
 * Bytes a message takes on the link: a request (subject, reply inbox, headers) or a reply (to the inbox);
 * the NATS header block is "NATS/1.0\r\n" + "Key: value\r\n" each + "\r\n".
 */
export function wireBytes(subject: string | undefined, payloadBytes: number, headers?: Record<string, string>): number {
  const hdr = headers ? 12 + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0) : 0;
  return FRAMING_BYTES + (subject ? subject.length + INBOX_BYTES : INBOX_BYTES) + hdr + payloadBytes;
}
