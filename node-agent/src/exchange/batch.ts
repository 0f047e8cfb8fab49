// One batch, built in one place. A provider's rows become envelopes here and nowhere else:
//   RecordRun (rows with one column set, from the pipeline)
//     → packRun(): PackedBatch[] (split by record count, then halved until each fits the byte limit; JSON
//       and deflate done here, outside any spool transaction)
//     → the spool's commitStep() assigns each its sequence (the only assigner) and calls seal()
//     → SealedBatch (the encoded Envelope the outbox stores and the publisher sends as it is).
// File chunks are addressed and described by chunkEnvelope()/abandonedEnvelope() (their bytes travel as
// the message body, the envelope in a header: transport/envelope.ts). Stateless.
import { encodeEnvelope, packRecords, sha256, type EnvelopeData } from '../transport/envelope.js';
import type { UnsequencedBatch } from '../spool/data-spool.js';
import type { Value } from '../values/value.js';

/** Who sends to whom under which agreement: the addressing part of every envelope a provider task sends. */
export type Addressing = Pick<
  EnvelopeData,
  | 'resourceCode'
  | 'subscriptionId'
  | 'taskId'
  | 'sourceNodeId'
  | 'destinationNodeId'
  | 'route'
  | 'hopIndex'
  | 'schemaVersion'
  | 'createdAtMs'
  | 'agreementId'
>;

/** The task fields addressing needs. */
export interface AddressedTask {
  id: string;
  resourceCode: string;
  subscriptionId: string;
  peerNodeId: string;
}

export function addressing(task: AddressedTask, sourceNodeId: string, agreementId: string): Addressing {
  return {
    resourceCode: task.resourceCode,
    subscriptionId: task.subscriptionId,
    taskId: task.id,
    sourceNodeId,
    destinationNodeId: task.peerNodeId,
    route: [],
    hopIndex: 0,
    schemaVersion: 1,
    createdAtMs: Date.now(),
    agreementId,
  };
}

/** Consecutive rows with the same columns: a batch never mixes column sets (values match columns by name). */
export interface RecordRun {
  columns: string[];
  rows: Value[][] | unknown[][];
  /** Per row: upsert or tombstone. */
  ops: ('u' | 'd')[];
}

/** A slice of a run packed into a payload; it gets its sequence (and so its id) from the spool. */
export interface PackedBatch {
  payload: Buffer;
  compression: EnvelopeData['compression'];
  records: number;
  /** Bytes before compression. */
  rawBytes: number;
  /** sha-256 of `payload` (taken here, outside the spool's transaction). */
  sha256: Buffer;
}

/** What the outbox stores: the encoded envelope, under its batch id and subject. */
export interface SealedBatch {
  batchId: string;
  subject: string;
  envelope: Uint8Array;
  records: number;
}

/** Limits of one batch: records (the task's batchRecords) and payload bytes (below the broker's max payload). */
export interface BatchLimits {
  records: number;
  bytes: number;
}

/** Packs a run into batches of at most `limits.records` records, each halved until it fits `limits.bytes`. */
export function packRun(run: RecordRun, limits: BatchLimits, out: PackedBatch[] = []): PackedBatch[] {
  for (let i = 0; i < run.rows.length; i += limits.records)
    packSlice(run, i, Math.min(i + limits.records, run.rows.length), limits.bytes, out);
  return out;
}

function packSlice(run: RecordRun, from: number, to: number, maxBytes: number, out: PackedBatch[]): void {
  const ops = run.ops.slice(from, to);
  const packed = packRecords({
    columns: run.columns,
    rows: run.rows.slice(from, to),
    ...(ops.some((o) => o === 'd') && { ops }),
  });
  if (packed.payload.length > maxBytes && to - from > 1) {
    const mid = from + Math.floor((to - from) / 2);
    packSlice(run, from, mid, maxBytes, out);
    packSlice(run, mid, to, maxBytes, out);
    return;
  }
  out.push({
    payload: packed.payload,
    compression: packed.compression,
    records: to - from,
    rawBytes: packed.rawBytes,
    sha256: sha256(packed.payload),
  });
}

/** The batch id of a record stream's sequence. */
export const batchId = (taskId: string, epoch: string, sequence: number): string => `b-${taskId}-${epoch}-${sequence}`;

/** Encodes a packed batch as the envelope of `sequence` in stream `epoch` (called by the spool, which assigns it). */
export function sealBatch(
  p: PackedBatch,
  addr: Addressing,
  subject: string,
  epoch: string,
  sequence: number,
): SealedBatch {
  const env: EnvelopeData = {
    ...addr,
    batchId: batchId(addr.taskId, epoch, sequence),
    sequence,
    recordCount: p.records,
    compression: p.compression,
    payloadKind: 'PAYLOAD_KIND_RECORDS',
    payload: p.payload,
    payloadSha256: p.sha256,
    streamEpoch: epoch,
  };
  return { batchId: env.batchId, subject, envelope: encodeEnvelope(env), records: p.records };
}

/** A packed batch as the spool takes it: sealed under the sequence the spool assigns. */
export function forOutbox(p: PackedBatch, addr: Addressing, subject: string): UnsequencedBatch {
  return { records: p.records, seal: (epoch, sequence) => sealBatch(p, addr, subject, epoch, sequence) };
}

/** The file version a chunk belongs to. */
export interface ChunkedFile {
  fileId: string;
  relPath: string;
  size: number;
  mtimeMs: number;
  chunkCount: number;
}

const NO_DIGEST = Buffer.alloc(0);

/** The envelope (without payload) of chunk `index` at `offset`; `running` is the file's sha-256 through it. */
export function chunkEnvelope(
  addr: Addressing,
  f: ChunkedFile,
  index: number,
  offset: number,
  running: Buffer,
): Omit<EnvelopeData, 'payload'> {
  const last = index === f.chunkCount - 1;
  return {
    ...addr,
    batchId: `${f.fileId}-${index}`,
    sequence: index,
    recordCount: 0,
    compression: 'COMPRESSION_NONE',
    payloadKind: 'PAYLOAD_KIND_FILE_CHUNK',
    payloadSha256: NO_DIGEST,
    streamEpoch: f.fileId,
    file: {
      fileId: f.fileId,
      relativePath: f.relPath,
      fileSize: f.size,
      offset,
      chunkIndex: index,
      chunkCount: f.chunkCount,
      fileSha256: last ? running : NO_DIGEST,
      modifiedAtMs: f.mtimeMs,
      runningSha256: running,
    },
  };
}

/** The message telling the consumer a file version was given up (no payload; it discards its part). */
export function abandonedEnvelope(addr: Addressing, f: ChunkedFile): Omit<EnvelopeData, 'payload'> {
  const env = chunkEnvelope(addr, f, f.chunkCount, 0, Buffer.alloc(32)); // the digest is unused; its length marks a file message
  return { ...env, batchId: `${f.fileId}-abandoned`, file: { ...env.file!, fileSha256: NO_DIGEST, abandoned: true } };
}
