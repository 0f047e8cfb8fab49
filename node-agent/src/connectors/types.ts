// Connectors (数据源/目标): small interfaces between the data plane and a department's data. A binding
// in the agent config names one dataset (a table, a directory); credentials stay in that config. The kit:
// registry.ts (binding type → settings schema, source, sink), sql/ (one SQL sink and one SQL source, each
// over a small per-database part), one directory per database (<db>/dialect.ts: the sink's part,
// <db>/source.ts: the source's part and its settings), files/ (CSV and JSON-lines directories).
import { Decimal } from '../values/value.js';

/**
 * Position in a source after the last row read; JSON-serialisable, opaque to the caller. A spread flow's
 * cursor (dynamic node allocation, connectors/shards.ts) has `n` and `parts` instead: one position per set
 * of key-hash shards, read together.
 */
export type Cursor = { c?: unknown; k?: unknown; n?: number; parts?: ShardPart[] } | null;

/** Part of a sharded cursor: the shards `s` (each in 0..n-1) read from position (c, k); no c/k: from the start. */
export interface ShardPart {
  s: number[];
  c?: unknown;
  k?: unknown;
}

export interface SourcePage {
  rows: Record<string, unknown>[];
  /** Per row: "u" upsert or "d" tombstone (the source recorded a deletion). */
  ops: ('u' | 'd')[];
  /** Cursor after the last row of this page (unchanged when the page is empty). */
  cursor: Cursor;
  /** True when the source has nothing after `cursor` right now. */
  exhausted: boolean;
  /**
   * Per row (absent: every row is good): why the row is bad input (an undecodable or malformed line), or
   * undefined for a good one. The reader quarantines a row with a reason as it is, without processing it.
   */
  errors?: (string | undefined)[];
}

export interface RecordSource {
  readonly keyColumns: readonly string[];
  /** Reads up to `limit` rows after `cursor`, in cursor order (incremental) or key order (full). */
  read(cursor: Cursor, limit: number): Promise<SourcePage>;
  /** One row by key (online query), or undefined. */
  lookup(key: Record<string, unknown>): Promise<Record<string, unknown> | undefined>;
  /** Full-sync sources start over from the beginning after a pass; incremental ones never do. */
  readonly mode: 'incremental' | 'full';
  /** The column an incremental source's cursor follows (rows come in its order); absent for full sources. */
  readonly cursorColumn?: string | undefined;
  /**
   * Whether read() takes a sharded cursor (`n`, `parts`: connectors/shards.ts): incremental SQL sources do;
   * a flow is spread over several agents only from such a source.
   */
  readonly shardable?: boolean;
  close(): Promise<void>;
}

/** An ordered stream of batches from one provider task: "<source node>/<task>/<epoch>". */
export type StreamKey = string;

export interface SinkBatch {
  batchId: string;
  columns: string[];
  rows: unknown[][];
  ops: ('u' | 'd')[];
}

/** Outcome of applying a batch: written, already written before, or not next in line (a gap). */
export type ApplyOutcome = 'applied' | 'duplicate' | 'gap';

/** A record of a batch the sink's database refused (poison record), with the database's reason. */
export interface RefusedRecord {
  /** Index of the row in the batch. */
  index: number;
  reason: string;
}

export interface ApplyOptions {
  /**
   * Called inside the sink's transaction, before it commits, with the records the database refused (the
   * rest of the batch is written): the caller quarantines them. Called again if the batch is applied
   * again after a crash before the commit, so the caller must tolerate repeats.
   */
  onRefused?(refused: RefusedRecord[]): void;
}

export interface RecordSink {
  /**
   * Writes the batch and records (stream, seq) in the same transaction, so a batch is applied at most
   * once and strictly in sequence: seq ≤ last applied → 'duplicate' (nothing written); seq > last + 1
   * → 'gap' (nothing written; the provider re-sends the missing ones).
   */
  apply(stream: StreamKey, seq: number, batch: SinkBatch, opts?: ApplyOptions): Promise<ApplyOutcome>;
  /**
   * Group commit: a session applies consecutive batches of one stream in one transaction, each as apply()
   * would (duplicates and gaps write nothing), and commits them with the ledger at the last one applied.
   * Sessions of one sink run one at a time: begin() waits for the one open to end. A sink without real
   * transactions may commit each batch as it is applied.
   */
  begin(stream: StreamKey): Promise<SinkSession>;
  /** Highest sequence applied for the stream (0 when none). */
  lastSequence(stream: StreamKey): Promise<number>;
  close(): Promise<void>;
  /**
   * Reconciliation (对账): up to `limit` rows after `afterKey` in key order. `afterKey` is the `lastKey`
   * of the previous page (opaque to the caller), null for the first page. Optional: a sink without it
   * cannot be verified.
   */
  scan?(afterKey: unknown[] | null, limit: number): Promise<SinkScanPage>;
}

/** A transaction of one stream's batches (RecordSink.begin). After a rejected apply() the session is over (rolled back). */
export interface SinkSession {
  /** Writes the batch if it is next in line; 'duplicate' and 'gap' write nothing. Rejects when the sink fails. */
  apply(seq: number, batch: SinkBatch, opts?: ApplyOptions): Promise<ApplyOutcome>;
  /** Records the last sequence applied and commits (nothing applied: rolls back). Rejects when the sink fails. */
  commit(): Promise<void>;
  /** Rolls back whatever the session wrote; never rejects. */
  abort(): Promise<void>;
}

/** A page of a sink's rows in key order (RecordSink.scan). */
export interface SinkScanPage {
  /** Column names of `rows`, in the order of each row's values. */
  columns: string[];
  /** The sink's key columns (each one of `columns`). */
  keyColumns: string[];
  rows: unknown[][];
  /** Where the next page starts (pass as afterKey); null when this page is empty. */
  lastKey: unknown[] | null;
  /** True when there is nothing after this page. */
  exhausted: boolean;
}

/** Field types the sink may use to create its table (from the exchange task's field specs). */
export interface SinkSchemaHint {
  columns: { name: string; type?: string | undefined }[];
  keyColumns: string[];
}

export class ConnectorError extends Error {
  constructor(binding: string, message: string) {
    super(`binding ${binding}: ${message}`);
    this.name = 'ConnectorError';
  }
}

/**
 * Whether a `deleted` column's value marks a deletion (tombstone), as a database would read it: false, 0,
 * '0', 'f', 'false', 'n', 'no', '' and NULL are not set; a decimal, bigint or bit string of zeros neither.
 */
export function isDeletedMark(v: unknown): boolean {
  if (typeof v === 'string') return v.trim() !== '' && !/^(0+(\.0*)?|f|false|n|no)$/i.test(v.trim());
  if (typeof v === 'bigint') return v !== 0n;
  if (v instanceof Decimal) return !/^[+-]?0*(\.0*)?$/.test(v.text);
  if (Buffer.isBuffer(v)) return v.some((b) => b !== 0);
  return Boolean(v);
}

export function asList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return [];
}
