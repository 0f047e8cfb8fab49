// FileSpool on a real spool.db: which file version a transfer row names, how a changed version is told
// apart from the one sent (ctime and inode too, not only size and mtime), and forgetting an abandoned one.
import { renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSpool, fileVersion, isVersion } from '../../node-agent/src/spool/file-spool.js';
import { SqliteSpool } from '../../node-agent/src/spool/sqlite-spool.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const opened: SqliteSpool[] = [];
function fileSpool(): FileSpool {
  const s = new SqliteSpool(join(tmpDir('xchg-file-spool-'), 'spool.db'), { synchronous: 'FULL', maxReports: 1000 });
  opened.push(s);
  return new FileSpool(s.db, s.hintDb);
}
afterAll(() => {
  for (const s of opened) s.close();
});

const big = (p: string) => statSync(p, { bigint: true });

describe('file spool - versions of a source file', () => {
  it('file spool - a row names its version; a rewrite with the mtime put back, or a replacement by rename, is another version', async () => {
    const dir = tmpDir('xchg-file-version-');
    const p = join(dir, 'ledger.csv');
    writeFileSync(p, 'id,name\n1,张三\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(p, old, old);
    const files = fileSpool();
    const st = big(p);
    const t = files.begin(
      {
        taskId: 't1',
        relPath: 'ledger.csv',
        size: Number(st.size),
        mtimeMs: Number(st.mtimeNs / 1_000_000n),
        chunkBytes: 4096,
        chunkCount: 1,
        version: fileVersion(st),
      },
      1,
    );
    expect(t.version).toBe(`${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`);
    expect(files.get('t1', 'ledger.csv')).toEqual(t);
    expect(isVersion(t, big(p))).toBe(true);

    // Same size, mtime set back to what it was (cp -p, touch -r): only the ctime tells. ctime comes from the
    // kernel's coarse clock: wait until it has moved on (the settle time guarantees this for the agent).
    const probe = join(dir, '.probe');
    await waitFor(
      () => (writeFileSync(probe, 'x'), big(probe).ctimeNs > st.ctimeNs),
      5_000,
      1,
      'the file system clock to move on',
    );
    writeFileSync(p, 'id,name\n1,李四\n');
    utimesSync(p, old, old);
    const rewritten = big(p);
    expect(rewritten.size).toBe(st.size);
    expect(rewritten.mtimeNs).toBe(st.mtimeNs);
    expect(isVersion(t, rewritten)).toBe(false);

    // Replaced by rename with the same size and mtime: another inode.
    const other = join(dir, '.ledger.new');
    writeFileSync(other, 'id,name\n1,王五\n');
    utimesSync(other, old, old);
    renameSync(other, p);
    expect(isVersion(t, big(p))).toBe(false);
  });

  it('file spool - a row written before versions were recorded compares by size and mtime in ms', () => {
    const dir = tmpDir('xchg-file-legacy-');
    const p = join(dir, 'a.bin');
    writeFileSync(p, 'abc');
    const st = big(p);
    const legacy = {
      taskId: 't',
      relPath: 'a.bin',
      size: 3,
      mtimeMs: Number(st.mtimeNs / 1_000_000n),
      fileId: 'f-0000000000000001',
      chunkBytes: 4096,
      chunkCount: 1,
      ackedChunks: 0,
      state: 'done' as const,
      version: '',
    };
    expect(isVersion(legacy, st)).toBe(true);
    expect(isVersion({ ...legacy, mtimeMs: legacy.mtimeMs - 1 }, st)).toBe(false);
    expect(isVersion({ ...legacy, size: 4 }, st)).toBe(false);
  });

  it('file spool - a forgotten transfer is no longer pending, and the next begin starts a new file id', () => {
    const files = fileSpool();
    const base = {
      taskId: 't2',
      size: 10,
      mtimeMs: 5,
      chunkBytes: 4096,
      chunkCount: 1,
      version: '10:5000000:5000000:42',
    };
    const a = files.begin({ ...base, relPath: 'a.txt' }, 1);
    files.begin({ ...base, relPath: 'b.txt' }, 1);
    expect(
      files
        .unfinished('t2')
        .map((t) => t.relPath)
        .sort(),
    ).toEqual(['a.txt', 'b.txt']);
    files.forget(a.fileId);
    expect(files.get('t2', 'a.txt')).toBeUndefined();
    expect(files.pendingCount('t2')).toBe(1);
    expect(files.unfinished('t2').map((t) => t.relPath)).toEqual(['b.txt']);
    const again = files.begin({ ...base, relPath: 'a.txt' }, 2);
    expect(again.fileId).not.toBe(a.fileId);
    expect(files.get('t2', 'a.txt')?.fileId).toBe(again.fileId);
  });
});
