// Temporary directories removed after the test file (or at process exit).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

export function tmpDir(prefix = 'xchg-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function removeTmpDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

process.once('exit', removeTmpDirs);
