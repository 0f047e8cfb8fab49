// File transfer (文件传输) of any file — text, images, video — in chunks with resume (断点续传).
//
// Provider: scans the source directory; each stable file not yet delivered is sent chunk by chunk
// within a window, each chunk with its CRC-32, the last one with the whole-file sha-256 computed while
// reading (one pass). The consumer's receipts are cumulative (it writes chunks strictly in order); the
// count of committed chunks is kept in the spool (at most every 32 chunks: a crash re-sends a few, the
// consumer skips them), so a restart resumes there, re-hashing the prefix it already sent. The file is
// read at offsets, never whole.
// Consumer: appends each chunk to <dir>/.xchg-partial/<file id>.part when its offset is the part's
// current size (earlier offsets are duplicates, later ones gaps), hashing as it writes; after the last
// chunk it checks the whole-file sha-256 and renames the part to its final name — a file appears only
// when complete.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, readSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, writeFile, access } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import type { FileSpool, FileTransfer } from '../spool/file-spool.js';
import type { RunnerContext, TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import { crc32 } from 'node:zlib';
import { encodeEnvelope, type EnvelopeData, type ReceiptData } from '../transport/envelope.js';
import { addressing, type DataPlane, type InboundHandler } from './data-plane.js';
import { checkInbound, termsOf } from '../policy/agreement.js';
import { RunCounters } from './run-counters.js';

export interface FilesBinding {
  type: 'files';
  dir: string;
  /** A file must be unchanged this long before it is sent (it may still be being written). */
  stableMs?: number;
  /** Send only for tasks carrying an agreement (有条件共享). */
  requireAgreement?: boolean;
}

export interface FileSettings {
  fileChunkBytes: number;
  pollIntervalMs: number;
  publishWindow: number;
  receiptTimeoutMs: number;
  runReportIntervalMs: number;
}

const PARTIAL = '.xchg-partial';
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
  const subject = dataPlane.subjects.data(task.peerNodeId, task.id);
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
    if (r.status === 'refused' && r.reason === 'gap') p.gap = true; // a chunk got lost: resend from the committed point
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

  const send = async (t: FileTransfer, path: string): Promise<'done' | 'changed' | 'refused'> => {
    const transport = await dataPlane.connected();
    while (!dataPlane.isReady(task.id) && !abort.signal.aborted) await sleep(200, abort.signal);
    const chunkBytes = t.chunkBytes;
    const p: Progress = { fileId: t.fileId, acked: t.ackedChunks, persisted: t.ackedChunks };
    progress = p;
    if (p.acked > 0) log.info({ file: t.relPath, fileId: t.fileId, fromChunk: p.acked, of: t.chunkCount }, 'resuming file transfer');
    // The whole-file hash is computed as chunks are read in order (a re-sent chunk is not hashed again:
    // the file is checked unchanged); only a resume after a restart hashes the prefix already sent.
    const hash = await hashPrefix(path, p.acked * chunkBytes);
    let hashedChunks = p.acked;
    const fh = await open(path, 'r');
    try {
      let next = p.acked;
      let lastProgressAt = Date.now();
      let lastAcked = p.acked;
      let attempt = 0;
      let failed: Error | undefined;
      let lastGapAt = 0;
      let readBuf: Buffer | undefined;
      const inFlight = new Set<Promise<unknown>>();
      const window = Math.max(2, settings.publishWindow * 8);
      while (p.acked < t.chunkCount && !abort.signal.aborted) {
        if (p.refused) return 'refused';
        if (failed) {
          log.warn({ err: failed.message }, 'chunk publish failed; resending from the last committed chunk');
          await Promise.allSettled([...inFlight]);
          failed = undefined;
          next = p.acked;
          attempt++;
          await sleep(500, abort.signal);
          continue;
        }
        // Keep the window full: chunks go out as receipts come back, without waiting for round trips.
        while (next < Math.min(p.acked + window, t.chunkCount) && inFlight.size < settings.publishWindow) {
          if (next === p.acked || next % 64 === 0) {
            const st = await fh.stat();
            if (st.size !== t.size || Math.trunc(st.mtimeMs) !== t.mtimeMs) return 'changed';
          }
          const offset = next * chunkBytes;
          const len = Math.min(chunkBytes, t.size - offset);
          // One read buffer per transfer: encodeEnvelope copies the bytes out, so it is free again at once.
          readBuf ??= Buffer.allocUnsafe(chunkBytes);
          const buf = readBuf.subarray(0, len);
          // Synchronous positional read: from the page cache this beats a thread-pool round trip per chunk.
          const bytesRead = readSync(fh.fd, buf, 0, len, offset);
          if (bytesRead !== len) return 'changed';
          if (next === hashedChunks) {
            hash.update(buf);
            hashedChunks++;
          }
          const last = next === t.chunkCount - 1;
          const env: EnvelopeData = {
            ...addressing(task, dataPlane.nodeId, terms.agreementId),
            batchId: `${t.fileId}-${next}`,
            sequence: next,
            recordCount: 0,
            compression: 'COMPRESSION_NONE',
            payloadKind: 'PAYLOAD_KIND_FILE_CHUNK',
            payload: buf,
            payloadSha256: Buffer.alloc(0),
            payloadCrc32: crc32(buf),
            streamEpoch: t.fileId,
            file: { fileId: t.fileId, relativePath: t.relPath, fileSize: t.size, offset, chunkIndex: next, chunkCount: t.chunkCount, fileSha256: last ? hash.copy().digest() : Buffer.alloc(0), modifiedAtMs: t.mtimeMs },
          };
          const pub: Promise<unknown> = transport.publish(subject, encodeEnvelope(env), attempt === 0 ? env.batchId : `${env.batchId}~${attempt}`).then(
            () => {
              counters.bytes += len;
              inFlight.delete(pub);
              p.wake?.();
            },
            (err: unknown) => {
              inFlight.delete(pub);
              failed = err as Error;
              p.wake?.();
            },
          );
          inFlight.add(pub);
          next++;
        }
        if (p.acked >= t.chunkCount) break;
        // Wait for a publish ack or a receipt; resend from the committed point after a stall.
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
          lastAcked = p.acked;
          lastProgressAt = Date.now();
        } else if (inFlight.size === 0 && Date.now() - lastProgressAt > settings.receiptTimeoutMs) {
          log.info({ fileId: t.fileId, fromChunk: p.acked }, 'file receipts stalled; resending from the last committed chunk');
          next = p.acked;
          attempt++;
          lastProgressAt = Date.now();
        }
      }
      await Promise.allSettled([...inFlight]);
      if (p.acked > p.persisted) files.acknowledge(t.fileId, p.acked);
      return p.acked >= t.chunkCount ? 'done' : 'changed';
    } finally {
      await fh.close();
    }
  };

  const loop = async (): Promise<void> => {
    const signal = abort.signal;
    const chunkBytes = Math.min(settings.fileChunkBytes, dataPlane.maxPayload() - 16 * 1024);
    while (!signal.aborted) {
      try {
        for (const rel of await walk(root)) {
          if (signal.aborted) break;
          const path = join(root, rel);
          const st = await stat(path);
          const mtimeMs = Math.trunc(st.mtimeMs);
          let t = files.get(task.id, rel);
          if (t && t.state === 'done' && t.size === st.size && t.mtimeMs === mtimeMs) continue;
          if (Date.now() - mtimeMs < (binding.stableMs ?? 1_000)) continue; // still being written
          if (!t || t.size !== st.size || t.mtimeMs !== mtimeMs) {
            const size = st.size;
            t = files.begin({ taskId: task.id, relPath: rel.split(sep).join('/'), size, mtimeMs, chunkBytes, chunkCount: Math.max(1, Math.ceil(size / chunkBytes)) }, Date.now());
            log.info({ file: t.relPath, bytes: size, chunks: t.chunkCount }, 'sending file');
          }
          const outcome = await send(t, path);
          if (outcome === 'done') {
            files.complete(t.fileId, Date.now());
            counters.records++;
            counters.batches += t.chunkCount;
            log.info({ file: t.relPath, bytes: t.size, chunks: t.chunkCount }, 'file delivered');
          } else if (outcome === 'refused') {
            counters.errors++;
            counters.lastError = `${t.relPath}: ${progress?.refused ?? 'refused'}`;
            log.warn({ file: t.relPath, reason: progress?.refused }, 'consumer refused the file; it will be sent again from the start');
            files.begin({ ...t }, Date.now());
            await sleep(settings.receiptTimeoutMs, signal); // a refusal (policy, checksum) is not retried at once
          } else if (!signal.aborted) log.info({ file: t.relPath }, 'source file changed while sending; it will be sent again when stable');
        }
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
  const parts = new Map<string, { path: string; fh: import('node:fs/promises').FileHandle; size: number; hash: Hash }>();
  const done = new Set<string>();

  const handler: InboundHandler = {
    lastSequence: async () => 0,
    async handle(env) {
      const f = env.file;
      if (env.payloadKind !== 'PAYLOAD_KIND_FILE_CHUNK' || !f) return { status: 'refused', written: 0, quarantined: 0, reason: 'expected a file chunk' };
      const refusal = checkInbound(terms, env.agreementId, []);
      if (refusal) {
        counters.errors++;
        counters.lastError = refusal;
        return { status: 'refused', written: 0, quarantined: 0, reason: refusal };
      }
      ready ??= mkdir(join(partial, 'done'), { recursive: true });
      await ready;
      const target = resolve(root, f.relativePath);
      if (!target.startsWith(root + sep) || !/^f-[0-9a-f]{16}$/.test(f.fileId))
        return { status: 'refused', written: 0, quarantined: 0, reason: `unsafe file name ${JSON.stringify(f.relativePath)}` };
      if (done.has(f.fileId)) return { status: 'duplicate', written: 0, quarantined: 0 };
      const doneMarker = join(partial, 'done', f.fileId);
      let open_ = parts.get(f.fileId);
      if (!open_) {
        if (await exists(doneMarker)) {
          done.add(f.fileId);
          return { status: 'duplicate', written: 0, quarantined: 0 };
        }
        const part = join(partial, `${f.fileId}.part`);
        const have = (await stat(part).catch(() => undefined))?.size ?? 0;
        // After a restart the part's bytes so far are hashed once; from then on chunks hash as they land.
        open_ = { path: part, fh: await open(part, have === 0 ? 'w' : 'r+'), size: have, hash: await hashPrefix(part, have) };
        parts.set(f.fileId, open_);
      }
      const o = open_;
      if (f.offset + env.payload.length <= o.size && f.chunkIndex < f.chunkCount - 1) return { status: 'duplicate', written: 0, quarantined: 0 };
      if (f.offset > o.size) return { status: 'refused', written: 0, quarantined: 0, reason: 'gap' };
      if (f.offset < o.size) {
        // A chunk partly written before a crash: rewrite from its start and re-hash the prefix.
        await o.fh.truncate(f.offset);
        o.size = f.offset;
        o.hash = await hashPrefix(o.path, f.offset);
      }
      writeSync(o.fh.fd, env.payload, 0, env.payload.length, f.offset);
      o.hash.update(env.payload);
      o.size = f.offset + env.payload.length;
      const part = o.path;
      if (f.chunkIndex === f.chunkCount - 1) {
        await o.fh.sync();
        await o.fh.close();
        parts.delete(f.fileId);
      }
      counters.bytes += env.payload.length;
      counters.batches++;
      if (f.chunkIndex < f.chunkCount - 1) return { status: 'committed', written: 0, quarantined: 0 };
      const sum = o.hash.digest();
      if (o.size !== f.fileSize || !sum.equals(f.fileSha256)) {
        await unlink(part).catch(() => undefined);
        counters.errors++;
        counters.lastError = `${f.relativePath}: checksum mismatch`;
        log.error({ file: f.relativePath, fileId: f.fileId }, 'file checksum mismatch; discarded, the provider sends it again');
        return { status: 'refused', written: 0, quarantined: 0, reason: 'checksum mismatch' };
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(part, target);
      await writeFile(doneMarker, `${f.relativePath}\n${f.fileSha256.toString('hex')}\n`);
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
  return {
    async stop() {
      abort.abort();
      await reporter;
      deps.dataPlane.unregisterInbound(task.subscriptionId);
      for (const o of parts.values()) await o.fh.close().catch(() => undefined);
      parts.clear();
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
