// How many sync tasks of one agent read and process a page at the same time. Each step holds a page of
// source rows and their processed copies in memory; with many subscriptions of a resource of large records
// (a 16 MiB scan per row), unbounded steps multiplied that by the number of tasks (measured: 13 tasks
// reading a table with a 16 MiB binary row took the provider past 4 GB of V8 heap and, on a loaded machine,
// to its heap limit). Reading is CPU-bound on the front-end machine's few cores anyway; two at a time keep
// both busy. FIFO, so no task starves.

/**
 * A counting semaphore; waiting respects the task's AbortSignal. A task may take several slots at once (its
 * policy's concurrency, clamped to the total): they are granted together, in FIFO order, so two tasks that
 * each want several never deadlock holding part of them.
 */
export class ReadSlots {
  private free: number;
  private readonly waiting: { n: number; wake: () => void }[] = [];

  constructor(private readonly total: number) {
    this.free = total;
  }

  /**
   * Resolves with a release function once `n` slots (default 1, clamped to 1..total) are free, or undefined
   * if `signal` aborts first.
   */
  acquire(signal: AbortSignal, n = 1): Promise<(() => void) | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    const want = Math.max(1, Math.min(this.total, Math.floor(n)));
    const grant = (): (() => void) => {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        this.free += want;
        this.drain();
      };
    };
    if (this.free >= want && this.waiting.length === 0) {
      this.free -= want;
      return Promise.resolve(grant());
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(undefined);
        this.drain(); // a large request that left may unblock smaller ones behind it
      };
      const entry = {
        n: want,
        wake: (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve(grant());
        },
      };
      this.waiting.push(entry);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Grants waiting requests in order while the head one fits. */
  private drain(): void {
    while (this.waiting.length && this.waiting[0]!.n <= this.free) {
      const head = this.waiting.shift()!;
      this.free -= head.n;
      head.wake();
    }
  }
}

/** The slots of this agent process (sync tasks of one agent share them). */
export const readSlots = new ReadSlots(2);
