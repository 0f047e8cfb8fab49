// Keeps reports within central's gRPC message limit: the exact encoded size of a report item, the trimming
// of a quarantined record (its longest values clipped with a marker, what identifies it kept whole), the
// split of many quarantined records into several reports, and the fitting of one stored report that is
// still too large. Pure functions: the outbox and the flush loop decide when to call them.
import { createHash } from 'node:crypto';
import { agentTypes, type ReportItem } from '../../../proto/index.js';

/**
 * Bytes kept free in every Report call below central's limit, in case central counts something this
 * agent's encoder does not (the item sizes themselves are exact).
 */
export const CALL_HEADROOM_BYTES = 4 * 1024;

/** Target size of one quarantine report (bytes, encoded); several fit one Report call. */
export const QUARANTINE_REPORT_BYTES = 1024 * 1024;

/** Longest reason, origin and field name (characters) carried per quarantined record. */
const MAX_REASON_CHARS = 4096;
const MAX_NAME_CHARS = 512;

/** Column holding the marker when a record had to lose whole fields (never a real column: `$` prefix). */
export const TRIMMED_FIELDS_KEY = '$trimmed';

/** Bytes of a length-delimited field holding `len` bytes (one-byte tag + varint length + payload). */
const fieldBytes = (len: number): number => 1 + varintBytes(len) + len;
function varintBytes(n: number): number {
  let b = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    b++;
  }
  return b;
}

/** Encoded bytes one item adds to a ReportRequest (its `items` tag and length prefix included). */
export function reportItemBytes(item: ReportItem): number {
  const t = agentTypes().ReportItem;
  return fieldBytes(t.encode(t.fromObject(item as Record<string, unknown>)).finish().length);
}

/** Encoded bytes one record adds to a QuarantineReport (its `records` tag and length prefix included). */
function quarantinedRecordBytes(r: QuarantinedRecordBody): number {
  const t = agentTypes().QuarantinedRecord;
  return fieldBytes(t.encode(t.fromObject(r as unknown as Record<string, unknown>)).finish().length);
}

/** One value about to be clipped: its text and what the marker says of the original. */
interface Clippable {
  /** Text whose beginning is kept. */
  text: string;
  /** Code points of `text`. */
  chars: number;
  /** Bytes of the original value (UTF-8 text; decoded bytes for binary). */
  bytes: number;
  sha256: string;
  /** "binary", "json", ... for a tagged value; empty for text. */
  kind: string;
  /** Bytes of the value as it stands in the record's JSON. */
  jsonBytes: number;
  /** prefix[n]: JSON bytes (UTF-8, escapes included, quotes not) of the first n code points of `text`. */
  prefix?: Int32Array;
  /** Code points the prefix covers at most (a cap can never exceed the byte budget: one code point is at least one byte). */
  limit?: number;
}

const TAG_KINDS: Record<string, string> = { i: 'integer', f: 'float', n: 'decimal', b: 'binary', j: 'json', d: 'date', t: 'time', ts: 'timestamp', tz: 'timestamptz' };

function clippable(v: unknown): Clippable {
  const jsonBytes = Buffer.byteLength(JSON.stringify(v) ?? 'null');
  if (typeof v === 'string') return { text: v, chars: codePoints(v), bytes: Buffer.byteLength(v), sha256: sha256(v), kind: '', jsonBytes };
  const tagged = v !== null && typeof v === 'object' && typeof (v as { $?: unknown }).$ === 'string' && typeof (v as { v?: unknown }).v === 'string';
  if (tagged) {
    const { $: tag, v: text } = v as { $: string; v: string };
    const raw = tag === 'b' ? Buffer.from(text, 'base64') : Buffer.from(text);
    return { text, chars: codePoints(text), bytes: raw.length, sha256: sha256(raw), kind: TAG_KINDS[tag] ?? tag, jsonBytes };
  }
  const text = JSON.stringify(v) ?? 'null';
  return { text, chars: codePoints(text), bytes: Buffer.byteLength(text), sha256: sha256(text), kind: 'json', jsonBytes };
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Cumulative JSON bytes per code point, as JSON.stringify writes them (lone surrogates as \uXXXX). */
function jsonPrefix(s: string, chars: number): Int32Array {
  const out = new Int32Array(chars + 1);
  let n = 0;
  let b = 0;
  for (let i = 0; i < s.length && n < chars; i++) {
    const c = s.charCodeAt(i);
    let w: number;
    if (c === 0x22 || c === 0x5c) w = 2;
    else if (c < 0x20) w = c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c < 0x80) w = 1;
    else if (c < 0x800) w = 2;
    else if (isHigh(c) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
      w = 4;
      i++;
    } else if (isHigh(c) || isLow(c)) w = 6;
    else w = 3;
    b += w;
    out[++n] = b;
  }
  return out;
}

