// Encoding of data-plane messages: Envelope (records or a file chunk), Receipt, stream-progress and
// online-query request/reply messages, plus the payload codecs (JSON records, deflate when it pays, sha-256).
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { envelopeTypes } from '../../../proto/index.js';
import type { Value } from '../values/value.js';
import { RECORDS_ENCODING, rowFromWire, rowToWire } from '../values/wire.js';

export type Compression = 'COMPRESSION_NONE' | 'COMPRESSION_DEFLATE' | 'COMPRESSION_ZSTD';
export type PayloadKind = 'PAYLOAD_KIND_RECORDS' | 'PAYLOAD_KIND_FILE_CHUNK' | 'PAYLOAD_KIND_PROBE';

export interface FileChunkInfo {
  fileId: string;
  relativePath: string;
  fileSize: number;
  offset: number;
  chunkIndex: number;
  chunkCount: number;
  fileSha256: Buffer;
  modifiedAtMs: number;
  /** sha-256 of the file from its start through this chunk (the per-chunk check). */
  runningSha256: Buffer;
  /** The provider gave this file version up: no payload; the consumer discards its part (envelope.proto). */
  abandoned?: boolean;
}

export interface EnvelopeData {
  batchId: string;
  resourceCode: string;
  subscriptionId: string;
  taskId: string;
  sourceNodeId: string;
  destinationNodeId: string;
  route: string[];
  hopIndex: number;
  sequence: number;
  schemaVersion: number;
  recordCount: number;
  compression: Compression;
  payloadKind: PayloadKind;
  payload: Buffer;
  payloadSha256: Buffer;
  createdAtMs: number;
  streamEpoch: string;
  agreementId: string;
  file?: FileChunkInfo | undefined;
}

export interface ReceiptData {
  batchId: string;
  taskId: string;
  receiverNodeId: string;
  committedAtMs: number;
  recordsWritten: number;
  recordsQuarantined: number;
  status: 'committed' | 'duplicate' | 'refused';
  reason: string;
  sequence: number;
  streamEpoch: string;
  fileId: string;
  chunkIndex: number;
}

/** Rows of one batch: column names, one value array per row (model values), and per-row ops ("u"/"d"). */
export interface RecordsPayload {
  columns: string[];
  rows: Value[][] | unknown[][];
  ops?: ('u' | 'd')[];
}

const T = envelopeTypes();

/** A Buffer over the same memory (no copy: payloads are up to megabytes). */
const view = (u: unknown): Buffer =>
  Buffer.isBuffer(u)
    ? u
    : u instanceof Uint8Array
      ? Buffer.from(u.buffer, u.byteOffset, u.byteLength)
      : Buffer.from((u as number[] | undefined) ?? []);

/** Numbers from protobufjs 64-bit fields (Long objects when long.js is present). */
const num = (v: unknown): number =>
  typeof v === 'number'
    ? v
    : v && typeof v === 'object' && 'toNumber' in v
      ? (v as { toNumber(): number }).toNumber()
      : Number(v ?? 0);
const ENUM_COMPRESSION: Compression[] = ['COMPRESSION_NONE', 'COMPRESSION_DEFLATE', 'COMPRESSION_ZSTD'];
const ENUM_KIND: (PayloadKind | 'PAYLOAD_KIND_UNSPECIFIED')[] = [
  'PAYLOAD_KIND_UNSPECIFIED',
  'PAYLOAD_KIND_RECORDS',
  'PAYLOAD_KIND_FILE_CHUNK',
  'PAYLOAD_KIND_PROBE',
];

export const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

/**
 * Checks a record batch's payload against its sha-256. A file chunk is checked by the file's receiver,
 * which compares its running hash with the chunk's running_sha256 as it writes.
 */
export function payloadIntact(e: EnvelopeData): boolean {
  if (e.payloadSha256.length > 0) return sha256(e.payload).equals(e.payloadSha256);
  return e.payloadKind === 'PAYLOAD_KIND_FILE_CHUNK' && (e.file?.runningSha256.length ?? 0) === 32;
}

const EMPTY = Buffer.alloc(0);

/** Header carrying the envelope of a file chunk sent in split form (the chunk itself is the body). */
export const ENVELOPE_HEADER = 'Xchg-Envelope';

/** The split form's header value: the envelope without its payload, protobuf, base64. */
export function encodeEnvelopeHeader(e: Omit<EnvelopeData, 'payload'>): string {
  return Buffer.from(encodeEnvelope({ ...e, payload: EMPTY })).toString('base64');
}

export function encodeEnvelope(e: EnvelopeData): Uint8Array {
  return T.Envelope.encode(
    T.Envelope.fromObject({
      ...e,
      compression: ENUM_COMPRESSION.indexOf(e.compression),
      payloadKind: ENUM_KIND.indexOf(e.payloadKind),
    }),
  ).finish();
}

