// How many sync tasks of one agent read and process a page at the same time. Each step holds a page of
// source rows and their processed copies in memory; with many subscriptions of a resource of large records
// (a 16 MiB scan per row), unbounded steps multiplied that by the number of tasks (measured: 13 tasks
// reading a table with a 16 MiB binary row took the provider past 4 GB of V8 heap and, on a loaded machine,
// to its heap limit). Reading is CPU-bound on the front-end machine's few cores anyway; two at a time keep
// both busy. FIFO, so no task starves.

/** A counting semaphore; waiting respects the task's AbortSignal. */
export class ReadSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(slots: number) {
    this.free = slots;
  }

  /** Resolves with a release function once a slot is free, or undefined if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<(() => void) | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    const grant = (): (() => void) => {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next();
        else this.free++;
      };
    };
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(grant());
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(undefined);
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(grant());
      };
      this.waiting.push(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The slots of this agent process (sync tasks of one agent share them). */
export const readSlots = new ReadSlots(2);