/** JSON bytes of the value clipped to `keep` code points with its marker. */
function clippedBytes(c: Clippable, keep: number): number {
  const covered = Math.min(c.chars, c.limit ?? c.chars);
  // Only as much prefix as a cap within the budget can use: a 32 MB value no longer costs a 128 MB table.
  c.prefix ??= jsonPrefix(c.text, covered);
  const kept = Math.min(keep, covered);
  return 2 + c.prefix[kept]! + Buffer.byteLength(marker(c, kept));
}

const sha256 = (d: string | Buffer): string => createHash('sha256').update(d).digest('hex');
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
    n++;
  }
  return n;
}

/** The first `keep` code points of s (never half a surrogate pair). */
function head(s: string, keep: number): string {
  let i = 0;
  for (let n = 0; n < keep && i < s.length; n++) i += isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
  return s.slice(0, i);
}

/**
 * The value's first `keep` code points followed by the trim marker, e.g.
 * `abc…[trimmed: 69997 of 70000 characters cut; original 70000 bytes, sha-256 <64 hex>]`
 * (binary: `…[trimmed binary: <cut> of <chars> base64 characters cut; original <bytes> bytes, sha-256 …]`).
 */
function clipped(c: Clippable, keep: number): string {
  const kept = Math.min(keep, c.chars);
  return head(c.text, kept) + marker(c, kept);
}
function marker(c: Clippable, kept: number): string {
  const what = c.kind === 'binary' ? 'base64 characters' : 'characters';
  return `…[trimmed${c.kind ? ` ${c.kind}` : ''}: ${c.chars - kept} of ${c.chars} ${what} cut; original ${c.bytes} bytes, sha-256 ${c.sha256}]`;
}

/** Text clipped to at most maxChars code points plus the marker; unchanged when it is short enough. */
export function clipText(s: string, maxChars: number): string {
  const c = clippable(s);
  return c.chars <= maxChars ? s : clipped(c, maxChars);
}

/**
 * A quarantined record's values as JSON of at most maxBytes (UTF-8), keeping as much of every value as
 * fits: the longest values are clipped to a common length (the largest that fits) with a marker giving
 * what was cut, the original size and sha-256; values of `keep` (the key columns) stay whole. If clipping
 * every other value to nothing is not enough (thousands of columns), the fields past what fits are dropped
 * and named under `$trimmed`. Returns the JSON and whether anything was cut.
 */
