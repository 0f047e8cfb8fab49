// Encodings of record files: how the bytes of utf-8, gbk, gb18030, big5 and utf-16 are split into lines
// and turned into text and back. `encoding` on sources and sinks: utf-8 (default), gbk, gb18030, big5,
// utf-16le, utf-16be, utf-16 (byte order from the BOM, little-endian without one). Reading, a BOM at the
// start of a file wins over the setting (as the WHATWG decode algorithm does) and is skipped; UTF-16 sinks
// write a BOM, others none. Decoding is per physical line, after lines are split on bytes, so a character
// split across read chunks is decoded whole. An unknown encoding is refused when the connector opens.
import { TextDecoder } from 'node:util';
import iconv from 'iconv-lite';

/**
 * Text encodings of record files (case-insensitive; aliases utf8, cp936 → gbk, utf16le, utf16be, utf16).
 * gbk reads GB18030's four-byte sequences too (one decoder, as in the WHATWG Encoding standard) but writes
 * only GBK (CP936); gb18030 writes every Unicode character.
 */
export const RECORD_FILE_ENCODINGS = ['utf-8', 'gbk', 'gb18030', 'big5', 'utf-16le', 'utf-16be', 'utf-16'] as const;
export type RecordFileEncoding = (typeof RECORD_FILE_ENCODINGS)[number];

/** How the bytes of one encoding are split into lines and turned into text and back. */
export interface Charset {
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

export const CHARSETS: Record<RecordFileEncoding, Charset> = {
  'utf-8': asciiCompatible('utf-8', 'UTF-8', undefined),
  gbk: asciiCompatible('gbk', 'GBK', 'gbk'),
  gb18030: asciiCompatible('gb18030', 'GB18030', 'gb18030'),
  big5: asciiCompatible('big5', 'Big5', 'big5'),
  'utf-16le': utf16('utf-16le', true),
  'utf-16be': utf16('utf-16be', false),
  // Without a BOM, UTF-16 is read (and written) little-endian, as Windows programs write it.
  'utf-16': { ...utf16('utf-16', true), display: 'UTF-16' },
};

const ALIASES: Record<string, RecordFileEncoding> = {
  utf8: 'utf-8',
  cp936: 'gbk',
  utf16le: 'utf-16le',
  utf16be: 'utf-16be',
  utf16: 'utf-16',
};

export function charsetOf(name: string): Charset | undefined {
  const n = name.trim().toLowerCase();
  const canon = (RECORD_FILE_ENCODINGS as readonly string[]).includes(n) ? (n as RecordFileEncoding) : ALIASES[n];
  return canon ? CHARSETS[canon] : undefined;
}

/** The encoding a file's first bytes announce with a BOM, and the BOM's length; else the configured one. */
export function sniffBom(head: Buffer, configured: Charset): { charset: Charset; bomBytes: number } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { charset: CHARSETS['utf-8'], bomBytes: 3 };
  if (head[0] === 0xff && head[1] === 0xfe)
    return { charset: configured.name === 'utf-16' ? configured : CHARSETS['utf-16le'], bomBytes: 2 };
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
export class LineDecoder {
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
