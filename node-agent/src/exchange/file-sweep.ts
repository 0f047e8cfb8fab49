// The consumer's working area of a files sink: <dir>/.xchg-partial holds parts being written
// (<file id>.part), done markers (done/<file id>: the file is complete, late duplicate chunks are
// harmless) and abandoned markers (abandoned/<file id>: chunks still in flight are refused). Leftovers are
// swept at start and hourly, so the front-end machine's disk does not fill up; a provider that comes back
// later simply resends.
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const PARTIAL = '.xchg-partial';
/** Parts not written to for this long are leftovers (a changed source file, a retired task). */
export const PARTIAL_TTL_MS = 7 * 24 * 3600_000;
/** Done markers (which make late duplicate chunks of a finished file harmless) are kept this long. */
export const DONE_MARKER_TTL_MS = 30 * 24 * 3600_000;
/** What a file id looks like (FileSpool.begin). */
export const FILE_ID = /^f-[0-9a-f]{16}$/;

/** Removes leftover parts and old done markers of a files sink; returns how many files it removed. */
export async function sweepPartials(root: string, now: number): Promise<number> {
  const partial = join(root, PARTIAL);
  let removed = 0;
  const sweep = async (dir: string, keepMs: number, match: (name: string) => boolean): Promise<void> => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!match(name)) continue;
      const p = join(dir, name);
      const st = await stat(p).catch(() => undefined);
      if (
        st?.isFile() &&
        now - st.mtimeMs > keepMs &&
        (await unlink(p).then(
          () => true,
          () => false,
        ))
      )
        removed++;
    }
  };
  await sweep(partial, PARTIAL_TTL_MS, (n) => /^f-[0-9a-f]{16}\.part$/.test(n));
  await sweep(join(partial, 'done'), DONE_MARKER_TTL_MS, (n) => FILE_ID.test(n));
  await sweep(join(partial, 'abandoned'), DONE_MARKER_TTL_MS, (n) => FILE_ID.test(n));
  return removed;
}