export function trimRecord(record: Record<string, unknown>, maxBytes: number, keep: readonly string[] = []): { json: string; trimmed: boolean } {
  const whole = JSON.stringify(record);
  if (Buffer.byteLength(whole) <= maxBytes) return { json: whole, trimmed: false };
  const entries = Object.entries(record);
  const kept = new Set(keep);
  const fits = (o: Record<string, unknown>): string | undefined => {
    const j = JSON.stringify(o);
    return Buffer.byteLength(j) <= maxBytes ? j : undefined;
  };
  const cache = new Map<string, Clippable>();
  const info = (k: string, v: unknown): Clippable => {
    let c = cache.get(k);
    if (!c) cache.set(k, (c = { ...clippable(v), limit: maxBytes + 1 }));
    return c;
  };
  const canClip = (k: string, v: unknown, protect: ReadonlySet<string>): boolean =>
    !protect.has(k) && v !== null && typeof v !== 'boolean' && typeof v !== 'number';
  // Clipped only where that is shorter: the size then grows with the cap, so bisection finds it.
  const clips = (c: Clippable, cap: number): boolean => c.chars > cap && clippedBytes(c, cap) < c.jsonBytes;
  const withCap = (cap: number, protect: ReadonlySet<string>): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      if (!canClip(k, v, protect)) o[k] = v;
      else {
        const c = info(k, v);
        o[k] = clips(c, cap) ? clipped(c, cap) : v;
      }
    }
    return o;
  };
  // The largest common cap that fits, by bisection over sizes counted from each value's byte prefix (one
  // JSON.stringify at the end, not one per step: values may be megabytes).
  const bestCap = (protect: ReadonlySet<string>): string | undefined => {
    const clippable = entries.filter(([k, v]) => canClip(k, v, protect));
    const fixed = Buffer.byteLength(JSON.stringify(Object.fromEntries(entries.map(([k, v]) => [k, canClip(k, v, protect) ? null : v])))) - 4 * clippable.length;
    const sizeAt = (cap: number): number => {
      let n = fixed;
      for (const [k, v] of clippable) {
        const c = info(k, v);
        n += clips(c, cap) ? clippedBytes(c, cap) : c.jsonBytes;
      }
      return n;
    };
    if (sizeAt(0) > maxBytes) return undefined;
    let lo = 0;
    let hi = Math.min(maxBytes, Math.max(0, ...clippable.map(([k, v]) => info(k, v).chars)));
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (sizeAt(mid) <= maxBytes) lo = mid;
      else hi = mid - 1;
    }
    // The count is exact; should it ever be off, step down until the real JSON fits.
    for (;;) {
      const json = fits(withCap(lo, protect));
      if (json !== undefined || lo === 0) return json;
      lo = Math.floor(lo * 0.9);
    }
  };
  const json = bestCap(kept) ?? bestCap(new Set());
  if (json !== undefined) return { json, trimmed: true };
  // Too many fields even as bare markers: keep the key columns and as many leading fields as fit.
  const recordSha = sha256(whole);
  const wholeBytes = Buffer.byteLength(whole);
  const out: Record<string, unknown> = {};
  for (const k of keep) if (k in record) out[k] = record[k];
  const shrunk = withCap(0, kept);
  const rest = entries.filter(([k]) => !kept.has(k));
  let taken = 0;
  const note = (n: number): string => `[trimmed: ${n} more fields cut; original record ${wholeBytes} bytes, sha-256 ${recordSha}]`;
  for (const [k] of rest) {
    const trial = { ...out, [k]: shrunk[k], [TRIMMED_FIELDS_KEY]: note(rest.length - taken - 1) };
    if (!fits(trial)) break;
    out[k] = shrunk[k];
    taken++;
  }
  const last = fits({ ...out, [TRIMMED_FIELDS_KEY]: note(rest.length - taken) });
  // Even the key columns do not fit: only the marker is left (what identifies the record is in the report's
  // task, origin and row index).
  return { json: last ?? JSON.stringify({ [TRIMMED_FIELDS_KEY]: note(entries.length) }), trimmed: true };
}

/** A quarantined record as the QuarantineReport carries it (proto QuarantinedRecord, camelCase). */
export interface QuarantinedRecordBody {
  id: number;
  side: string;
  origin: string;
  rowIndex: number;
  reason: string;
  field: string;
  recordJson: string;
  createdAtMs: number;
}

/** A record of the spool's quarantine, as reportQuarantine reads it. */
export interface QuarantineRow {
  id: number;
  side: string;
  origin: string;
  rowIndex: number;
  reason: string;
  field: string | null;
  record: Record<string, unknown>;
  createdAt: number;
}

/** Reason, origin and field clipped to their caps; the record's values trimmed to maxRecordBytes. */
export function toReportRecord(r: QuarantineRow, maxRecordBytes: number, keyColumns: readonly string[]): QuarantinedRecordBody {
  return {
    id: r.id,
    side: r.side,
    origin: clipText(r.origin, MAX_NAME_CHARS),
    rowIndex: r.rowIndex,
    reason: clipText(r.reason, MAX_REASON_CHARS),
    field: clipText(r.field ?? '', MAX_NAME_CHARS),
    recordJson: trimRecord(r.record, maxRecordBytes, keyColumns).json,
    createdAtMs: r.createdAt,
  };
}

