// File streams: one file transfer (断点续传) as a sender stream. Its chunks are read from the source file (the
// source file is the spool) and go out through the data plane's one publisher; its receipts come through
// the one receipt protocol and its stalls and gaps through the one recovery (streams.ts: positions are
// chunks committed in order).
//
// Invariants
//  - A chunk is sent only within the window [acked, acked + window); `acked` only moves forward on a
//    receipt, or to where the consumer says it is (resend(), which may move it back: the consumer lost its part).
//  - A re-send asked for by recovery waits for the publishes in flight, then starts over from its point
//    with a new send number (message id "<id>~<n>"); a failed publish is retried from the first chunk that
//    failed under the same message ids, so chunks the broker did store are deduplicated instead of doubled.
//  - Committed chunks are persisted in the spool at most every 32 chunks (and at the end): a hint; on a
//    restart the consumer's own answer says where to resume.
//  - Every chunk read is checked against the transfer's version (checkVersion) before it is published.
//  - Each chunk carries running_sha256 = sha-256 of bytes [0, end of chunk). The running digests of the
//    chunks not yet committed are kept, so a re-send needs no re-hashing; a re-send from further back
//    re-hashes the prefix once (ChunkHasher).
//  - Buffers: at most window chunks are allocated; a chunk's buffer is reused only after its publish was
//    acknowledged (the NATS client holds a reference until the bytes are written out).
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import type { FileSpool, FileTransfer } from '../spool/file-spool.js';
import { encodeEnvelopeHeader, ENVELOPE_HEADER, type ProgressReply, type ReceiptData } from '../transport/envelope.js';
import { chunkEnvelope, type Addressing } from './batch.js';
import type { DataPlane } from './data-plane.js';
import { ChunkHasher } from './file-hash.js';
import { Kick } from './link.js';
import type { Pending, SenderStream } from './streams.js';

/** How a transfer ended: delivered, the source file changed or went away (abandoned), refused, agent stopping. */
export type Outcome = 'done' | 'changed' | 'gone' | 'refused' | 'stopped';

/** Committed chunks persisted at most this often (each persist is a spool write). */
const PERSIST_EVERY_CHUNKS = 32;

export interface FileStreamDeps {
  dataPlane: DataPlane;
  files: FileSpool;
  addressing: () => Addressing;
  subject: string;
  /** Bytes of chunks in flight beyond what the consumer committed (dataPlane.fileWindowBytes). */
  windowBytes: number;
  signal: AbortSignal;
  log: Logger;
  /** Bytes whose publish the broker acknowledged (run counters). */
  onSent(bytes: number): void;
}

/** The open file a transfer reads: read checks say whether it is still the version being sent. */
export interface OpenVersion {
  fh: FileHandle;
  /** After a read: undefined while the open file is that version; `last` also checks the path. */
  check(last: boolean): 'changed' | 'gone' | undefined;
}

export class FileStream implements SenderStream {
  readonly kind = 'file';
  acked: number;
  private persisted: number;
  private refusal: string | undefined;
  private next: number;
  /** Set by resend(): the send loop starts over from here once the publishes in flight have settled. */
  private rewindTo: number | undefined;
  private failedFrom: number | undefined;
  private attempt = 0;
  private inFlight = 0;
  private lastProgressAt = Date.now();
  private readonly wake = new Kick();

  constructor(
    readonly t: FileTransfer,
    private readonly deps: FileStreamDeps,
  ) {
    this.acked = t.ackedChunks;
    this.persisted = t.ackedChunks;
    this.next = t.ackedChunks;
  }

  get refusedReason(): string | undefined {
    return this.refusal;
  }

  /** Chunks wholly inside the first `bytes` bytes. */
  chunksAt(bytes: number): number {
    return Math.min(this.t.chunkCount, Math.floor(bytes / this.t.chunkBytes));
  }

  owns(r: ReceiptData): boolean {
    return r.fileId === this.t.fileId;
  }
  receiptPosition(r: ReceiptData): number {
    return r.chunkIndex + 1;
  }
  gapPosition(): number {
    return this.acked; // the consumer dropped an out-of-order chunk (one before it was lost): from its point
  }
  answerPosition(a: Required<ProgressReply>): number {
    return a.complete ? this.t.chunkCount : this.chunksAt(a.committedBytes);
  }
  acknowledgeQueued(epoch: string, position: number): void {
    this.acknowledge(epoch, position);
  }
  acknowledge(_epoch: string, position: number): number {
    if (position <= this.acked) return 0;
    const newly = position - this.acked;
    this.acked = position;
    this.lastProgressAt = Date.now();
    // Persisting every receipt would cost a write each; every 32nd (and the end) is enough.
    if (this.acked - this.persisted >= PERSIST_EVERY_CHUNKS) this.persist();
    this.wake.kick();
    return newly;
  }
  resend(_epoch: string, from: number): number {
    this.acked = from;
    this.rewindTo = from;
    this.wake.kick();
    return this.t.chunkCount - from;
  }
  pending(): Pending | undefined {
    if (this.inFlight > 0 || this.failedFrom !== undefined || this.rewindTo !== undefined) return undefined;
    if (this.acked >= this.t.chunkCount || this.next <= this.acked) return undefined;
    return { sinceMs: this.lastProgressAt, epoch: this.t.fileId, fileId: this.t.fileId };
  }
  refused(r: ReceiptData): void {
    this.refusal = r.reason;
    this.wake.kick();
  }

