// The relay (中继) of one exchange center (交换中心): forwards units in transit hop by hop to the next
// center of their route without opening them, relays requests across centers (requests.ts), counts
// what it does (metrics.ts), probes its links and routes and answers its neighbours' probes (probes.ts).
//
// Design
//  - Every center is an independent nats-server with its own JetStream and the same stream layout the
//    agents create (transport/nats-transport.ts): <S> and <S>_FILES for units addressed to its nodes,
//    <S>_TRANSIT for units crossing it, <S>_QUARANTINE for units no relay could route.
//  - Source routing. A sender whose peer is homed at another center publishes the unit into its own home
//    center on the transit subject <p>.t.<subject without prefix>, with Xchg-Route: A,P,C (center codes,
//    from the sender's RouteSpec for C), Xchg-Hop: 0 and its usual Nats-Msg-Id (transport/routing.ts).
//  - The relay at X runs a durable pull consumer on X's transit stream and reads only the headers (the
//    body is never decoded or re-encoded: forward.ts). next = route[hop+1]; it publishes the same body and
//    headers, Xchg-Hop + 1, the same Nats-Msg-Id, into next's JetStream over its connection to that
//    neighbour (the RelaySpec's URLs, neighbors.ts): on the transit subject when next is not the last
//    center, else on the unit's own subject, so the destination agent consumes it as it always has.
//  - A unit whose route is malformed, does not name X at its hop, or names a next center that is not a
//    neighbour, goes to X's quarantine stream with the reason (ERROR log, counted); never dropped.
//
// Invariants
//  - A unit is acked at X only after next's PubAck (or the quarantine's): a relay crash re-forwards what
//    it had not acked, next's stream deduplicates by Nats-Msg-Id within its window, the consumer's ledger
//    deduplicates the rest. The effect end to end stays exactly once; the provider's spool is still the
//    truth and re-sends what no receipt confirmed (a center that lost its store loses nothing).
//  - At most `window` forwards are in flight; a failed forward is nak'ed with a growing delay, so a down
//    neighbour costs retries, not a hot loop. Units a relay forwards in order arrive in order; a retry
//    may overtake (the consumer answers "gap" and the provider re-sends from there).
//  - close() (or the signal) stops fetching, lets the forwards in flight settle, then closes connections.
//
// Why not NATS's own links between centers: leaf nodes give no route choice and nats-server 2.9.10
// refuses leaf-node cycles ("Loop detected for leafnode"), which any province with a city-to-city link
// has; gateways (superclusters) pick their own direct path between clusters. Neither lets central choose
// a route from probe measurements or move traffic off a degraded link; relays do. Stream sourcing
// between centers would be a path fixed in stream config per pair, not per unit.
import { setMaxListeners } from 'node:events';
import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import { NatsTransport } from '../transport/nats-transport.js';
import { ORIGINAL_SUBJECT_HEADER, QUARANTINE_REASON_HEADER } from '../transport/routing.js';
import { Subjects } from '../transport/subjects.js';
import type { RouteEntry } from '../transport/routing.js';
import { decide, MSG_ID_HEADER, type Decision } from './forward.js';
import { RelayCounters, type RelayStats } from './metrics.js';
import { Neighbors } from './neighbors.js';
import { answerProbes, runProbes, type ProbeWindow } from './probes.js';
import { bridgeRequests } from './requests.js';
import { sameNeighbors, type RelaySpec } from './spec.js';

/** Tuning of a relay; every field has a default. */
export interface RelaySettings {
  /** Forwards in flight at most (default 256). */
  window: number;
  /** JetStream publish ack timeout of one forward, ms (default 10 000). */
  forwardTimeoutMs: number;
  /** Ack wait of the transit consumer, ms (default 30 000); must exceed forwardTimeoutMs. */
  ackWaitMs: number;
  /** How long a relayed request waits for its reply, ms (default 30 000). */
  requestTimeoutMs: number;
  /** How often the transit backlog is read for the counters, ms (default 5 000). */
  backlogIntervalMs: number;
  /** How often the counters are logged when they changed, ms (default 60 000; 0: never). */
  statsLogIntervalMs: number;
}

export const RELAY_DEFAULTS: RelaySettings = {
  window: 256,
  forwardTimeoutMs: 10_000,
  ackWaitMs: 30_000,
  requestTimeoutMs: 30_000,
  backlogIntervalMs: 5_000,
  statsLogIntervalMs: 60_000,
};

export interface RelayOptions {
  spec: RelaySpec;
  /** Client URLs of the relay's own center. */
  homeUrls: string[];
  /** Subject prefix and data stream name of the province (the same at every center). */
  prefix: string;
  stream: string;
  logger: Logger;
  /** Next center toward a center for relayed requests (the agent's routes); default: neighbours only. */
  nextHop?: (center: string) => string | undefined;
  /** The routes the node holds: those from this center across ≥ 2 links are probed (default: none). */
  routes?: () => readonly RouteEntry[];
  /** Told of each probe window (the agent queues it as a ProbeReport); default: logged at debug only. */
  onProbe?: (w: ProbeWindow) => void;
  settings?: Partial<RelaySettings>;
  /** Aborting it closes the relay (as close() does). */
  signal?: AbortSignal;
}

