// The agent-wide bound on sync steps holding a page at once: FIFO, released exactly once, abortable.
import { describe, expect, it } from 'vitest';
import { ReadSlots } from '../../node-agent/src/exchange/read-slots.js';

describe('read slots', () => {
  it('read slots - a third step waits for a release, in arrival order; an aborted wait takes no slot', async () => {
    const slots = new ReadSlots(2);
    const signal = new AbortController().signal;
    const a = (await slots.acquire(signal))!;
    const b = (await slots.acquire(signal))!;
    const order: string[] = [];
    const c = slots.acquire(signal).then((r) => (order.push('c'), r));
    const aborting = new AbortController();
    const d = slots.acquire(aborting.signal);
    const e = slots.acquire(signal).then((r) => (order.push('e'), r));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    aborting.abort();
    expect(await d).toBeUndefined();
    a();
    a(); // a second release of the same grant frees nothing more
    const rc = await c;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['c']);
    b();
    const re = await e;
    expect(order).toEqual(['c', 'e']);
    rc!();
    re!();
    // Both slots free again: two immediate grants.
    expect(await slots.acquire(signal)).toBeTypeOf('function');
    expect(await slots.acquire(signal)).toBeTypeOf('function');
  });

  it('read slots - a task with concurrency 2 takes both slots at once, after those ahead of it; more is clamped', async () => {
    const slots = new ReadSlots(2);
    const signal = new AbortController().signal;
    const a = (await slots.acquire(signal))!;
    const order: string[] = [];
    const both = slots.acquire(signal, 2).then((r) => (order.push('both'), r));
    const one = slots.acquire(signal).then((r) => (order.push('one'), r));
    await new Promise((r) => setImmediate(r));
    // One slot is free, but the request for two came first: FIFO, nobody jumps the queue.
    expect(order).toEqual([]);
    a();
    const rBoth = (await both)!;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['both']);
    rBoth();
    (await one)!();
    expect(order).toEqual(['both', 'one']);
    // 8 wanted of 2: clamped, granted at once; an abort of a queued large request lets a small one through.
    const big = (await slots.acquire(signal, 8))!;
    const aborting = new AbortController();
    const queuedBig = slots.acquire(aborting.signal, 2);
    big();
    expect(await queuedBig).toBeTypeOf('function');
  });
});
