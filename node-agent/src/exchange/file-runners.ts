// File transfer (文件传输) of any file — text, images, video — in chunks with resume (断点续传).
//
// Provider: scans the source directory; each stable file not yet delivered is sent chunk by chunk, each
// chunk in split form (envelope in a header, raw bytes as the body) with the running sha-256 of the file
// through that chunk, the last one also with the whole-file sha-256 — all from one hashing pass. The source file is the spool: chunks go to
// the exchange center's in-memory file stream, never more than fileWindowBytes ahead of what the
// consumer has committed, and whatever the broker loses is read and sent again.
// Invariants
//  - A chunk is sent only within the window [acked, acked + window); `acked` (chunks the consumer has
//    written in order) only moves forward on a receipt, or to where the consumer says it is.
//  - Chunks are re-sent only when the consumer answers a progress question and has made no progress
//    (or reports a gap). A consumer that does not answer is offline: the chunks already in the broker
//    wait for it and nothing more is sent, so an absent consumer never piles copies up in the broker.
//  - A failed publish is retried from the first chunk that failed, under the same message id, so chunks
//    the broker did store are deduplicated instead of doubled.
//  - Committed chunks are persisted in the spool at most every 32 chunks; on a restart the consumer's own
//    answer (when it gives one) says where to resume, and the provider re-hashes the prefix once.
//  - The file is read at offsets, never whole. A chunk's buffer is reused only after its publish was
//    acknowledged (the NATS client holds a reference until the bytes are written out).
//  - Each chunk carries running_sha256 = sha-256 of bytes [0, end of chunk). The running digests of the
//    chunks not yet committed are kept, so a re-send needs no re-hashing; a re-send from further back
//    (the consumer lost its part) re-hashes the prefix once.
//  - Only a consistent snapshot is published (fault 7: a file rewritten in place mid-transfer must not
//    arrive with the old beginning and the new end). A transfer sends one version (fileVersion(): size,
//    mtime and ctime in ns, inode), fixed before its first chunk; every chunk read (re-sends too) is
//    followed by an fstat of the open file, and the last chunk also by a stat of the path (the same
//    inode must still be there), before it is published. Checking after the read is what makes it safe:
//    the kernel updates mtime/ctime before a write changes the bytes, and a file is started only once its
//    mtime is older than the settle time, so any write during the transfer leaves a different stamp. On a
//    change the transfer is abandoned (row forgotten, an `abandoned` message tells the consumer to discard
//    its part) and the new version is sent under a new file id once it has settled. The guarantee rests
//    on the file system keeping mtime/ctime current: on a network share, an attribute cache (NFS actimeo)
//    shorter than the settle time.
//  - A file is started only once its mtime is at least `stableMs` (the settle time, 2 s by default) old:
//    a file still being written is left alone until its writer is done.
// Deletions and renames at the source (what a department expects of an exchange, not of a mirror):
//  - A file deleted at the source after delivery stays at the destination: the consumer owns what it
//    received. Deleted mid-transfer, its transfer is abandoned and nothing appears at the destination.
//  - A renamed file is a new file: it is delivered under its new name; the copy under the old name stays.
//    Renamed mid-transfer, the transfer under the old name is abandoned and the file arrives under the new.
//  - A file changed after delivery is delivered again (same name: the new version replaces the old one
//    atomically at the destination).
// Consumer: appends each chunk to <dir>/.xchg-partial/<file id>.part when its offset is the part's
// current size (earlier offsets are duplicates, later ones gaps), hashing as it writes and comparing its
// running digest with the chunk's (a mismatch truncates the chunk away and asks for it again), flushing
// to disk in the background every 64 MiB (so the final fsync is short); after the last chunk it checks
// the whole-file sha-256 and renames the part to its final name — a file appears only when complete.
// Parts untouched for a week (a source file that changed mid-transfer leaves its old version's part
// behind) and done markers older than 30 days are removed at start and hourly, so the front-end
// machine's disk does not fill up with leftovers; a provider that comes back later simply resends.
// An `abandoned` message discards the part of that file id at once and leaves a marker (kept like done
// markers) so that its chunks still in flight are refused instead of starting a new part; a file already
// complete is left as it is (it is a consistent version).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, fstatSync, readSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, access, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import { fileVersion, isDeliveredVersion, isVersion, type FileSpool, type FileTransfer } from '../spool/file-spool.js';
import type { RunnerContext, TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import { encodeEnvelopeHeader, ENVELOPE_HEADER, type EnvelopeData, type ReceiptData } from '../transport/envelope.js';
import { addressing, type DataPlane, type InboundHandler } from './data-plane.js';
import { checkInbound, termsOf } from '../policy/agreement.js';
import { RunCounters } from './run-counters.js';

export interface FilesBinding {
  type: 'files';
  dir: string;
  /**
   * Settle time in ms (default 2000): a file whose mtime is younger than this is not started yet (it may
   * still be being written); a file that changes while it is sent is sent again once it has settled.
   */
  stableMs?: number;
  /** Send only for tasks carrying an agreement (有条件共享). */
  requireAgreement?: boolean;
}

export interface FileSettings {
  fileChunkBytes: number;
  fileWindowBytes: number;
  pollIntervalMs: number;
  publishWindow: number;
  receiptTimeoutMs: number;
  runReportIntervalMs: number;
}

const PARTIAL = '.xchg-partial';
/** Default settle time of a files source (FilesBinding.stableMs). */
export const DEFAULT_SETTLE_MS = 2_000;
/** Receipt reason for a chunk of a file version the provider abandoned. */
const ABANDONED = 'abandoned';
/** Receipt reason for a chunk whose running sha-256 did not match: the provider re-sends from the committed point. */
const CORRUPT_CHUNK = 'chunk checksum mismatch';
/** Parts not written to for this long are leftovers (a changed source file, a retired task). */
export const PARTIAL_TTL_MS = 7 * 24 * 3600_000;
/** Done markers (which make late duplicate chunks of a finished file harmless) are kept this long. */
export const DONE_MARKER_TTL_MS = 30 * 24 * 3600_000;

/** Removes leftover parts and old done markers of a files sink; returns how many files it removed. */
export async function sweepPartials(root: string, now: number): Promise<number> {
  const partial = join(root, PARTIAL);
  let removed = 0;
  const sweep = async (dir: string, keepMs: number, match: (name: string) => boolean): Promise<void> => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!match(name)) continue;
      const p = join(dir, name);
      const st = await stat(p).catch(() => undefined);
      if (st?.isFile() && now - st.mtimeMs > keepMs && (await unlink(p).then(() => true, () => false))) removed++;
    }
  };
  await sweep(partial, PARTIAL_TTL_MS, (n) => /^f-[0-9a-f]{16}\.part$/.test(n));
  await sweep(join(partial, 'done'), DONE_MARKER_TTL_MS, (n) => /^f-[0-9a-f]{16}$/.test(n));
  await sweep(join(partial, 'abandoned'), DONE_MARKER_TTL_MS, (n) => /^f-[0-9a-f]{16}$/.test(n));
  return removed;
}