/**
 * Bodies of quarantine reports for one task's newly quarantined records: each record trimmed to
 * maxRecordBytes, the records split in order into reports of at most maxReportBytes (encoded), each with
 * its own count and counts by reason (the reason up to its first ": ", at most 80 characters).
 */
export function quarantineReports(
  taskId: string,
  rows: readonly QuarantineRow[],
  opts: { maxRecordBytes: number; maxReportBytes: number; keyColumns: readonly string[] },
): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  let part: QuarantinedRecordBody[] = [];
  let partBytes = 0;
  // Room for task id, count and the by-reason map of a part (the map is bounded by the reasons' 80 chars).
  const fixed = fieldBytes(Buffer.byteLength(taskId)) + 16;
  const close = (): void => {
    if (part.length === 0) return;
    const byReason: Record<string, number> = {};
    for (const r of part) {
      const key = r.reason.replace(/: .*$/s, '').slice(0, 80);
      byReason[key] = (byReason[key] ?? 0) + 1;
    }
    bodies.push({ taskId, count: part.length, byReason, records: part });
    part = [];
    partBytes = 0;
  };
  for (const row of rows) {
    const rec = toReportRecord(row, opts.maxRecordBytes, opts.keyColumns);
    // Each record may add one by-reason entry of up to ~100 bytes.
    const bytes = quarantinedRecordBytes(rec) + 100;
    if (part.length > 0 && fixed + partBytes + bytes > opts.maxReportBytes) close();
    part.push(rec);
    partBytes += bytes;
  }
  close();
  return bodies;
}

/**
 * A stored report's body trimmed so that its item (built by toItem) encodes to at most maxItemBytes, or
 * undefined when trimming cannot get it there. Quarantine reports have their records re-trimmed to an
 * equal share of the room (their JSON kept valid); any other report has its longest strings clipped.
 */
export function fitReport(
  kind: string,
  body: Record<string, unknown>,
  maxItemBytes: number,
  toItem: (body: Record<string, unknown>) => ReportItem,
  keyColumns: readonly string[] = [],
): Record<string, unknown> | undefined {
  const size = (b: Record<string, unknown>): number => reportItemBytes(toItem(b));
  if (kind === 'quarantine' && Array.isArray(body['records'])) {
    const records = body['records'] as Partial<QuarantinedRecordBody>[];
    const skeleton = { ...body, records: [] };
    const room = maxItemBytes - size(skeleton);
    // An equal share per record, less its reason, origin, field and framing (bisected down if needed).
    for (let share = Math.floor(room / Math.max(1, records.length)); share >= 64; share = Math.floor(share / 2)) {
      const fitted = records.map((r) => {
        let values: Record<string, unknown>;
        try {
          const parsed = JSON.parse(String(r.recordJson ?? '{}')) as unknown;
          values = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
        } catch {
          values = { unparsable: String(r.recordJson) };
        }
        const rec = toReportRecord(
          {
            id: Number(r.id ?? 0),
            side: String(r.side ?? ''),
            origin: String(r.origin ?? ''),
            rowIndex: Number(r.rowIndex ?? 0),
            reason: String(r.reason ?? ''),
            field: String(r.field ?? ''),
            record: {},
            createdAt: Number(r.createdAtMs ?? 0),
          },
          0,
          [],
        );
        const overhead = quarantinedRecordBytes(rec) + 8;
        return { ...rec, recordJson: trimRecord(values, Math.max(16, share - overhead), keyColumns).json };
      });
      const b = { ...body, records: fitted };
      if (size(b) <= maxItemBytes) return b;
    }
    return undefined;
  }
  // Any other kind: clip every string longer than a common cap, the largest cap that fits.
  const capped = (v: unknown, cap: number): unknown => {
    if (typeof v === 'string') return clipText(v, cap);
    if (Array.isArray(v)) return v.map((x) => capped(x, cap));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, capped(x, cap)]));
    return v;
  };
  if (size(capped(body, 0) as Record<string, unknown>) > maxItemBytes) return undefined;
  let lo = 0;
  let hi = Buffer.byteLength(JSON.stringify(body));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(capped(body, mid) as Record<string, unknown>) <= maxItemBytes) lo = mid;
    else hi = mid - 1;
  }
  return capped(body, lo) as Record<string, unknown>;
}
