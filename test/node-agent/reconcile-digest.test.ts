// Reconciliation digests: the hashing both sides must agree on, independent of row order and column order.
import { describe, expect, it } from 'vitest';
import { BucketDigest, RowHasher, bucketOf, canon, keyText } from '../../node-agent/src/reconcile/digest.js';
import { Decimal, Temporal, canonical } from '../../node-agent/src/values/value.js';

const rows: [number, string, string | null][] = Array.from({ length: 500 }, (_, i) => [
  i + 1,
  `name ${i}`,
  i % 7 === 0 ? null : `addr ${i}`,
]);

function digestOf(rs: readonly (readonly unknown[])[], columns = ['id', 'name', 'addr']): BucketDigest {
  const d = new BucketDigest(64);
  const h = new RowHasher(columns);
  const keyAt = columns.indexOf('id');
  for (const r of rs) {
    const k = keyText([r[keyAt]]);
    d.add(bucketOf(k, 64), h.hashRow(k, r));
  }
  return d;
}

describe('reconcile digest', () => {
  it('reconcile digest - canon() equals canonical() for every kind of value', () => {
    const values = [
      0,
      -0,
      5,
      -7,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53,
      1.5,
      NaN,
      Infinity,
      'a',
      '',
      ' ',
      '\u0000',
      null,
      true,
      12n,
      new Decimal('1.50'),
      new Temporal('timestamp', '2024-05-01T10:00:00'),
    ];
    for (const v of values) expect(canon(v)).toBe(canonical(v));
  });

  it('reconcile digest - the same rows in another order, or with columns in another order, digest equal', () => {
    const a = digestOf(rows);
    const b = digestOf([...rows].reverse());
    const c = digestOf(
      rows.map((r) => [r[2], r[0], r[1]]),
      ['addr', 'id', 'name'],
    );
    expect(a.differing(b)).toEqual([]);
    expect(a.differing(c)).toEqual([]);
    expect(a.rows).toBe(500);
  });

  it('reconcile digest - one changed, missing or extra row changes exactly its own bucket', () => {
    const base = digestOf(rows);
    const changed = digestOf(rows.map((r) => (r[0] === 42 ? [42, 'changed', r[2]] : r)));
    expect(base.differing(changed)).toEqual([bucketOf(keyText([42]), 64)]);
    const missing = digestOf(rows.filter((r) => r[0] !== 7));
    expect(base.differing(missing)).toEqual([bucketOf(keyText([7]), 64)]);
    const nullVsEmpty = digestOf(rows.map((r) => (r[0] === 7 ? [7, r[1], ''] : r)));
    expect(base.differing(nullVsEmpty)).toEqual([bucketOf(keyText([7]), 64)]); // '' is not NULL
    const extra = digestOf([...rows, [501, 'extra', null]]);
    expect(base.differing(extra)).toEqual([bucketOf(keyText([501]), 64)]);
    // '9' (text) is not 9: the key 9 leaves its bucket and the key '9' lands in its own.
    const textVsNumber = digestOf(rows.map((r) => (r[0] === 9 ? ['9', r[1], r[2]] : r)));
    expect(base.differing(textVsNumber)).toEqual(
      [...new Set([bucketOf(keyText([9]), 64), bucketOf(keyText(['9']), 64)])].sort((p, q) => p - q),
    );
  });

  it('reconcile digest - a digest survives its wire form, and a wrong size is refused', () => {
    const a = digestOf(rows);
    const b = BucketDigest.decode(64, a.encode());
    expect(a.differing(b)).toEqual([]);
    expect(b.rows).toBe(500);
    expect(() => BucketDigest.decode(128, a.encode())).toThrow(/expected 1536/);
    expect(() => new BucketDigest(100)).toThrow(/power of two/);
  });
});
