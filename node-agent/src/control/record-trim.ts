// Trimming of a quarantined record for a report: its longest values clipped to a common length with a
// marker naming what was cut (the original size and sha-256), what identifies it (the key columns) kept
// whole, and as a last resort whole fields dropped and counted. Pure functions (report-fit.ts calls them).
import { createHash } from 'node:crypto';

/** Column holding the marker when a record had to lose whole fields (never a real column: `$` prefix). */
export const TRIMMED_FIELDS_KEY = '$trimmed';

/** One value about to be clipped: its text and what the marker says of the original. */
interface Clippable {
  /** Text whose beginning is kept. */
  text: string;
  /** Code points of `text`. */
  chars: number;
  /** Bytes of the original value (UTF-8 text; decoded bytes for binary). */
  bytes: number;
  sha256: string;
  /** "binary", "json", ... for a tagged value; empty for text. */
  kind: string;
  /** Bytes of the value as it stands in the record's JSON. */
  jsonBytes: number;
  /** prefix[n]: JSON bytes (UTF-8, escapes included, quotes not) of the first n code points of `text`. */
  prefix?: Int32Array;
  /** Code points the prefix covers at most (a cap can never exceed the byte budget: one code point is at least one byte). */
  limit?: number;
}

const TAG_KINDS: Record<string, string> = {
  i: 'integer',
  f: 'float',
  n: 'decimal',
  b: 'binary',
  j: 'json',
  d: 'date',
  t: 'time',
  ts: 'timestamp',
  tz: 'timestamptz',
};

function clippable(v: unknown): Clippable {
  const jsonBytes = Buffer.byteLength(JSON.stringify(v) ?? 'null');
  if (typeof v === 'string')
    return { text: v, chars: codePoints(v), bytes: Buffer.byteLength(v), sha256: sha256(v), kind: '', jsonBytes };
  const tagged =
    v !== null &&
    typeof v === 'object' &&
    typeof (v as { $?: unknown }).$ === 'string' &&
    typeof (v as { v?: unknown }).v === 'string';
  if (tagged) {
    const { $: tag, v: text } = v as { $: string; v: string };
    const raw = tag === 'b' ? Buffer.from(text, 'base64') : Buffer.from(text);
    return {
      text,
      chars: codePoints(text),
      bytes: raw.length,
      sha256: sha256(raw),
      kind: TAG_KINDS[tag] ?? tag,
      jsonBytes,
    };
  }
  const text = JSON.stringify(v) ?? 'null';
  return {
    text,
    chars: codePoints(text),
    bytes: Buffer.byteLength(text),
    sha256: sha256(text),
    kind: 'json',
    jsonBytes,
  };
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Cumulative JSON bytes per code point, as JSON.stringify writes them (lone surrogates as \uXXXX). */
function jsonPrefix(s: string, chars: number): Int32Array {
  const out = new Int32Array(chars + 1);
  let n = 0;
  let b = 0;
  for (let i = 0; i < s.length && n < chars; i++) {
    const c = s.charCodeAt(i);
    let w: number;
    if (c === 0x22 || c === 0x5c) w = 2;
    else if (c < 0x20) w = c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c < 0x80) w = 1;
    else if (c < 0x800) w = 2;
    else if (isHigh(c) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
      w = 4;
      i++;
    } else if (isHigh(c) || isLow(c)) w = 6;
    else w = 3;
    b += w;
    out[++n] = b;
  }
  return out;
}

/** JSON bytes of the value clipped to `keep` code points with its marker. */
function clippedBytes(c: Clippable, keep: number): number {
  const covered = Math.min(c.chars, c.limit ?? c.chars);
  // Only as much prefix as a cap within the budget can use: a 32 MB value no longer costs a 128 MB table.
  c.prefix ??= jsonPrefix(c.text, covered);
  const kept = Math.min(keep, covered);
  return 2 + c.prefix[kept]! + Buffer.byteLength(marker(c, kept));
}

const sha256 = (d: string | Buffer): string => createHash('sha256').update(d).digest('hex');
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
    n++;
  }
  return n;
}

/** The first `keep` code points of s (never half a surrogate pair). */
function head(s: string, keep: number): string {
  let i = 0;
  for (let n = 0; n < keep && i < s.length; n++)
    i += isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
  return s.slice(0, i);
}

/**
 * The value's first `keep` code points followed by the trim marker, e.g.
 * `abc…[trimmed: 69997 of 70000 characters cut; original 70000 bytes, sha-256 <64 hex>]`
 * (binary: `…[trimmed binary: <cut> of <chars> base64 characters cut; original <bytes> bytes, sha-256 …]`).
 */
function clipped(c: Clippable, keep: number): string {
  const kept = Math.min(keep, c.chars);
  return head(c.text, kept) + marker(c, kept);
}
function marker(c: Clippable, kept: number): string {
  const what = c.kind === 'binary' ? 'base64 characters' : 'characters';
  return `…[trimmed${c.kind ? ` ${c.kind}` : ''}: ${c.chars - kept} of ${c.chars} ${what} cut; original ${c.bytes} bytes, sha-256 ${c.sha256}]`;
}

/** Text clipped to at most maxChars code points plus the marker; unchanged when it is short enough. */
export function clipText(s: string, maxChars: number): string {
  const c = clippable(s);
  return c.chars <= maxChars ? s : clipped(c, maxChars);
}

