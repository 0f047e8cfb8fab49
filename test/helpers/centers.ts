// The multi-center test topology (issue 10, Build 6): a province center and city centers, each its own
// nats-server process with its own JetStream on a free loopback port; a TCP proxy put on a link (what a
// relay at one center dials to reach its neighbour) to degrade it; SIGKILL and restart of a center.
//
// Invariants: a center keeps its port and JetStream store across kill()/restart() (clients and proxies
// reconnect to the same address); stop() leaves no server or proxy behind.
import { NatsServer } from './nats-server.js';
import { TcpProxy } from './tcp-proxy.js';

/** Default codes: the province center and two city centers (lowercase, as central's center codes are). */
export const DEFAULT_CENTERS = ['prov', 'city-a', 'city-b'] as const;

/** One link from a center to a neighbour, through a proxy the test controls (setDelay, stall, cut, restore). */
export interface CenterLink {
  from: string;
  to: string;
  proxy: TcpProxy;
  /** The URL `from`'s relay dials to reach `to` through the proxy. */
  url: string;
}

export class Centers {
  private readonly links: CenterLink[] = [];

  private constructor(private readonly servers: Map<string, NatsServer>) {}

  /** Starts one nats-server per code (JetStream on each, separate store dirs), in parallel. */
  static async start(codes: readonly string[] = DEFAULT_CENTERS, opts: { config?: string } = {}): Promise<Centers> {
    const started = await Promise.allSettled(codes.map(() => NatsServer.start(opts)));
    const servers = new Map<string, NatsServer>();
    started.forEach((r, i) => r.status === 'fulfilled' && servers.set(codes[i]!, r.value));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all([...servers.values()].map((s) => s.kill()));
      throw failed.reason;
    }
    return new Centers(servers);
  }

  get codes(): string[] {
    return [...this.servers.keys()];
  }

  server(code: string): NatsServer {
    const s = this.servers.get(code);
    if (!s) throw new Error(`no center ${code} (have ${this.codes.join(', ')})`);
    return s;
  }

  /** The center's own client URL (what its home agents and relay use). */
  url(code: string): string {
    return this.server(code).url;
  }

  /**
   * Puts a TCP proxy in front of `to` for the link from `from` (one proxy per direction: degrading
   * from→to leaves to→from alone). Returns the link; its url is what `from`'s relay dials for `to`.
   */
  async link(from: string, to: string, opts: { delayMs?: number } = {}): Promise<CenterLink> {
    const proxy = await TcpProxy.start({ targetPort: this.server(to).port, delayMs: opts.delayMs ?? 0 });
    const link = { from, to, proxy, url: `nats://127.0.0.1:${proxy.port}` };
    this.links.push(link);
    return link;
  }

  /** The link from→to made by link(). */
  linkOf(from: string, to: string): CenterLink {
    const l = this.links.find((x) => x.from === from && x.to === to);
    if (!l) throw new Error(`no link ${from}→${to}`);
    return l;
  }

  /** SIGKILLs a center's nats-server (what it acked but had not written may be lost, as in production). */
  kill(code: string): Promise<void> {
    return this.server(code).kill();
  }

  /** Starts a killed or stopped center again on the same port with the same store. */
  restart(code: string): Promise<void> {
    return this.server(code).start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.links.splice(0).map((l) => l.proxy.close()));
    await Promise.all([...this.servers.values()].map((s) => s.stop()));
  }
}
