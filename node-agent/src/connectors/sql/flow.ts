// Flows written once for synchronous drivers (better-sqlite3) and asynchronous ones (pg, mariadb): a flow
// is a generator that yields each driver call's result; runSync hands values straight back, runAsync
// awaits them. Also the one bisection that finds the records a database refuses.
import type { RefusedRecord } from '../types.js';
import { errorText } from './errors.js';

/** A value or a promise of it: what a dialect's call returns (sync drivers return values). */
export type MaybePromise<T> = T | Promise<T>;

/** A flow: yields driver results (or Parallel groups), returns T. */
export type Flow<T> = Generator<unknown, T, unknown>;

/** Calls already started together (pipelined by the driver); the flow resumes when all are done. */
export class Parallel {
  constructor(readonly parts: readonly unknown[]) {}
}

/** Runs a flow whose yielded values are plain results (a synchronous driver). */
export function runSync<T>(flow: Flow<T>): T {
  let r = flow.next();
  while (!r.done) r = flow.next(r.value);
  return r.value;
}

/** Runs a flow whose yielded values may be promises; a rejection is thrown into the flow where it yielded. */
export async function runAsync<T>(flow: Flow<T>): Promise<T> {
  let r = flow.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = r.value instanceof Parallel ? await Promise.all(r.value.parts) : await r.value;
    } catch (err) {
      r = flow.throw(err);
      continue;
    }
    r = flow.next(v);
  }
  return r.value;
}

/**
 * Runs `attempt(lo, hi)` over rows [0, n) and, when the database refuses some, finds them by splitting the
 * range in halves (each attempt must undo a failed part itself — a savepoint), so that every good row is
 * written and each refused one is reported alone with the database's reason. Errors `isRecordError` does
 * not recognise (the database is down, the disk is full) are rethrown at once.
 * Cost: one attempt when nothing is refused; about 2·log2(n) more per refused row.
 */
export function* bisect(
  n: number,
  attempt: (lo: number, hi: number) => Flow<void>,
  isRecordError: (err: unknown) => boolean,
): Flow<RefusedRecord[]> {
  const refused: RefusedRecord[] = [];
  function* go(lo: number, hi: number): Flow<void> {
    if (lo >= hi) return;
    try {
      yield* attempt(lo, hi);
    } catch (err) {
      if (!isRecordError(err)) throw err;
      if (hi - lo === 1) {
        refused.push({ index: lo, reason: errorText(err) });
        return;
      }
      const mid = lo + Math.floor((hi - lo) / 2);
      yield* go(lo, mid);
      yield* go(mid, hi);
    }
  }
  yield* go(0, n);
  return refused;
}