/**
 * Decodes an envelope; throws with a reason when the bytes are not one. With `header` (the split form),
 * the envelope comes from the header and the body is its payload, unchanged and uncopied.
 */
export function decodeEnvelope(bytes: Uint8Array, header?: string): EnvelopeData {
  if (header !== undefined) {
    const e = decodeEnvelope(Buffer.from(header, 'base64'));
    if (e.payload.length > 0) throw new Error('a split envelope carries its payload in the header');
    return { ...e, payload: view(bytes) };
  }
  const m = T.Envelope.decode(bytes) as unknown as Record<string, unknown>;
  const f = m['file'] as Record<string, unknown> | undefined | null;
  return {
    batchId: String(m['batchId'] ?? ''),
    resourceCode: String(m['resourceCode'] ?? ''),
    subscriptionId: String(m['subscriptionId'] ?? ''),
    taskId: String(m['taskId'] ?? ''),
    sourceNodeId: String(m['sourceNodeId'] ?? ''),
    destinationNodeId: String(m['destinationNodeId'] ?? ''),
    route: (m['route'] as string[] | undefined) ?? [],
    hopIndex: num(m['hopIndex']),
    sequence: num(m['sequence']),
    schemaVersion: num(m['schemaVersion']),
    recordCount: num(m['recordCount']),
    compression: ENUM_COMPRESSION[num(m['compression'])] ?? 'COMPRESSION_NONE',
    payloadKind: (ENUM_KIND[num(m['payloadKind'])] ?? 'PAYLOAD_KIND_UNSPECIFIED') as PayloadKind,
    payload: view(m['payload']),
    payloadSha256: Buffer.from((m['payloadSha256'] as Uint8Array | undefined) ?? []),
    createdAtMs: num(m['createdAtMs']),
    streamEpoch: String(m['streamEpoch'] ?? ''),
    agreementId: String(m['agreementId'] ?? ''),
    file: f
      ? {
          fileId: String(f['fileId'] ?? ''),
          relativePath: String(f['relativePath'] ?? ''),
          fileSize: num(f['fileSize']),
          offset: num(f['offset']),
          chunkIndex: num(f['chunkIndex']),
          chunkCount: num(f['chunkCount']),
          fileSha256: Buffer.from((f['fileSha256'] as Uint8Array | undefined) ?? []),
          modifiedAtMs: num(f['modifiedAtMs']),
          runningSha256: Buffer.from((f['runningSha256'] as Uint8Array | undefined) ?? []),
          ...(f['abandoned'] === true && { abandoned: true }),
        }
      : undefined,
  };
}

export function encodeReceipt(r: ReceiptData): Uint8Array {
  return T.Receipt.encode(T.Receipt.fromObject(r)).finish();
}

export function decodeReceipt(bytes: Uint8Array): ReceiptData {
  const m = T.Receipt.decode(bytes) as unknown as Record<string, unknown>;
  return {
    batchId: String(m['batchId'] ?? ''),
    taskId: String(m['taskId'] ?? ''),
    receiverNodeId: String(m['receiverNodeId'] ?? ''),
    committedAtMs: num(m['committedAtMs']),
    recordsWritten: num(m['recordsWritten']),
    recordsQuarantined: num(m['recordsQuarantined']),
    status: String(m['status'] ?? '') as ReceiptData['status'],
    reason: String(m['reason'] ?? ''),
    sequence: num(m['sequence']),
    streamEpoch: String(m['streamEpoch'] ?? ''),
    fileId: String(m['fileId'] ?? ''),
    chunkIndex: num(m['chunkIndex']),
  };
}

export interface ProgressRequest {
  sourceNodeId: string;
  taskId: string;
  streamEpoch: string;
  subscriptionId: string;
  /** Set for a file transfer. */
  fileId?: string;
}

export interface ProgressReply {
  known: boolean;
  lastSequence: number;
  reason: string;
  /** File transfers: bytes written in order so far; `complete` once the file is in place. */
  committedBytes?: number;
  complete?: boolean;
}

export function encodeProgressRequest(r: ProgressRequest): Uint8Array {
  return T.StreamProgressRequest.encode(T.StreamProgressRequest.fromObject(r)).finish();
}

export function decodeProgressRequest(b: Uint8Array): ProgressRequest {
  const m = T.StreamProgressRequest.decode(b) as unknown as Record<string, unknown>;
  return {
    sourceNodeId: String(m['sourceNodeId'] ?? ''),
    taskId: String(m['taskId'] ?? ''),
    streamEpoch: String(m['streamEpoch'] ?? ''),
    subscriptionId: String(m['subscriptionId'] ?? ''),
    fileId: String(m['fileId'] ?? ''),
  };
}

