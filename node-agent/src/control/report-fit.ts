// Keeps reports within central's gRPC message limit: the exact encoded size of a report item, the split of
// many quarantined records into several reports (each record trimmed by record-trim.ts), and the fitting of
// one stored report that is still too large. Pure functions: the outbox and the flush loop decide when.
import { agentTypes, type ReportItem } from '../../../proto/index.js';
import { clipText, trimRecord } from './record-trim.js';

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
export function toReportRecord(
  r: QuarantineRow,
  maxRecordBytes: number,
  keyColumns: readonly string[],
): QuarantinedRecordBody {
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
          values =
            parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
              ? (parsed as Record<string, unknown>)
              : { value: parsed };
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
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, capped(x, cap)]));
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
