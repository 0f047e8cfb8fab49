// A relay's connections to its neighbour centers: one NATS connection per neighbour, opened in the
// background (a neighbour that is down must not hold up the others), kept in step with the spec.
//
// Invariants
//  - At most one connection per neighbour; a neighbour whose URLs change is reconnected, one that leaves
//    the spec is closed (after the forwards in flight on it settle: the caller drains before sync()).
//  - get() never waits for a connection: a neighbour not connected yet fails the forward at once (the
//    unit is redelivered later), instead of holding a window slot for the whole outage.
import type { Logger } from 'pino';
import { NatsTransport } from '../transport/nats-transport.js';
import type { RelayNeighbor } from './spec.js';

interface Neighbor {
  spec: RelayNeighbor;
  transport: NatsTransport | undefined;
  connecting: Promise<NatsTransport | undefined>;
  closed: boolean;
}

/** What a connection to a neighbour needs besides its URLs. */
export interface NeighborOptions {
  prefix: string;
  stream: string;
  /** Names the connection on the neighbour's server (shows in its monitoring). */
  name: string;
  logger: Logger;
  /** JetStream publish ack timeout of a forward (ms). */
  publishTimeoutMs: number;
}

export class Neighbors {
  private readonly byCenter = new Map<string, Neighbor>();

  constructor(private readonly opts: NeighborOptions) {}

  /** Centers currently in the spec. */
  centers(): ReadonlySet<string> {
    return new Set(this.byCenter.keys());
  }

  /** The neighbour's transport if connected, else undefined. */
  get(center: string): NatsTransport | undefined {
    return this.byCenter.get(center)?.transport;
  }

  /** Resolves once every neighbour is connected, or after `ms` (a neighbour that is down is not waited for). */
  async ready(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, ms)));
    await Promise.race([Promise.all([...this.byCenter.values()].map((n) => n.connecting)), timeout]);
    clearTimeout(timer);
  }

  /** Connects new neighbours, reconnects changed ones, closes those no longer listed. */
  async sync(neighbors: readonly RelayNeighbor[]): Promise<void> {
    const wanted = new Map(neighbors.map((n) => [n.center, n]));
    const closing: Promise<void>[] = [];
    for (const [center, n] of this.byCenter) {
      const w = wanted.get(center);
      if (w && JSON.stringify(w.natsUrls) === JSON.stringify(n.spec.natsUrls)) {
        n.spec = w;
        continue;
      }
      this.byCenter.delete(center);
      closing.push(this.closeOne(n));
    }
    for (const [center, spec] of wanted) if (!this.byCenter.has(center)) this.byCenter.set(center, this.open(spec));
    await Promise.all(closing);
  }

  async close(): Promise<void> {
    const all = [...this.byCenter.values()];
    this.byCenter.clear();
    await Promise.all(all.map((n) => this.closeOne(n)));
  }

  private open(spec: RelayNeighbor): Neighbor {
    const log = this.opts.logger.child({ neighbor: spec.center });
    const n: Neighbor = { spec, transport: undefined, closed: false, connecting: Promise.resolve(undefined) };
    n.connecting = NatsTransport.connect({
      servers: spec.natsUrls,
      prefix: this.opts.prefix,
      stream: this.opts.stream,
      nodeId: this.opts.name,
      logger: log,
      publishTimeoutMs: this.opts.publishTimeoutMs,
    }).then(
      async (t) => {
        if (n.closed) return void (await t.close());
        n.transport = t;
        log.info({ urls: spec.natsUrls }, 'relay neighbour connected');
        return t;
      },
      (err: unknown) => {
        log.error({ urls: spec.natsUrls, err: (err as Error).message }, 'relay neighbour URLs refused');
        return undefined;
      },
    );
    return n;
  }

  private async closeOne(n: Neighbor): Promise<void> {
    n.closed = true;
    const t = n.transport ?? (await Promise.race([n.connecting, Promise.resolve(undefined)]));
    await t?.close();
  }
}
