// History files of traffic (流量历史导入导出), pure: a CSV with a header naming `timestamp`, `records` and
// optionally `bytes`, one row per interval. Reading checks every row and reports each bad one with its line
// number; writing gives the same format, timestamps in ISO 8601 with central's UTC offset.
//
// The fields are timestamps and numbers, so no field holds a comma, a quote or a line break: a line is split
// on commas, and a field wrapped in double quotes (as spreadsheets write them) is unwrapped. No CSV library
// is needed for that.
import { rebucket, HOUR_MS, MINUTE_MS, type TrafficCounts } from './traffic.js';
import type { TimeZone } from './time-zone.js';

/** One row of a history file: `records` (and `bytes`, null when absent) over [timestampMs, + the interval). */
export interface HistoryRow {
  line: number;
  timestampMs: number;
  records: number;
  bytes: number | null;
}

/** A bad row: its line number (1 is the header) and what is wrong. */
export interface RowError {
  line: number;
  message: string;
}

/** Rows of a file, or its errors (at most `maxErrors` listed; errorCount counts them all). */
export type ParsedHistory =
  { ok: true; rows: HistoryRow[]; intervalMs: number } | { ok: false; errors: RowError[]; errorCount: number };

/** Shortest and longest interval between rows: 1 min to 1 h. */
export const MIN_INTERVAL_MS = MINUTE_MS;
export const MAX_INTERVAL_MS = HOUR_MS;
/** Bad rows listed by default. */
export const MAX_LISTED_ERRORS = 100;

const COLUMNS = ['timestamp', 'records', 'bytes'] as const;
// ISO 8601 (T, optional seconds and fraction, optional Z or offset) or `YYYY-MM-DD HH:MM[:SS]` local time.
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T| )(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Reads a history file. Timestamps without a zone are local time of `zone`. The interval is the smallest gap
 * between consecutive timestamps (rows may be missing: a missing row is no data); every row must lie on that
 * grid, from 1 min to 1 h; a file of one row is one interval of `singleRowMs`.
 */
export function parseHistoryCsv(
  text: string,
  zone: TimeZone,
  singleRowMs: number,
  maxErrors = MAX_LISTED_ERRORS,
): ParsedHistory {
  const errors: RowError[] = [];
  let errorCount = 0;
  const bad = (line: number, message: string): void => {
    errorCount++;
    if (errors.length < maxErrors) errors.push({ line, message });
  };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const col = (name: string): number => header.indexOf(name);
  const unknown = header.filter((h) => !(COLUMNS as readonly string[]).includes(h));
  if (col('timestamp') < 0 || col('records') < 0 || unknown.length > 0) {
    const what = unknown.length ? `unknown column(s) ${unknown.join(', ')}` : 'missing timestamp or records';
    return {
      ok: false,
      errors: [{ line: 1, message: `header: ${what}; expected timestamp,records[,bytes]` }],
      errorCount: 1,
    };
  }
  const rows: HistoryRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const row = parseRow(splitLine(raw), header, i + 1, zone);
    if ('message' in row) bad(i + 1, row.message);
    else rows.push(row);
  }
  if (rows.length === 0 && errorCount === 0) bad(2, 'no rows');
  if (errorCount === 0) checkGrid(rows, bad);
  if (errorCount > 0) return { ok: false, errors, errorCount };
  rows.sort((a, b) => a.timestampMs - b.timestampMs);
  return { ok: true, rows, intervalMs: intervalOf(rows) ?? singleRowMs };
}

function splitLine(line: string): string[] {
  return line.split(',').map((f) => {
    const t = f.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"').trim() : t;
  });
}

function parseRow(fields: string[], header: string[], line: number, zone: TimeZone): HistoryRow | RowError {
  if (fields.length !== header.length)
    return { line, message: `${fields.length} field(s), the header has ${header.length}` };
  const get = (name: string): string => fields[header.indexOf(name)] ?? '';
  const ts = parseTimestamp(get('timestamp'), zone);
  if (typeof ts === 'string') return { line, message: `timestamp ${JSON.stringify(get('timestamp'))}: ${ts}` };
  const records = parseCount(get('records'));
  if (typeof records === 'string') return { line, message: `records ${JSON.stringify(get('records'))}: ${records}` };
  let bytes: number | null = null;
  if (header.includes('bytes') && get('bytes') !== '') {
    const b = parseCount(get('bytes'));
    if (typeof b === 'string') return { line, message: `bytes ${JSON.stringify(get('bytes'))}: ${b}` };
    bytes = b;
  }
  return { line, timestampMs: ts, records, bytes };
}

