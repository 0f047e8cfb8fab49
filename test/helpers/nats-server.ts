// A real nats-server with JetStream on a free port and a temp store dir, as nats.js's own tests do.
// restart() keeps the port (clients reconnect); wipeStore() deletes the JetStream store while stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { findNatsServer, freePort } from '../../scripts/lib.js';
import { tmpDir } from './tmp.js';

export const natsServerBinary = findNatsServer;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export { freePort };

export class NatsServer {
  private child: ChildProcess | undefined;
  private stderr = '';

  /** Port of the HTTP monitoring endpoint (-m), 0 when not started with `monitor: true`. */
  monitorPort = 0;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  /**
   * `config`: extra nats-server configuration text (e.g. "max_payload: 8MB"), written to a temp file.
   * `monitor`: also serve the HTTP monitoring endpoint (/varz, /jsz) on a free port (monitorUrl), kept on restart.
   */
  static async start(opts: { config?: string; monitor?: boolean } = {}): Promise<NatsServer> {
    const s = new NatsServer(await freePort(), tmpDir('xchg-nats-'));
    if (opts.monitor) s.monitorPort = await freePort();
    if (opts.config !== undefined) {
      s.configFile = join(tmpDir('xchg-nats-conf-'), 'nats-server.conf'); // outside the store: wipeStore() keeps it
      writeFileSync(s.configFile, opts.config);
    }
    await s.launch();
    return s;
  }

  private configFile: string | undefined;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** http://127.0.0.1:<monitorPort> (throws when started without `monitor`). */
  get monitorUrl(): string {
    if (!this.monitorPort) throw new Error('nats-server started without monitor: true');
    return `http://127.0.0.1:${this.monitorPort}`;
  }

  get output(): string {
    return this.stderr;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      natsServerBinary(),
      [
        ...(this.configFile ? ['-c', this.configFile] : []),
        '-a',
        '127.0.0.1',
        '-p',
        String(this.port),
        '-js',
        '-sd',
        this.storeDir,
        ...(this.monitorPort ? ['-m', String(this.monitorPort)] : []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    live.add(child);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-20_000);
    });
    child.once('exit', () => live.delete(child));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`nats-server exited ${child.exitCode}:\n${this.stderr}`);
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error(`nats-server not listening on ${this.port} after 10 s:\n${this.stderr}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    await exited;
  }

  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Deletes the JetStream store (the broker "lost everything it acked"); the server must be stopped. */
  wipeStore(): void {
    if (this.running) throw new Error('wipeStore() while nats-server runs');
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  /** Starts the server again after stop()/kill(). */
  async start(): Promise<void> {
    if (!this.running) await this.launch();
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1', () => {
      s.end();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