/**
 * A quarantined record's values as JSON of at most maxBytes (UTF-8), keeping as much of every value as
 * fits: the longest values are clipped to a common length (the largest that fits) with a marker giving
 * what was cut, the original size and sha-256; values of `keep` (the key columns) stay whole. If clipping
 * every other value to nothing is not enough (thousands of columns), the fields past what fits are dropped
 * and named under `$trimmed`. Returns the JSON and whether anything was cut.
 */
export function trimRecord(
  record: Record<string, unknown>,
  maxBytes: number,
  keep: readonly string[] = [],
): { json: string; trimmed: boolean } {
  const whole = JSON.stringify(record);
  if (Buffer.byteLength(whole) <= maxBytes) return { json: whole, trimmed: false };
  const t = new RecordTrim(record, maxBytes, keep);
  const json = t.bestCap(t.kept) ?? t.bestCap(new Set());
  if (json !== undefined) return { json, trimmed: true };
  return { json: t.dropFields(whole), trimmed: true };
}

/** One record being trimmed to maxBytes: its values' clipping figures, computed once per value. */
class RecordTrim {
  readonly kept: ReadonlySet<string>;
  private readonly entries: [string, unknown][];
  private readonly cache = new Map<string, Clippable>();

  constructor(
    private readonly record: Record<string, unknown>,
    private readonly maxBytes: number,
    private readonly keep: readonly string[],
  ) {
    this.entries = Object.entries(record);
    this.kept = new Set(keep);
  }

  /** The JSON of o when it fits maxBytes. */
  fits(o: Record<string, unknown>): string | undefined {
    const j = JSON.stringify(o);
    return Buffer.byteLength(j) <= this.maxBytes ? j : undefined;
  }

  private info(k: string, v: unknown): Clippable {
    let c = this.cache.get(k);
    if (!c) this.cache.set(k, (c = { ...clippable(v), limit: this.maxBytes + 1 }));
    return c;
  }

  private canClip(k: string, v: unknown, protect: ReadonlySet<string>): boolean {
    return !protect.has(k) && v !== null && typeof v !== 'boolean' && typeof v !== 'number';
  }

  /** Clipped only where that is shorter: the size then grows with the cap, so bisection finds it. */
  private clips(c: Clippable, cap: number): boolean {
    return c.chars > cap && clippedBytes(c, cap) < c.jsonBytes;
  }

  /** The record with every clippable value outside `protect` clipped to `cap` code points. */
  withCap(cap: number, protect: ReadonlySet<string>): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const [k, v] of this.entries) {
      if (!this.canClip(k, v, protect)) o[k] = v;
      else {
        const c = this.info(k, v);
        o[k] = this.clips(c, cap) ? clipped(c, cap) : v;
      }
    }
    return o;
  }

  /**
   * The JSON with the largest common cap that fits, by bisection over sizes counted from each value's byte
   * prefix (one JSON.stringify at the end, not one per step: values may be megabytes); undefined when even
   * a cap of 0 does not fit.
   */
  bestCap(protect: ReadonlySet<string>): string | undefined {
    const clippables = this.entries.filter(([k, v]) => this.canClip(k, v, protect));
    const skeleton = Object.fromEntries(this.entries.map(([k, v]) => [k, this.canClip(k, v, protect) ? null : v]));
    const fixed = Buffer.byteLength(JSON.stringify(skeleton)) - 4 * clippables.length;
    const sizeAt = (cap: number): number => {
      let n = fixed;
      for (const [k, v] of clippables) {
        const c = this.info(k, v);
        n += this.clips(c, cap) ? clippedBytes(c, cap) : c.jsonBytes;
      }
      return n;
    };
    if (sizeAt(0) > this.maxBytes) return undefined;
    let lo = 0;
    let hi = Math.min(this.maxBytes, Math.max(0, ...clippables.map(([k, v]) => this.info(k, v).chars)));
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (sizeAt(mid) <= this.maxBytes) lo = mid;
      else hi = mid - 1;
    }
    // The count is exact; should it ever be off, step down until the real JSON fits.
    for (;;) {
      const json = this.fits(this.withCap(lo, protect));
      if (json !== undefined || lo === 0) return json;
      lo = Math.floor(lo * 0.9);
    }
  }

  /** Too many fields even as bare markers: the key columns and as many leading fields as fit, and a count. */
  dropFields(whole: string): string {
    const recordSha = sha256(whole);
    const wholeBytes = Buffer.byteLength(whole);
    const out: Record<string, unknown> = {};
    for (const k of this.keep) if (k in this.record) out[k] = this.record[k];
    const shrunk = this.withCap(0, this.kept);
    const rest = this.entries.filter(([k]) => !this.kept.has(k));
    let taken = 0;
    const note = (n: number): string =>
      `[trimmed: ${n} more fields cut; original record ${wholeBytes} bytes, sha-256 ${recordSha}]`;
    for (const [k] of rest) {
      const trial = { ...out, [k]: shrunk[k], [TRIMMED_FIELDS_KEY]: note(rest.length - taken - 1) };
      if (!this.fits(trial)) break;
      out[k] = shrunk[k];
      taken++;
    }
    const last = this.fits({ ...out, [TRIMMED_FIELDS_KEY]: note(rest.length - taken) });
    // Even the key columns do not fit: only the marker is left (what identifies the record is in the
    // report's task, origin and row index).
    return last ?? JSON.stringify({ [TRIMMED_FIELDS_KEY]: note(this.entries.length) });
  }
}
