// Durability of a directory's entries: the one syncDir of the agent's file writers (record file sinks and
// the files receiver), so a rename into a directory survives a power loss once it returns.

import { open } from 'node:fs/promises';

/**
 * Makes a directory's entries (a rename into it) durable: fsync of the directory. A failure is thrown, so
 * the caller's commit is not reported done before it is on disk (the stronger of the agent's two former
 * versions; the other ignored failures).
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
