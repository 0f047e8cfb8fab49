// Resume points of file transfers (断点续传), in spool.db. The source file itself holds the bytes; a row
// records which file version is being sent or was delivered (its `version`: size, mtime and ctime in ns,
// inode) and how many leading chunks the consumer has committed. Invariants: acked_chunks only grows for a
// given file_id, and only on a receipt; a changed source file gets a new file_id and starts from chunk 0;
// a file_id is never resumed for another version. acked_chunks is a hint (the
// consumer's own answer governs a resume), so it is written through the spool's hint connection
// (synchronous=NORMAL): it never waits for an fsync, which on a disk busy with the file itself can take
// a tenth of a second and would stall the sender's event loop.
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

export interface FileTransfer {
  taskId: string;
  relPath: string;
  size: number;
  mtimeMs: number;
  fileId: string;
  chunkBytes: number;
  chunkCount: number;
  ackedChunks: number;
  state: 'sending' | 'done';
  /** fileVersion() of the version sent; '' in rows written before versions were recorded. */
  version: string;
}

/** The stat fields fileVersion() reads (a `fs.BigIntStats`). */
export interface VersionStats {
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
}

/**
 * Names one version of a file: "<size>:<mtime ns>:<ctime ns>:<inode>". Any write changes mtime and ctime;
 * a writer that restores the mtime (cp -p, touch -r) still changes ctime, which no one can set; a
 * replacement by rename changes the inode. The device id is left out on purpose: it can change when a
 * share is mounted again, and every file would be sent again.
 */
export const fileVersion = (st: VersionStats): string => `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;

/** Whether a transfer row is of the version `st` names (rows without a version: by size and mtime in ms). */
export function isVersion(t: FileTransfer, st: VersionStats): boolean {
  if (t.version) return t.version === fileVersion(st);
  return BigInt(t.size) === st.size && BigInt(t.mtimeMs) === st.mtimeNs / 1_000_000n;
}

/**
 * Whether a delivered file (a 'done' row) is still that version as far as its content goes: size, mtime
 * and inode — ctime left out, since chmod, chown and a new hard link change it without changing a byte
 * (measured: the bench's hard links re-sent every earlier file, halving the rate with each one). This is
 * rsync's quick check plus the inode; a rewrite that restores the mtime is caught during a transfer (by
 * ctime, see isVersion), not after delivery.
 */
export function isDeliveredVersion(t: FileTransfer, st: VersionStats): boolean {
  if (!t.version) return isVersion(t, st);
  const [size, mtime, , ino] = t.version.split(':');
  return size === String(st.size) && mtime === String(st.mtimeNs) && ino === String(st.ino);
}

export class FileSpool {
  private readonly st;

  /** @param hintDb a second connection to the same file for hint writes (defaults to `db`) */
  constructor(db: Database.Database, hintDb: Database.Database = db) {
    this.st = {
      get: db.prepare('SELECT * FROM file_transfers WHERE task_id = ? AND rel_path = ?'),
      byId: db.prepare('SELECT * FROM file_transfers WHERE file_id = ?'),
      upsert: db.prepare(
        `INSERT INTO file_transfers (task_id, rel_path, size, mtime_ms, file_id, chunk_bytes, chunk_count, acked_chunks, state, started_at, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'sending', ?, ?)
         ON CONFLICT (task_id, rel_path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, file_id = excluded.file_id,
           chunk_bytes = excluded.chunk_bytes, chunk_count = excluded.chunk_count, acked_chunks = 0, version = excluded.version,
           state = 'sending', started_at = excluded.started_at, finished_at = NULL`,
      ),
      ack: hintDb.prepare('UPDATE file_transfers SET acked_chunks = ? WHERE file_id = ? AND acked_chunks < ?'),
      done: db.prepare(
        "UPDATE file_transfers SET state = 'done', acked_chunks = chunk_count, finished_at = ? WHERE file_id = ?",
      ),
      pending: db.prepare("SELECT count(*) AS n FROM file_transfers WHERE task_id = ? AND state = 'sending'"),
      unfinished: db.prepare("SELECT * FROM file_transfers WHERE task_id = ? AND state = 'sending'"),
      forget: db.prepare('DELETE FROM file_transfers WHERE file_id = ?'),
    };
  }

  get(taskId: string, relPath: string): FileTransfer | undefined {
    const r = this.st.get.get(taskId, relPath) as Row | undefined;
    return r && toTransfer(r);
  }

  byId(fileId: string): FileTransfer | undefined {
    const r = this.st.byId.get(fileId) as Row | undefined;
    return r && toTransfer(r);
  }

  /** Starts (or restarts, for a changed file) the transfer of one file version. */
  begin(t: Omit<FileTransfer, 'fileId' | 'ackedChunks' | 'state'>, now: number): FileTransfer {
    const fileId = `f-${randomBytes(8).toString('hex')}`;
    this.st.upsert.run(t.taskId, t.relPath, t.size, t.mtimeMs, fileId, t.chunkBytes, t.chunkCount, now, t.version);
    return { ...t, fileId, ackedChunks: 0, state: 'sending' };
  }

  /** Records that the consumer committed the first `chunks` chunks (never goes backwards). */
  acknowledge(fileId: string, chunks: number): void {
    this.st.ack.run(chunks, fileId, chunks);
  }

  complete(fileId: string, now: number): void {
    this.st.done.run(now, fileId);
  }

  /**
   * Forgets a transfer that was given up (its file changed or went away mid-transfer): the next scan
   * starts whatever version is then at that path as a new transfer, and it no longer counts as pending.
   */
  forget(fileId: string): void {
    this.st.forget.run(fileId);
  }

  /** Transfers of a task not finished yet. */
  unfinished(taskId: string): FileTransfer[] {
    return (this.st.unfinished.all(taskId) as Row[]).map(toTransfer);
  }

  pendingCount(taskId: string): number {
    return (this.st.pending.get(taskId) as { n: number }).n;
  }
}

interface Row {
  task_id: string;
  rel_path: string;
  size: number;
  mtime_ms: number;
  file_id: string;
  chunk_bytes: number;
  chunk_count: number;
  acked_chunks: number;
  state: 'sending' | 'done';
  version: string;
}
const toTransfer = (r: Row): FileTransfer => ({
  taskId: r.task_id,
  relPath: r.rel_path,
  size: r.size,
  mtimeMs: r.mtime_ms,
  fileId: r.file_id,
  chunkBytes: r.chunk_bytes,
  chunkCount: r.chunk_count,
  ackedChunks: r.acked_chunks,
  state: r.state,
  version: r.version,
});
