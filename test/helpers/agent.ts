// A real xchg-agent process with its own data dir and a generated config file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { distFile, spawnNode, type Proc } from './proc.js';
import { tmpDir } from './tmp.js';
import { AGENT_NODE_FLAGS } from '../../node-agent/src/heap.js';

export interface AgentOptions {
  central: string;
  token?: string;
  dataDir?: string;
  /** Extra settings merged into the generated config file. */
  config?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Raw text of the config file instead of the generated one (for tests of broken files). */
  configText?: string;
}

/** Fast intervals so tests do not wait on production defaults. */
export const FAST_AGENT = {
  reportIntervalMs: 200,
  pollDeadlineMs: 10_000,
  backoff: { initialMs: 100, factor: 1.6, maxMs: 1_000, jitter: 0.2 },
  shutdownGraceMs: 3_000,
  spool: { maxReports: 100_000, synchronous: 'NORMAL' },
};

export class AgentProcess {
  proc!: Proc;
  readonly dataDir: string;
  readonly configFile: string;

  private constructor(readonly opts: AgentOptions) {
    this.dataDir = opts.dataDir ?? tmpDir('xchg-agent-');
    this.configFile = join(this.dataDir, 'agent.yaml');
    const doc = {
      dataDir: this.dataDir,
      central: { address: opts.central, ...(opts.token && { enrollToken: opts.token }) },
      logLevel: 'info',
      ...FAST_AGENT,
      ...opts.config,
    };
    writeFileSync(this.configFile, opts.configText ?? stringify(doc));
  }

  /** Starts the agent and waits until it runs (enrolled or identity loaded). */
  static async start(opts: AgentOptions): Promise<AgentProcess> {
    const a = AgentProcess.spawn(opts);
    await a.proc.waitForLog((l) => l['msg'] === 'agent running', 20_000);
    return a;
  }

  /** Starts the agent without waiting (for tests of failing starts). */
  static spawn(opts: AgentOptions): AgentProcess {
    const a = new AgentProcess(opts);
    a.launch();
    return a;
  }

  private launch(): void {
    this.proc = spawnNode(
      distFile('bin/xchg-agent.js'),
      ['--config', this.configFile],
      this.opts.env ?? {},
      AGENT_NODE_FLAGS,
    );
  }

  async restart(): Promise<void> {
    this.launch();
    await this.proc.waitForLog((l) => l['msg'] === 'agent running', 20_000);
  }

  get nodeId(): Promise<string> {
    return this.proc.waitForLog((l) => l['msg'] === 'agent running').then((l) => String(l['nodeId']));
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    return this.proc.kill(signal);
  }
}
