// Counters of a running task, reported to central as task_run reports every interval (deltas since the
// last report, so central can sum them).
import { randomUUID } from 'node:crypto';

export class RunCounters {
  records = 0;
  bytes = 0;
  batches = 0;
  errors = 0;
  quarantined = 0;
  lastError = '';
  private since = Date.now();

  constructor(private readonly taskId: string) {}

  /** The report body for the interval now ending, or undefined when nothing happened; resets. */
  take(lagMs: number): Record<string, unknown> | undefined {
    const now = Date.now();
    if (this.records + this.batches + this.errors + this.quarantined === 0) {
      this.since = now;
      return undefined;
    }
    const body = {
      taskId: this.taskId,
      runId: randomUUID(),
      startedAtMs: this.since,
      finishedAtMs: now,
      status: this.errors ? (this.records ? 'partial' : 'failed') : 'ok',
      records: this.records,
      bytes: this.bytes,
      batches: this.batches,
      errors: this.errors,
      lagMs,
      quarantined: this.quarantined,
      error: this.lastError,
    };
    this.records = this.bytes = this.batches = this.errors = this.quarantined = 0;
    this.lastError = '';
    this.since = now;
    return body;
  }
}
