// The questions a consumer's agent asks the provider's agent during reconciliation (对账), as JSON over
// NATS request/reply on <prefix>.rc.<provider node> (DataPlane.askReconcile), and the projection both
// sides compare: the subscription's fields as the sink holds them (renamed, masked, verified). Rows and
// keys travel in the wire form of values/wire.ts; nothing here goes through central.
import { compilePipeline, type Pipeline, type PipelineSpec } from '../pipeline/index.js';

/** Bucket digests of the source: count and hash sums per bucket of the granted, masked projection. */
export interface DigestQuestion {
  op: 'digest';
  runId: string;
  subscriptionId: string;
  /** Number of buckets (a power of two). */
  buckets: number;
  /** Key columns by their names at the consumer, in the sink's key order. */
  keyColumns: string[];
  /** Compared columns by their names at the consumer (key columns included). */
  columns: string[];
}

/** The rows (key and row hash) of some buckets, a page at a time from `offset`. */
export interface RowsQuestion extends Omit<DigestQuestion, 'op'> {
  op: 'rows';
  select: number[];
  offset: number;
}

/** Make these keys equal to the source now: upserts of rows present, tombstones for the rest. */
export interface RepairQuestion {
  op: 'repair';
  runId: string;
  subscriptionId: string;
  keyColumns: string[];
  /** Key values (wire form) in keyColumns order. */
  keys: unknown[][];
}

export type ReconcileQuestion = DigestQuestion | RowsQuestion | RepairQuestion;

export type DigestAnswer = { ok: true; digest: string; rows: number; rejected: number } | { ok: false; error: string };
/** entries: [key values (wire), h1, h2]; next: offset of the next page, absent on the last one. */
export type RowsAnswer =
  { ok: true; total: number; entries: [unknown[], number, number][]; next?: number } | { ok: false; error: string };
export type RepairAnswer =
  { ok: true; upserts: number; tombstones: number; rejected: number } | { ok: false; error: string };

/**
 * The consumer's view of the subscription's records: fields under the names the sink holds them (`as`),
 * no masking (values arrive masked), types verified as the exchange task verifies them on arrival. Both
 * sides put every compared row through it, so a value the sink stored after verification compares equal.
 */
export function comparisonPipeline(params: PipelineSpec): Pipeline {
  return compilePipeline({
    ...params,
    filters: [],
    fields: (params.fields ?? []).map((f) => ({ ...f, name: f.as ?? f.name, as: f.as ?? f.name, mask: undefined })),
  });
}

/** A key column the subscription masks (rows cannot be matched by a masked key), or undefined. */
export function maskedKeyColumn(params: PipelineSpec, keyColumns: readonly string[]): string | undefined {
  const f = (params.fields ?? []).find((x) => x.mask !== undefined && keyColumns.includes(x.as ?? x.name));
  return f ? (f.as ?? f.name) : undefined;
}

/** Replies larger than this are paged (NATS' default max payload is 1 MiB). */
export const MAX_REPLY_BYTES = 512 * 1024;
