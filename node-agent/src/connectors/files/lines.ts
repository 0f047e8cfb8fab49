// Buffered line splitting of one record file from a byte offset, in the file's encoding.
import type { FileHandle } from 'node:fs/promises';
import type { Charset } from './encodings.js';

const CHUNK_BYTES = 64 * 1024;

/** One physical line without its terminator ('\n' or '\r\n'). */
export interface RawLine {
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
export class LineReader {
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
    for (let from = this.at; ;) {
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
    const cr =
      bytes.length >= crb.length &&
      (crb.length === 1 ? bytes[bytes.length - 1] === 0x0d : bytes.subarray(bytes.length - 2).equals(crb));
    if (cr) bytes = bytes.subarray(0, bytes.length - crb.length);
    const line: RawLine = { bytes, no: ++this.lineNo, terminated, cr, dropped: this.dropped };
    this.parts = [];
    this.len = 0;
    this.dropped = 0;
    return line;
  }
}

/** The next line, awaiting only when the buffer is empty. */
export function nextLine(r: LineReader): RawLine | undefined | Promise<RawLine | undefined> {
  const l = r.take();
  return l === NEED ? r.next() : l;
}
