// Key-hash shards of a source (dynamic node allocation, 动态节点分配): the bucket of a key and the SQL that reads
// a sharded cursor. A "key range" of a spread flow is a range of the key-hash space, not of raw keys: rows of
// a surge usually come with increasing keys, and raw ranges would put all of them into the last range.
//
// Bucket of a key: the first 32 bits (big-endian) of the MD5 of the key's text form; shard = bucket mod n.
// Every dialect computes it in SQL (SQLite: a registered deterministic function, PostgreSQL: md5() and a bit
// cast, MariaDB: MD5() and CONV()), so the same integer or text key lands in the same shard on every agent and
// database. A sharded cursor holds parts, each a set of shards and a position (cursor column, key); a read
// takes the rows of any part after its position, in cursor order. After a page ending at row L every part
// whose position lay before L moves to L (the same comparison the WHERE clause made, returned per row as a
// flag), so parts that pass the same row collapse into one; once one part holds every shard the cursor is
// plain again. No row is read twice and none is skipped.
import { createHash } from 'node:crypto';
import type { Cursor, ShardPart } from './types.js';

/** Largest number of shards of a plan. */
export const MAX_SHARDS = 9;

/** The key's bucket: the first 32 bits of MD5(text of the key), unsigned big-endian. */
export function bucketOf(keyText: string): number {
  return createHash('md5').update(keyText, 'utf8').digest().readUInt32BE(0);
}

/** The shard of a key among `n`. */
export const shardOf = (keyText: string, n: number): number => bucketOf(keyText) % n;

/** Whether a cursor is sharded (has `n` and `parts`). */
export function isSharded(c: Cursor): c is { n: number; parts: ShardPart[] } {
  return c !== null && Array.isArray(c.parts) && typeof c.n === 'number';
}

/** The shards a cursor reads (every shard 0..n-1 for a plain one, given `n`). */
export function shardsHeld(c: Cursor, n: number): number[] {
  if (!isSharded(c)) return Array.from({ length: n }, (_, i) => i);
  return [...new Set(c.parts.flatMap((p) => p.s))].sort((a, b) => a - b);
}

/** A sharded cursor reading only `shards` of `n` from the position of `from` (a plain cursor). */
export function restrictTo(from: Cursor, n: number, shards: number[]): Cursor {
  const pos = from && !isSharded(from) ? { ...(from.c !== undefined && { c: from.c }), k: from.k } : {};
  return { n, parts: [{ s: [...shards].sort((a, b) => a - b), ...pos }] };
}

/** `c` with shard `index` added as its own part from `from` (a plain cursor); unchanged if already held. */
export function addShard(c: Cursor, n: number, index: number, from: Cursor): Cursor {
  const cur = (isSharded(c) ? c : restrictTo(c, n, shardsHeld(c, n))) as { n: number; parts: ShardPart[] };
  if (cur.parts.some((p) => p.s.includes(index))) return cur;
  const pos = from && !isSharded(from) ? { ...(from.c !== undefined && { c: from.c }), k: from.k } : {};
  return { n: cur.n, parts: [...cur.parts, { s: [index], ...pos }] };
}

/** The position of a sharded cursor's single part (a plain cursor), or undefined while several parts remain. */
export function positionOf(c: Cursor): Cursor | undefined {
  if (!isSharded(c)) return c;
  if (c.parts.length !== 1) return undefined;
  const p = c.parts[0]!;
  return p.k === undefined ? null : { ...(p.c !== undefined && { c: p.c }), k: p.k };
}

/** How one dialect writes the pieces of a sharded read. */
export interface ShardDialect {
  /** SQL of the key's bucket (an unsigned 32-bit integer). */
  bucket: string;
  /** SQL of "the row lies after this position", binding the position's values through `param`. */
  after(c: unknown, k: unknown, param: (v: unknown) => string): string;
  /**
   * SQL of "the row's cursor is at least the lowest of these cursor values": a range an index on the cursor
   * column can start from, so a read of several parts does not scan what every part has passed.
   */
  atLeast(cs: unknown[], param: (v: unknown) => string): string;
}

/** The WHERE condition and the per-part flag columns ("the row lies after part i's position": 1 or 0). */
export function shardWhere(
  cur: { n: number; parts: ShardPart[] },
  d: ShardDialect,
  param: (v: unknown) => string,
): { where: string; flags: string[] } {
  const n = checkedCount(cur.n);
  const from = (p: ShardPart): boolean => p.k !== undefined && p.k !== null;
  // Parameters are bound in the order of the text (positional placeholders): the flags of the SELECT list
  // first, then the WHERE condition.
  const flags = cur.parts.map((p) => (from(p) ? `CASE WHEN ${d.after(p.c, p.k, param)} THEN 1 ELSE 0 END` : '1'));
  const bound = cur.parts.every(from)
    ? `${d.atLeast(
        cur.parts.map((p) => p.c),
        param,
      )} AND `
    : '';
  const where = cur.parts.map((p) => {
    const inShard = `(${d.bucket}) % ${n} IN (${p.s.map((i) => checkedIndex(i, n)).join(', ')})`;
    return from(p) ? `(${inShard} AND (${d.after(p.c, p.k, param)}))` : `(${inShard})`;
  });
  return { where: `${bound}(${where.join(' OR ')})`, flags };
}

/**
 * The cursor after a page whose last row is at `last` (plain position), with `flags` read from that row (one
 * per part: it lay after the part's position); undefined `last` (empty page): unchanged.
 */
export function advance(cur: { n: number; parts: ShardPart[] }, last: Cursor, flags: readonly unknown[]): Cursor {
  if (!last || isSharded(last)) return cur;
  const pos = { ...(last.c !== undefined && { c: last.c }), k: last.k };
  const moved: number[] = [];
  const kept: ShardPart[] = [];
  cur.parts.forEach((p, i) => {
    if (Number(flags[i]) === 1) moved.push(...p.s);
    else kept.push(p);
  });
  const parts = moved.length ? [...kept, { s: [...new Set(moved)].sort((a, b) => a - b), ...pos }] : kept;
  if (parts.length === 1 && parts[0]!.s.length === cur.n) return pos;
  return { n: cur.n, parts };
}

function checkedCount(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS) throw new Error(`shard count ${n} is outside 1..${MAX_SHARDS}`);
  return n;
}

function checkedIndex(i: number, n: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`shard ${i} is outside 0..${n - 1}`);
  return i;
}