  /** Wakes the send loop (the task is stopping). */
  interrupt(): void {
    this.wake.kick();
  }

  private persist(): void {
    this.deps.files.acknowledge(this.t.fileId, this.acked);
    this.persisted = this.acked;
  }

  /** Sends the transfer's chunks from `acked` until the consumer has them all, or it ends otherwise. */
  async run(file: OpenVersion): Promise<Outcome> {
    const { signal } = this.deps;
    let t = await this.deps.dataPlane.connected();
    this.next = this.acked; // where the consumer said it is (set before run)
    const hasher = await ChunkHasher.resume(file.fh, this.acked * this.t.chunkBytes, this.acked);
    const pool: Buffer[] = [];
    const windowChunks = Math.max(2, Math.floor(this.deps.windowBytes / this.t.chunkBytes));
    const unsubscribe = this.deps.dataPlane.onPublishSettled(() => this.wake.kick());
    try {
      while (this.acked < this.t.chunkCount && !signal.aborted) {
        if (this.refusal !== undefined) return 'refused';
        if (this.failedFrom !== undefined || this.rewindTo !== undefined) {
          await this.startOver();
          t = await this.deps.dataPlane.connected(); // after a move to another center, its connection
          continue;
        }
        // Keep the window full: chunks go out as receipts come back, without waiting for round trips.
        while (
          this.next < Math.min(this.acked + windowChunks, this.t.chunkCount) &&
          this.deps.dataPlane.publishRoom(this.t.chunkBytes) > 0
        ) {
          const change = await this.sendChunk(t, file, hasher, pool);
          if (change) return change;
        }
        if (this.acked >= this.t.chunkCount) break;
        await this.wake.wait(200); // a publish ack or a receipt
        hasher.forgetBefore(this.acked);
      }
      await this.settled();
      return this.acked >= this.t.chunkCount ? 'done' : 'stopped';
    } finally {
      unsubscribe();
      if (this.acked > this.persisted) this.persist();
    }
  }

  /** After a failed publish (same message ids) or a re-send (the next send number): from that point on. */
  private async startOver(): Promise<void> {
    await this.settled();
    if (this.failedFrom !== undefined) {
      // Broker down or its file stream full: retry from the first chunk that failed, same message ids.
      this.next = Math.max(this.acked, this.failedFrom);
      this.failedFrom = undefined;
      await sleep(500, this.deps.signal);
      this.lastProgressAt = Date.now();
      return;
    }
    this.next = this.rewindTo ?? this.acked;
    this.rewindTo = undefined;
    this.attempt++;
  }

  /** Waits until no publish of this transfer is in flight. */
  private async settled(): Promise<void> {
    while (this.inFlight > 0) await this.wake.wait(200);
  }

  /** Reads, checks and publishes chunk `next`; returns how the transfer ends when the file changed. */
  private async sendChunk(
    t: Parameters<DataPlane['publish']>[0],
    file: OpenVersion,
    hasher: ChunkHasher,
    pool: Buffer[],
  ): Promise<'changed' | 'gone' | undefined> {
    const index = this.next;
    const offset = index * this.t.chunkBytes;
    const len = Math.min(this.t.chunkBytes, this.t.size - offset);
    const whole = pool.pop() ?? Buffer.allocUnsafe(this.t.chunkBytes);
    const buf = whole.subarray(0, len);
    // Synchronous positional read: from the page cache this beats a thread-pool round trip per chunk.
    const bytesRead = readSync(file.fh.fd, buf, 0, len, offset);
    // After the read, never before: bytes a writer changed come with a new mtime/ctime. The last chunk
    // also checks the path, so what completes the file is the version still under its name.
    const change = bytesRead !== len ? 'changed' : file.check(index === this.t.chunkCount - 1);
    if (change) {
      pool.push(whole);
      return change;
    }
    const running = await hasher.digest(file.fh, index, offset, buf);
    const env = chunkEnvelope(this.deps.addressing(), this.t, index, offset, running);
    const unit = {
      subject: this.deps.subject,
      body: buf,
      id: env.batchId,
      sendCount: this.attempt,
      headers: { [ENVELOPE_HEADER]: encodeEnvelopeHeader(env) },
      kind: 'chunk' as const,
    };
    this.inFlight++;
    this.next++;
    this.deps.dataPlane.publish(t, unit).then(
      () => {
        this.inFlight--;
        this.deps.onSent(len);
        pool.push(whole);
      },
      () => {
        // Not pooled: a client that never sent it may still hold the buffer.
        this.inFlight--;
        this.failedFrom = Math.min(this.failedFrom ?? index, index);
      },
    );
    return undefined;
  }
}
