// Process helpers for the demo and the bench: find nats-server, start children with logs in files,
// wait for log lines. (Tests have their own helpers under test/helpers with output capture.)
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this module in scripts/ (source) or dist/scripts/ (built). */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** nats-server on PATH or in the sbin directories (Debian installs it in /usr/sbin). */
export function findNatsServer(): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    const p = join(d, 'nats-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  throw new Error(
    'nats-server not found on PATH or in /usr/sbin: run `bash scripts/setup.sh` (installs Debian package nats-server)',
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Child {
  proc: ChildProcess;
  name: string;
  /** Resolves with the first JSON log line matching. */
  waitFor(match: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns a process whose stdout/stderr go to logFile; JSON lines on stdout can be awaited. */
export function startChild(
  name: string,
  cmd: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = {},
): Child {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  proc.stdout!.on('data', (b: Buffer) => {
    log.write(b);
    partial += b.toString('utf8');
    let i;
    while ((i = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* plain text */
      }
    }
    for (const w of waiters) w();
  });
  proc.stderr!.on('data', (b: Buffer) => log.write(b));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    name,
    waitFor(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => done(new Error(`${name}: no matching log line within ${timeoutMs} ms (see ${logFile})`)),
          timeoutMs,
        );
        const check = (): void => {
          const hit = lines.find(match);
          if (hit) done(undefined, hit);
          else if (proc.exitCode !== null) done(new Error(`${name} exited with ${proc.exitCode} (see ${logFile})`));
        };
        const done = (err?: Error, hit?: Record<string, unknown>): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(hit!);
        };
        waiters.add(check);
        proc.once('exit', check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
      log.end();
    },
  };
}

export function requireBuilt(rel: string): string {
  const p = join(ROOT, 'dist', rel);
  if (!existsSync(p)) throw new Error(`${p} missing: run \`npm run build\``);
  return p;
}