/** A timestamp in ms, or why it is refused. */
export function parseTimestamp(text: string, zone: TimeZone): number | string {
  const m = TIME_RE.exec(text);
  if (!m) return 'not ISO 8601 nor YYYY-MM-DD HH:MM:SS';
  const n = (i: number): number => Number(m[i] ?? 0);
  const [y, mo, d, h, mi, s] = [n(1), n(2), n(3), n(4), n(5), n(6)];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const check = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi
  )
    return 'no such date or time';
  const zoneText = m[8];
  if (!zoneText) return zone.toUtc(y, mo - 1, d, h, mi, s, ms);
  if (zoneText === 'Z') return check.getTime() + ms;
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zoneText)!;
  const offsetMs = (Number(z[2]) * 60 + Number(z[3])) * MINUTE_MS * (z[1] === '-' ? -1 : 1);
  return check.getTime() + ms - offsetMs;
}

/** A non-negative count, decimals rounded half up, or why it is refused. */
function parseCount(text: string): number | string {
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(text)) return 'must be a non-negative number';
  const n = Math.round(Number(text));
  return Number.isSafeInteger(n) ? n : 'too large';
}

/** The smallest positive gap between consecutive timestamps, undefined for one row. */
function intervalOf(sorted: readonly HistoryRow[]): number | undefined {
  let min: number | undefined;
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i]!.timestampMs - sorted[i - 1]!.timestampMs;
    if (gap > 0 && (min === undefined || gap < min)) min = gap;
  }
  return min;
}

/** Duplicates, an interval outside 1 min..1 h, rows off the grid: each reported on its line. */
function checkGrid(rows: readonly HistoryRow[], bad: (line: number, message: string) => void): void {
  const sorted = [...rows].sort((a, b) => a.timestampMs - b.timestampMs || a.line - b.line);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.timestampMs === sorted[i - 1]!.timestampMs)
      bad(sorted[i]!.line, `the same timestamp as line ${sorted[i - 1]!.line}`);
  const interval = intervalOf(sorted);
  if (interval === undefined) return;
  if (interval < MIN_INTERVAL_MS || interval > MAX_INTERVAL_MS) {
    const pair = sorted.findIndex((r, i) => i > 0 && r.timestampMs - sorted[i - 1]!.timestampMs === interval);
    bad(sorted[pair]!.line, `rows ${interval / 1000} s apart: the interval must be 1 min to 1 h`);
    return;
  }
  const first = sorted[0]!.timestampMs;
  for (const r of sorted)
    if ((r.timestampMs - first) % interval !== 0)
      bad(r.line, `off the ${interval / 1000} s grid of the rows (the file's rows must be at one fixed interval)`);
}

/** Rows put into buckets of `bucketMs` (finer rows add up, coarser rows spread evenly), by bucket start. */
export function bucketsOfRows(
  rows: readonly HistoryRow[],
  intervalMs: number,
  bucketMs: number,
): Map<number, TrafficCounts> {
  const out = new Map<number, TrafficCounts>();
  for (const r of rows) {
    const counts: TrafficCounts = {
      batches: 0,
      records: r.records,
      bytes: r.bytes,
      latencyP50Ms: null,
      latencyP99Ms: null,
      errors: 0,
    };
    for (const b of rebucket(r.timestampMs, intervalMs, counts, bucketMs)) {
      const had = out.get(b.bucketStart);
      out.set(
        b.bucketStart,
        had
          ? {
              ...had,
              records: had.records + b.counts.records,
              bytes: had.bytes === null ? b.counts.bytes : had.bytes + (b.counts.bytes ?? 0),
            }
          : b.counts,
      );
    }
  }
  return out;
}

/** A history file of these buckets: header, then one row per bucket in time order. */
export function historyCsv(
  buckets: readonly { startMs: number; records: number; bytes: number | null }[],
  zone: TimeZone,
): string {
  const lines = ['timestamp,records,bytes'];
  for (const b of buckets) lines.push(`${zone.iso(b.startMs)},${b.records},${b.bytes ?? ''}`);
  return lines.join('\n') + '\n';
}