export function encodeProgressReply(r: ProgressReply): Uint8Array {
  return T.StreamProgressReply.encode(T.StreamProgressReply.fromObject(r)).finish();
}

export function decodeProgressReply(b: Uint8Array): Required<ProgressReply> {
  const m = T.StreamProgressReply.decode(b) as unknown as Record<string, unknown>;
  return {
    known: Boolean(m['known']),
    lastSequence: num(m['lastSequence']),
    reason: String(m['reason'] ?? ''),
    committedBytes: num(m['committedBytes']),
    complete: Boolean(m['complete']),
  };
}

/** Online query (联机查询): a keyed question from a consumer's agent to the provider's agent. */
export interface QueryRequest {
  subscriptionId: string;
  requester: string;
  /** One field (by its name at the consumer) and the value looked for. */
  key: Record<string, string>;
}

/** The answer; `record` is in wire form (values/wire.ts). */
export type QueryReply = { ok: true; found: boolean; record?: Record<string, unknown> } | { ok: false; error: string };

export function encodeQueryRequest(q: QueryRequest): Uint8Array {
  return T.QueryRequest.encode(
    T.QueryRequest.fromObject({ subscriptionId: q.subscriptionId, requesterNodeId: q.requester, key: q.key }),
  ).finish();
}

export function decodeQueryRequest(b: Uint8Array): QueryRequest {
  const m = T.QueryRequest.decode(b) as unknown as Record<string, unknown>;
  const key = (m['key'] ?? {}) as Record<string, unknown>;
  return {
    subscriptionId: String(m['subscriptionId'] ?? ''),
    requester: String(m['requesterNodeId'] ?? ''),
    key: Object.fromEntries(Object.entries(key).map(([k, v]) => [k, String(v)])),
  };
}

export function encodeQueryReply(r: QueryReply): Uint8Array {
  const fields = r.ok
    ? { ok: true, found: r.found, recordJson: r.record ? JSON.stringify(r.record) : '' }
    : { ok: false, error: r.error };
  return T.QueryReply.encode(T.QueryReply.fromObject(fields)).finish();
}

/** Throws when the bytes are not a QueryReply. */
export function decodeQueryReply(b: Uint8Array): QueryReply {
  const m = T.QueryReply.decode(b) as unknown as Record<string, unknown>;
  if (!m['ok']) return { ok: false, error: String(m['error'] ?? '') };
  const json = String(m['recordJson'] ?? '');
  return { ok: true, found: Boolean(m['found']), ...(json && { record: JSON.parse(json) as Record<string, unknown> }) };
}

/** Below this size compression is not tried (the deflate header and CPU cost outweigh the gain). */
const COMPRESS_MIN_BYTES = 4096;

/**
 * JSON-encodes records (values in their wire form, values/wire.ts; `enc` names that form) and deflates
 * them when that saves at least 10 %.
 */
export function packRecords(p: RecordsPayload): { payload: Buffer; compression: Compression; rawBytes: number } {
  const raw = Buffer.from(
    JSON.stringify({
      enc: RECORDS_ENCODING,
      columns: p.columns,
      rows: p.rows.map(rowToWire),
      ...(p.ops && { ops: p.ops }),
    }),
    'utf8',
  );
  if (raw.length >= COMPRESS_MIN_BYTES) {
    const z = deflateRawSync(raw, { level: 1 });
    if (z.length < raw.length * 0.9) return { payload: z, compression: 'COMPRESSION_DEFLATE', rawBytes: raw.length };
  }
  return { payload: raw, compression: 'COMPRESSION_NONE', rawBytes: raw.length };
}

/** Inverse of packRecords; throws with a reason on a corrupt or malformed payload. */
export function unpackRecords(payload: Buffer, compression: Compression): RecordsPayload {
  let raw: Buffer;
  if (compression === 'COMPRESSION_DEFLATE') raw = inflateRawSync(payload);
  else if (compression === 'COMPRESSION_NONE') raw = payload;
  else throw new Error(`unsupported compression ${compression}`);
  const p = JSON.parse(raw.toString('utf8')) as RecordsPayload & { enc?: number };
  if (!Array.isArray(p.columns) || !Array.isArray(p.rows)) throw new Error('records payload lacks columns or rows');
  const enc = p.enc ?? 0;
  if (enc > RECORDS_ENCODING)
    throw new Error(
      `records payload encoding ${enc} is newer than this agent understands (${RECORDS_ENCODING}): upgrade it`,
    );
  if (enc >= 1) for (const row of p.rows) rowFromWire(row as unknown[]);
  return { columns: p.columns, rows: p.rows, ...(p.ops && { ops: p.ops }) };
}