/** The consumer flushes a part to disk in the background each time this much has been written. */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;
const ignored = (name: string): boolean => name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('.part');

async function walk(root: string, dir = root, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (ignored(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(root, p, out);
    else if (e.isFile()) out.push(relative(root, p));
  }
  return out.sort();
}

/** Feeds the first `bytes` bytes of an open file into `h` (it is the open file that the chunks are read from). */
async function hashHandle(fh: FileHandle, bytes: number, h: Hash = createHash('sha256')): Promise<Hash> {
  const buf = Buffer.allocUnsafe(Math.max(1, Math.min(bytes, 4 * 1024 * 1024)));
  for (let pos = 0; pos < bytes; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
    if (bytesRead === 0) break; // shorter than it was: the version check refuses the transfer
    h.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return h;
}

/** Feeds the first `bytes` bytes of a file into `h` (resuming an incremental hash after a restart). */
export async function hashPrefix(path: string, bytes: number, h: Hash = createHash('sha256')): Promise<Hash> {
  if (bytes <= 0) return h;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 4 * 1024 * 1024 })) h.update(chunk as Buffer);
  return h;
}

export function createFileSyncRunner(
  task: TaskAssignment,
  ctx: RunnerContext,
  deps: { dataPlane: DataPlane; files: FileSpool; binding: FilesBinding; settings: FileSettings },
): TaskRunner {
  if (!task.peerNodeId) throw new Error('file task has no destination node (peerNodeId)');
  if (!task.subscriptionId) throw new Error('file task has no subscription id');
  const terms = termsOf(task.params);
  if (deps.binding.requireAgreement && !terms.agreementId) throw new Error(`binding ${task.binding} shares only under an agreement, and this task carries none`);
  const { dataPlane, files, binding, settings } = deps;
  const root = resolve(binding.dir);
  const log: Logger = ctx.logger.child({ taskId: task.id });
  const counters = new RunCounters(task.id);
  const abort = new AbortController();
  const subject = dataPlane.subjects.files(task.peerNodeId, task.id);
  interface Progress {
    fileId: string;
    acked: number;
    persisted: number;
    gap?: boolean;
    refused?: string;
    wake?: (() => void) | undefined;
  }
  let progress: Progress | undefined;

  // Registered as an outbound stream for the readiness handshake (its chunks do not use the outbox).
  dataPlane.registerOutbound(task.id, { destinationNodeId: task.peerNodeId, subscriptionId: task.subscriptionId });
  dataPlane.registerFileReceipts(task.id, (r: ReceiptData) => {
    const p = progress;
    if (!p || r.fileId !== p.fileId) return; // a late receipt of an earlier transfer
    if (r.status === 'refused' && (r.reason === 'gap' || r.reason === CORRUPT_CHUNK)) p.gap = true; // lost or damaged: resend from the committed point
    else if (r.status === 'refused') p.refused = r.reason;
    else if (r.chunkIndex + 1 > p.acked) {
      p.acked = r.chunkIndex + 1;
      // Persisting every receipt would cost an fsync each; every 32nd (and the end) is enough.
      if (p.acked - p.persisted >= 32) {
        files.acknowledge(r.fileId, p.acked);
        p.persisted = p.acked;
      }
    }
    p.wake?.();
  });

  /** How a transfer ended: delivered, the source file changed or went away (abandoned), refused, agent stopping. */
  type Outcome = 'done' | 'changed' | 'gone' | 'refused' | 'stopped';

  const send = async (t: FileTransfer, path: string): Promise<Outcome> => {
    const transport = await dataPlane.connected();
    while (!dataPlane.isReady(task.id) && !abort.signal.aborted) await sleep(200, abort.signal);
    const chunkBytes = t.chunkBytes;
    const chunksAt = (bytes: number): number => Math.min(t.chunkCount, Math.floor(bytes / chunkBytes));
    const p: Progress = { fileId: t.fileId, acked: t.ackedChunks, persisted: t.ackedChunks };
    progress = p;
    // The consumer knows best where it is (the spool's count lags by up to 32 chunks, and a consumer
    // may have lost its part); without an answer, resume from the spool's count.
    const where = await dataPlane.fileProgress(task.id, t.fileId, 2_000);
    if (where?.known) {
      if (where.complete) {
        log.info({ file: t.relPath, fileId: t.fileId }, 'the consumer already has the whole file');
        return 'done';
      }
      p.acked = chunksAt(where.committedBytes);
    }
    const fh = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!fh) return 'gone';
    try {
      // The version this transfer sends, fixed before the first chunk; every read below is checked against it.
      const snap = await fh.stat({ bigint: true });
      if (!isVersion(t, snap)) return 'changed';
      /** Whether the path still names the open file (not deleted, renamed away or replaced). */
      const atPath = (): 'changed' | 'gone' | undefined => {
        const now = statSync(path, { bigint: true, throwIfNoEntry: false });
        if (!now) return 'gone';
        return now.ino === snap.ino && now.dev === snap.dev ? undefined : 'changed';
      };
      /** Whether the open file is still the version of `snap` (an unlink or rename changes its ctime too). */
      const changed = (): 'changed' | 'gone' | undefined => {
        const now = fstatSync(fh.fd, { bigint: true });
        if (now.size === snap.size && now.mtimeNs === snap.mtimeNs && now.ctimeNs === snap.ctimeNs) return undefined;
        return atPath() ?? 'changed';
      };
      const before = atPath();
      if (before) return before;
      if (p.acked > 0) log.info({ file: t.relPath, fileId: t.fileId, fromChunk: p.acked, of: t.chunkCount }, 'resuming file transfer');
      // The whole-file hash is computed as chunks are read in order (a re-sent chunk is not hashed again:
      // each read is checked against the version); only a resume after a restart hashes the prefix already sent.
      let hash = await hashHandle(fh, p.acked * chunkBytes);
      let hashedChunks = p.acked;
      // Running digests of chunks sent and not yet committed (index → sha-256 of the file through it).
      const digests = new Map<number, Buffer>();
      // Chunk buffers whose publish was acknowledged: the client holds no reference to them any more.
      const pool: Buffer[] = [];
      const windowChunks = Math.max(2, Math.floor(settings.fileWindowBytes / chunkBytes));
      let next = p.acked;
      let lastProgressAt = Date.now();
      let lastAcked = p.acked;
      let attempt = 0;
      let stallFactor = 1;
      let failedFrom: number | undefined;
      let failure = '';
      let lastFailureLog = 0;
      let lastGapAt = 0;
      const inFlight = new Set<Promise<unknown>>();
      while (p.acked < t.chunkCount && !abort.signal.aborted) {
        if (p.refused) return 'refused';
        if (failedFrom !== undefined) {
          // Broker down or its file stream full: retry from the first chunk that failed, same message ids.
          await Promise.allSettled([...inFlight]);
          if (Date.now() - lastFailureLog > 5_000) log.warn({ err: failure, fromChunk: failedFrom }, 'chunk publish failed; retrying');
          lastFailureLog = Date.now();
          next = Math.max(p.acked, failedFrom);
          failedFrom = undefined;
          await sleep(500, abort.signal);
          lastProgressAt = Date.now();
          continue;
        }
        // Keep the window full: chunks go out as receipts come back, without waiting for round trips.
        while (next < Math.min(p.acked + windowChunks, t.chunkCount) && inFlight.size < settings.publishWindow) {
          const index = next;
          const offset = index * chunkBytes;
          const len = Math.min(chunkBytes, t.size - offset);
          const whole = pool.pop() ?? Buffer.allocUnsafe(chunkBytes);
          const buf = whole.subarray(0, len);
          // Synchronous positional read: from the page cache this beats a thread-pool round trip per chunk.
          const bytesRead = readSync(fh.fd, buf, 0, len, offset);
          const last = index === t.chunkCount - 1;
          // After the read, never before: bytes a writer changed come with a new mtime/ctime. The last
          // chunk also checks the path, so what completes the file is the version still under its name.
          const change = bytesRead !== len ? 'changed' : (changed() ?? (last ? atPath() : undefined));
          if (change) {
            pool.push(whole);
            return change;
          }
          if (index < hashedChunks && !digests.has(index)) {
            // Sent from further back than the digests kept: hash the prefix again, once.
            hash = await hashHandle(fh, offset);
            hashedChunks = index;
            digests.clear();
          }
          if (index === hashedChunks) {
            hash.update(buf);
            hashedChunks++;
            digests.set(index, hash.copy().digest());
          }
          const running = digests.get(index)!;
          const env: Omit<EnvelopeData, 'payload'> = {
            ...addressing(task, dataPlane.nodeId, terms.agreementId),
            batchId: `${t.fileId}-${index}`,
            sequence: index,
            recordCount: 0,
            compression: 'COMPRESSION_NONE',
            payloadKind: 'PAYLOAD_KIND_FILE_CHUNK',
            payloadSha256: Buffer.alloc(0),
            streamEpoch: t.fileId,
            file: {
              fileId: t.fileId,
              relativePath: t.relPath,
              fileSize: t.size,
              offset,
              chunkIndex: index,
              chunkCount: t.chunkCount,
              fileSha256: last ? running : Buffer.alloc(0),
              modifiedAtMs: t.mtimeMs,
              runningSha256: running,
            },
          };
          const msgId = attempt === 0 ? env.batchId : `${env.batchId}~${attempt}`;
          const pub: Promise<unknown> = transport.publish(subject, buf, msgId, { [ENVELOPE_HEADER]: encodeEnvelopeHeader(env) }).then(
            () => {
              counters.bytes += len;
              inFlight.delete(pub);
              pool.push(whole);
              p.wake?.();
            },
            (err: unknown) => {
              // Not pooled: a client that never sent it may still hold the buffer.
              inFlight.delete(pub);
              failedFrom = Math.min(failedFrom ?? index, index);
              failure = (err as Error).message;
              p.wake?.();
            },
          );
          inFlight.add(pub);
          next++;
        }
        if (p.acked >= t.chunkCount) break;
        // Wait for a publish ack or a receipt.
        await new Promise<void>((r) => {
          const timer = setTimeout(r, 200);
          p.wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        p.wake = undefined;
        if (p.gap && Date.now() - lastGapAt > 1_000) {
          // The consumer dropped an out-of-order chunk (one before it was lost): go back to its point.
          p.gap = false;
          lastGapAt = Date.now();
          await Promise.allSettled([...inFlight]);
          next = p.acked;
          attempt++;
          continue;
        }
        if (p.acked > lastAcked) {
          for (let i = lastAcked; i < p.acked; i++) digests.delete(i);
          lastAcked = p.acked;
          lastProgressAt = Date.now();
          stallFactor = 1;
        } else if (inFlight.size === 0 && failedFrom === undefined && Date.now() - lastProgressAt > settings.receiptTimeoutMs * stallFactor) {
          lastProgressAt = Date.now();
          const a = await dataPlane.fileProgress(task.id, t.fileId, Math.min(5_000, settings.receiptTimeoutMs));
          if (!a?.known) {
            // Offline, or without its exchange task: the chunks in the broker wait for it; send no copies.
            stallFactor = Math.min(16, stallFactor * 2);
            log.info({ fileId: t.fileId, atChunk: p.acked, reason: a?.reason || 'no answer' }, 'file receipts stalled and the consumer does not answer; waiting');
            continue;
          }
          if (a.complete) {
            p.acked = t.chunkCount;
            break;
          }
          const at = chunksAt(a.committedBytes);
          if (at > p.acked) {
            log.info({ fileId: t.fileId, atChunk: at }, 'file receipts stalled but the consumer made progress; receipts were lost, not chunks');
            p.acked = at;
            continue;
          }
          log.info({ fileId: t.fileId, fromChunk: at }, 'file receipts stalled and the consumer made no progress; resending from its committed point');
          p.acked = at;
          next = at;
          attempt++;
          stallFactor = Math.min(16, stallFactor * 2);
        }
      }
      await Promise.allSettled([...inFlight]);
      if (p.acked > p.persisted) files.acknowledge(t.fileId, p.acked);
      return p.acked >= t.chunkCount ? 'done' : 'stopped';
    } finally {
      await fh.close();
    }
  };

  /**
   * Gives a transfer up: its file changed or went away while it was sent (or while the agent was down).
   * The row is forgotten, so the next scan starts whatever is then at that path as a new transfer, and the
   * consumer is told to discard its part. Best effort: if the message does not get through, the consumer's
   * sweep removes the part, and the part can never be completed (its last chunk is never sent).
   */
  const abandon = async (t: FileTransfer, reason: 'changed' | 'gone'): Promise<void> => {
    files.forget(t.fileId);
    log.info({ file: t.relPath, fileId: t.fileId, reason }, 'file transfer abandoned: the source file changed or went away while it was sent');
    const env: Omit<EnvelopeData, 'payload'> = {
      ...addressing(task, dataPlane.nodeId, terms.agreementId),
      batchId: `${t.fileId}-abandoned`,
      sequence: t.chunkCount,
      recordCount: 0,
      compression: 'COMPRESSION_NONE',
      payloadKind: 'PAYLOAD_KIND_FILE_CHUNK',
      payloadSha256: Buffer.alloc(0),
      streamEpoch: t.fileId,
      file: {
        fileId: t.fileId,
        relativePath: t.relPath,
        fileSize: t.size,
        offset: 0,
        chunkIndex: t.chunkCount,
        chunkCount: t.chunkCount,
        fileSha256: Buffer.alloc(0),
        modifiedAtMs: t.mtimeMs,
        runningSha256: Buffer.alloc(32), // unused; the data plane expects a digest's length on file messages
        abandoned: true,
      },
    };
    try {
      const transport = await dataPlane.connected();
      await transport.publish(subject, Buffer.alloc(0), env.batchId, { [ENVELOPE_HEADER]: encodeEnvelopeHeader(env) });
    } catch (err) {
      log.warn({ file: t.relPath, fileId: t.fileId, err: (err as Error).message }, 'could not tell the consumer a file transfer was abandoned; its sweep removes the part');
    }
  };

  const loop = async (): Promise<void> => {
    const signal = abort.signal;
    const chunkBytes = Math.min(settings.fileChunkBytes, dataPlane.maxPayload() - 16 * 1024);
    const settleMs = binding.stableMs ?? DEFAULT_SETTLE_MS;
    while (!signal.aborted) {
      try {
        const present = new Set<string>();
        for (const rel of await walk(root)) {
          if (signal.aborted) break;
          const relPath = rel.split(sep).join('/');
          present.add(relPath);
          const path = join(root, rel);
          const st = await stat(path, { bigint: true }).catch(() => undefined);
          if (!st) continue; // gone since the walk
          let t = files.get(task.id, relPath);
          if (t && t.state === 'done' && isDeliveredVersion(t, st)) continue;
          const mtimeMs = Number(st.mtimeNs / 1_000_000n);
          if (Date.now() - mtimeMs < settleMs) continue; // still being written: not before it has settled
          if (!t || !isVersion(t, st)) {
            // A version whose transfer never finished (it changed while the agent was not sending it).
            if (t?.state === 'sending') await abandon(t, 'changed');
            const size = Number(st.size);
            t = files.begin({ taskId: task.id, relPath, size, mtimeMs, chunkBytes, chunkCount: Math.max(1, Math.ceil(size / chunkBytes)), version: fileVersion(st) }, Date.now());
            log.info({ file: t.relPath, bytes: size, chunks: t.chunkCount }, 'sending file');
          }
          const outcome = await send(t, path);
          const refusal = progress?.refused ?? 'refused';
          progress = undefined; // late receipts of this transfer are ignored from now on
          if (outcome === 'stopped') break;
          if (outcome === 'done') {
            files.complete(t.fileId, Date.now());
            counters.records++;
            counters.batches += t.chunkCount;
            log.info({ file: t.relPath, bytes: t.size, chunks: t.chunkCount }, 'file delivered');
          } else if (outcome === 'refused') {
            counters.errors++;
            counters.lastError = `${t.relPath}: ${refusal}`;
            log.warn({ file: t.relPath, reason: refusal }, 'consumer refused the file; it will be sent again from the start');
            files.begin({ ...t }, Date.now());
            await sleep(settings.receiptTimeoutMs, signal); // a refusal (policy, checksum) is not retried at once
          } else await abandon(t, outcome); // the new version, if any, goes once it has settled
        }
        // Transfers of files that went away before they were finished (deleted while the agent was down).
        if (!signal.aborted) for (const t of files.unfinished(task.id)) if (!present.has(t.relPath)) await abandon(t, 'gone');
      } catch (err) {
        counters.errors++;
        counters.lastError = (err as Error).message;
        log.warn({ err: (err as Error).message }, 'file scan failed; retrying');
      }
      await sleep(task.intervalMs || settings.pollIntervalMs, signal);
    }
  };

  const report = (): void => {
    const body = counters.take(0);
    if (body) ctx.report('task_run', body);
  };
  const reporter = (async () => {
    while (await sleep(settings.runReportIntervalMs, abort.signal)) report();
  })();
  const running = loop();
  return {
    lag: () => ({ lagMs: 0, pendingBatches: files.pendingCount(task.id) }),
    async stop(graceMs: number) {
      abort.abort();
      progress?.wake?.();
      await Promise.race([Promise.all([running, reporter]), sleep(graceMs)]);
      report();
      dataPlane.unregisterFileReceipts(task.id);
      dataPlane.unregisterOutbound(task.id);
    },
  };
}

/** Consumer side of file transfer: writes chunks in order under a temporary name, renames when whole. */
export function createFileExchangeRunner(task: TaskAssignment, ctx: RunnerContext, deps: { dataPlane: DataPlane; binding: FilesBinding; runReportIntervalMs: number }): TaskRunner {
  if (!task.subscriptionId) throw new Error('file task has no subscription id');
  const root = resolve(deps.binding.dir);
  const partial = join(root, PARTIAL);
  const terms = termsOf(task.params);
  const log = ctx.logger.child({ taskId: task.id });
  const counters = new RunCounters(task.id);
  const abort = new AbortController();
  let ready: Promise<unknown> | undefined;
  // Open part files by file id (chunks of one file arrive back to back) and files known complete.
  interface Part {
    path: string;
    fh: FileHandle;
    size: number;
    hash: Hash;
    unsynced: number;
    syncing?: Promise<void> | undefined;
  }
  const parts = new Map<string, Part>();
  const done = new Set<string>();
  // File ids the provider abandoned (their source changed or went away mid-transfer): chunks refused.
  const abandoned = new Set<string>();
  const doneMarker = (fileId: string): string => join(partial, 'done', fileId);
  const abandonedMarker = (fileId: string): string => join(partial, 'abandoned', fileId);
  const closePart = async (fileId: string): Promise<void> => {
    const o = parts.get(fileId);
    if (!o) return;
    parts.delete(fileId);
    await o.syncing;
    await o.fh.close().catch(() => undefined);
  };

  const handler: InboundHandler = {
    lastSequence: async () => 0,
    async fileProgress(fileId) {
      if (!/^f-[0-9a-f]{16}$/.test(fileId)) return { committedBytes: 0, complete: false };
      const o = parts.get(fileId);
      if (o) return { committedBytes: o.size, complete: false };
      const marker = await readFile(doneMarker(fileId), 'utf8').catch(() => undefined);
      if (marker !== undefined) return { committedBytes: Number(marker.split('\n')[2] ?? 0), complete: true };
      return { committedBytes: (await stat(join(partial, `${fileId}.part`)).catch(() => undefined))?.size ?? 0, complete: false };
    },
    async handle(env) {
      const f = env.file;
      if (env.payloadKind !== 'PAYLOAD_KIND_FILE_CHUNK' || !f) return { status: 'refused', written: 0, quarantined: 0, reason: 'expected a file chunk' };
      const refusal = checkInbound(terms, env.agreementId, []);
      if (refusal) {
        counters.errors++;
        counters.lastError = refusal;
        return { status: 'refused', written: 0, quarantined: 0, reason: refusal };
      }
      ready ??= Promise.all([mkdir(join(partial, 'done'), { recursive: true }), mkdir(join(partial, 'abandoned'), { recursive: true })]);
      await ready;
      const target = resolve(root, f.relativePath);
      if (!target.startsWith(root + sep) || !/^f-[0-9a-f]{16}$/.test(f.fileId))
        return { status: 'refused', written: 0, quarantined: 0, reason: `unsafe file name ${JSON.stringify(f.relativePath)}` };
      if (done.has(f.fileId)) return { status: 'duplicate', written: 0, quarantined: 0 };
      if (f.abandoned) {
        // A file already complete stays (it is a consistent version); otherwise its part goes.
        if (await exists(doneMarker(f.fileId))) return { status: 'duplicate', written: 0, quarantined: 0 };
        await closePart(f.fileId);
        const discarded = await unlink(join(partial, `${f.fileId}.part`)).then(() => true, () => false);
        await writeFile(abandonedMarker(f.fileId), `${f.relativePath}\n`);
        abandoned.add(f.fileId);
        log.info({ file: f.relativePath, fileId: f.fileId, discarded }, 'file transfer abandoned by the provider; part discarded');
        return { status: 'committed', written: 0, quarantined: 0 };
      }
      if (abandoned.has(f.fileId)) return { status: 'refused', written: 0, quarantined: 0, reason: ABANDONED };
      let open_ = parts.get(f.fileId);
      if (!open_) {
        if (await exists(doneMarker(f.fileId))) {
          done.add(f.fileId);
          return { status: 'duplicate', written: 0, quarantined: 0 };
        }
        if (await exists(abandonedMarker(f.fileId))) {
          abandoned.add(f.fileId);
          return { status: 'refused', written: 0, quarantined: 0, reason: ABANDONED };
        }
        const part = join(partial, `${f.fileId}.part`);
        const have = (await stat(part).catch(() => undefined))?.size ?? 0;
        // After a restart the part's bytes so far are hashed once; from then on chunks hash as they land.
        open_ = { path: part, fh: await open(part, have === 0 ? 'w' : 'r+'), size: have, hash: await hashPrefix(part, have), unsynced: 0 };
        parts.set(f.fileId, open_);
      }
      const o = open_;
      const len = env.payload.length;
      if (f.offset + len <= o.size && f.chunkIndex < f.chunkCount - 1) return { status: 'duplicate', written: 0, quarantined: 0 };
      if (f.offset > o.size) return { status: 'refused', written: 0, quarantined: 0, reason: 'gap' };
      try {
        if (f.offset < o.size) {
          // A chunk partly written before a crash: rewrite from its start and re-hash the prefix.
          await o.syncing;
          await o.fh.truncate(f.offset);
          o.size = f.offset;
          o.hash = await hashPrefix(o.path, f.offset);
        }
        // The write runs on the thread pool while this thread hashes the same (read-only) bytes.
        const before = o.hash.copy();
        const writing = o.fh.write(env.payload, 0, len, f.offset);
        o.hash.update(env.payload);
        const intact = o.hash.copy().digest().equals(f.runningSha256);
        const { bytesWritten } = await writing;
        if (bytesWritten !== len) throw new Error(`short write: ${bytesWritten} of ${len} bytes`);
        if (!intact) {
          // Damaged on the way (or sent from a different file version): take it back, ask for it again.
          await o.fh.truncate(f.offset);
          o.hash = before;
          counters.errors++;
          counters.lastError = `${f.relativePath}: chunk ${f.chunkIndex} failed its checksum`;
          log.warn({ file: f.relativePath, fileId: f.fileId, chunk: f.chunkIndex }, 'file chunk failed its checksum; asked again');
          return { status: 'refused', written: 0, quarantined: 0, reason: CORRUPT_CHUNK };
        }
      } catch (err) {
        // The hash may be ahead of the bytes on disk: forget the part; the redelivery re-reads it.
        await closePart(f.fileId);
        throw err;
      }
      o.size = f.offset + len;
      o.unsynced += len;
      if (o.unsynced >= SYNC_EVERY_BYTES && !o.syncing) {
        // Background flush: keeps the dirty tail short, so the fsync before the rename is quick.
        o.unsynced = 0;
        o.syncing = o.fh
          .datasync()
          .catch(() => undefined)
          .finally(() => {
            o.syncing = undefined;
          });
      }
      counters.bytes += len;
      counters.batches++;
      if (f.chunkIndex < f.chunkCount - 1) return { status: 'committed', written: 0, quarantined: 0 };
      await o.syncing;
      await o.fh.sync();
      await closePart(f.fileId);
      const sum = o.hash.digest();
      if (o.size !== f.fileSize || !sum.equals(f.fileSha256)) {
        await unlink(o.path).catch(() => undefined);
        counters.errors++;
        counters.lastError = `${f.relativePath}: checksum mismatch`;
        log.error({ file: f.relativePath, fileId: f.fileId }, 'file checksum mismatch; discarded, the provider sends it again');
        return { status: 'refused', written: 0, quarantined: 0, reason: 'checksum mismatch' };
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(o.path, target);
      await writeFile(doneMarker(f.fileId), `${f.relativePath}\n${f.fileSha256.toString('hex')}\n${f.fileSize}\n`);
      done.add(f.fileId);
      await syncDir(dirname(target));
      counters.records++;
      log.info({ file: f.relativePath, bytes: f.fileSize }, 'file received');
      return { status: 'committed', written: 1, quarantined: 0 };
    },
  };
  deps.dataPlane.registerInbound(task.subscriptionId, handler);

  const report = (): void => {
    const body = counters.take(0);
    if (body) ctx.report('task_run', body);
  };
  const reporter = (async () => {
    while (await sleep(deps.runReportIntervalMs, abort.signal)) report();
  })();
  const sweeper = (async () => {
    do {
      const removed = await sweepPartials(root, Date.now()).catch(() => 0);
      if (removed) log.info({ removed }, 'removed leftover partial files');
    } while (await sleep(3600_000, abort.signal));
  })();
  return {
    async stop() {
      abort.abort();
      await Promise.all([reporter, sweeper]);
      deps.dataPlane.unregisterInbound(task.subscriptionId);
      for (const id of [...parts.keys()]) await closePart(id);
      report();
    },
  };
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
