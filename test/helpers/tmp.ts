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

/** Removes the temp dirs made so far (kept when XCHG_TEST_KEEP_TMP=1, for looking at a failure). */
export function removeTmpDirs(): void {
  if (process.env['XCHG_TEST_KEEP_TMP'] === '1') return;
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

process.once('exit', removeTmpDirs);
