// Connectors (数据源/目标): small interfaces between the data plane and a department's data. A binding
// in the agent config names one dataset (a table, a directory); credentials stay in that config.
import { Decimal } from '../values/value.js';

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
  /** The column an incremental source's cursor follows (rows come in its order); absent for full sources. */
  readonly cursorColumn?: string | undefined;
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
 * Quotes an SQL identifier the standard way ("…", embedded quotes doubled), so any name the database
 * allows works — 人口信息, 姓名, 2024年, "first name", select — and nothing in a name can inject SQL.
 * Refused: empty names, NUL, and names longer than `maxBytes` of UTF-8 (PostgreSQL would silently cut
 * them at 63 bytes).
 */
export function ident(name: string, binding: string, maxBytes = 1024): string {
  if (typeof name !== 'string' || name === '') throw new ConnectorError(binding, 'an identifier is empty');
  if (name.includes('\u0000')) throw new ConnectorError(binding, `identifier ${JSON.stringify(name)} contains NUL`);
  if (!name.isWellFormed()) throw new ConnectorError(binding, `identifier ${JSON.stringify(name)} is not well-formed Unicode`);
  if (Buffer.byteLength(name) > maxBytes) throw new ConnectorError(binding, `identifier ${JSON.stringify(name)} is longer than ${maxBytes} bytes, the database's limit`);
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Runs `write(lo, hi)` over rows [0, n) and, when the database refuses some, finds them by splitting the
 * range in halves (each attempt inside `attempt`, which must undo a failed part — a savepoint), so that
 * every good row is written and each refused one is reported alone with the database's reason. Errors
 * `isRecordError` does not recognise (the database is down, the disk is full) are rethrown at once.
 * Cost: one attempt when nothing is refused; about 2·log2(n) more per refused row.
 */
export async function writeBisecting(
  n: number,
  attempt: (lo: number, hi: number) => Promise<void>,
  isRecordError: (err: unknown) => boolean,
): Promise<RefusedRecord[]> {
  const refused: RefusedRecord[] = [];
  const go = async (lo: number, hi: number): Promise<void> => {
    if (lo >= hi) return;
    try {
      await attempt(lo, hi);
    } catch (err) {
      if (!isRecordError(err)) throw err;
      if (hi - lo === 1) {
        refused.push({ index: lo, reason: errorText(err) });
        return;
      }
      const mid = lo + Math.floor((hi - lo) / 2);
      await go(lo, mid);
      await go(mid, hi);
    }
  };
  await go(0, n);
  return refused;
}

/** The synchronous form of writeBisecting, for drivers with a synchronous API (better-sqlite3). */
export function writeBisectingSync(n: number, attempt: (lo: number, hi: number) => void, isRecordError: (err: unknown) => boolean): RefusedRecord[] {
  const refused: RefusedRecord[] = [];
  const go = (lo: number, hi: number): void => {
    if (lo >= hi) return;
    try {
      attempt(lo, hi);
    } catch (err) {
      if (!isRecordError(err)) throw err;
      if (hi - lo === 1) {
        refused.push({ index: lo, reason: errorText(err) });
        return;
      }
      const mid = lo + Math.floor((hi - lo) / 2);
      go(lo, mid);
      go(mid, hi);
    }
  };
  go(0, n);
  return refused;
}

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; detail?: string; column?: string };
  const parts = [e?.message ?? String(err)];
  if (e?.code && !parts[0]!.includes(e.code)) parts.push(`(${e.code})`);
  if (e?.detail) parts.push(`— ${e.detail}`);
  return parts.join(' ');
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
