// Directories of CSV and JSON-lines files as record sources and sinks. Source: every complete file of a
// directory, in name order, is a run of records, streamed (never loaded whole); bad lines come back with a
// per-row reason (SourcePage.errors) for quarantine. Sink: one file per applied batch, committed by rename.
//
// Source invariants
//  - A file is complete when its name matches the pattern and neither starts with '.' nor ends with
//    '.tmp'/'.part'; a complete file is immutable. New files must sort after older ones by name (a file
//    that appears behind the read position is not read; it is reported once as an error row instead).
//  - Cursor { k: [file, line, offset] }: the last physical line (1-based) of the last record returned and
//    the byte offset after it. The offset makes a restart O(1); when it does not point at a line start of
//    the file (or is absent) the file is rescanned and records starting at or before `line` are skipped.
//  - Every line that is not a good record comes back as a row with an entry in `errors` (never dropped,
//    never fatal). Lines with invalid UTF-8 additionally keep U+FFFD in their values (the decoder's
//    replacement), so a reader that ignores `errors` still has the pipeline reject selected fields of them
//    as "invalid UTF-8 text".
//  - A field `_op` (JSON) or column `_op` (CSV) with value "d" marks a tombstone, as the sink writes them.
//
// Sink invariants
//  - Batch (stream, seq) is the file "<stream>.<seq, 12 digits>.<csv|jsonl>", written as ".<name>.tmp",
//    fsynced, renamed, and the directory fsynced: the rename is the commit, so the directory is the ledger.
//  - Stream keys are encoded injectively in names: [A-Za-z0-9_-] kept, '/' → '.', anything else %XX.
import { mkdirSync, statSync } from 'node:fs';
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConnectorError, asList, type ApplyOutcome, type Cursor, type RecordSink, type RecordSource, type SinkBatch, type SourcePage } from './types.js';

export type RecordFileFormat = 'csv' | 'jsonl';

export interface FileRecordSourceConfig {
  type: RecordFileFormat;
  /** Directory holding the files (must exist). */
  dir: string;
  /** Key column(s) of the records (used by lookup). */
  key: string | string[];
  /** Glob on file names ('*' any run, '?' one character); default '*.csv' or '*.jsonl' by type. */
  pattern?: string;
  /** Text encoding of the files; only UTF-8 (default 'utf8'). A UTF-8 BOM at the start is skipped. */
  encoding?: 'utf8' | 'utf-8';
  /** Longest line (CSV: record) accepted, in bytes (default 16 MiB); a longer one is quarantined. */
  maxLineBytes?: number;
}

export interface FileRecordSinkConfig {
  type: RecordFileFormat;
  /** Directory the batch files are written to (created when missing). */
  dir: string;
  /** Key column(s); every batch with rows must carry them. */
  key: string | string[];
}

const SOURCE_KEYS = ['type', 'dir', 'key', 'pattern', 'encoding', 'maxLineBytes'];
const SINK_KEYS = ['type', 'dir', 'key'];
const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
/** Characters of a bad line kept in its error row (the quarantine record). */
const PREVIEW_CHARS = 4096;
/** A cached directory listing is read again after this long even when it still has a next file. */
const LISTING_MAX_AGE_MS = 1000;
const OP_FIELD = '_op';

