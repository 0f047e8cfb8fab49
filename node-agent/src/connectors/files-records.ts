// Directories of CSV and JSON-lines files as record sources and sinks. Source: every complete file of a
// directory, in name order, is a run of records, streamed (never loaded whole); bad lines come back with a
// per-row reason (SourcePage.errors) for quarantine. Sink: one file per applied batch, committed by rename.
//
// Values (the model of values/value.ts; records are always objects keyed by column name, never positions)
//  - CSV follows PostgreSQL COPY's CSV convention: an unquoted empty field is NULL, a quoted empty field ""
//    is the empty string; with `nullString` set (e.g. \N, COPY's NULL option) that unquoted text is NULL
//    instead and an unquoted empty field is ''. A quoted field is never NULL. Fields are never trimmed, and
//    'NULL' is just text. The source gives every non-NULL field as a string (typed fields coerce them).
//  - JSON-lines numbers arrive exactly: an integer literal as a number when safe, a bigint up to int64, a
//    Decimal beyond; any other number as a number when a double holds it exactly, else a Decimal. A nested
//    object or array is JsonText (minified, key order and number text kept). Lines whose numbers cannot
//    lose anything in a double (no run of 16+ digits or dots, no 3-digit exponent) and that hold no nested
//    value take JSON.parse; only the others take the lossless parser (lossless-json): reading 100k lines
//    measured 288 ms (JSON.parse path; 233 ms before this check) and 545 ms when every line has a big integer.
//  - Sinks write: NULL (CSV: the NULL marker unquoted; '' as ""), bigint and Decimal as their exact digits,
//    Temporal as its ISO text, binary as base64 text (JSON) or PostgreSQL's bytea hex \x... (CSV, which
//    COPY loads straight into bytea), JsonText as embedded JSON (JSON) or its text (CSV); JSON-lines
//    writes NaN/±Infinity as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
//
// Encodings: `encoding` on sources and sinks: utf-8 (default), gbk, gb18030, big5, utf-16le, utf-16be,
// utf-16 (byte order from the BOM, little-endian without one). Reading, a BOM at the start of a file wins
// over the setting (as the WHATWG decode algorithm does) and is skipped; UTF-16 sinks write a BOM, others
// none. Decoding is per physical line, after lines are split on bytes, so a character split across read
// chunks is decoded whole. An unknown encoding is refused when the connector opens (the task starts).
//
// Source invariants
//  - A file is complete when its name matches the pattern and neither starts with '.' nor ends with
//    '.tmp'/'.part'; a complete file is immutable. New files must sort after older ones by name (a file
//    that appears behind the read position is not read; it is reported once as an error row instead).
//  - Cursor { k: [file, line, offset] }: the last physical line (1-based) of the last record returned and
//    the byte offset after it. The offset makes a restart O(1); when it does not point at a line start of
//    the file (or is absent) the file is rescanned and records starting at or before `line` are skipped.
//  - Every line that is not a good record comes back as a row with an entry in `errors` (never dropped,
//    never fatal). Lines with bytes invalid in the file's encoding additionally keep U+FFFD in their values
//    (the decoder's replacement), so a reader that ignores `errors` still has the pipeline reject selected
//    fields of them as invalid text.
//  - A field `_op` (JSON) or column `_op` (CSV) with value "d" marks a tombstone, as the sink writes them.
//
// Sink invariants
//  - Batch (stream, seq) is the file "<stream>.<seq, 12 digits>.<csv|jsonl>", written as ".<name>.tmp",
//    fsynced, renamed, and the directory fsynced: the rename is the commit, so the directory is the ledger.
//  - Stream keys are encoded injectively in names: [A-Za-z0-9_-] kept, '/' → '.', anything else %XX.
//  - A value the sink's encoding cannot represent (𠀀 in GBK) fails the batch with the row and column named;
//    nothing is ever written as '?'.
import { mkdirSync, statSync } from 'node:fs';
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { isLosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { TextDecoder } from 'node:util';
import { Decimal, JsonText, Temporal, canonicalDecimal, doubleHolds, inInt64, normInt } from '../values/value.js';
import { ConnectorError, asList, type ApplyOptions, type ApplyOutcome, type RefusedRecord, type Cursor, type RecordSink, type RecordSource, type SinkBatch, type SourcePage } from './types.js';

export type RecordFileFormat = 'csv' | 'jsonl';

/**
 * Text encodings of record files (case-insensitive; aliases utf8, cp936 → gbk, utf16le, utf16be, utf16).
 * gbk reads GB18030's four-byte sequences too (one decoder, as in the WHATWG Encoding standard) but writes
 * only GBK (CP936); gb18030 writes every Unicode character.
 */
export const RECORD_FILE_ENCODINGS = ['utf-8', 'gbk', 'gb18030', 'big5', 'utf-16le', 'utf-16be', 'utf-16'] as const;
export type RecordFileEncoding = (typeof RECORD_FILE_ENCODINGS)[number];

export interface FileRecordSourceConfig {
  type: RecordFileFormat;
  /** Directory holding the files (must exist). */
  dir: string;
  /** Key column(s) of the records (used by lookup). */
  key: string | string[];
  /** Glob on file names ('*' any run, '?' one character); default '*.csv' or '*.jsonl' by type. */
  pattern?: string;
  /**
   * Text encoding of the files (default 'utf-8'), one of RECORD_FILE_ENCODINGS. A BOM at the start of a
   * file (UTF-8, UTF-16LE, UTF-16BE) wins over this setting and is skipped. Bytes invalid in the encoding
   * quarantine their record with the reason; the rest goes on.
   */
  encoding?: string;
  /**
   * CSV only: the unquoted field text read as NULL (COPY's NULL option, e.g. "\\N"); default '' (an unquoted
   * empty field is NULL, "" is the empty string). At most 64 characters, without '"', ',', CR or LF.
   */
  nullString?: string;
  /** Longest line (CSV: record) accepted, in bytes (default 16 MiB); a longer one is quarantined. */
  maxLineBytes?: number;
}

export interface FileRecordSinkConfig {
  type: RecordFileFormat;
  /** Directory the batch files are written to (created when missing). */
  dir: string;
  /** Key column(s); every batch with rows must carry them. */
  key: string | string[];
  /** Text encoding of the files written (default 'utf-8'), one of RECORD_FILE_ENCODINGS; UTF-16 gets a BOM. */
  encoding?: string;
  /** CSV only: the text written, unquoted, for NULL (default ''); text equal to it is written quoted. */
  nullString?: string;
}

const SOURCE_KEYS = ['type', 'dir', 'key', 'pattern', 'encoding', 'nullString', 'maxLineBytes'];
const SINK_KEYS = ['type', 'dir', 'key', 'encoding', 'nullString'];
const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
/** Characters of a bad line kept in its error row (the quarantine record). */
const PREVIEW_CHARS = 4096;
/** A cached directory listing is read again after this long even when it still has a next file. */
const LISTING_MAX_AGE_MS = 1000;
const OP_FIELD = '_op';

interface Common {
  format: RecordFileFormat;
  dir: string;
  keys: string[];
  charset: Charset;
  nullString: string;
}

function checkCommon(binding: string, cfg: Record<string, unknown>, allowed: string[], what: string): Common {
  // A key set to undefined is absent (callers spread a binding and unset what does not apply, e.g. cursor).
  const unknown = Object.keys(cfg).filter((k) => cfg[k] !== undefined && !allowed.includes(k));
  const problems: string[] = [];
  if (unknown.length) problems.push(`unknown setting${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  const format = cfg['type'];
  if (format !== 'csv' && format !== 'jsonl') problems.push(`type must be csv or jsonl`);
  const dir = cfg['dir'];
  if (typeof dir !== 'string' || !dir) problems.push('dir is required');
  const keys = asList(cfg['key']);
  if (keys.length === 0) problems.push('key is required (key: id)');
  const enc = cfg['encoding'];
  let charset = CHARSETS['utf-8'];
  if (enc !== undefined) {
    const c = typeof enc === 'string' ? charsetOf(enc) : undefined;
    if (c) charset = c;
    else problems.push(`encoding ${JSON.stringify(enc)} is not supported (use one of ${RECORD_FILE_ENCODINGS.join(', ')})`);
  }
  const nul = cfg['nullString'];
  if (nul !== undefined) {
    if (format === 'jsonl') problems.push('nullString applies to csv only (JSON has null)');
    else if (typeof nul !== 'string' || nul.length > 64 || /[",\r\n]/.test(nul)) problems.push('nullString must be text of at most 64 characters without \'"\', \',\', CR or LF (e.g. \\N)');
  }
  if (problems.length) throw new ConnectorError(binding, `${String(format)} ${what}: ${problems.join('; ')}`);
  return { format: format as RecordFileFormat, dir: dir as string, keys, charset, nullString: (nul as string | undefined) ?? '' };
}

// ---------------------------------------------------------------------------------------------------
// Encodings

/** How the bytes of one encoding are split into lines and turned into text and back. */
interface Charset {
  name: RecordFileEncoding;
  /** Name in messages ('GBK', 'UTF-8'). */
  display: string;
  /** Bytes of '\n' (and of '\r'): one for ASCII-compatible encodings, two for UTF-16 (aligned code units). */
  newline: Buffer;
  cr: Buffer;
  /** Label for TextDecoder (Node's full ICU). */
  decoderLabel: string;
  /** Byte order mark written at the start of a sink file. */
  bom: Buffer;
  /** Text → bytes; `lossy` is true when some character has no representation (iconv-lite wrote '?'). */
  encode(text: string): { bytes: Buffer; lossy: boolean };
}

function asciiCompatible(name: RecordFileEncoding, display: string, iconvName: string | undefined): Charset {
  return {
    name,
    display,
    newline: Buffer.from([0x0a]),
    cr: Buffer.from([0x0d]),
    decoderLabel: name,
    bom: Buffer.alloc(0),
    encode: iconvName
      ? (text) => {
          const bytes = iconv.encode(text, iconvName);
          // iconv-lite writes '?' (0x3F) for a character the encoding lacks. In GBK, GB18030 and Big5 the
          // byte 0x3F is never part of a multi-byte character, so more 0x3F bytes than '?' characters
          // means something was replaced.
          return { bytes, lossy: count(bytes, 0x3f) !== countChar(text, '?') };
        }
      : (text) => ({ bytes: Buffer.from(text, 'utf8'), lossy: false }),
  };
}

function utf16(name: RecordFileEncoding, le: boolean): Charset {
  return {
    name,
    display: le ? 'UTF-16LE' : 'UTF-16BE',
    newline: Buffer.from(le ? [0x0a, 0x00] : [0x00, 0x0a]),
    cr: Buffer.from(le ? [0x0d, 0x00] : [0x00, 0x0d]),
    decoderLabel: le ? 'utf-16le' : 'utf-16be',
    bom: Buffer.from(le ? [0xff, 0xfe] : [0xfe, 0xff]),
    encode: (text) => {
      const bytes = Buffer.from(text, 'utf16le');
      if (!le) bytes.swap16();
      return { bytes, lossy: false };
    },
  };
}

const CHARSETS: Record<RecordFileEncoding, Charset> = {
  'utf-8': asciiCompatible('utf-8', 'UTF-8', undefined),
  gbk: asciiCompatible('gbk', 'GBK', 'gbk'),
  gb18030: asciiCompatible('gb18030', 'GB18030', 'gb18030'),
  big5: asciiCompatible('big5', 'Big5', 'big5'),
  'utf-16le': utf16('utf-16le', true),
  'utf-16be': utf16('utf-16be', false),
  // Without a BOM, UTF-16 is read (and written) little-endian, as Windows programs write it.
  'utf-16': { ...utf16('utf-16', true), display: 'UTF-16' },
};

const ALIASES: Record<string, RecordFileEncoding> = { utf8: 'utf-8', cp936: 'gbk', utf16le: 'utf-16le', utf16be: 'utf-16be', utf16: 'utf-16' };

function charsetOf(name: string): Charset | undefined {
  const n = name.trim().toLowerCase();
  const canon = (RECORD_FILE_ENCODINGS as readonly string[]).includes(n) ? (n as RecordFileEncoding) : ALIASES[n];
  return canon ? CHARSETS[canon] : undefined;
}

/** The encoding a file's first bytes announce with a BOM, and the BOM's length; else the configured one. */
function sniffBom(head: Buffer, configured: Charset): { charset: Charset; bomBytes: number } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { charset: CHARSETS['utf-8'], bomBytes: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { charset: configured.name === 'utf-16' ? configured : CHARSETS['utf-16le'], bomBytes: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { charset: CHARSETS['utf-16be'], bomBytes: 2 };
  return { charset: configured, bomBytes: 0 };
}

function count(b: Buffer, byte: number): number {
  let n = 0;
  for (let i = b.indexOf(byte); i >= 0; i = b.indexOf(byte, i + 1)) n++;
  return n;
}

function countChar(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/** Decodes the lines of one file: text, and whether the bytes were invalid in the encoding (then U+FFFD). */
class LineDecoder {
  private readonly fatal: TextDecoder | undefined;
  private readonly lenient: TextDecoder | undefined;

  constructor(readonly charset: Charset) {
    if (charset.name !== 'utf-8') {
      this.fatal = new TextDecoder(charset.decoderLabel, { fatal: true, ignoreBOM: true });
      this.lenient = new TextDecoder(charset.decoderLabel, { ignoreBOM: true });
    }
  }

  decode(bytes: Buffer): { text: string; bad: boolean } {
    if (!this.fatal) return decodeUtf8(bytes);
    try {
      return { text: this.fatal.decode(bytes), bad: false };
    } catch {
      return { text: this.lenient!.decode(bytes), bad: true };
    }
  }

  /** 'invalid GBK', for error reasons. */
  get invalid(): string {
    return `invalid ${this.charset.display}`;
  }
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
  private readonly opts: ReaderOptions;
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
    if (cfg.pattern !== undefined && (typeof cfg.pattern !== 'string' || !cfg.pattern)) throw new ConnectorError(binding, `${this.format} source: pattern must be a file name glob such as *.${this.format}`);
    if (cfg.maxLineBytes !== undefined && !(Number.isSafeInteger(cfg.maxLineBytes) && cfg.maxLineBytes >= 1024))
      throw new ConnectorError(binding, `${this.format} source: maxLineBytes must be an integer ≥ 1024`);
    this.match = globToRegExp(cfg.pattern ?? `*.${this.format}`);
    this.maxLineBytes = cfg.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.opts = { format: this.format, maxLineBytes: this.maxLineBytes, charset: c.charset, nullString: c.nullString };
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
      if (!cached && start) reader = await RecordFileReader.open(this.dir, start.file, this.opts, start);
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
        reader = await RecordFileReader.open(this.dir, next, this.opts, undefined);
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
      const reader = await RecordFileReader.open(this.dir, name, this.opts, undefined);
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

/**
 * Buffered line splitting of a file from a byte offset; memory bounded by the longest accepted line. Lines
 * end at the encoding's '\n' (one byte, or an aligned UTF-16 code unit: reads stay even-sized from an
 * even offset, so a code unit never straddles two chunks); a multi-byte character split between chunks is
 * joined before it is decoded.
 */
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
    private readonly charset: Charset,
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
      const nl = this.findNewline();
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
        this.at = nl + this.charset.newline.length;
        return this.make(true);
      }
      this.at = stop;
    }
  }

  /** Index in the chunk of the next line end from `at` (which is always code-unit aligned), or -1. */
  private findNewline(): number {
    const nl = this.charset.newline;
    if (nl.length === 1) return this.chunk.indexOf(0x0a, this.at);
    for (let from = this.at; ; ) {
      const i = this.chunk.indexOf(nl, from);
      if (i < 0 || (i - this.at) % 2 === 0) return i;
      from = i + 1;
    }
  }

  async next(): Promise<RawLine | undefined> {
    for (;;) {
      const l = this.take();
      if (l !== NEED) return l;
      // A fresh buffer per read: lines already returned may still reference the previous one.
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      let { bytesRead } = await this.fh.read(buf, 0, CHUNK_BYTES, this.readPos);
      // Keep UTF-16 reads whole code units (a short read is read again from its odd byte); a lone last
      // byte of the file is taken as it is (and decoded as invalid).
      if (this.charset.newline.length === 2 && bytesRead % 2 === 1 && bytesRead > 1) bytesRead--;
      this.chunk = buf.subarray(0, bytesRead);
      this.at = 0;
      this.readPos += bytesRead;
      this.eof = bytesRead === 0;
    }
  }

  private make(terminated: boolean): RawLine {
    let bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.len);
    const crb = this.charset.cr;
    const cr = bytes.length >= crb.length && (crb.length === 1 ? bytes[bytes.length - 1] === 0x0d : bytes.subarray(bytes.length - 2).equals(crb));
    if (cr) bytes = bytes.subarray(0, bytes.length - crb.length);
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

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 text of a line; `bad` when the bytes are not valid UTF-8 (then invalid sequences are U+FFFD). */
function decodeUtf8(bytes: Buffer): { text: string; bad: boolean } {
  const text = bytes.toString('utf8');
  // Without U+FFFD in the output the input was valid; with it, it may also be a literal U+FFFD.
  if (!text.includes('\uFFFD')) return { text, bad: false };
  try {
    fatalUtf8.decode(bytes);
    return { text, bad: false };
  } catch {
    return { text, bad: true };
  }
}

// ---- exact JSON numbers ------------------------------------------------------------------------------

/**
 * Whether JSON.parse might change a number of this line: only a number with 16 or more significant digits
 * (a run of 16+ digits or dots from a digit) or an exponent of three digits (overflow, underflow) can lose anything in
 * a double; any decimal of at most 15 significant digits survives the round trip (DBL_DIG = 15). Digits
 * inside strings match too: then the line merely takes the slow path.
 */
// Both alternatives start with a digit: measured ~1.7× faster than starting the second one at [eE].
const MAYBE_INEXACT = /[0-9][0-9.]{15}|[0-9][eE][+-]?[0-9]{3}/;
const INTEGER_LITERAL = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * A JSON number token in the value model: an integer literal as a number when safe, a bigint within int64,
 * a Decimal beyond; any other as a number when a double holds it exactly, else a Decimal (its text as
 * written, or without the exponent when it had one). Throws when the exponent is beyond ±10000.
 */
export function jsonNumber(text: string): number | bigint | Decimal {
  if (INTEGER_LITERAL.test(text)) {
    if (text.length <= 16) {
      const n = Number(text);
      if (Number.isSafeInteger(n)) return n;
    }
    const b = BigInt(text);
    return inInt64(b) ? normInt(b) : new Decimal(text);
  }
  if (doubleHolds(text) !== undefined) return Number(text);
  if (!/[eE]/.test(text)) return new Decimal(text);
  const plain = canonicalDecimal(text);
  if (plain === undefined) throw new Error(`number ${text.length > 40 ? text.slice(0, 40) + '…' : text} is out of range`);
  return new Decimal(plain);
}

export type JsonRecordResult = { ok: true; row: Record<string, unknown> } | { ok: false; reason: string; notObject?: true };

/**
 * One JSON-lines record as model values, exactly (see the file's top comment). JSON.parse when nothing can
 * be lost, else lossless-json. Duplicate keys: JSON.parse keeps the last, lossless-json refuses the line
 * (then it is malformed).
 */
export function parseJsonRecord(text: string): JsonRecordResult {
  if (!MAYBE_INEXACT.test(text)) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, reason: 'not a JSON object', notObject: true };
    const row = v as Record<string, unknown>;
    let nested = false;
    for (const k in row) {
      const x = row[k];
      if (x !== null && typeof x === 'object') {
        nested = true;
        break;
      }
    }
    if (!nested) return { ok: true, row };
  }
  let v: unknown;
  try {
    v = losslessParse(text);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || isLosslessNumber(v)) return { ok: false, reason: 'not a JSON object', notObject: true };
  const row = v as Record<string, unknown>;
  try {
    // In place: an own '__proto__' key (lossless-json defines it as a data property) is assigned as data.
    for (const k of Object.keys(row)) {
      const x = row[k];
      if (isLosslessNumber(x)) row[k] = jsonNumber(x.value);
      else if (x !== null && typeof x === 'object') row[k] = new JsonText(losslessStringify(x) ?? 'null');
    }
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  return { ok: true, row };
}

/** How a reader reads: the source's settings. */
interface ReaderOptions {
  format: RecordFileFormat;
  maxLineBytes: number;
  /** The configured encoding (a file's BOM may override it). */
  charset: Charset;
  nullString: string;
}

/** Records of one file, in line order, from its start or from a saved position. */
class RecordFileReader {
  private header: string[] | undefined;
  private headerError: string | undefined;
  /** Index of the `_op` column in the header, or -1. */
  private opIndex = -1;
  private pending: FileRecord | undefined;
  private readonly csv: CsvRecordParser;
  private readonly format: RecordFileFormat;
  private readonly maxLineBytes: number;

  private constructor(
    readonly name: string,
    private readonly fh: FileHandle,
    private lines: LineReader,
    private readonly decoder: LineDecoder,
    opts: ReaderOptions,
  ) {
    this.format = opts.format;
    this.maxLineBytes = opts.maxLineBytes;
    this.csv = new CsvRecordParser(opts.nullString);
  }

  /** Opens `name` at `resume` (or its start); undefined when the file is gone. */
  static async open(dir: string, name: string, opts: ReaderOptions, resume: Position | undefined): Promise<RecordFileReader | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(join(dir, name), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const head = Buffer.alloc(3);
      const { bytesRead } = await fh.read(head, 0, 3, 0);
      const { charset, bomBytes } = sniffBom(head.subarray(0, bytesRead), opts.charset);
      const r = new RecordFileReader(name, fh, new LineReader(fh, bomBytes, 0, opts.maxLineBytes, charset), new LineDecoder(charset), opts);
      if (opts.format === 'csv') await r.readHeader();
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
    const nl = this.decoder.charset.newline;
    if (pos.offset !== undefined && pos.offset > 0 && pos.offset >= headerEnd && pos.offset <= size && pos.line > 0 && pos.offset % nl.length === 0) {
      const prev = Buffer.alloc(nl.length);
      const atLineStart = pos.offset === size || ((await this.fh.read(prev, 0, nl.length, pos.offset - nl.length)).bytesRead === nl.length && prev.equals(nl));
      if (atLineStart) {
        this.lines = new LineReader(this.fh, pos.offset, pos.line, this.maxLineBytes, this.decoder.charset);
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

  private async nextJson(): Promise<FileRecord | undefined> {
    for (;;) {
      const l = await nextLine(this.lines);
      if (!l) return undefined;
      const fail = (error: string, text: string): FileRecord => ({ row: this.errorRow(l.no, text), op: 'u', error, line: l.no, endLine: l.no, end: this.lines.offset });
      if (l.dropped) return fail(`line longer than ${this.maxLineBytes} bytes at ${this.name}:${l.no}`, '');
      const { text, bad } = this.decoder.decode(l.bytes);
      if (text.trim() === '') continue;
      const r = parseJsonRecord(text);
      if (!r.ok) {
        if (r.notObject) return fail(`not a JSON object at ${this.name}:${l.no}`, text);
        const what = l.terminated ? 'malformed JSON' : 'truncated line';
        return fail(`${what} at ${this.name}:${l.no}: ${r.reason}${bad ? ` (and ${this.decoder.invalid})` : ''}`, text);
      }
      const row = r.row;
      const op = takeOp(row);
      if (op === undefined) return fail(`bad ${OP_FIELD} value at ${this.name}:${l.no} (use "u" or "d")`, text);
      return { row, op, error: bad ? `${this.decoder.invalid} at ${this.name}:${l.no}` : undefined, line: l.no, endLine: l.no, end: this.lines.offset };
    }
  }

  private async readHeader(): Promise<void> {
    const r = await this.readCsvRecord();
    if (!r) return;
    // Any text names a column (姓名, "2024 人口", leading digits, spaces); only these cannot.
    const names = r.fields.map((n) => n ?? '');
    const seen = new Set<string>();
    let problem = r.error ?? (r.bad ? this.decoder.invalid : undefined);
    for (const [i, n] of names.entries()) {
      if (problem) break;
      if (r.fields[i] === null) problem = this.csv.nullString ? `column ${i + 1} is named by the NULL marker ${JSON.stringify(this.csv.nullString)} (quote it)` : 'an empty column name';
      else if (n === '') problem = 'an empty column name';
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
      else if (v !== 'u' && v !== '' && v !== null) return fail(`bad ${OP_FIELD} value at ${this.name}:${r.line} (use "u", "d" or empty)`);
    }
    return { row, op, error: r.bad ? `${this.decoder.invalid} at ${this.name}:${r.line}` : undefined, line: r.line, endLine: r.endLine, end: r.end };
  }

  /** The next CSV record (one or more physical lines when a quoted field holds line breaks); blank lines skipped. */
  private async readCsvRecord(): Promise<{ fields: (string | null)[]; error: string | undefined; bad: boolean; text: string; line: number; endLine: number; end: number; terminated: boolean } | undefined> {
    let l: RawLine | undefined;
    do l = await nextLine(this.lines);
    while (l && !l.dropped && l.bytes.length === 0);
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
      const d = this.decoder.decode(l.bytes);
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
 * Python's csv does); text after a closing quote is an error. Fields are not trimmed. An unquoted field
 * equal to `nullString` is NULL (PostgreSQL COPY's CSV rule); a quoted one never is.
 */
class CsvRecordParser {
  fields: (string | null)[] = [];
  error: string | undefined;
  private field = '';
  private quoted = false;
  private state: 'start' | 'plain' | 'quoted' | 'quote' = 'start';

  constructor(readonly nullString: string) {}

  reset(): void {
    this.fields = [];
    this.error = undefined;
    this.field = '';
    this.quoted = false;
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
            this.quoted = true;
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
    this.fields.push(!this.quoted && this.field === this.nullString ? null : this.field);
    this.field = '';
    this.quoted = false;
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
  private readonly charset: Charset;
  private readonly nullString: string;
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
    this.charset = c.charset;
    this.nullString = c.nullString;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw new ConnectorError(binding, `cannot create directory ${this.dir}: ${(err as Error).message}`);
    }
  }

  /**
   * Writes the batch as one file. A record the file cannot hold (a character the encoding lacks, JSON text
   * that is not JSON) is left out and handed to `opts.onRefused` before the commit; without that callback
   * the whole batch fails with the reason (nothing is dropped silently). A column name the encoding cannot
   * write fails the batch.
   */
  apply(stream: string, seq: number, batch: SinkBatch, opts?: ApplyOptions): Promise<ApplyOutcome> {
    const run = this.queue.then(() => this.applyNow(stream, seq, batch, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async lastSequence(stream: string): Promise<number> {
    return (await this.scanLedger()).get(encodeStreamName(stream)) ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  /** File name of a batch. */
  fileName(stream: string, seq: number): string {
    return `${encodeStreamName(stream)}.${String(seq).padStart(12, '0')}.${this.format}`;
  }

  private async applyNow(stream: string, seq: number, batch: SinkBatch, opts: ApplyOptions | undefined): Promise<ApplyOutcome> {
    if (this.closed) throw new ConnectorError(this.binding, 'sink is closed');
    const ledger = await this.scanLedger();
    const enc = encodeStreamName(stream);
    const last = ledger.get(enc) ?? 0;
    if (seq <= last) return 'duplicate';
    if (seq !== last + 1) return 'gap';
    if (batch.rows.length) for (const k of this.keyColumns) if (!batch.columns.includes(k)) throw new ConnectorError(this.binding, `batch lacks key column ${k}`);
    // An empty batch (every record quarantined) still gets its file: the file is the ledger entry.
    const { bytes, refused } = this.render(batch);
    if (refused.length && !opts?.onRefused) throw new ConnectorError(this.binding, `${this.format} sink: row ${refused[0]!.index + 1}: ${refused[0]!.reason}`);
    const content = this.charset.bom.length ? Buffer.concat([this.charset.bom, bytes]) : bytes;
    const name = this.fileName(stream, seq);
    const tmp = join(this.dir, `.${name}.tmp`);
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(content);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (refused.length) opts!.onRefused!(refused);
      await rename(tmp, join(this.dir, name));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new ConnectorError(this.binding, `writing ${name}: ${(err as Error).message}`);
    }
    await syncDir(this.dir);
    ledger.set(enc, seq);
    return 'applied';
  }

  /** The file's bytes (without BOM) and the records left out, each with the reason. */
  private render(b: SinkBatch): { bytes: Buffer; refused: RefusedRecord[] } {
    const refused: RefusedRecord[] = [];
    let head = '';
    const lines: (string | undefined)[] = [];
    if (this.format === 'csv') {
      const f = csvFormatter(b, this.nullString);
      head = f.header;
      for (let i = 0; i < b.rows.length; i++) lines.push(f.line(i));
    } else
      for (let i = 0; i < b.rows.length; i++) {
        try {
          lines.push(jsonLine(b, i));
        } catch (err) {
          lines.push(undefined);
          refused.push({ index: i, reason: (err as Error).message });
        }
      }
    const whole = this.charset.encode(head + lines.join(''));
    if (!whole.lossy) return { bytes: whole.bytes, refused };
    // Rare: find what the encoding cannot write, line by line.
    const h = unencodable(head, this.charset);
    if (h) throw new ConnectorError(this.binding, `${this.format} sink: a column name: ${h}`);
    for (let i = 0; i < lines.length; i++) {
      const why = lines[i] === undefined ? undefined : unencodable(lines[i]!, this.charset);
      if (why) {
        lines[i] = undefined;
        refused.push({ index: i, reason: `a value: ${why}` });
      }
    }
    refused.sort((x, y) => x.index - y.index);
    return { bytes: this.charset.encode(head + lines.join('')).bytes, refused };
  }

  /** The ledger, from one directory scan shared by every caller (a second scan could miss a commit in between). */
  private scanLedger(): Promise<Map<string, number>> {
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

/** Why the encoding cannot write `text` (the first character it lacks), or undefined when it can. */
function unencodable(text: string, charset: Charset): string | undefined {
  if (!charset.encode(text).lossy) return undefined;
  for (const ch of text)
    if (charset.encode(ch).lossy) return `character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} ${JSON.stringify(ch)} cannot be written in ${charset.display} (encoding gb18030 or utf-8 can)`;
  return `it cannot be written in ${charset.display}`;
}

/**
 * A model value as CSV field text (null for NULL): numbers, bigints and decimals as their exact digits
 * (-0, NaN, Infinity, -Infinity as such), booleans true/false, Temporal as its ISO text, binary as
 * PostgreSQL's bytea hex \x0a1b…, JSON as its text.
 */
function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
    case 'boolean':
      return String(v);
  }
  if (v instanceof Decimal || v instanceof Temporal || v instanceof JsonText) return v.text;
  if (Buffer.isBuffer(v)) return '\\x' + v.toString('hex');
  if (v instanceof Uint8Array) return '\\x' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** One CSV field: NULL as the NULL marker unquoted; text that would read back otherwise ('' or the marker itself, quotes, commas, line breaks) quoted. */
function csvField(v: unknown, nullString: string): string {
  const s = textOf(v);
  if (s === null) return nullString;
  return s === '' || s === nullString || /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Header row and RFC 4180 records, each with its CRLF; NULL is an unquoted `nullString` (default empty), '' is "". */
function csvFormatter(b: SinkBatch, nullString: string): { header: string; line: (i: number) => string } {
  if (b.columns.length === 0) return { header: '', line: () => '' };
  const withOp = b.ops.some((o) => o === 'd');
  // Column names are never NULL: '' and the marker come out quoted, as any text that needs it.
  const header = [...b.columns, ...(withOp ? [OP_FIELD] : [])].map((c) => csvField(c, nullString)).join(',') + '\r\n';
  return {
    header,
    line(i) {
      const row = b.rows[i]!;
      let out = '';
      for (let j = 0; j < b.columns.length; j++) out += (j ? ',' : '') + csvField(row[j], nullString);
      if (withOp) out += b.ops[i] === 'd' ? ',d' : ',u';
      return out + '\r\n';
    },
  };
}

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/**
 * A model value as JSON text: bigint and Decimal as raw number literals (exact digits; a Decimal NaN or
 * ±Infinity, and a double NaN/±Infinity, as the strings "NaN", "Infinity", "-Infinity"), Temporal as its
 * ISO text, binary as a base64 string, JsonText embedded as JSON (on one line). Throws on a JsonText that
 * is not JSON.
 */
function jsonOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : String(v)) : JSON.stringify(String(v));
    case 'bigint':
    case 'boolean':
      return String(v);
  }
  if (v instanceof Decimal) {
    if (JSON_NUMBER.test(v.text)) return v.text;
    const plain = canonicalDecimal(v.text);
    if (plain !== undefined && JSON_NUMBER.test(plain)) return plain;
    return JSON.stringify(/^-?inf/i.test(v.text) ? (v.text.startsWith('-') ? '-Infinity' : 'Infinity') : /^nan$/i.test(v.text) ? 'NaN' : v.text);
  }
  if (v instanceof Temporal) return JSON.stringify(v.text);
  if (v instanceof JsonText) {
    try {
      JSON.parse(v.text);
    } catch {
      throw new Error(`a JSON value that is not JSON: ${JSON.stringify(v.text.slice(0, 40))}`);
    }
    // Raw line breaks in JSON text can only be whitespace between tokens (in strings they are escaped).
    return /[\r\n]/.test(v.text) ? v.text.replace(/[\r\n]+/g, ' ') : v.text;
  }
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64'));
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null';
}

/** Row `i` as one JSON object and its '\n', keys in the batch's column order, with "_op":"d" on a tombstone. */
function jsonLine(b: SinkBatch, i: number): string {
  const row = b.rows[i]!;
  let line = '{';
  for (let j = 0; j < b.columns.length; j++) {
    try {
      line += (j ? ',' : '') + JSON.stringify(b.columns[j]) + ':' + jsonOf(row[j]);
    } catch (err) {
      throw new Error(`column ${b.columns[j]}: ${(err as Error).message}`);
    }
  }
  if (b.ops[i] === 'd') line += (b.columns.length ? ',' : '') + `"${OP_FIELD}":"d"`;
  return line + '}\n';
}
