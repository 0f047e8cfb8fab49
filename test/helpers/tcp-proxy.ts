// A TCP proxy the tests put on a link between two processes (e.g., a city center's leaf connection to the
// province center) to degrade it without kernel traffic shaping: added one-way latency, random jitter on top
// of it, stalls (bytes held, connections kept open), and cuts (every connection reset, new ones refused).
//
// Invariants: bytes of one direction leave in the order they arrived, never earlier than `delayMs` after
// arrival (a lowered delay or a smaller jitter draw does not let later bytes overtake earlier ones); a stall
// holds bytes and sends them all, in order, on resume; close() leaves no socket or timer behind.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

export interface TcpProxyOptions {
  /** Where the proxy forwards to. */
  targetHost?: string;
  targetPort: number;
  /** One-way latency added to every chunk in both directions, ms (default 0). */
  delayMs?: number;
  /** Random extra latency per chunk, uniform in [0, jitterMs), on top of delayMs (default 0). */
  jitterMs?: number;
}

type Mode = 'forwarding' | 'stalled' | 'cut';

/** One direction of one connection: a FIFO of chunks with their release times. */
class Pipe {
  private readonly queue: { at: number; data: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;

  constructor(
    private readonly out: Socket,
    private readonly proxy: TcpProxy,
  ) {}

  push(data: Buffer): void {
    const at = Math.max(this.lastAt, Date.now() + this.proxy.delayMs + Math.random() * this.proxy.jitterMs);
    this.lastAt = at;
    this.queue.push({ at, data });
    this.pump();
  }

  pump(): void {
    if (this.timer || this.proxy.mode !== 'forwarding') return;
    const now = Date.now();
    while (this.queue.length && this.queue[0]!.at <= now) this.out.write(this.queue.shift()!.data);
    const next = this.queue[0];
    if (next) this.timer = setTimeout(() => ((this.timer = undefined), this.pump()), next.at - now);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

export class TcpProxy {
  mode: Mode = 'forwarding';
  delayMs: number;
  jitterMs: number;
  /** Connections accepted so far (a reconnect shows up here). */
  accepted = 0;
  private readonly pairs = new Set<{ a: Socket; b: Socket; pipes: Pipe[] }>();

  private constructor(
    private readonly server: Server,
    private readonly opts: TcpProxyOptions,
  ) {
    this.delayMs = opts.delayMs ?? 0;
    this.jitterMs = opts.jitterMs ?? 0;
  }

  /** Starts listening on a free loopback port. */
  static async start(opts: TcpProxyOptions): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, opts);
    server.on('connection', (s) => proxy.accept(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('proxy not listening');
    return a.port;
  }

  /** Sets the added one-way latency for bytes arriving from now on. */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** Sets the random extra latency per chunk (uniform in [0, ms)) for bytes arriving from now on. */
  setJitter(ms: number): void {
    this.jitterMs = ms;
  }

  /** Holds every byte in both directions; connections stay open (a link that hangs). */
  stall(): void {
    this.mode = 'stalled';
  }

  /** Resets every connection and refuses new ones (a link that is down). */
  cut(): void {
    this.mode = 'cut';
    for (const p of this.pairs) this.drop(p);
  }

  /** Back to forwarding after stall() or cut(); held bytes go out in order. */
  restore(): void {
    this.mode = 'forwarding';
    for (const p of this.pairs) for (const pipe of p.pipes) pipe.pump();
  }

  async close(): Promise<void> {
    for (const p of this.pairs) this.drop(p);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    this.accepted++;
    client.pause();
    const upstream = netConnect(this.opts.targetPort, this.opts.targetHost ?? '127.0.0.1');
    const pair = { a: client, b: upstream, pipes: [new Pipe(upstream, this), new Pipe(client, this)] };
    this.pairs.add(pair);
    upstream.once('connect', () => client.resume());
    client.on('data', (d: Buffer) => pair.pipes[0]!.push(d));
    upstream.on('data', (d: Buffer) => pair.pipes[1]!.push(d));
    for (const s of [client, upstream]) {
      s.on('error', () => this.drop(pair));
      s.on('close', () => this.drop(pair));
    }
  }

  private drop(pair: { a: Socket; b: Socket; pipes: Pipe[] }): void {
    if (!this.pairs.delete(pair)) return;
    for (const p of pair.pipes) p.clear();
    pair.a.resetAndDestroy();
    pair.b.resetAndDestroy();
  }
}
