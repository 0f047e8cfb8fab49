// Row hashing and bucket digests of reconciliation (对账), the same on the provider and the consumer: a
// row's key and values as canonical text (values/value.ts canonical(): equal for equal values whatever
// database held them), hashed; rows fall into buckets by the hash of their key alone.
//
// Invariants
//  - A bucket digest is order-independent (a count and two sums mod 2^32 of the rows' 64-bit hashes), so
//    the source and the sink may be read in different orders and collations.
//  - The bucket of a row depends on its key only: a row whose values differ stays in the same bucket on
//    both sides, so comparing buckets of equal number narrows every difference to its bucket.
//  - Columns are hashed by name in sorted order: the order of columns in a table does not matter.
import { canonical } from '../values/value.js';

/** Buckets of the first comparison (a power of two). ~250 rows each at a million rows. */
export const DEFAULT_BUCKETS = 4096;

/** 53 bits of a string as two 32-bit halves (cyrb53: fast, well mixed, not cryptographic). */
export function hash64(s: string, seed = 0): [number, number] {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/** canonical() with fast paths for the commonest values (text, safe integers): the same result, measured ~2× cheaper. */
export function canon(v: unknown): string {
  if (typeof v === 'string') return 's' + v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return 'n' + (v === 0 ? 0 : v);
  return canonical(v);
}

/** Canonical text of a key (its values in key-column order). */
export function keyText(values: readonly unknown[]): string {
  if (values.length === 1) return canon(values[0]);
  return values.map(canon).join('\u001f');
}

/** Bucket of a key text among `buckets` (a power of two). */
export function bucketOf(key: string, buckets: number): number {
  return hash64(key, 0x5bd1e995)[0] & (buckets - 1);
}

/**
 * Hashes rows as the comparison sees them: the key text, then the compared columns (sorted by name) as
 * canonical text. Built once per run for one column order; `hashRow` takes values in `columns` order.
 */
export class RowHasher {
  readonly columns: string[];
  private readonly order: number[];

  /** `columns`: the compared columns (key columns included) in the order values will be given. */
  constructor(columns: readonly string[]) {
    this.columns = [...columns];
    this.order = this.columns
      .map((_, i) => i)
      .sort((a, b) => (this.columns[a]! < this.columns[b]! ? -1 : this.columns[a]! > this.columns[b]! ? 1 : 0));
  }

  /** [h1, h2] of a row whose values are in the constructor's column order. */
  hashRow(key: string, values: readonly unknown[]): [number, number] {
    let s = key + '\u001e';
    for (const i of this.order) s += canon(values[i]) + '\u001f';
    return hash64(s);
  }
}

/** Per-bucket count and hash sums: buckets × [count, sum of h1, sum of h2], mod 2^32. */
export class BucketDigest {
  readonly cells: Uint32Array;
  rows = 0;

  constructor(readonly buckets: number) {
    if (!Number.isInteger(Math.log2(buckets)) || buckets < 1 || buckets > 1 << 20)
      throw new Error(`buckets must be a power of two up to 2^20, got ${buckets}`);
    this.cells = new Uint32Array(buckets * 3);
  }

  add(bucket: number, h: [number, number]): void {
    const c = this.cells;
    const at = bucket * 3;
    c[at] = c[at]! + 1;
    c[at + 1] = c[at + 1]! + h[0];
    c[at + 2] = c[at + 2]! + h[1];
    this.rows++;
  }

  /** The cells as base64 (little-endian u32s), for a JSON message. */
  encode(): string {
    return Buffer.from(this.cells.buffer, this.cells.byteOffset, this.cells.byteLength).toString('base64');
  }

  static decode(buckets: number, b64: string): BucketDigest {
    const d = new BucketDigest(buckets);
    const buf = Buffer.from(b64, 'base64');
    if (buf.length !== d.cells.byteLength)
      throw new Error(`digest of ${buf.length} bytes for ${buckets} buckets (expected ${d.cells.byteLength})`);
    for (let i = 0; i < d.cells.length; i++) d.cells[i] = buf.readUInt32LE(i * 4);
    for (let b = 0; b < buckets; b++) d.rows += d.cells[b * 3]!;
    return d;
  }

  /** Buckets whose count or sums differ from `other`'s. */
  differing(other: BucketDigest): number[] {
    const out: number[] = [];
    for (let b = 0; b < this.buckets; b++) {
      const at = b * 3;
      if (
        this.cells[at] !== other.cells[at] ||
        this.cells[at + 1] !== other.cells[at + 1] ||
        this.cells[at + 2] !== other.cells[at + 2]
      )
        out.push(b);
    }
    return out;
  }

  /** Rows in the given buckets. */
  countIn(buckets: readonly number[]): number {
    let n = 0;
    for (const b of buckets) n += this.cells[b * 3]!;
    return n;
  }
}