export class Relay {
  private spec: RelaySpec;
  private readonly settings: RelaySettings;
  private readonly subjects: Subjects;
  private readonly log: Logger;
  private readonly counters: RelayCounters;
  private readonly neighbors: Neighbors;
  private readonly abort = new AbortController();
  private home: NatsTransport | undefined;
  private inFlight = 0;
  private readonly settled = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];
  /** Per center a forward or quarantine failed towards: when last logged and failures since. */
  private readonly failures = new Map<string, { at: number; count: number }>();

  private constructor(private readonly opts: RelayOptions) {
    setMaxListeners(0, this.abort.signal);
    this.spec = opts.spec;
    this.settings = { ...RELAY_DEFAULTS, ...opts.settings };
    this.subjects = new Subjects(opts.prefix);
    this.log = opts.logger.child({ component: 'relay', center: opts.spec.center });
    this.counters = new RelayCounters(opts.spec.center);
    this.neighbors = new Neighbors({
      prefix: opts.prefix,
      stream: opts.stream,
      name: `xchg-relay ${opts.spec.center}`,
      logger: this.log,
      publishTimeoutMs: this.settings.forwardTimeoutMs,
    });
    opts.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** Starts the relay; connections open in the background (a center that is down is waited for). */
  static start(opts: RelayOptions): Relay {
    const r = new Relay(opts);
    void r.neighbors.sync(opts.spec.neighbors);
    r.loops.push(r.run());
    r.log.info({ neighbors: opts.spec.neighbors.map((n) => n.center) }, 'relay started');
    return r;
  }

  get center(): string {
    return this.spec.center;
  }

  get currentSpec(): RelaySpec {
    return this.spec;
  }

  /**
   * A new spec of the same center: neighbours are connected, reconnected or closed to match it; the probe
   * interval and link ids apply from the next probe round.
   */
  async update(spec: RelaySpec): Promise<void> {
    if (spec.center !== this.spec.center) throw new Error(`relay of ${this.spec.center} cannot become ${spec.center}`);
    const neighborsChanged = !sameNeighbors(spec, this.spec);
    this.spec = spec;
    await this.neighbors.sync(spec.neighbors);
    if (neighborsChanged) this.log.info({ neighbors: spec.neighbors.map((n) => n.center) }, 'relay neighbours updated');
  }

  stats(): RelayStats {
    return this.counters.snapshot();
  }

  async close(): Promise<void> {
    if (this.abort.signal.aborted) return Promise.all(this.loops).then(() => undefined);
    this.abort.abort();
    await Promise.all(this.loops);
    await this.drain(this.settings.forwardTimeoutMs + 1_000);
    await this.neighbors.close();
    await this.home?.close();
    this.log.info(this.stats(), 'relay stopped');
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const home = await this.connectHome();
    if (!home) return;
    bridgeRequests({
      center: this.spec.center,
      subjects: this.subjects,
      home,
      neighbors: this.neighbors,
      nextHop: (c) => this.opts.nextHop?.(c) ?? (this.neighbors.centers().has(c) ? c : undefined),
      counters: this.counters,
      log: this.log,
      timeoutMs: this.settings.requestTimeoutMs,
    });
    this.loops.push(this.watchBacklog(home));
    this.startProbes(home);
    // Units wait for the neighbours' first connections (a relay restarting must not nak its backlog at once).
    await this.neighbors.ready(this.settings.forwardTimeoutMs);
    await home.consume(
      `relay_${this.spec.center}`,
      this.subjects.transitStreamSubjects()[0]!,
      (m) => this.onUnit(home, m),
      signal,
      {
        stream: home.transitStream,
        batch: Math.min(256, this.settings.window),
        ackWaitMs: this.settings.ackWaitMs,
      },
    );
  }

  /** Answers the neighbours' probes for this center and runs this relay's probe rounds (probes.ts). */
  private startProbes(home: NatsTransport): void {
    answerProbes(home, this.subjects, this.spec.center);
    const durable = `relay_${this.spec.center}`;
    this.loops.push(
      runProbes({
        center: this.spec.center,
        subjects: this.subjects,
        neighbors: this.neighbors,
        counters: this.counters,
        intervalMs: () => this.spec.probeIntervalMs,
        neighborSpecs: () => this.spec.neighbors,
        routes: () => this.opts.routes?.() ?? [],
        queueDepth: async () => (this.counters.pending = await home.consumerBacklog(home.transitStream, durable)),
        onWindow: (w) => this.opts.onProbe?.(w),
        log: this.log,
        signal: this.abort.signal,
      }),
    );
  }

  /** The home connection, retried until it opens or the relay closes. */
  private async connectHome(): Promise<NatsTransport | undefined> {
    const connecting = NatsTransport.connect({
      servers: this.opts.homeUrls,
      prefix: this.opts.prefix,
      stream: this.opts.stream,
      nodeId: `xchg-relay ${this.spec.center}`,
      logger: this.log,
    });
    const aborted = new Promise<undefined>((r) =>
      this.abort.signal.addEventListener('abort', () => r(undefined), { once: true }),
    );
    const t = await Promise.race([connecting, aborted]);
    if (!t) void connecting.then((late) => late.close()).catch(() => undefined);
    return (this.home = t);
  }

  /** Takes one unit: waits for room in the window, then starts its forward (settling later). */
  private async onUnit(home: NatsTransport, m: JsMsg): Promise<void> {
    while (this.inFlight >= this.settings.window) await new Promise<void>((r) => this.settled.add(r));
    const headers = headersOf(m);
    const d = decide(this.spec.center, this.neighbors.centers(), this.subjects, m.subject, headers);
    this.inFlight++;
    const done = d.kind === 'forward' ? this.forward(m, d) : this.quarantine(home, m, headers, d.reason);
    void done.finally(() => {
      this.inFlight--;
      for (const r of this.settled) r();
      this.settled.clear();
    });
  }

  private async forward(m: JsMsg, d: Extract<Decision, { kind: 'forward' }>): Promise<void> {
    const t = this.neighbors.get(d.next);
    try {
      if (!t) throw new Error(`neighbour ${d.next} not connected`);
      await t.publish(d.subject, m.data, d.msgId, d.headers);
      m.ack();
      this.counters.sent(d.next, m.data.length);
    } catch (err) {
      this.counters.failed(d.next);
      this.retryLater(m, d.next, err);
    }
  }

  private async quarantine(home: NatsTransport, m: JsMsg, h: Record<string, string>, reason: string): Promise<void> {
    const { [MSG_ID_HEADER]: msgId, ...rest } = h;
    const id = msgId || `transit-${m.info.streamSequence}`;
    try {
      await home.publish(this.subjects.quarantine(this.spec.center), m.data, id, {
        ...rest,
        [QUARANTINE_REASON_HEADER]: reason,
        [ORIGINAL_SUBJECT_HEADER]: m.subject,
      });
      m.ack();
      this.counters.quarantined++;
      this.log.error({ subject: m.subject, msgId: id, reason }, 'unit in transit quarantined: cannot be routed');
    } catch (err) {
      this.retryLater(m, this.spec.center, err);
    }
  }

  /**
   * Redelivery after a delay growing with the unit's deliveries (0.5 s doubling up to 10 s). Logged at most
   * every 5 s per center it was going to (a center that is down fails every unit), with the count since.
   */
  private retryLater(m: JsMsg, to: string, err: unknown): void {
    const n = m.info.deliveryCount;
    const delayMs = Math.min(10_000, 500 * 2 ** Math.min(5, n - 1));
    m.nak(delayMs);
    const f = this.failures.get(to) ?? { at: 0, count: 0 };
    f.count++;
    this.failures.set(to, f);
    if (Date.now() - f.at < 5_000) return;
    const fields = { to, failures: f.count, subject: m.subject, deliveries: n, err: (err as Error).message };
    this.log.warn(fields, 'forward failed; units are redelivered and retried');
    this.failures.set(to, { at: Date.now(), count: 0 });
  }

  /** Waits until the forwards in flight settled, at most `ms`. */
  private async drain(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.inFlight > 0 && Date.now() < deadline)
      await Promise.race([new Promise<void>((r) => this.settled.add(r)), sleep(deadline - Date.now())]);
  }

  /** Reads the transit consumer's backlog for the counters; logs the counters when they changed. */
  private async watchBacklog(home: NatsTransport): Promise<void> {
    const { backlogIntervalMs, statsLogIntervalMs } = this.settings;
    let lastLog = Date.now();
    let logged = '';
    while (await sleep(backlogIntervalMs, this.abort.signal)) {
      this.counters.pending = await home
        .consumerBacklog(home.transitStream, `relay_${this.spec.center}`)
        .catch(() => this.counters.pending);
      if (!statsLogIntervalMs || Date.now() - lastLog < statsLogIntervalMs) continue;
      lastLog = Date.now();
      const s = JSON.stringify(this.stats());
      if (s !== logged) this.log.info(this.stats(), 'relay counters');
      logged = s;
    }
  }
}

/** A message's headers as a record (first value of each; the protocol sets each header once). */
function headersOf(m: JsMsg): Record<string, string> {
  const out: Record<string, string> = {};
  const h = m.headers;
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}
