// Records of one file (CSV or JSON-lines), in line order, from its start or from a saved position; every
// line that is not a good record comes back with a reason (never dropped, never fatal).
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CsvRecordParser } from './csv.js';
import { LineDecoder, sniffBom, type Charset } from './encodings.js';
import { OP_FIELD, parseJsonRecord } from './json.js';
import { LineReader, nextLine, type RawLine } from './lines.js';

export type RecordFileFormat = 'csv' | 'jsonl';

/** Characters of a bad line kept in its error row (the quarantine record). */
const PREVIEW_CHARS = 4096;

/** Where a source stands: after `line` (1-based, physical) of `file`, at byte `offset` when known. */
export interface Position {
  file: string;
  line: number;
  offset: number | undefined;
}

export interface FileRecord {
  row: Record<string, unknown>;
  op: 'u' | 'd';
  error?: string | undefined;
  /** First and last physical line of the record. */
  line: number;
  endLine: number;
  /** Byte offset after the record's last line. */
  end: number;
}

/** How a reader reads: the source's settings. */
export interface ReaderOptions {
  format: RecordFileFormat;
  maxLineBytes: number;
  /** The configured encoding (a file's BOM may override it). */
  charset: Charset;
  nullString: string;
}

/** Records of one file, in line order, from its start or from a saved position. */
export class RecordFileReader {
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
  static async open(
    dir: string,
    name: string,
    opts: ReaderOptions,
    resume: Position | undefined,
  ): Promise<RecordFileReader | undefined> {
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
      const r = new RecordFileReader(
        name,
        fh,
        new LineReader(fh, bomBytes, 0, opts.maxLineBytes, charset),
        new LineDecoder(charset),
        opts,
      );
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
    if (
      pos.offset !== undefined &&
      pos.offset > 0 &&
      pos.offset >= headerEnd &&
      pos.offset <= size &&
      pos.line > 0 &&
      pos.offset % nl.length === 0
    ) {
      const prev = Buffer.alloc(nl.length);
      const atLineStart =
        pos.offset === size ||
        ((await this.fh.read(prev, 0, nl.length, pos.offset - nl.length)).bytesRead === nl.length && prev.equals(nl));
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
    return {
      _file: this.name,
      _line: line,
      _text: text.length > PREVIEW_CHARS ? text.slice(0, PREVIEW_CHARS) + '…' : text,
    };
  }

  private async nextJson(): Promise<FileRecord | undefined> {
    for (;;) {
      const l = await nextLine(this.lines);
      if (!l) return undefined;
      const fail = (error: string, text: string): FileRecord => ({
        row: this.errorRow(l.no, text),
        op: 'u',
        error,
        line: l.no,
        endLine: l.no,
        end: this.lines.offset,
      });
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
      return {
        row,
        op,
        error: bad ? `${this.decoder.invalid} at ${this.name}:${l.no}` : undefined,
        line: l.no,
        endLine: l.no,
        end: this.lines.offset,
      };
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
      if (r.fields[i] === null)
        problem = this.csv.nullString
          ? `column ${i + 1} is named by the NULL marker ${JSON.stringify(this.csv.nullString)} (quote it)`
          : 'an empty column name';
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
    const fail = (error: string): FileRecord => ({
      row: this.errorRow(r.line, r.text),
      op: 'u',
      error,
      line: r.line,
      endLine: r.endLine,
      end: r.end,
    });
    if (this.headerError) return fail(this.headerError);
    if (r.error) return fail(`${r.error} at ${this.name}:${r.line}`);
    const header = this.header!;
    const fields = r.fields;
    if (fields.length !== header.length) {
      const detail = `${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`;
      return fail(
        `${r.terminated ? 'wrong number of columns' : 'truncated line'} at ${this.name}:${r.line}: ${detail}`,
      );
    }
    // Same keys in the same order for every row of the file: the rows share one object shape.
    const row: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) if (i !== this.opIndex) row[header[i]!] = fields[i];
    let op: 'u' | 'd' = 'u';
    if (this.opIndex >= 0) {
      const v = fields[this.opIndex];
      if (v === 'd') op = 'd';
      else if (v !== 'u' && v !== '' && v !== null)
        return fail(`bad ${OP_FIELD} value at ${this.name}:${r.line} (use "u", "d" or empty)`);
    }
    return {
      row,
      op,
      error: r.bad ? `${this.decoder.invalid} at ${this.name}:${r.line}` : undefined,
      line: r.line,
      endLine: r.endLine,
      end: r.end,
    };
  }

  /** The next CSV record (one or more physical lines when a quoted field holds line breaks); blank lines skipped. */
  private async readCsvRecord(): Promise<
    | {
        fields: (string | null)[];
        error: string | undefined;
        bad: boolean;
        text: string;
        line: number;
        endLine: number;
        end: number;
        terminated: boolean;
      }
    | undefined
  > {
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
    return {
      fields: p.fields,
      error: error ?? p.error,
      bad,
      text,
      line: first,
      endLine: l.no,
      end: this.lines.offset,
      terminated: l.terminated,
    };
  }
}

/** Removes the op marker from a row: 'u' or 'd', or undefined when its value is neither. */
function takeOp(row: Record<string, unknown>): 'u' | 'd' | undefined {
  if (!Object.hasOwn(row, OP_FIELD)) return 'u';
  const v = row[OP_FIELD];
  delete row[OP_FIELD];
  return v === 'd' ? 'd' : v === 'u' || v === '' || v === null ? 'u' : undefined;
}
