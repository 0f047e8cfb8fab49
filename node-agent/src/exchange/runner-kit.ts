// What every data runner repeats, in one place: its logger and abort signal, its run counters reported to
// central as task_run reports every interval (and once more when it stops), events, the agreement gate
// of a provider task, and the data-path services a runner factory needs (DataPathContext).
//
// Invariants: a kit's periodic reporter stops with its signal; stop() reports the last interval after the
// runner's own work has ended, so no counted work goes unreported.
import type { Logger } from 'pino';
import { sleep } from '../backoff.js';
import { expired, type AgreementTerms } from '../policy/agreement.js';
import type { DataSpool } from '../spool/data-spool.js';
import type { FileSpool } from '../spool/file-spool.js';
import type { PolicyBook } from '../policy/book.js';
import type { RunnerContext, TaskAssignment } from '../tasks/supervisor.js';
import type { DataPlane } from './data-plane.js';
import { RunCounters } from './run-counters.js';
import type { TrafficMeter } from './traffic-meter.js';

/** The supervisor's context plus the data path: what data runner factories are given. */
export interface DataPathContext extends RunnerContext {
  /** The agent's data plane; undefined when central gave no exchange center at enrollment. */
  dataPlane?: DataPlane | undefined;
  dataSpool?: DataSpool | undefined;
  fileSpool?: FileSpool | undefined;
  /** The node's scheduling policies (策略); absent: every task runs with its own settings. */
  policies?: PolicyBook | undefined;
  /** The node's traffic meter (what it received, per provider, resource and bucket); absent in some tests. */
  traffic?: TrafficMeter | undefined;
}

/** The data plane and spools of a context; throws (the task is rejected) when the node has no exchange center. */
export function dataPathOf(ctx: DataPathContext): { dataPlane: DataPlane; dataSpool: DataSpool; fileSpool: FileSpool } {
  if (!ctx.dataPlane || !ctx.dataSpool || !ctx.fileSpool)
    throw new Error('this node has no exchange center (central gave no NATS address at enrollment)');
  return { dataPlane: ctx.dataPlane, dataSpool: ctx.dataSpool, fileSpool: ctx.fileSpool };
}

export type EventSeverity = 'info' | 'warn' | 'error';

export class RunnerKit {
  readonly log: Logger;
  readonly counters: RunCounters;
  private readonly abort = new AbortController();
  private reporting: Promise<void> | undefined;

  constructor(
    private readonly task: TaskAssignment,
    private readonly ctx: RunnerContext,
    private readonly lagMs: () => number = () => 0,
  ) {
    this.log = ctx.logger.child({ taskId: task.id });
    this.counters = new RunCounters(task.id);
  }

  /** Aborts when the runner stops. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Starts the periodic task_run reports (every `intervalMs`, dataPlane.runReportIntervalMs). */
  startReports(intervalMs: number): void {
    this.reporting = (async () => {
      while (await sleep(intervalMs, this.abort.signal)) this.report();
    })();
  }

  /** Reports the interval now ending (nothing when nothing happened). */
  report(): void {
    const body = this.counters.take(this.lagMs());
    if (body) this.ctx.report('task_run', body);
  }

  /** Reports an event of this task to central. */
  event(severity: EventSeverity, code: string, message: string): void {
    this.ctx.report('event', { severity, code, message, taskId: this.task.id });
  }

  /** Reports re-sent quarantined records (they leave central's quarantine list). */
  reportResent(ids: readonly number[]): void {
    this.ctx.report('quarantine', { taskId: this.task.id, count: 0, byReason: {}, records: [], resentIds: ids });
  }

  /** Counts a failure of this run (task_run status 'partial' or 'failed'). */
  failed(message: string): void {
    this.counters.errors++;
    this.counters.lastError = message;
  }

  /** Aborts the signal; resolves when the reporter has stopped. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.reporting;
  }
}

/**
 * The agreement gate of a provider task: while its agreement has expired nothing is read or sent, and
 * the expiry is reported once. Returns whether the task may go on now.
 */
export class AgreementGate {
  private reported = false;

  constructor(
    private readonly terms: AgreementTerms,
    private readonly kit: RunnerKit,
  ) {}

  open(now: number): boolean {
    if (!expired(this.terms, now)) return true;
    if (!this.reported) {
      this.reported = true;
      this.kit.log.warn({ agreementId: this.terms.agreementId }, 'agreement expired: sending stopped');
      this.kit.event('warn', 'AGREEMENT_EXPIRED', `agreement ${this.terms.agreementId} expired; nothing more is sent`);
    }
    return false;
  }
}
