// The link (数据链路) of one agent to its exchange center: the one NATS connection every data-plane protocol
// shares, opened on first use in the background, the abort signal their loops wait on, and the loops; its
// route table addresses whatever goes to a node at another center (transport/routing.ts).
//
// Invariants
//  - connected() opens at most one connection; hooks added with onConnect() run once, when it is open.
//  - close() aborts the signal first, waits for every loop started with run(), then closes the connection:
//    no protocol sends on a closed connection.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { NodeIdentity } from '../identity.js';
import { NatsTransport, Subjects } from '../transport/nats-transport.js';
import { RouteTable } from '../transport/routing.js';

/** Broker max payload assumed until the link is connected (NATS' default). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export class Link {
  private transport: NatsTransport | undefined;
  private connecting: Promise<NatsTransport> | undefined;
  private readonly hooks: ((t: NatsTransport) => void)[] = [];
  private readonly loops: Promise<void>[] = [];
  // Every registered task waits on this signal (handshakes, stalls): as many listeners as tasks is normal.
  private readonly abort = (() => {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  })();
  readonly subjects: Subjects;
  readonly log: Logger;
  /** Routes to other centers and the peers' centers: every publish and request is addressed by it. */
  readonly routes: RouteTable;

  constructor(
    private readonly identity: NodeIdentity,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'data-plane' });
    this.subjects = new Subjects(identity.dataPlane.subjectPrefix);
    this.routes = new RouteTable(identity.dataPlane.homeCenter ?? '', this.subjects);
  }

  get nodeId(): string {
    return this.identity.nodeId;
  }

  /** Aborts when the data plane closes. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** The transport, connecting on first use (in the background: reading into the spool goes on meanwhile). */
  connected(): Promise<NatsTransport> {
    this.connecting ??= NatsTransport.connect({
      servers: this.identity.dataPlane.natsUrls,
      prefix: this.identity.dataPlane.subjectPrefix,
      stream: this.identity.dataPlane.stream,
      nodeId: this.identity.nodeId,
      logger: this.log,
      routes: this.routes,
    }).then((t) => {
      this.transport = t;
      for (const h of this.hooks) h(t);
      this.log.info({ servers: this.identity.dataPlane.natsUrls }, 'exchange center connected');
      return t;
    });
    return this.connecting;
  }

  /** The transport if connected, else undefined (never connects). */
  current(): NatsTransport | undefined {
    return this.transport;
  }

  /** Runs `hook` once the connection is open (at once if it is). */
  onConnect(hook: (t: NatsTransport) => void): void {
    this.hooks.push(hook);
    if (this.transport) hook(this.transport);
  }

  /** The transport, or undefined when the link closes before it connected. */
  async connectedOrAbort(): Promise<NatsTransport | undefined> {
    const signal = this.abort.signal;
    if (signal.aborted) return undefined;
    const aborted = new Promise<undefined>((r) => signal.addEventListener('abort', () => r(undefined), { once: true }));
    return Promise.race([this.connected(), aborted]);
  }

  /** Largest envelope the broker accepts (NATS' default until connected). */
  maxPayload(): number {
    return this.transport?.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** The broker's max payload once connected, else undefined. */
  knownMaxPayload(): number | undefined {
    return this.transport?.nc.info?.max_payload;
  }

  /** Keeps a protocol loop: close() waits for it. */
  run(loop: Promise<void>): void {
    this.loops.push(loop);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
    await this.transport?.close();
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
