// CSV values, PostgreSQL COPY's CSV convention: an unquoted empty field is NULL, a quoted empty field "" is
// the empty string; with `nullString` set (e.g. \N, COPY's NULL option) that unquoted text is NULL instead
// and an unquoted empty field is ''. A quoted field is never NULL. Fields are never trimmed, and 'NULL' is
// just text. The source gives every non-NULL field as a string (typed fields coerce them). Sinks write
// NULL as the NULL marker unquoted, '' as "", bigint and Decimal as their exact digits, Temporal as its
// ISO text, binary as PostgreSQL's bytea hex \x... (which COPY loads straight into bytea), JSON as its text.
import { Decimal, JsonText, Temporal } from '../../values/value.js';
import type { SinkBatch } from '../types.js';
import { OP_FIELD } from './json.js';

/**
 * RFC 4180 fields of one record, fed line by line. A quote inside an unquoted field is taken literally (as
 * Python's csv does); text after a closing quote is an error. Fields are not trimmed. An unquoted field
 * equal to `nullString` is NULL (PostgreSQL COPY's CSV rule); a quoted one never is.
 */
export class CsvRecordParser {
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
export function csvFormatter(b: SinkBatch, nullString: string): { header: string; line: (i: number) => string } {
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
