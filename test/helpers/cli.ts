// Runs the built `xchg` CLI as an operator would and returns its exit code and output.
import { execFile } from 'node:child_process';
import { distFile } from './proc.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [distFile('bin/xchg.js'), ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI with -o json against a central and parses stdout; fails loudly otherwise. */
export async function cliJson<T>(server: string, token: string, args: string[]): Promise<T> {
  const r = await runCli([...args, '-o', 'json'], { XCHG_SERVER: server, XCHG_TOKEN: token });
  if (r.code !== 0) throw new Error(`xchg ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
