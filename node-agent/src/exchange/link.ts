// The link (数据链路) of one agent to its exchange center: the one NATS connection every data-plane protocol
// shares, opened on first use in the background, the abort signal their loops wait on, and the loops; its
// route table addresses whatever goes to a node at another center (transport/routing.ts). When the node
// moves to another center (or its center's URLs change), move() takes the protocols there without a restart.
//
// Invariants
//  - One session per center the link is at: at most one connection per session; hooks added with
//    onConnect() run once per session, when its connection is open; loops added with run() run once per
//    session (started again after a move).
//  - signal is the session's: it aborts on close() and on move(), ending the session's loops.
//  - move() ends the old session (its loops stopped, then its connection closed) before the new session's
//    loops start: no protocol loop sends at two centers at once. What was in flight on the old connection
//    and not acknowledged stays unpublished in the spool (sent again at the new center); what the old
//    center acknowledged but the peer never received there is re-sent by recovery when no receipt comes.
//  - A loop never waits for connected() (it would wait for the move that waits for the loop): loops and
//    what they call use connectedOrAbort().
//  - connected() pending when a move starts, or called during it, resolves with the new session's
//    connection, never with the old (closing) one; current() is undefined while a move is under way.
//  - close() aborts the session, waits for its loops, then closes the connection: no protocol sends on a
//    closed connection.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import type { NodeIdentity } from '../identity.js';
import { NatsTransport, Subjects } from '../transport/nats-transport.js';
import { RouteTable } from '../transport/routing.js';

/** Broker max payload assumed until the link is connected (NATS' default). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** How long a move waits for the old connection to drain before it closes it (ms). */
const MOVE_DRAIN_MS = 5_000;

/** The link's time at one center. */
interface Session {
  readonly abort: AbortController;
  connecting: Promise<NatsTransport> | undefined;
  transport: NatsTransport | undefined;
  readonly loops: Promise<void>[];
}

function newSession(): Session {
  const abort = new AbortController();
  // Every registered task waits on this signal (handshakes, stalls): as many listeners as tasks is normal.
  setMaxListeners(0, abort.signal);
  return { abort, connecting: undefined, transport: undefined, loops: [] };
}

export class Link {
  private session = newSession();
  private closed = false;
  /** Set while a move ends the old session and starts the new one. */
  private moving: Promise<void> | undefined;
  private readonly hooks: ((t: NatsTransport) => void)[] = [];
  private readonly starters: (() => Promise<void>)[] = [];
  readonly subjects: Subjects;
  readonly log: Logger;
  /** Routes to other centers and the peers' centers: every publish and request is addressed by it. */
  readonly routes: RouteTable;

  constructor(
    private identity: NodeIdentity,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'data-plane' });
    this.subjects = new Subjects(identity.dataPlane.subjectPrefix);
    this.routes = new RouteTable(identity.dataPlane.homeCenter ?? '', this.subjects);
  }

  get nodeId(): string {
    return this.identity.nodeId;
  }

  /** Aborts when the data plane closes or moves to another center (the current session's signal). */
  get signal(): AbortSignal {
    return this.session.abort.signal;
  }

  /** The transport, connecting on first use (in the background: reading into the spool goes on meanwhile). */
  connected(): Promise<NatsTransport> {
    if (this.moving) return this.moving.then(() => this.connected());
    if (this.closed) return new Promise<never>(() => undefined);
    const s = this.session;
    s.connecting ??= this.open(s);
    return s.connecting;
  }

  /** Connects the session's transport; when the session ends first, the next session's (or never, closed). */
  private async open(s: Session): Promise<NatsTransport> {
    const dp = this.identity.dataPlane;
    const opening = NatsTransport.connect({
      servers: dp.natsUrls,
      prefix: dp.subjectPrefix,
      stream: dp.stream,
      nodeId: this.identity.nodeId,
      logger: this.log,
      routes: this.routes,
    });
    const ended = new Promise<undefined>((r) => s.abort.signal.addEventListener('abort', () => r(undefined)));
    const t = await Promise.race([opening, ended]);
    if (!t || s.abort.signal.aborted) {
      void opening.then((late) => late.close()).catch(() => undefined);
      // Moved meanwhile: the caller gets the new center's connection. Closed: it waits forever, as before.
      return this.closed ? new Promise<never>(() => undefined) : this.connected();
    }
    s.transport = t;
    for (const h of this.hooks) h(t);
    this.log.info({ servers: dp.natsUrls, center: dp.homeCenter }, 'exchange center connected');
    return t;
  }

  /** The transport if connected, else undefined (never connects; undefined while moving). */
  current(): NatsTransport | undefined {
    return this.moving ? undefined : this.session.transport;
  }

  /** Runs `hook` once each session's connection is open (at once if it is). */
  onConnect(hook: (t: NatsTransport) => void): void {
    this.hooks.push(hook);
    if (this.session.transport) hook(this.session.transport);
  }

  /** The transport, or undefined when the session ends (close or move) before it connected. */
  async connectedOrAbort(): Promise<NatsTransport | undefined> {
    const signal = this.signal;
    if (signal.aborted) return undefined;
    const aborted = new Promise<undefined>((r) => signal.addEventListener('abort', () => r(undefined), { once: true }));
    return Promise.race([this.connected(), aborted]);
  }

  /** Largest envelope the broker accepts (NATS' default until connected). */
  maxPayload(): number {
    return this.session.transport?.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** The broker's max payload once connected, else undefined. */
  knownMaxPayload(): number | undefined {
    return this.session.transport?.nc.info?.max_payload;
  }

  /** Keeps a protocol loop: started now and again in each session after a move; close() waits for it. */
  run(start: () => Promise<void>): void {
    this.starters.push(start);
    this.session.loops.push(start());
  }

  /** Where the link is now: the identity's data plane (URLs, home center, stream). */
  get dataPlane(): NodeIdentity['dataPlane'] {
    return this.identity.dataPlane;
  }

  /**
   * Takes the link to another center (or new URLs of its own): ends the session (loops, then connection),
   * re-homes the route table (its routes are dropped until the new home's are applied), and starts the
   * loops of a new session there. The subject prefix stays (it is the province's).
   */
  async move(dataPlane: NodeIdentity['dataPlane']): Promise<void> {
    while (this.moving) await this.moving;
    this.moving = this.switchTo(dataPlane).finally(() => (this.moving = undefined));
    await this.moving;
  }

  private async switchTo(dataPlane: NodeIdentity['dataPlane']): Promise<void> {
    const old = this.session;
    const wasUsed = old.connecting !== undefined || this.starters.length > 0;
    old.abort.abort();
    await Promise.allSettled(old.loops);
    const t = old.transport;
    if (t) {
      // Drained when the old center answers (a publish in flight gets its ack); closed after MOVE_DRAIN_MS.
      await Promise.race([t.close().catch(() => undefined), sleep(MOVE_DRAIN_MS)]);
      await t.nc.close().catch(() => undefined);
    }
    if (this.closed) return;
    this.identity = { ...this.identity, dataPlane: { ...dataPlane, subjectPrefix: this.subjects.prefix } };
    this.routes.rehome(dataPlane.homeCenter);
    const s = (this.session = newSession());
    for (const start of this.starters) s.loops.push(start());
    if (wasUsed) void this.connected(); // resolves once the move is over (see connected())
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.session;
    s.abort.abort();
    await Promise.allSettled(s.loops);
    await s.transport?.close();
  }
}

/** A wake-up for a loop that waits for work: wait() resolves on kick() or after its timeout. */
export class Kick {
  private wake: (() => void) | undefined;

  kick(): void {
    this.wake?.();
  }

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
