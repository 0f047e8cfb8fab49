// File transfer end to end: any file (text, binary, empty, nested), chunked through JetStream, appearing
// at the destination only when complete and checked by sha-256; interrupted transfers resume.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exchange } from '../helpers/exchange.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Writes a file of `mb` MiB of pseudo-random bytes without holding it all in memory. */
function bigFile(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < mb; i++) {
    block[0] = i & 0xff;
    writeSync(fd, block);
  }
  closeSync(fd);
}

describe('files - chunked transfer with resume', () => {
  let x: Exchange;
  const src = tmpDir('xchg-files-src-');
  const dst = tmpDir('xchg-files-dst-');

  beforeAll(async () => {
    mkdirSync(join(src, '证照', '2026'), { recursive: true });
    writeFileSync(join(src, 'readme.txt'), '政务数据共享交换平台\n'.repeat(1000));
    writeFileSync(join(src, 'empty.dat'), '');
    writeFileSync(join(src, '证照', '2026', 'photo.jpg'), randomBytes(3 * 1024 * 1024 + 17));
    writeFileSync(join(src, '.hidden'), 'never sent');
    writeFileSync(join(src, 'upload.tmp'), 'incomplete, never sent');
    x = await Exchange.start({
      rows: 10,
      dataPlane: { fileChunkBytes: 256 * 1024, receiptTimeoutMs: 2_000, ackWaitMs: 2_000 },
      sources: { docs: { type: 'files', dir: src, stableMs: 200 } },
      sinks: { inbox: { type: 'files', dir: dst } },
    });
    await x.subscribe('sub-docs', { source: 'docs', sink: 'inbox' }, {});
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('files - text, binary, empty and nested files arrive identical; hidden and temporary files stay', async () => {
    const want = ['readme.txt', 'empty.dat', join('证照', '2026', 'photo.jpg')];
    await waitFor(() => want.every((f) => existsSync(join(dst, f))), 30_000, 100, 'files at the destination');
    for (const f of want) expect(sha(join(dst, f))).toBe(sha(join(src, f)));
    expect(existsSync(join(dst, '.hidden'))).toBe(false);
    expect(existsSync(join(dst, 'upload.tmp'))).toBe(false);
    const visible = readdirSync(dst).filter((n) => !n.startsWith('.'));
    expect(visible.sort()).toEqual(['empty.dat', 'readme.txt', '证照'].sort());
  });

  it('files - a 64 MiB transfer interrupted at 50 % resumes from the last committed chunk and its checksum matches', async () => {
    const name = 'video.mp4';
    const tmp = join(src, '.video.part');
    bigFile(tmp, 64);
    const { renameSync } = await import('node:fs');
    renameSync(tmp, join(src, name));
    const partial = join(dst, '.xchg-partial');
    const half = 32 * 1024 * 1024;
    await waitFor(() => readdirSync(partial).some((n) => n.endsWith('.part') && statSync(join(partial, n)).size >= half), 60_000, 20, 'half of the file at the destination');
    await x.provider.stop('SIGKILL');
    expect(existsSync(join(dst, name))).toBe(false); // never visible before it is complete
    await x.provider.restart();
    await waitFor(() => existsSync(join(dst, name)), 60_000, 100, 'the whole file');
    expect(sha(join(dst, name))).toBe(sha(join(src, name)));
    const resumed = /"fromChunk":(\d+)/.exec(x.provider.proc.output());
    expect(resumed, 'the restarted provider logs where it resumed').not.toBeNull();
    expect(Number(resumed![1])).toBeGreaterThan(0);
  });

  it('files - a source file truncated while being sent arrives whole in its new version, never mixed', async () => {
    const name = 'ledger.csv';
    const p = join(src, name);
    bigFile(p, 24);
    const partial = join(dst, '.xchg-partial');
    await waitFor(() => readdirSync(partial).some((n) => n.endsWith('.part') && statSync(join(partial, n)).size > 1024 * 1024), 60_000, 10, 'transfer under way').catch(() => undefined);
    writeFileSync(p, 'id,name\n1,张三\n'); // truncated and rewritten mid-transfer
    await waitFor(() => existsSync(join(dst, name)) && sha(join(dst, name)) === sha(p), 60_000, 200, 'the new version');
    expect(readFileSync(join(dst, name), 'utf8')).toBe('id,name\n1,张三\n');
  });
});

