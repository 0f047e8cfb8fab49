// A real xchg-central process on free ports with a temp data dir; restart() keeps the ports and the data
// so agents reconnect to the same address.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { distFile, spawnNode, type Proc } from './proc.js';
import { tmpDir } from './tmp.js';

export interface CentralOptions {
  dataDir?: string;
  heartbeatTtlMs?: number;
  pollTimeoutMs?: number;
  livenessCheckIntervalMs?: number;
  natsUrls?: string[];
  env?: NodeJS.ProcessEnv;
}

export class CentralProcess {
  proc!: Proc;
  httpPort = 0;
  grpcPort = 0;
  readonly dataDir: string;

  private constructor(private readonly opts: CentralOptions) {
    this.dataDir = opts.dataDir ?? tmpDir('xchg-central-');
  }

  static async start(opts: CentralOptions = {}): Promise<CentralProcess> {
    const c = new CentralProcess(opts);
    await c.launch();
    return c;
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }
  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }
  get adminToken(): string {
    return readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  private async launch(): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      XCHG_CENTRAL_HTTP_HOST: '127.0.0.1',
      XCHG_CENTRAL_GRPC_HOST: '127.0.0.1',
      XCHG_LOG_LEVEL: 'info',
      ...(this.opts.heartbeatTtlMs && { XCHG_CENTRAL_HEARTBEAT_TTL_MS: String(this.opts.heartbeatTtlMs) }),
      ...(this.opts.pollTimeoutMs && { XCHG_CENTRAL_POLL_TIMEOUT_MS: String(this.opts.pollTimeoutMs) }),
      ...(this.opts.livenessCheckIntervalMs && {
        XCHG_CENTRAL_LIVENESS_CHECK_INTERVAL_MS: String(this.opts.livenessCheckIntervalMs),
      }),
      ...(this.opts.natsUrls && { XCHG_CENTRAL_NATS_URLS: this.opts.natsUrls.join(',') }),
      ...this.opts.env,
    };
    this.proc = spawnNode(
      distFile('bin/xchg-central.js'),
      ['--data-dir', this.dataDir, '--http-port', String(this.httpPort), '--grpc-port', String(this.grpcPort)],
      env,
    );
    // A central that does not come up is killed here: the caller's cleanup never learns of it.
    const line = await this.proc
      .waitForLog((l) => l['msg'] === 'central listening', 30_000)
      .catch(async (err) => {
        await this.proc.kill('SIGKILL');
        throw err;
      });
    this.httpPort = Number(line['httpPort']);
    this.grpcPort = Number(line['grpcPort']);
  }

  /** Starts again on the same ports and data dir (after stop() or kill). */
  async restart(): Promise<void> {
    await this.launch();
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    return this.proc.kill(signal);
  }
}
