// Connectors (数据源/目标): small interfaces between the data plane and a department's data. A binding
// in the agent config names one dataset (a table, a directory); credentials stay in that config.

/** Position in a source after the last row read; JSON-serialisable, opaque to the caller. */
export type Cursor = { c?: unknown; k?: unknown } | null;

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

export interface RecordSink {
  /**
   * Writes the batch and records (stream, seq) in the same transaction, so a batch is applied at most
   * once and strictly in sequence: seq ≤ last applied → 'duplicate' (nothing written); seq > last + 1
   * → 'gap' (nothing written; the provider re-sends the missing ones).
   */
  apply(stream: StreamKey, seq: number, batch: SinkBatch): Promise<ApplyOutcome>;
  /** Highest sequence applied for the stream (0 when none). */
  lastSequence(stream: StreamKey): Promise<number>;
  close(): Promise<void>;
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

/** Quotes an SQL identifier after checking it is a plain name (no injection through config or params). */
export function ident(name: string, binding: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new ConnectorError(binding, `invalid identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export function asList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return [];
}
