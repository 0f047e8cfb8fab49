// How long central's event loop is held at a time: a timer every intervalMs measures how late it fires. A job or
// a request that runs without yielding delays every HTTP answer, gRPC heartbeat and long-poll by that much;
// /metrics exports the largest delay since start and the count of stalls (xchg_central_event_loop_*).

/** Samples of the loop: `onDelay` gets each timer's lateness in ms (0 or more) as it fires. */
export class LoopDelayMonitor {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  /** Largest lateness seen since start(), ms. */
  maxMs = 0;
  /** Samples late by stallMs or more since start(). */
  stalls = 0;

  /** `intervalMs` (default 10): the timer's period. `stallMs` (default 100): lateness counted as a stall. */
  constructor(
    private readonly intervalMs = 10,
    readonly stallMs = 100,
  ) {
    if (!(intervalMs > 0)) throw new Error(`loop delay interval must be positive, got ${intervalMs} ms`);
  }

  start(): this {
    if (this.timer) return this;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = Math.max(0, now - this.last - this.intervalMs);
      this.last = now;
      if (late > this.maxMs) this.maxMs = late;
      if (late >= this.stallMs) this.stalls++;
    }, this.intervalMs);
    // Never what keeps central alive.
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
