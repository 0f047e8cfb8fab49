// Leftovers of a files sink: parts of transfers that will never finish (the source changed, the task was
// retired) and old done markers are removed; everything else in the sink stays.
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DONE_MARKER_TTL_MS, PARTIAL_TTL_MS, sweepPartials } from '../../node-agent/src/exchange/file-sweep.js';
import { tmpDir } from '../helpers/tmp.js';

describe('files sink - sweep of leftovers', () => {
  it('files sink - removes parts idle past their TTL and old done markers, and nothing else', async () => {
    const root = tmpDir('xchg-sweep-');
    const partial = join(root, '.xchg-partial');
    mkdirSync(join(partial, 'done'), { recursive: true });
    mkdirSync(join(partial, 'abandoned'), { recursive: true });
    const now = Date.now();
    const aged = (path: string, ageMs: number, body = 'x'): string => {
      writeFileSync(path, body);
      const t = new Date(now - ageMs);
      utimesSync(path, t, t);
      return path;
    };
    const day = 24 * 3600_000;
    const stalePart = aged(join(partial, 'f-00000000000000a1.part'), PARTIAL_TTL_MS + day);
    const livePart = aged(join(partial, 'f-00000000000000a2.part'), PARTIAL_TTL_MS - day);
    const oldMarker = aged(join(partial, 'done', 'f-00000000000000b1'), DONE_MARKER_TTL_MS + day);
    const newMarker = aged(join(partial, 'done', 'f-00000000000000b2'), PARTIAL_TTL_MS + day);
    // Markers of transfers the provider abandoned are kept as long as done markers.
    const oldAbandoned = aged(join(partial, 'abandoned', 'f-00000000000000c1'), DONE_MARKER_TTL_MS + day);
    const newAbandoned = aged(join(partial, 'abandoned', 'f-00000000000000c2'), PARTIAL_TTL_MS + day);
    const foreign = aged(join(partial, 'notes.txt'), DONE_MARKER_TTL_MS + day);
    const delivered = aged(join(root, 'old-report.pdf'), DONE_MARKER_TTL_MS + day);

    expect(await sweepPartials(root, now)).toBe(3);
    expect(existsSync(stalePart)).toBe(false);
    expect(existsSync(oldMarker)).toBe(false);
    expect(existsSync(oldAbandoned)).toBe(false);
    for (const kept of [livePart, newMarker, newAbandoned, foreign, delivered])
      expect(existsSync(kept), kept).toBe(true);
    expect(await sweepPartials(root, now), 'a second sweep finds nothing more').toBe(0);
  });

  it('files sink - a sink without a partial directory is fine', async () => {
    expect(await sweepPartials(tmpDir('xchg-sweep-empty-'), Date.now())).toBe(0);
  });
});
