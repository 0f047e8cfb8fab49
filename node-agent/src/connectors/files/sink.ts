// Directories of CSV and JSON-lines files as record sinks: one file per applied batch, committed by rename.
//
//  - Batch (stream, seq) is the file "<stream>.<seq, 12 digits>.<csv|jsonl>", written as ".<name>.tmp",
//    fsynced, renamed, and the directory fsynced: the rename is the commit, so the directory is the ledger.
//  - Stream keys are encoded injectively in names: [A-Za-z0-9_-] kept, '/' → '.', anything else %XX.
//  - A value the sink's encoding cannot represent (𠀀 in GBK) fails the batch with the row and column named;
//    nothing is ever written as '?'.
import { mkdirSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConnectorError,
  type ApplyOptions,
  type ApplyOutcome,
  type RecordSink,
  type RefusedRecord,
  type SinkBatch,
  type SinkSession,
} from '../types.js';
import { csvFormatter } from './csv.js';
import { syncDir } from './durable.js';
import type { Charset } from './encodings.js';
import { jsonLine } from './json.js';
import type { RecordFileFormat } from './reader.js';
import { checkCommon, type FileRecordSinkConfig } from './settings.js';

const SINK_KEYS = ['type', 'dir', 'key', 'encoding', 'nullString'];

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

  /** Each batch is one file, committed as it is applied: a session only applies them in turn (no group commit). */
  begin(stream: string): Promise<SinkSession> {
    return Promise.resolve({
      apply: (seq, batch, opts) => this.apply(stream, seq, batch, opts),
      commit: () => Promise.resolve(),
      abort: () => Promise.resolve(),
    });
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

  private async applyNow(
    stream: string,
    seq: number,
    batch: SinkBatch,
    opts: ApplyOptions | undefined,
  ): Promise<ApplyOutcome> {
    if (this.closed) throw new ConnectorError(this.binding, 'sink is closed');
    const ledger = await this.scanLedger();
    const enc = encodeStreamName(stream);
    const last = ledger.get(enc) ?? 0;
    if (seq <= last) return 'duplicate';
    if (seq !== last + 1) return 'gap';
    if (batch.rows.length)
      for (const k of this.keyColumns)
        if (!batch.columns.includes(k)) throw new ConnectorError(this.binding, `batch lacks key column ${k}`);
    // An empty batch (every record quarantined) still gets its file: the file is the ledger entry.
    const { bytes, refused } = this.render(batch);
    if (refused.length && !opts?.onRefused)
      throw new ConnectorError(
        this.binding,
        `${this.format} sink: row ${refused[0]!.index + 1}: ${refused[0]!.reason}`,
      );
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

/** Why the encoding cannot write `text` (the first character it lacks), or undefined when it can. */
function unencodable(text: string, charset: Charset): string | undefined {
  if (!charset.encode(text).lossy) return undefined;
  for (const ch of text)
    if (charset.encode(ch).lossy)
      return `character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} ${JSON.stringify(ch)} cannot be written in ${charset.display} (encoding gb18030 or utf-8 can)`;
  return `it cannot be written in ${charset.display}`;
}
