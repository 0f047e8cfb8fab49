// File transfer publishes only consistent snapshots: a source file rewritten, deleted or renamed while it
// is sent never appears mixed or half-sent under its final name; a file still being written waits until it
// settles; and what deletions and renames at the source do at the destination (README, "Files").
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  linkSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exchange } from '../helpers/exchange.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

// The smallest chunk and window the agent accepts: 4 KiB chunks, two of them in flight.
const CHUNK = 4096;
const WINDOW = 8192;
const CHUNKS = 127;
/** Settle time of the source (stableMs): a file modified more recently than this is not started. */
const SETTLE_MS = 1_500;

const shaOf = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Log lines of a process whose msg and file match. */
function logLines(output: string, msg: string, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const l = JSON.parse(line) as Record<string, unknown>;
      if (l['msg'] === msg && l['file'] === file) out.push(l);
    } catch {
      /* not a log line */
    }
  }
  return out;
}

/**
 * Watches the destination directory while tests run: every file seen under a final name must have the
 * sha-256 of one of the versions allowed for that name (none allowed = it must never appear).
 */
class DestinationWatch {
  readonly allowed = new Map<string, Set<string>>();
  readonly seen = new Map<string, Set<string>>();
  readonly violations: string[] = [];
  private readonly last = new Map<string, string>();
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly dir: string) {
    this.loop = this.run();
  }

  allow(name: string, ...shas: string[]): void {
    this.allowed.set(name, new Set(shas));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      for (const name of readdirSync(this.dir)) {
        if (name.startsWith('.')) continue;
        const p = join(this.dir, name);
        const st = statSync(p, { throwIfNoEntry: false });
        if (!st?.isFile()) continue;
        const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
        if (this.last.get(name) === key) continue;
        this.last.set(name, key);
        const sha = shaOf(readFileSync(p));
        (this.seen.get(name) ?? this.seen.set(name, new Set()).get(name)!).add(sha);
        const ok = this.allowed.get(name);
        if (ok && !ok.has(sha)) this.violations.push(`${name}: sha-256 ${sha} is none of the versions sent`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

describe('files - consistent snapshots', () => {
  let x: Exchange;
  let watch: DestinationWatch;
  const src = tmpDir('xchg-files-snap-src-');
  const dst = tmpDir('xchg-files-snap-dst-');
  const partial = join(dst, '.xchg-partial');

  /** Sizes of the part files at the destination. */
  const parts = (): number[] =>
    existsSync(partial)
      ? readdirSync(partial)
          .filter((n) => n.endsWith('.part'))
          .map((n) => statSync(join(partial, n), { throwIfNoEntry: false })?.size ?? 0)
      : [];

  /** Waits until a part holds at least `chunks` chunks, then pauses the consumer (SIGSTOP) there. */
  async function pauseConsumerAt(chunks: number): Promise<number> {
    await waitFor(
      () => parts().some((s) => s >= chunks * CHUNK),
      60_000,
      1,
      `a part of ${chunks} chunks at the destination`,
    );
    x.consumer.proc.child.kill('SIGSTOP');
    return Math.max(...parts());
  }
  const resumeConsumer = (): void => void x.consumer.proc.child.kill('SIGCONT');

  /** Writes a file under a hidden name (ignored by the source) and renames it into place. */
  function place(name: string, body: Buffer | string): void {
    const tmp = join(src, `.${name}.writing`);
    writeFileSync(tmp, body);
    renameSync(tmp, join(src, name));
  }

  beforeAll(async () => {
    x = await Exchange.start({
      rows: 1,
      dataPlane: { fileChunkBytes: CHUNK, fileWindowBytes: WINDOW, receiptTimeoutMs: 2_000, ackWaitMs: 2_000 },
      sources: { docs: { type: 'files', dir: src, stableMs: SETTLE_MS } },
      sinks: { inbox: { type: 'files', dir: dst } },
    });
    await x.subscribe('sub-docs', { source: 'docs', sink: 'inbox' }, {});
    watch = new DestinationWatch(dst);
  });
  afterAll(async () => {
    x?.consumer.proc.child.kill('SIGCONT');
    await watch?.stop();
    await x?.stop();
  });

  it('files - a file overwritten in place after chunk 64 (same size) never appears mixed; the new version arrives whole', async () => {
    const name = 'mixed.bin';
    const before = randomBytes(CHUNKS * CHUNK);
    const after = randomBytes(CHUNKS * CHUNK);
    watch.allow(name, shaOf(before), shaOf(after));
    place(name, before);
    // The consumer is paused past chunk 64 so the overwrite lands mid-transfer, whatever the machine's speed.
    const at = await pauseConsumerAt(65);
    try {
      expect(at, 'the transfer is mid-way when the file is overwritten').toBeLessThan(CHUNKS * CHUNK);
      expect(existsSync(join(dst, name))).toBe(false);
      const fd = openSync(join(src, name), 'r+'); // in place: same inode, same size throughout
      writeSync(fd, after, 0, after.length, 0);
      closeSync(fd);
    } finally {
      resumeConsumer();
    }
    await waitFor(
      () => existsSync(join(dst, name)) && shaOf(readFileSync(join(dst, name))) === shaOf(after),
      90_000,
      50,
      'the new version',
    );
    expect(readFileSync(join(dst, name)).equals(after)).toBe(true);
    await waitFor(() => watch.seen.get(name)?.has(shaOf(after)), 10_000, 10, 'the watch to see the new version');
    expect(watch.violations).toEqual([]);
    expect(
      [...(watch.seen.get(name) ?? [])],
      'the old version never appeared either (its transfer was abandoned)',
    ).toEqual([shaOf(after)]);
    // The provider gave the first version up (not "delivered"), the consumer discarded its part. The
    // provider logs the delivery when the last receipt is back, a moment after the file is in place.
    await x.provider.proc.waitForLog((l) => l['msg'] === 'file delivered' && l['file'] === name, 30_000);
    await x.consumer.proc.waitForLog((l) => l['msg'] === 'file received' && l['file'] === name, 30_000);
    const out = x.provider.proc.output();
    expect(
      logLines(out, 'file transfer abandoned: the source file changed or went away while it was sent', name).map(
        (l) => l['reason'],
      ),
    ).toEqual(['changed']);
    expect(logLines(out, 'file delivered', name)).toHaveLength(1);
    expect(logLines(x.consumer.proc.output(), 'file received', name)).toHaveLength(1);
    await x.consumer.proc.waitForLog(
      (l) => l['msg'] === 'file transfer abandoned by the provider; part discarded' && l['file'] === name,
      30_000,
    );
    await waitFor(() => parts().length === 0, 30_000, 50, 'no part file left at the destination');
  });

  it('files - a file still being appended to is not sent until it has settled, then arrives whole', async () => {
    const name = 'growing.log';
    const p = join(src, name);
    watch.allow(name); // nothing before the writer is done
    writeFileSync(p, '');
    let maxGapMs = 0;
    let last = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      const line = `${i},登记,${'x'.repeat(200)}\n`;
      appendFileSync(p, line);
      lines.push(line);
      await new Promise((r) => setTimeout(r, 50));
      maxGapMs = Math.max(maxGapMs, Date.now() - last);
      last = Date.now();
    }
    const whole = Buffer.from(lines.join(''));
    // While it was being appended to (every ~50 ms, for 2 s) its mtime never got SETTLE_MS old.
    const startedWhileWriting = logLines(x.provider.proc.output(), 'sending file', name).length;
    watch.allow(name, shaOf(whole));
    if (maxGapMs < SETTLE_MS - 200) expect(startedWhileWriting, 'not started while being written').toBe(0);
    await waitFor(() => existsSync(join(dst, name)), 60_000, 50, 'the settled file');
    expect(readFileSync(join(dst, name)).equals(whole)).toBe(true);
    expect(logLines(x.provider.proc.output(), 'sending file', name)).toHaveLength(1);
    expect(watch.violations).toEqual([]);
  });

  it('files - a file deleted at the source while it is sent never appears at the destination; its part is discarded', async () => {
    const name = 'withdrawn.bin';
    watch.allow(name); // must never appear
    place(name, randomBytes(CHUNKS * CHUNK));
    await pauseConsumerAt(10);
    try {
      unlinkSync(join(src, name));
    } finally {
      resumeConsumer();
    }
    await x.provider.proc.waitForLog(
      (l) =>
        l['msg'] === 'file transfer abandoned: the source file changed or went away while it was sent' &&
        l['file'] === name,
      60_000,
    );
    await x.consumer.proc.waitForLog(
      (l) => l['msg'] === 'file transfer abandoned by the provider; part discarded' && l['file'] === name,
      60_000,
    );
    await waitFor(() => parts().length === 0, 30_000, 50, 'no part file left at the destination');
    // A later file goes through, so the provider has scanned again since: the deleted one is not retried.
    place('after-withdrawn.txt', 'next');
    await waitFor(() => existsSync(join(dst, 'after-withdrawn.txt')), 60_000, 50, 'the next file');
    expect(existsSync(join(dst, name))).toBe(false);
    expect(logLines(x.provider.proc.output(), 'sending file', name)).toHaveLength(1);
    expect(watch.violations).toEqual([]);
  });

  it('files - a file renamed at the source while it is sent arrives whole under its new name only', async () => {
    const body = randomBytes(CHUNKS * CHUNK);
    watch.allow('draft.bin'); // must never appear
    watch.allow('final.bin', shaOf(body));
    place('draft.bin', body);
    await pauseConsumerAt(10);
    try {
      renameSync(join(src, 'draft.bin'), join(src, 'final.bin'));
    } finally {
      resumeConsumer();
    }
    await waitFor(() => existsSync(join(dst, 'final.bin')), 60_000, 50, 'the file under its new name');
    expect(readFileSync(join(dst, 'final.bin')).equals(body)).toBe(true);
    await x.provider.proc.waitForLog(
      (l) =>
        l['msg'] === 'file transfer abandoned: the source file changed or went away while it was sent' &&
        l['file'] === 'draft.bin',
      30_000,
    );
    await waitFor(() => parts().length === 0, 30_000, 50, 'no part file left at the destination');
    expect(existsSync(join(dst, 'draft.bin'))).toBe(false);
    expect(watch.violations).toEqual([]);
  });

  it('files - a file changed after delivery is delivered again and replaces the old version whole', async () => {
    const name = 'catalog.json';
    const v1 = Buffer.from(JSON.stringify({ version: 1, items: ['营业执照'] }));
    const v2 = Buffer.from(JSON.stringify({ version: 2, items: ['营业执照', '食品经营许可证'] }));
    watch.allow(name, shaOf(v1), shaOf(v2));
    place(name, v1);
    await waitFor(() => existsSync(join(dst, name)), 60_000, 50, 'the first version');
    expect(readFileSync(join(dst, name)).equals(v1)).toBe(true);
    writeFileSync(join(src, name), v2);
    await waitFor(() => readFileSync(join(dst, name)).equals(v2), 60_000, 50, 'the second version');
    await waitFor(
      () => logLines(x.provider.proc.output(), 'file delivered', name).length === 2,
      30_000,
      50,
      'the provider to log both deliveries',
    );
    expect(watch.violations).toEqual([]);
  });

  it('files - deleting a delivered file at the source keeps it at the destination; renaming one delivers it again under the new name', async () => {
    place('notice-2026-01.txt', '关于数据共享的通知\n');
    place('old-name.txt', '证照目录\n');
    await waitFor(
      () => existsSync(join(dst, 'notice-2026-01.txt')) && existsSync(join(dst, 'old-name.txt')),
      60_000,
      50,
      'both files',
    );
    unlinkSync(join(src, 'notice-2026-01.txt'));
    renameSync(join(src, 'old-name.txt'), join(src, 'new-name.txt'));
    await waitFor(() => existsSync(join(dst, 'new-name.txt')), 60_000, 50, 'the renamed file under its new name');
    // A later file goes through, so the provider has scanned after the deletion and the rename.
    place('barrier.txt', 'b');
    await waitFor(() => existsSync(join(dst, 'barrier.txt')), 60_000, 50, 'the next file');
    expect(readFileSync(join(dst, 'notice-2026-01.txt'), 'utf8')).toBe('关于数据共享的通知\n');
    expect(readFileSync(join(dst, 'old-name.txt'), 'utf8')).toBe('证照目录\n');
    expect(readFileSync(join(dst, 'new-name.txt'), 'utf8')).toBe('证照目录\n');
    expect(logLines(x.provider.proc.output(), 'sending file', 'notice-2026-01.txt')).toHaveLength(1);
  });

  it('files - a delivered file whose metadata only changes (chmod, a new hard link) is not sent again', async () => {
    place('permit.pdf', 'permit v1');
    await waitFor(() => existsSync(join(dst, 'permit.pdf')), 60_000, 50, 'the file');
    // Both change the inode's ctime, not a byte of the content.
    chmodSync(join(src, 'permit.pdf'), 0o600);
    linkSync(join(src, 'permit.pdf'), join(src, 'permit-link.pdf'));
    await waitFor(() => existsSync(join(dst, 'permit-link.pdf')), 60_000, 50, 'the new link as a file of its own');
    place('barrier-2.txt', 'b');
    await waitFor(() => existsSync(join(dst, 'barrier-2.txt')), 60_000, 50, 'the next file');
    expect(logLines(x.provider.proc.output(), 'sending file', 'permit.pdf')).toHaveLength(1);
  });
});