function checkCommon(binding: string, cfg: Record<string, unknown>, allowed: string[], what: string): { format: RecordFileFormat; dir: string; keys: string[] } {
  const unknown = Object.keys(cfg).filter((k) => !allowed.includes(k));
  const problems: string[] = [];
  if (unknown.length) problems.push(`unknown setting${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  const format = cfg['type'];
  if (format !== 'csv' && format !== 'jsonl') problems.push(`type must be csv or jsonl`);
  const dir = cfg['dir'];
  if (typeof dir !== 'string' || !dir) problems.push('dir is required');
  const keys = asList(cfg['key']);
  if (keys.length === 0) problems.push('key is required (key: id)');
  if (problems.length) throw new ConnectorError(binding, `${String(format)} ${what}: ${problems.join('; ')}`);
  return { format: format as RecordFileFormat, dir: dir as string, keys };
}

// ---------------------------------------------------------------------------------------------------
// Source

/** Where a source stands: after `line` (1-based, physical) of `file`, at byte `offset` when known. */
interface Position {
  file: string;
  line: number;
  offset: number | undefined;
}

interface FileRecord {
  row: Record<string, unknown>;
  op: 'u' | 'd';
  error?: string | undefined;
  /** First and last physical line of the record. */
  line: number;
  endLine: number;
  /** Byte offset after the record's last line. */
  end: number;
}

export class FileRecordSource implements RecordSource {
  readonly keyColumns: readonly string[];
  readonly mode = 'incremental' as const;
  readonly format: RecordFileFormat;
  private readonly dir: string;
  private readonly match: RegExp;
  private readonly maxLineBytes: number;
  /** The reader left after the last page and the cursor its position stands for (sequential reads reuse it). */
  private current: { reader: RecordFileReader; anchor: string } | undefined;
  private listing: { names: string[]; at: number } | undefined;
  /** Every file name seen in a listing; undefined until the first one. */
  private known: Set<string> | undefined;
  /** Files found behind the read position, not yet reported. */
  private readonly late: string[] = [];

  constructor(
    readonly binding: string,
    cfg: FileRecordSourceConfig,
  ) {
    const c = checkCommon(binding, cfg as unknown as Record<string, unknown>, SOURCE_KEYS, 'source');
    this.format = c.format;
    this.dir = c.dir;
    this.keyColumns = c.keys;
    if (cfg.encoding !== undefined && cfg.encoding !== 'utf8' && cfg.encoding !== 'utf-8')
      throw new ConnectorError(binding, `${this.format} source: encoding ${String(cfg.encoding)} is not supported (utf8 only)`);
    if (cfg.pattern !== undefined && (typeof cfg.pattern !== 'string' || !cfg.pattern)) throw new ConnectorError(binding, `${this.format} source: pattern must be a file name glob such as *.${this.format}`);
    if (cfg.maxLineBytes !== undefined && !(Number.isSafeInteger(cfg.maxLineBytes) && cfg.maxLineBytes >= 1024))
      throw new ConnectorError(binding, `${this.format} source: maxLineBytes must be an integer ≥ 1024`);
    this.match = globToRegExp(cfg.pattern ?? `*.${this.format}`);
    this.maxLineBytes = cfg.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    let isDir = false;
    try {
      isDir = statSync(this.dir).isDirectory();
    } catch (err) {
      throw new ConnectorError(binding, `cannot read directory ${this.dir}: ${(err as Error).message}`);
    }
    if (!isDir) throw new ConnectorError(binding, `${this.dir} is not a directory`);
  }

  async read(cursor: Cursor, limit: number): Promise<SourcePage> {
    const start = parseCursor(cursor, this.binding);
    const anchor = JSON.stringify(cursor ?? null);
    const cached = this.current?.anchor === anchor ? this.current.reader : undefined;
    if (!cached) await this.current?.reader.close();
    this.current = undefined;
    let reader = cached;
    let after = start?.file;
    const rows: Record<string, unknown>[] = [];
    const ops: ('u' | 'd')[] = [];
    const errors: (string | undefined)[] = [];
    let last: Position | undefined;
    let exhausted = false;
    try {
      if (!cached && start) reader = await RecordFileReader.open(this.dir, start.file, this.format, this.maxLineBytes, start);
      while (rows.length < limit) {
        const late = this.late.shift();
        if (late !== undefined) {
          rows.push({ _file: late });
          ops.push('u');
          errors.push(`file ${late} arrived after the source had read past its place in name order; it is not read (name new files so they sort after older ones)`);
          continue;
        }
        const rec = reader ? await reader.next() : undefined;
        if (rec) {
          rows.push(rec.row);
          ops.push(rec.op);
          errors.push(rec.error);
          last = { file: reader!.name, line: rec.endLine, offset: rec.end };
          continue;
        }
        // This file is done (or there is none yet): move on to the next complete file by name.
        const next = await this.nextFile(reader?.name ?? after);
        if (this.late.length) continue;
        if (next === undefined) {
          exhausted = true;
          break;
        }
        await reader?.close();
        reader = await RecordFileReader.open(this.dir, next, this.format, this.maxLineBytes, undefined);
        after = next;
      }
    } catch (err) {
      await reader?.close();
      throw new ConnectorError(this.binding, `reading ${this.dir}: ${(err as Error).message}`);
    }
    const out: Cursor = last ? { k: [last.file, last.line, last.offset] } : cursor;
    if (reader) this.current = { reader, anchor: JSON.stringify(out ?? null) };
    return { rows, ops, cursor: out, exhausted, ...(errors.some((e) => e !== undefined) && { errors }) };
  }

  /**
   * The latest record with this key (a later record replaces an earlier one; a tombstone removes it).
   * Scans every file: O(total size of the directory), meant for rare online look-ups only.
   */
  async lookup(key: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const given = Object.keys(key);
    if (given.length !== this.keyColumns.length || !given.every((k) => this.keyColumns.includes(k)))
      throw new ConnectorError(this.binding, `cannot look up by ${JSON.stringify(given.join(', '))} (a ${this.format} directory is looked up by its key: ${this.keyColumns.join(', ')})`);
    const want = this.keyColumns.map((k) => key[k]);
    if (want.some((v) => v === null || v === undefined)) return undefined;
    let found: Record<string, unknown> | undefined;
    for (const name of await this.list()) {
      const reader = await RecordFileReader.open(this.dir, name, this.format, this.maxLineBytes, undefined);
      if (!reader) continue;
      try {
        for (let rec = await reader.next(); rec; rec = await reader.next()) {
          if (rec.error) continue;
          if (this.keyColumns.every((k, i) => rec!.row[k] !== null && rec!.row[k] !== undefined && String(rec!.row[k]) === String(want[i]))) found = rec.op === 'd' ? undefined : rec.row;
        }
      } finally {
        await reader.close();
      }
    }
    return found;
  }

  async close(): Promise<void> {
    await this.current?.reader.close();
    this.current = undefined;
  }

  /** Complete files in name order (code-unit order, not locale). */
  private async list(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    return entries
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && isComplete(e.name) && this.match.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * The first complete file after `from` (or the first of all); lists the directory again when the cached
   * listing has nothing after `from` or is older than a second. Files new since the last listing that sort
   * before `from` are queued in `late`, once each, to be reported as error rows.
   */
  private async nextFile(from: string | undefined): Promise<string | undefined> {
    const pick = (names: string[]): string | undefined => (from === undefined ? names[0] : names[firstAfter(names, from)]);
    if (this.listing && Date.now() - this.listing.at < LISTING_MAX_AGE_MS) {
      const next = pick(this.listing.names);
      if (next !== undefined) return next;
    }
    const names = await this.list();
    this.listing = { names, at: Date.now() };
    if (!this.known) this.known = new Set(names);
    else
      for (const n of names)
        if (!this.known.has(n)) {
          this.known.add(n);
          if (from !== undefined && n < from) this.late.push(n);
        }
    return pick(names);
  }
}

/** Index of the first name greater than `from` in sorted `names` (binary search: directories may hold many files). */
function firstAfter(names: string[], from: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid]! > from) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function isComplete(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('.tmp') && !name.endsWith('.part');
}

function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

function parseCursor(cursor: Cursor, binding: string): Position | undefined {
  if (cursor === null || cursor === undefined || cursor.k === undefined || cursor.k === null) return undefined;
  const k = cursor.k;
  if (Array.isArray(k) && typeof k[0] === 'string' && k[0] && !/[/\\]/.test(k[0]) && Number.isSafeInteger(k[1]) && (k[1] as number) >= 0) {
    const off = k[2];
    return { file: k[0], line: k[1] as number, offset: Number.isSafeInteger(off) && (off as number) >= 0 ? (off as number) : undefined };
  }
  throw new ConnectorError(binding, `cursor ${JSON.stringify(cursor)} is not a file position [file, line, offset] (was the binding another type before?)`);
}

/** One physical line without its terminator ('\n' or '\r\n'). */
interface RawLine {
  bytes: Buffer;
  no: number;
  /** False for a last line without a newline. */
  terminated: boolean;
  cr: boolean;
  /** Bytes dropped because the line was longer than the limit (then `bytes` is empty). */
  dropped: number;
}

/** What LineReader.take() returns when the buffer holds no complete line: call next() (which reads). */
const NEED = Symbol('need more bytes');

/** Buffered line splitting of a file from a byte offset; memory bounded by the longest accepted line. */
class LineReader {
  private chunk: Buffer = Buffer.alloc(0);
  private at = 0;
  private eof = false;
  /** The line being assembled across chunks. */
  private parts: Buffer[] = [];
  private len = 0;
  private dropped = 0;

  constructor(
    private readonly fh: FileHandle,
    private readPos: number,
    private lineNo: number,
    private readonly maxBytes: number,
  ) {}

  /** Byte offset after the last line returned. */
  get offset(): number {
    return this.readPos - (this.chunk.length - this.at);
  }

  /** The next line from the buffer without I/O; NEED when it must read first (most calls need not await). */
  take(): RawLine | undefined | typeof NEED {
    for (;;) {
      if (this.at >= this.chunk.length) {
        if (!this.eof) return NEED;
        // End of file, reported once: the next call reads again (so a file that grew is read on).
        this.eof = false;
        return this.len || this.dropped ? this.make(false) : undefined;
      }
      const nl = this.chunk.indexOf(0x0a, this.at);
      const stop = nl < 0 ? this.chunk.length : nl;
      if (this.dropped || this.len + stop - this.at > this.maxBytes) {
        this.dropped += this.len + stop - this.at;
        this.parts = [];
        this.len = 0;
      } else if (stop > this.at) {
        this.parts.push(this.chunk.subarray(this.at, stop));
        this.len += stop - this.at;
      }
      if (nl >= 0) {
        this.at = nl + 1;
        return this.make(true);
      }
      this.at = stop;
    }
  }

  async next(): Promise<RawLine | undefined> {
    for (;;) {
      const l = this.take();
      if (l !== NEED) return l;
      // A fresh buffer per read: lines already returned may still reference the previous one.
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await this.fh.read(buf, 0, CHUNK_BYTES, this.readPos);
      this.chunk = buf.subarray(0, bytesRead);
      this.at = 0;
      this.readPos += bytesRead;
      this.eof = bytesRead === 0;
    }
  }

  private make(terminated: boolean): RawLine {
    let bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.len);
    const cr = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d;
    if (cr) bytes = bytes.subarray(0, bytes.length - 1);
    const line: RawLine = { bytes, no: ++this.lineNo, terminated, cr, dropped: this.dropped };
    this.parts = [];
    this.len = 0;
    this.dropped = 0;
    return line;
  }
}

/** The next line, awaiting only when the buffer is empty. */
function nextLine(r: LineReader): RawLine | undefined | Promise<RawLine | undefined> {
  const l = r.take();
  return l === NEED ? r.next() : l;
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 text of a line; `bad` when the bytes are not valid UTF-8 (then invalid sequences are U+FFFD). */
function decode(bytes: Buffer): { text: string; bad: boolean } {
  const text = bytes.toString('utf8');
  // Without U+FFFD in the output the input was valid; with it, it may also be a literal U+FFFD.
  if (!text.includes('\uFFFD')) return { text, bad: false };
  try {
    fatalDecoder.decode(bytes);
    return { text, bad: false };
  } catch {
    return { text, bad: true };
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Records of one file, in line order, from its start or from a saved position. */
class RecordFileReader {
  private header: string[] | undefined;
  private headerError: string | undefined;
  /** Index of the `_op` column in the header, or -1. */
  private opIndex = -1;
  private pending: FileRecord | undefined;
  private readonly csv = new CsvRecordParser();

  private constructor(
    readonly name: string,
    private readonly fh: FileHandle,
    private lines: LineReader,
    private readonly format: RecordFileFormat,
    private readonly maxLineBytes: number,
  ) {}

  /** Opens `name` at `resume` (or its start); undefined when the file is gone. */
  static async open(dir: string, name: string, format: RecordFileFormat, maxLineBytes: number, resume: Position | undefined): Promise<RecordFileReader | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(join(dir, name), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const r = new RecordFileReader(name, fh, new LineReader(fh, 0, 0, maxLineBytes), format, maxLineBytes);
      if (format === 'csv') await r.readHeader();
      if (resume) await r.seek(resume);
      return r;
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }

  async next(): Promise<FileRecord | undefined> {
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      return p;
    }
    return this.format === 'csv' ? this.nextCsv() : this.nextJson();
  }

  /** Positions after `pos`: at its byte offset when that is a line start past the header, else by rescanning. */
  private async seek(pos: Position): Promise<void> {
    const headerEnd = this.lines.offset;
    const size = (await this.fh.stat()).size;
    if (pos.offset !== undefined && pos.offset > 0 && pos.offset >= headerEnd && pos.offset <= size && pos.line > 0) {
      const prev = Buffer.alloc(1);
      const atLineStart = pos.offset === size || ((await this.fh.read(prev, 0, 1, pos.offset - 1)).bytesRead === 1 && prev[0] === 0x0a);
      if (atLineStart) {
        this.lines = new LineReader(this.fh, pos.offset, pos.line, this.maxLineBytes);
        return;
      }
    }
    for (let rec = await this.next(); rec; rec = await this.next()) {
      if (rec.line > pos.line) {
        this.pending = rec;
        return;
      }
    }
  }

  private errorRow(line: number, text: string): Record<string, unknown> {
    return { _file: this.name, _line: line, _text: text.length > PREVIEW_CHARS ? text.slice(0, PREVIEW_CHARS) + '…' : text };
  }

  private lineBytes(l: RawLine): Buffer {
    return l.no === 1 && l.bytes.subarray(0, 3).equals(BOM) ? l.bytes.subarray(3) : l.bytes;
  }

  private async nextJson(): Promise<FileRecord | undefined> {
    for (;;) {
      const l = await nextLine(this.lines);
      if (!l) return undefined;
      const fail = (error: string, text: string): FileRecord => ({ row: this.errorRow(l.no, text), op: 'u', error, line: l.no, endLine: l.no, end: this.lines.offset });
      if (l.dropped) return fail(`line longer than ${this.maxLineBytes} bytes at ${this.name}:${l.no}`, '');
      const { text, bad } = decode(this.lineBytes(l));
      if (text.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (err) {
        const what = l.terminated ? 'malformed JSON' : 'truncated line';
        return fail(`${what} at ${this.name}:${l.no}: ${(err as Error).message}${bad ? ' (and invalid UTF-8)' : ''}`, text);
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(`not a JSON object at ${this.name}:${l.no}`, text);
      const row = v as Record<string, unknown>;
      const op = takeOp(row);
      if (op === undefined) return fail(`bad ${OP_FIELD} value at ${this.name}:${l.no} (use "u" or "d")`, text);
      return { row, op, error: bad ? `invalid UTF-8 at ${this.name}:${l.no}` : undefined, line: l.no, endLine: l.no, end: this.lines.offset };
    }
  }

  private async readHeader(): Promise<void> {
    const r = await this.readCsvRecord();
    if (!r) return;
    const names = r.fields;
    const seen = new Set<string>();
    let problem = r.error ?? (r.bad ? 'invalid UTF-8' : undefined);
    for (const n of names) {
      if (problem) break;
      if (n === '') problem = 'an empty column name';
      else if (seen.has(n)) problem = `duplicate column name ${JSON.stringify(n)}`;
      // Rows are built by assignment: this name would set their prototype instead of a field.
      else if (n === '__proto__') problem = 'a column named __proto__';
      seen.add(n);
    }
    this.header = names;
    this.opIndex = names.indexOf(OP_FIELD);
    if (problem) this.headerError = `bad header in ${this.name} (line ${r.line}): ${problem}`;
  }

  private async nextCsv(): Promise<FileRecord | undefined> {
    const r = await this.readCsvRecord();
    if (!r) return undefined;
    const fail = (error: string): FileRecord => ({ row: this.errorRow(r.line, r.text), op: 'u', error, line: r.line, endLine: r.endLine, end: r.end });
    if (this.headerError) return fail(this.headerError);
    if (r.error) return fail(`${r.error} at ${this.name}:${r.line}`);
    const header = this.header!;
    const fields = r.fields;
    if (fields.length !== header.length) {
      const detail = `${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`;
      return fail(`${r.terminated ? 'wrong number of columns' : 'truncated line'} at ${this.name}:${r.line}: ${detail}`);
    }
    // Same keys in the same order for every row of the file: the rows share one object shape.
    const row: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) if (i !== this.opIndex) row[header[i]!] = fields[i];
    let op: 'u' | 'd' = 'u';
    if (this.opIndex >= 0) {
      const v = fields[this.opIndex];
      if (v === 'd') op = 'd';
      else if (v !== 'u' && v !== '') return fail(`bad ${OP_FIELD} value at ${this.name}:${r.line} (use "u", "d" or empty)`);
    }
    return { row, op, error: r.bad ? `invalid UTF-8 at ${this.name}:${r.line}` : undefined, line: r.line, endLine: r.endLine, end: r.end };
  }

  /** The next CSV record (one or more physical lines when a quoted field holds line breaks); blank lines skipped. */
  private async readCsvRecord(): Promise<{ fields: string[]; error: string | undefined; bad: boolean; text: string; line: number; endLine: number; end: number; terminated: boolean } | undefined> {
    let l: RawLine | undefined;
    do l = await nextLine(this.lines);
    while (l && !l.dropped && this.lineBytes(l).length === 0);
    if (!l) return undefined;
    const first = l.no;
    const p = this.csv;
    p.reset();
    let bad = false;
    let text = '';
    let bytes = 0;
    let error: string | undefined;
    for (;;) {
      if (l.dropped) {
        error = `line longer than ${this.maxLineBytes} bytes`;
        break;
      }
      const d = decode(this.lineBytes(l));
      bad ||= d.bad;
      bytes += l.bytes.length + 1;
      if (text.length < PREVIEW_CHARS) text += (l.no === first ? '' : '\n') + d.text;
      if (p.feed(d.text)) break;
      if (!l.terminated) {
        error = 'truncated line';
        break;
      }
      if (bytes > this.maxLineBytes) {
        error = `record longer than ${this.maxLineBytes} bytes (a quoted field not closed?)`;
        break;
      }
      p.lineBreak(l.cr ? '\r\n' : '\n');
      const nx = await nextLine(this.lines);
      if (!nx) {
        error = 'unterminated quoted field';
        break;
      }
      l = nx;
    }
    return { fields: p.fields, error: error ?? p.error, bad, text, line: first, endLine: l.no, end: this.lines.offset, terminated: l.terminated };
  }
}

/** Removes the op marker from a row: 'u' or 'd', or undefined when its value is neither. */
function takeOp(row: Record<string, unknown>): 'u' | 'd' | undefined {
  if (!Object.hasOwn(row, OP_FIELD)) return 'u';
  const v = row[OP_FIELD];
  delete row[OP_FIELD];
  return v === 'd' ? 'd' : v === 'u' || v === '' || v === null ? 'u' : undefined;
}

/**
 * RFC 4180 fields of one record, fed line by line. A quote inside an unquoted field is taken literally (as
 * Python's csv does); text after a closing quote is an error. Fields are not trimmed.
 */
class CsvRecordParser {
  fields: string[] = [];
  error: string | undefined;
  private field = '';
  private state: 'start' | 'plain' | 'quoted' | 'quote' = 'start';

  reset(): void {
    this.fields = [];
    this.error = undefined;
    this.field = '';
    this.state = 'start';
  }

  /** Feeds one physical line (without its terminator); true when the record is complete. */
  feed(line: string): boolean {
    const n = line.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case 'start':
          if (line.charCodeAt(i) === 0x22) {
            this.state = 'quoted';
            i++;
          } else this.state = 'plain';
          break;
        case 'plain': {
          const comma = line.indexOf(',', i);
          if (comma < 0) {
            this.field += line.slice(i);
            i = n;
          } else {
            this.field += line.slice(i, comma);
            this.endField();
            i = comma + 1;
          }
          break;
        }
        case 'quoted': {
          const q = line.indexOf('"', i);
          if (q < 0) {
            this.field += line.slice(i);
            i = n;
          } else {
            this.field += line.slice(i, q);
            this.state = 'quote';
            i = q + 1;
          }
          break;
        }
        case 'quote': {
          const c = line.charCodeAt(i);
          if (c === 0x22) {
            this.field += '"';
            this.state = 'quoted';
            i++;
          } else if (c === 0x2c) {
            this.endField();
            i++;
          } else {
            this.error ??= `text after the closing quote of field ${this.fields.length + 1}`;
            this.state = 'plain';
          }
          break;
        }
      }
    }
    if (this.state === 'quoted') return false;
    this.endField();
    return true;
  }

  /** The line break inside a quoted field, as it was in the file. */
  lineBreak(term: string): void {
    this.field += term;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.state = 'start';
  }
}

// ---------------------------------------------------------------------------------------------------
// Sink

const SINK_FILE = /^(.+)\.(\d{12,})\.(csv|jsonl)$/;

/** Stream key → file name part; injective ([A-Za-z0-9_-] kept, '/' → '.', anything else as %XX of UTF-8). */
export function encodeStreamName(stream: string): string {
  let out = '';
  for (const ch of stream) {
    if (/[A-Za-z0-9_-]/.test(ch)) out += ch;
    else if (ch === '/') out += '.';
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export class FileRecordSink implements RecordSink {
  readonly format: RecordFileFormat;
  private readonly dir: string;
  private readonly keyColumns: string[];
  /** Encoded stream → highest committed sequence, from one directory scan. */
  private ledger: Promise<Map<string, number>> | undefined;
  /** Applies run one at a time: the ledger check and the commit of one must not interleave with another. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly binding: string,
    cfg: FileRecordSinkConfig,
  ) {
    const c = checkCommon(binding, cfg as unknown as Record<string, unknown>, SINK_KEYS, 'sink');
    this.format = c.format;
    this.dir = c.dir;
    this.keyColumns = c.keys;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new ConnectorError(binding, `cannot create directory ${this.dir}: ${(err as Error).message}`);
    }
  }

  apply(stream: string, seq: number, batch: SinkBatch): Promise<ApplyOutcome> {
    const run = this.queue.then(() => this.applyNow(stream, seq, batch));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async lastSequence(stream: string): Promise<number> {
    return (await this.scan()).get(encodeStreamName(stream)) ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  /** File name of a batch. */
  fileName(stream: string, seq: number): string {
    return `${encodeStreamName(stream)}.${String(seq).padStart(12, '0')}.${this.format}`;
  }

  private async applyNow(stream: string, seq: number, batch: SinkBatch): Promise<ApplyOutcome> {
    if (this.closed) throw new ConnectorError(this.binding, 'sink is closed');
    const ledger = await this.scan();
    const enc = encodeStreamName(stream);
    const last = ledger.get(enc) ?? 0;
    if (seq <= last) return 'duplicate';
    if (seq !== last + 1) return 'gap';
    if (batch.rows.length) for (const k of this.keyColumns) if (!batch.columns.includes(k)) throw new ConnectorError(this.binding, `batch lacks key column ${k}`);
    // An empty batch (every record quarantined) still gets its file: the file is the ledger entry.
    const content = this.format === 'csv' ? formatCsv(batch) : formatJsonl(batch);
    const name = this.fileName(stream, seq);
    const tmp = join(this.dir, `.${name}.tmp`);
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(content, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(this.dir, name));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new ConnectorError(this.binding, `writing ${name}: ${(err as Error).message}`);
    }
    await syncDir(this.dir);
    ledger.set(enc, seq);
    return 'applied';
  }

  /** The ledger, from one directory scan shared by every caller (a second scan could miss a commit in between). */
  private scan(): Promise<Map<string, number>> {
    this.ledger ??= readdir(this.dir).then((names) => {
      const ledger = new Map<string, number>();
      for (const name of names) {
        if (name.startsWith('.')) continue;
        const m = SINK_FILE.exec(name);
        if (!m) continue;
        const seq = Number(m[2]);
        if (seq > (ledger.get(m[1]!) ?? 0)) ledger.set(m[1]!, seq);
      }
      return ledger;
    });
    void this.ledger.catch(() => (this.ledger = undefined));
    return this.ledger;
  }
}

/** Makes the rename durable (the directory entry), where the platform allows fsync of a directory. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    /* not supported here (e.g. some network file systems): the rename itself is still atomic */
  } finally {
    await fh?.close();
  }
}

function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

function csvField(v: unknown): string {
  const s = textOf(v);
  if (s === null) return '';
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Header row and RFC 4180 records (CRLF); null and empty text are both an empty field. */
function formatCsv(b: SinkBatch): string {
  if (b.columns.length === 0) return '';
  const withOp = b.ops.some((o) => o === 'd');
  const lines = [[...b.columns, ...(withOp ? [OP_FIELD] : [])].map(csvField).join(',')];
  for (let i = 0; i < b.rows.length; i++) {
    const row = b.rows[i]!;
    const fields = b.columns.map((_c, j) => csvField(row[j]));
    if (withOp) fields.push(b.ops[i] === 'd' ? 'd' : 'u');
    lines.push(fields.join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

function formatJsonl(b: SinkBatch): string {
  let out = '';
  for (let i = 0; i < b.rows.length; i++) {
    const row = b.rows[i]!;
    const obj = Object.fromEntries(b.columns.map((c, j) => [c, row[j] === undefined ? null : row[j]]));
    if (b.ops[i] === 'd') obj[OP_FIELD] = 'd';
    out += JSON.stringify(obj, (_k, x: unknown) => (typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x)) + '\n';
  }
  return out;
}
