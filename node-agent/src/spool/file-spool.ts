// Resume points of file transfers (断点续传), in spool.db. The source file itself holds the bytes; a row
// records which file version is being sent (size, mtime) and how many leading chunks the consumer has
// committed. Invariant: acked_chunks only grows for a given file_id, and only on a
// receipt; a changed source file gets a new file_id and starts from chunk 0. acked_chunks is a hint (the
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
}

export class FileSpool {
  private readonly st;

  /** @param hintDb a second connection to the same file for hint writes (defaults to `db`) */
  constructor(db: Database.Database, hintDb: Database.Database = db) {
    this.st = {
      get: db.prepare('SELECT * FROM file_transfers WHERE task_id = ? AND rel_path = ?'),
      byId: db.prepare('SELECT * FROM file_transfers WHERE file_id = ?'),
      upsert: db.prepare(
        `INSERT INTO file_transfers (task_id, rel_path, size, mtime_ms, file_id, chunk_bytes, chunk_count, acked_chunks, state, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'sending', ?)
         ON CONFLICT (task_id, rel_path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, file_id = excluded.file_id,
           chunk_bytes = excluded.chunk_bytes, chunk_count = excluded.chunk_count, acked_chunks = 0,
           state = 'sending', started_at = excluded.started_at, finished_at = NULL`,
      ),
      ack: hintDb.prepare('UPDATE file_transfers SET acked_chunks = ? WHERE file_id = ? AND acked_chunks < ?'),
      done: db.prepare("UPDATE file_transfers SET state = 'done', acked_chunks = chunk_count, finished_at = ? WHERE file_id = ?"),
      pending: db.prepare("SELECT count(*) AS n FROM file_transfers WHERE task_id = ? AND state = 'sending'"),
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
    this.st.upsert.run(t.taskId, t.relPath, t.size, t.mtimeMs, fileId, t.chunkBytes, t.chunkCount, now);
    return { ...t, fileId, ackedChunks: 0, state: 'sending' };
  }

  /** Records that the consumer committed the first `chunks` chunks (never goes backwards). */
  acknowledge(fileId: string, chunks: number): void {
    this.st.ack.run(chunks, fileId, chunks);
  }

  complete(fileId: string, now: number): void {
    this.st.done.run(now, fileId);
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
});
