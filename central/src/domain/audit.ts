// The audit log's hash chain (事前审批 · 事中留痕 · 事后追溯), pure: each entry's hash is
// sha-256(previous entry's hash + canonical JSON of the entry), so changing, removing or reordering any
// entry breaks every link after it; verifyChain names the first entry where the chain breaks.
import { createHash } from 'node:crypto';
import type { AuditEntry, AuditVerdict } from '../api/audit.js';

export type { AuditEntry };

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an entry says; with prevHash it determines the hash. */
export type AuditBody = Omit<AuditEntry, 'prevHash' | 'hash'>;

/**
 * Canonical JSON: object keys sorted by code unit at every depth, no whitespace, undefined members left
 * out, numbers and strings as JSON.stringify writes them. Two equal values always give the same text.
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const keys = Object.keys(v as Record<string, unknown>)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function entryHash(prevHash: string, body: AuditBody): string {
  const { seq, at, actor, action, entityType, entityId, departmentCode, peerDepartmentCode, resourceCode, details } =
    body;
  const canonical = canonicalJson({
    seq,
    at,
    actor,
    action,
    entityType,
    entityId,
    departmentCode,
    peerDepartmentCode,
    resourceCode,
    details,
  });
  return createHash('sha256')
    .update(prevHash + canonical, 'utf8')
    .digest('hex');
}

/** The verdict on the chain; the API's answer adds when it was checked. */
export type ChainVerdict = Omit<AuditVerdict, 'checkedAt'>;

/**
 * Checks entries in seq order: numbering without gaps from 1, each prev_hash equal to the previous hash,
 * each hash recomputed from the content, and the recorded head (count and last hash), which catches
 * entries cut off the end.
 */
export function verifyChain(
  entries: Iterable<AuditEntry | { seq: number; broken: string }>,
  head?: { seq: number; hash: string },
): ChainVerdict {
  let prev = GENESIS_HASH;
  let expectSeq = 1;
  let n = 0;
  const broken = (seq: number, problem: string): ChainVerdict => ({
    ok: false,
    entries: n,
    headHash: prev,
    firstBroken: { seq, problem },
  });
  for (const e of entries) {
    if ('broken' in e) return broken(e.seq, e.broken);
    if (e.seq !== expectSeq)
      return e.seq > expectSeq
        ? broken(expectSeq, `entry ${expectSeq} is missing (next present entry is ${e.seq})`)
        : broken(e.seq, `entry ${e.seq} is out of order (expected ${expectSeq})`);
    if (e.prevHash !== prev)
      return broken(
        e.seq,
        e.seq === 1
          ? 'prev_hash of the first entry is not the genesis hash'
          : `prev_hash does not match the hash of entry ${e.seq - 1} (that entry or this link was changed)`,
      );
    const want = entryHash(prev, e);
    if (e.hash !== want)
      return broken(e.seq, "hash does not match the entry's content (the entry was changed after it was written)");
    prev = e.hash;
    expectSeq++;
    n++;
  }
  if (head && head.seq > 0) {
    if (head.seq > n)
      return broken(n + 1, `entry ${n + 1} is missing: the chain head records ${head.seq} entries, the log holds ${n}`);
    if (head.seq === n && head.hash !== prev)
      return broken(n, 'hash of the last entry does not match the recorded chain head');
    if (head.seq < n)
      return broken(
        head.seq + 1,
        `entry ${head.seq + 1} is beyond the recorded chain head (${head.seq} entries): written outside central`,
      );
  }
  return { ok: true, entries: n, headHash: prev };
}
