// Directories of CSV and JSON-lines files as record sources: every complete file of a directory, in name
// order, is a run of records, streamed (never loaded whole); bad lines come back with a per-row reason
// (SourcePage.errors) for quarantine. Values: files/csv.ts, files/json.ts; encodings: files/encodings.ts.
//
//
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
import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { ConnectorError, type Cursor, type RecordSource, type SourcePage } from '../types.js';
import { RecordFileReader, type Position, type ReaderOptions, type RecordFileFormat } from './reader.js';
import { checkCommon, type FileRecordSourceConfig } from './settings.js';

const SOURCE_KEYS = ['type', 'dir', 'key', 'pattern', 'encoding', 'nullString', 'maxLineBytes', 'requireAgreement'];
const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** A cached directory listing is read again after this long even when it still has a next file. */
const LISTING_MAX_AGE_MS = 1000;

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
    if (cfg.pattern !== undefined && (typeof cfg.pattern !== 'string' || !cfg.pattern))
      throw new ConnectorError(
        binding,
        `${this.format} source: pattern must be a file name glob such as *.${this.format}`,
      );
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
          errors.push(
            `file ${late} arrived after the source had read past its place in name order; it is not read (name new files so they sort after older ones)`,
          );
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
      throw new ConnectorError(
        this.binding,
        `cannot look up by ${JSON.stringify(given.join(', '))} (a ${this.format} directory is looked up by its key: ${this.keyColumns.join(', ')})`,
      );
    const want = this.keyColumns.map((k) => key[k]);
    if (want.some((v) => v === null || v === undefined)) return undefined;
    let found: Record<string, unknown> | undefined;
    for (const name of await this.list()) {
      const reader = await RecordFileReader.open(this.dir, name, this.opts, undefined);
      if (!reader) continue;
      try {
        for (let rec = await reader.next(); rec; rec = await reader.next()) {
          if (rec.error) continue;
          if (
            this.keyColumns.every(
              (k, i) => rec!.row[k] !== null && rec!.row[k] !== undefined && String(rec!.row[k]) === String(want[i]),
            )
          )
            found = rec.op === 'd' ? undefined : rec.row;
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
    const pick = (names: string[]): string | undefined =>
      from === undefined ? names[0] : names[firstAfter(names, from)];
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
  const body = [...glob]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

function parseCursor(cursor: Cursor, binding: string): Position | undefined {
  if (cursor === null || cursor === undefined || cursor.k === undefined || cursor.k === null) return undefined;
  const k = cursor.k;
  if (
    Array.isArray(k) &&
    typeof k[0] === 'string' &&
    k[0] &&
    !/[/\\]/.test(k[0]) &&
    Number.isSafeInteger(k[1]) &&
    (k[1] as number) >= 0
  ) {
    const off = k[2];
    return {
      file: k[0],
      line: k[1] as number,
      offset: Number.isSafeInteger(off) && (off as number) >= 0 ? (off as number) : undefined,
    };
  }
  throw new ConnectorError(
    binding,
    `cursor ${JSON.stringify(cursor)} is not a file position [file, line, offset] (was the binding another type before?)`,
  );
}
