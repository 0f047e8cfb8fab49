// Reliability of file transfer by breaking things: while a set of files (one large) moves in chunks, the
// provider and the consumer agents are SIGKILLed in turn at five random points of the transfer. After
// recovery every file at the destination is byte for byte the source (sha-256), none is missing or extra,
// no partial file is left, and a file written afterwards still arrives (the path is alive).
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Exchange } from '../helpers/exchange.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const POINTS = 5;
const MiB = 1024 * 1024;

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Every regular file under `dir` (relative paths), hidden ones (the partial area) left out. */
function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.')) return [];
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p, base) : [relative(base, p)];
  });
}

/** Bytes at the destination: complete files plus the partial files of transfers in progress. */
function bytesArrived(dst: string): number {
  const partial = join(dst, '.xchg-partial');
  const parts = existsSync(partial) ? readdirSync(partial).map((n) => statSync(join(partial, n)).size) : [];
  return listFiles(dst).reduce((n, f) => n + statSync(join(dst, f)).size, 0) + parts.reduce((a, b) => a + b, 0);
}

function randomFile(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  for (let i = 0; i < mb; i++) writeSync(fd, randomBytes(MiB));
  closeSync(fd);
}

describe('files faults - SIGKILL of either agent at random points of a transfer', () => {
  let x: Exchange | undefined;
  afterAll(async () => {
    await x?.stop();
  });

  it('files faults - provider and consumer killed in turn at five random points: every file arrives exactly once, identical', async () => {
    const src = tmpDir('xchg-ffault-src-');
    const dst = tmpDir('xchg-ffault-dst-');
    randomFile(join(src, 'archive.bin'), 40);
    randomFile(join(src, 'scan.pdf'), 6);
    writeFileSync(join(src, 'notice.txt'), '关于数据共享的通知\n'.repeat(5000));
    writeFileSync(join(src, 'empty.dat'), '');
    writeFileSync(join(src, 'odd.bin'), randomBytes(256 * 1024 + 1)); // one byte past a chunk
    const total = listFiles(src).reduce((n, f) => n + statSync(join(src, f)).size, 0);
    x = await Exchange.start({
      rows: 10,
      dataPlane: { fileChunkBytes: 256 * 1024, fileWindowBytes: 4 * MiB, receiptTimeoutMs: 2_000, ackWaitMs: 2_000 },
      sources: { docs: { type: 'files', dir: src, stableMs: 200 } },
      sinks: { inbox: { type: 'files', dir: dst } },
    });
    await x.subscribe('sub-docs', { source: 'docs', sink: 'inbox' }, {});

    const seg = total / (POINTS + 1);
    const log: string[] = [];
    for (let i = 0; i < POINTS; i++) {
      const point = Math.floor(seg * (i + 0.5 + Math.random() * 0.8));
      await waitFor(() => bytesArrived(dst) >= point, 120_000, 20, `${point} bytes before kill ${i + 1}`);
      const who = i % 2 === 0 ? x.provider : x.consumer;
      log.push(`${i % 2 === 0 ? 'provider' : 'consumer'} at ${bytesArrived(dst)} B`);
      await who.stop('SIGKILL');
      await who.restart();
    }

    const want = listFiles(src).sort();
    await waitFor(
      () => want.every((f) => existsSync(join(dst, f)) && statSync(join(dst, f)).size === statSync(join(src, f)).size),
      180_000,
      100,
      `every file after ${log.join(', ')}`,
    );
    expect(listFiles(dst).sort()).toEqual(want);
    for (const f of want) expect({ f, sha: sha(join(dst, f)) }).toEqual({ f, sha: sha(join(src, f)) });
    await waitFor(
      () => {
        const partial = join(dst, '.xchg-partial');
        return !existsSync(partial) || readdirSync(partial).filter((n) => n.endsWith('.part')).length === 0;
      },
      30_000,
      100,
      'no partial file left',
    );

    // The path is alive after the faults: a new file arrives too.
    writeFileSync(join(src, 'after.txt'), 'written after the faults');
    await waitFor(() => existsSync(join(dst, 'after.txt')), 60_000, 100, 'a file written after the faults');
    expect(readFileSync(join(dst, 'after.txt'), 'utf8')).toBe('written after the faults');
  });
});
