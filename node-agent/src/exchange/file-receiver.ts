// File transfer, consumer side (文件接收): writes chunks in order under a temporary name, renames when whole.
//
// Each chunk is appended to <dir>/.xchg-partial/<file id>.part when its offset is the part's current size
// (earlier offsets are duplicates, later ones gaps), hashing as it writes and comparing the running digest
// with the chunk's (a mismatch truncates the chunk away and asks for it again); the part is flushed to
// disk in the background every 64 MiB (so the final fsync is short). After the last chunk the whole-file
// sha-256 is checked and the part renamed to its final name: a file appears only when complete.
// Invariants
//  - A part's size and hash always describe the same bytes; when a write fails midway the part is
//    forgotten (closed) and re-read on the redelivery.
//  - An `abandoned` message discards the part of that file id at once and leaves a marker, so that its
//    chunks still in flight are refused instead of starting a new part; a file already complete is left
//    as it is (it is a consistent version).
//  - A file name never leaves the sink's directory (unsafe names are refused).
import type { Hash } from 'node:crypto';
import { access, mkdir, open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { sleep } from '../backoff.js';
import { checkInbound, termsOf, type AgreementTerms } from '../policy/agreement.js';
import type { TaskAssignment, TaskRunner } from '../tasks/supervisor.js';
import type { EnvelopeData, FileChunkInfo } from '../transport/envelope.js';
import type { DataPlane } from './data-plane.js';
import { hashPrefix } from './file-hash.js';
import { syncDir } from '../connectors/files/durable.js';
import { FILE_ID, PARTIAL, sweepPartials } from './file-sweep.js';
import type { FilesBinding } from './file-sync-runner.js';
import type { Applied, InboundHandler } from './inbound.js';
import { CORRUPT_CHUNK } from './receipts.js';
import { RunnerKit, type DataPathContext } from './runner-kit.js';
import type { TrafficMeter } from './traffic-meter.js';

/** Receipt reason for a chunk of a file version the provider abandoned. */
const ABANDONED = 'abandoned';
/** The consumer flushes a part to disk in the background each time this much has been written. */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

const refused = (reason: string): Applied => ({ status: 'refused', written: 0, quarantined: 0, reason });
const DUPLICATE: Applied = { status: 'duplicate', written: 0, quarantined: 0 };
const COMMITTED: Applied = { status: 'committed', written: 0, quarantined: 0 };

/** A part being written: its open file, size and the hash of its bytes so far. */
interface Part {
  path: string;
  fh: FileHandle;
  size: number;
  hash: Hash;
  unsynced: number;
  syncing?: Promise<void> | undefined;
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

class FileReceiver implements InboundHandler {
  private readonly partial: string;
  private ready: Promise<unknown> | undefined;
  /** Open parts by file id (chunks of one file arrive back to back). */
  private readonly parts = new Map<string, Part>();
  /** Files known complete, and file ids the provider abandoned (their chunks are refused). */
  private readonly done = new Set<string>();
  private readonly abandoned = new Set<string>();

  constructor(
    private readonly root: string,
    /** The node the files come from (the task's provider); undefined: any. */
    private readonly provider: string | undefined,
    private readonly terms: AgreementTerms,
    private readonly kit: RunnerKit,
    /** The node's traffic meter: a chunk is a batch (its bytes), a file received whole a record. */
    private readonly traffic?: TrafficMeter,
  ) {
    this.partial = join(root, PARTIAL);
  }

  private doneMarker = (fileId: string): string => join(this.partial, 'done', fileId);
  private abandonedMarker = (fileId: string): string => join(this.partial, 'abandoned', fileId);
  private partPath = (fileId: string): string => join(this.partial, `${fileId}.part`);

  lastSequence(): Promise<number> {
    return Promise.resolve(0);
  }

  /** Only the flow's provider sends its files (a file flow is never spread). */
  acceptsFrom(nodeId: string): boolean {
    return this.provider === undefined || nodeId === this.provider;
  }

  async fileProgress(fileId: string): Promise<{ committedBytes: number; complete: boolean }> {
    if (!FILE_ID.test(fileId)) return { committedBytes: 0, complete: false };
    const o = this.parts.get(fileId);
    if (o) return { committedBytes: o.size, complete: false };
    const marker = await readFile(this.doneMarker(fileId), 'utf8').catch(() => undefined);
    if (marker !== undefined) return { committedBytes: Number(marker.split('\n')[2] ?? 0), complete: true };
    return { committedBytes: (await stat(this.partPath(fileId)).catch(() => undefined))?.size ?? 0, complete: false };
  }

  async handle(env: EnvelopeData): Promise<Applied> {
    const f = env.file;
    if (env.payloadKind !== 'PAYLOAD_KIND_FILE_CHUNK' || !f) return refused('expected a file chunk');
    const refusal = checkInbound(this.terms, env.agreementId, []);
    if (refusal) {
      this.kit.failed(refusal);
      return refused(refusal);
    }
    this.ready ??= Promise.all([
      mkdir(join(this.partial, 'done'), { recursive: true }),
      mkdir(join(this.partial, 'abandoned'), { recursive: true }),
    ]);
    await this.ready;
    const target = resolve(this.root, f.relativePath);
    if (!target.startsWith(this.root + sep) || !FILE_ID.test(f.fileId))
      return refused(`unsafe file name ${JSON.stringify(f.relativePath)}`);
    if (this.done.has(f.fileId)) return DUPLICATE;
    if (f.abandoned) return this.discard(f);
    if (this.abandoned.has(f.fileId)) return refused(ABANDONED);
    const part = this.parts.get(f.fileId) ?? (await this.openPart(f));
    if (!('fh' in part)) return part;
    const len = env.payload.length;
    if (f.offset + len <= part.size && f.chunkIndex < f.chunkCount - 1) return DUPLICATE;
    if (f.offset > part.size) return refused('gap');
    const bad = await this.write(part, f, env.payload);
    if (bad) return bad;
    this.kit.counters.bytes += len;
    this.kit.counters.batches++;
    const chunk = { bytes: len, createdAtMs: env.createdAtMs };
    if (f.chunkIndex < f.chunkCount - 1) {
      this.traffic?.committed(env.sourceNodeId, env.resourceCode, { ...chunk, records: 0, errors: 0 });
      return COMMITTED;
    }
    const done = await this.finish(part, f, target);
    const records = done.status === 'committed' ? 1 : 0;
    const errors = done.status === 'refused' ? 1 : 0;
    this.traffic?.committed(env.sourceNodeId, env.resourceCode, { ...chunk, records, errors });
    return done;
  }

  /** The provider gave this file version up: a file already complete stays; otherwise its part goes. */
  private async discard(f: FileChunkInfo): Promise<Applied> {
    if (await exists(this.doneMarker(f.fileId))) return DUPLICATE;
    await this.closePart(f.fileId);
    const discarded = await unlink(this.partPath(f.fileId)).then(
      () => true,
      () => false,
    );
    await writeFile(this.abandonedMarker(f.fileId), `${f.relativePath}\n`);
    this.abandoned.add(f.fileId);
    this.kit.log.info(
      { file: f.relativePath, fileId: f.fileId, discarded },
      'file transfer abandoned by the provider; part discarded',
    );
    return COMMITTED;
  }

  /** Opens (or reopens after a restart) the part of a file, or answers for a file done or abandoned. */
  private async openPart(f: FileChunkInfo): Promise<Part | Applied> {
    if (await exists(this.doneMarker(f.fileId))) {
      this.done.add(f.fileId);
      return DUPLICATE;
    }
    if (await exists(this.abandonedMarker(f.fileId))) {
      this.abandoned.add(f.fileId);
      return refused(ABANDONED);
    }
    const path = this.partPath(f.fileId);
    const have = (await stat(path).catch(() => undefined))?.size ?? 0;
    // After a restart the part's bytes so far are hashed once; from then on chunks hash as they land.
    const part: Part = {
      path,
      fh: await open(path, have === 0 ? 'w' : 'r+'),
      size: have,
      hash: await hashPrefix(path, have),
      unsynced: 0,
    };
    this.parts.set(f.fileId, part);
    return part;
  }

  /** Writes a chunk at its offset and checks its running digest; a refusal when it was damaged. */
  private async write(o: Part, f: FileChunkInfo, payload: Buffer): Promise<Applied | undefined> {
    const len = payload.length;
    try {
      if (f.offset < o.size) {
        // A chunk partly written before a crash: rewrite from its start and re-hash the prefix.
        await o.syncing;
        await o.fh.truncate(f.offset);
        o.size = f.offset;
        o.hash = await hashPrefix(o.path, f.offset); // by path: a new part is open write-only
      }
      // The write runs on the thread pool while this thread hashes the same (read-only) bytes.
      const before = o.hash.copy();
      const writing = o.fh.write(payload, 0, len, f.offset);
      o.hash.update(payload);
      const intact = o.hash.copy().digest().equals(f.runningSha256);
      const { bytesWritten } = await writing;
      if (bytesWritten !== len) throw new Error(`short write: ${bytesWritten} of ${len} bytes`);
      if (!intact) {
        // Damaged on the way (or sent from a different file version): take it back, ask for it again.
        await o.fh.truncate(f.offset);
        o.hash = before;
        this.kit.failed(`${f.relativePath}: chunk ${f.chunkIndex} failed its checksum`);
        this.kit.log.warn(
          { file: f.relativePath, fileId: f.fileId, chunk: f.chunkIndex },
          'file chunk failed its checksum; asked again',
        );
        return refused(CORRUPT_CHUNK);
      }
    } catch (err) {
      // The hash may be ahead of the bytes on disk: forget the part; the redelivery re-reads it.
      await this.closePart(f.fileId);
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
    return undefined;
  }

  /** After the last chunk: checks the whole file and moves it into place. */
  private async finish(o: Part, f: FileChunkInfo, target: string): Promise<Applied> {
    await o.syncing;
    await o.fh.sync();
    await this.closePart(f.fileId);
    if (o.size !== f.fileSize || !o.hash.digest().equals(f.fileSha256)) {
      await unlink(o.path).catch(() => undefined);
      this.kit.failed(`${f.relativePath}: checksum mismatch`);
      this.kit.log.error(
        { file: f.relativePath, fileId: f.fileId },
        'file checksum mismatch; discarded, the provider sends it again',
      );
      return refused('checksum mismatch');
    }
    await mkdir(dirname(target), { recursive: true });
    await rename(o.path, target);
    await writeFile(this.doneMarker(f.fileId), `${f.relativePath}\n${f.fileSha256.toString('hex')}\n${f.fileSize}\n`);
    this.done.add(f.fileId);
    await syncDir(dirname(target));
    this.kit.counters.records++;
    this.kit.log.info({ file: f.relativePath, bytes: f.fileSize }, 'file received');
    return { status: 'committed', written: 1, quarantined: 0 };
  }

  private async closePart(fileId: string): Promise<void> {
    const o = this.parts.get(fileId);
    if (!o) return;
    this.parts.delete(fileId);
    await o.syncing;
    await o.fh.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.parts.keys()]) await this.closePart(id);
  }
}

/** Consumer side of file transfer: registers the receiver for the subscription; sweeps leftovers hourly. */
export function createFileExchangeRunner(
  task: TaskAssignment,
  ctx: DataPathContext,
  deps: { dataPlane: DataPlane; binding: FilesBinding; runReportIntervalMs: number },
): TaskRunner {
  if (!task.subscriptionId) throw new Error('file task has no subscription id');
  const root = resolve(deps.binding.dir);
  const kit = new RunnerKit(task, ctx);
  const receiver = new FileReceiver(root, task.peerNodeId || undefined, termsOf(task.params), kit, ctx.traffic);
  deps.dataPlane.registerInbound(task.subscriptionId, receiver);
  kit.startReports(deps.runReportIntervalMs);
  const sweeper = (async () => {
    do {
      const removed = await sweepPartials(root, Date.now()).catch(() => 0);
      if (removed) kit.log.info({ removed }, 'removed leftover partial files');
    } while (await sleep(3600_000, kit.signal));
  })();
  return {
    async stop() {
      await kit.stop();
      await sweeper;
      deps.dataPlane.unregisterInbound(task.subscriptionId);
      await receiver.closeAll();
      kit.report();
    },
  };
}
