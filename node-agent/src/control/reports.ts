// The report outbox loop: everything the agent observed goes to the spool's report_outbox first and from
// there to central, oldest first, in calls that fit central's message limit.
//
// Invariants
//  - Nothing is sent before it is in the outbox; it leaves only when central acknowledged its report_id
//    (at least once; central stores each report_id once).
//  - Reports leave in seq order. A retryable failure holds the outbox in place (exactly once, in order).
//  - Every Report call fits central's limit (CentralView.reportCallBudget): a report too large for it is
//    trimmed in the outbox first (report-fit.ts); one that cannot be trimmed enough, or that central refuses
//    as invalid, is set aside in the spool's dead-letter with an event, so it never holds up the reports
//    after it. Failures about the node itself (unknown, credentials) set nothing aside.
//  - Every wait of the flush loop takes the shutdown signal, its Report call included: a call cancelled by
//    shutdown leaves its reports in the outbox for the shutdown drain (a report central had already stored
//    is then sent again and stored once).
//  - Probe windows older than PROBE_MAX_AGE_MS (10 min) are dropped from the outbox rather than kept for a
//    central that was down that long (addProbe); every other report waits for central's acknowledgement.
//  - Each report is measured (encoded) once, on its first flush; the size is kept in memory for the reports
//    at the head of the outbox only, and re-measured after a trim.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ReportItem } from '../../../proto/index.js';
import { Backoff, sleep, type BackoffOptions } from '../backoff.js';
import { grpcCode } from './grpc-errors.js';
import type { OutboxReport, SqliteSpool } from '../spool/sqlite-spool.js';
import type { CentralClient } from './central-client.js';
import type { CentralView } from './central-view.js';
import { fitReport, reportItemBytes } from './report-fit.js';

/** The kinds of report an agent records (proto ReportItem's oneof, snake_case). */
export type ReportKind = 'task_run' | 'metrics' | 'traffic' | 'quarantine' | 'event' | 'reconcile' | 'probe' | 'shard';

/**
 * Probe windows (relay/probes.ts) older than this still in the outbox are dropped (ms; 10 min): central rates
 * links on their last ~30 s, so an old window is history, not evidence, and a long outage of central must
 * not pile them up (12 a minute per link at the default interval).
 */
export const PROBE_MAX_AGE_MS = 10 * 60_000;
/** How often at most the outbox is searched for old probe windows (ms). */
const PROBE_DROP_EVERY_MS = 60_000;

export interface ReportOutboxDeps {
  spool: SqliteSpool;
  client: CentralClient;
  central: CentralView;
  /** Most reports in one Report call. */
  batchSize: number;
  backoff: BackoffOptions;
  log: Logger;
  clock: () => number;
  /** Key columns of a task's binding: kept whole when a quarantined record is trimmed. */
  keyColumns: (taskId: string) => readonly string[];
  /** Told of every report put in the outbox (set-aside events included). */
  onReport: (r: OutboxReport) => void;
  /** Told of every report set aside, with central's reason. */
  onSetAside: (r: OutboxReport, reason: string) => void;
}

/** A report ready for a call: its wire item and the item's encoded size. */
interface Entry {
  report: OutboxReport;
  item: ReportItem;
  bytes: number;
}

/** How long an idle flush loop waits for a new report before it looks again (ms). */
const IDLE_WAIT_MS = 5_000;
/** Deadline of one Report call from the flush loop (ms). */
const FLUSH_DEADLINE_MS = 15_000;

export class ReportOutbox {
  private kick: (() => void) | undefined;
  /** Encoded item bytes by report_id, for the reports at the head of the outbox. */
  private readonly measured = new Map<string, number>();
  private probesDroppedAt = 0;

  constructor(private readonly deps: ReportOutboxDeps) {}

  /** Reports in the outbox. */
  get depth(): number {
    return this.deps.spool.reportDepth;
  }

  /** Records a report in the outbox (durable before this returns) and wakes the flush loop. */
  add(kind: ReportKind, body: Record<string, unknown>): void {
    const r = this.deps.spool.enqueueReport(kind, body, this.deps.clock());
    this.deps.onReport(r);
    this.kick?.();
  }

  /** Records a probe window; first (at most once a minute) drops windows older than PROBE_MAX_AGE_MS. */
  addProbe(body: Record<string, unknown>): void {
    const now = this.deps.clock();
    if (now - this.probesDroppedAt >= PROBE_DROP_EVERY_MS) {
      this.probesDroppedAt = now;
      const dropped = this.deps.spool.dropReportsBefore('probe', now - PROBE_MAX_AGE_MS);
      if (dropped > 0)
        this.deps.log.info({ dropped, olderThanMs: PROBE_MAX_AGE_MS }, 'old probe windows dropped from the outbox');
    }
    this.add('probe', body);
  }

  /** Flushes until the signal aborts: at once while reports wait, else on a new report or every 5 s. */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.deps.backoff);
    while (!signal.aborted) {
      let sent = 0;
      try {
        sent = await this.flushOnce(FLUSH_DEADLINE_MS, signal);
        backoff.reset();
      } catch (err) {
        if (signal.aborted) break; // cancelled by shutdown: not a failure of central
        this.deps.central.onError(err, 'report');
        await sleep(backoff.next(), signal);
        continue;
      }
      if (sent === 0) await this.idle(signal);
    }
  }

  /** The shutdown flush: sends what central takes until the deadline (epoch ms); the rest stays for the next start. */
  async drain(deadlineAt: number): Promise<void> {
    const { clock } = this.deps;
    while (this.depth > 0 && clock() < deadlineAt) {
      try {
        if ((await this.flushOnce(Math.max(500, deadlineAt - clock()))) === 0) break;
      } catch {
        break; // central unreachable: the outbox keeps the rest for the next start
      }
    }
    const left = this.depth;
    if (left > 0) this.deps.log.info({ reports: left }, 'reports kept in outbox for the next start');
  }

  /**
   * Sends the oldest reports in one call that fits central's message limit (at most batchSize); deletes
   * what central acknowledged. A report too large for any call is trimmed first; reports central refuses
   * as invalid are set aside. Returns how many reports were dealt with (0: the outbox is empty). Throws
   * the call's error when it is worth retrying (the outbox stays as it was), or cancelled by `signal`.
   */
  async flushOnce(deadlineMs: number, signal?: AbortSignal): Promise<number> {
    const batch = this.deps.spool.peekReports(this.deps.batchSize);
    this.keepMeasuredOf(batch);
    if (batch.length === 0) return 0;
    const call = this.nextCall(batch);
    if (!call) return 1; // its first report was set aside
    try {
      const res = await this.deps.client.report(
        call.entries.map((e) => e.item),
        deadlineMs,
        signal,
      );
      this.deps.spool.deleteReports(res.ackedReportIds);
    } catch (err) {
      const refusal = reportRefusal(err);
      if (!refusal) throw err;
      if (refusal.tooLarge && this.deps.central.lowerMessageLimit(refusal.maxBytes, call.bytes))
        return call.entries.length; // again, smaller
      if (call.entries.length === 1) this.setAside(call.entries[0]!.report, refusal.reason);
      else await this.sendOneByOne(call.entries, deadlineMs, signal);
    }
    this.deps.central.markReachable(true);
    return call.entries.length;
  }

  /** Waits for a new report, the idle timeout or shutdown, whichever comes first. */
  private idle(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.kick = undefined;
        signal.removeEventListener('abort', done);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, IDLE_WAIT_MS);
      this.kick = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * The leading reports that fit one call, in order; undefined when the first is too large even trimmed
   * (it is then set aside). A report too large for a call is fitted only when it leads.
   */
  private nextCall(batch: readonly OutboxReport[]): { entries: Entry[]; bytes: number } | undefined {
    const budget = this.deps.central.reportCallBudget();
    const entries: Entry[] = [];
    let bytes = 0;
    for (const r of batch) {
      let entry = this.entryOf(r);
      if (entry.bytes > budget) {
        if (entries.length > 0) break; // the ones before it go first; it is fitted when it leads
        const fitted = this.fit(entry, budget);
        if (!fitted) return undefined;
        entry = fitted;
      }
      if (entries.length > 0 && bytes + entry.bytes > budget) break;
      entries.push(entry);
      bytes += entry.bytes;
    }
    return { entries, bytes };
  }

  private entryOf(report: OutboxReport): Entry {
    const item = toItem(report);
    let bytes = this.measured.get(report.reportId);
    if (bytes === undefined) this.measured.set(report.reportId, (bytes = reportItemBytes(item)));
    return { report, item, bytes };
  }

  /** Forgets the sizes of reports no longer at the head of the outbox (acknowledged, set aside or thinned). */
  private keepMeasuredOf(batch: readonly OutboxReport[]): void {
    if (this.measured.size === 0) return;
    const ids = new Set(batch.map((r) => r.reportId));
    for (const id of this.measured.keys()) if (!ids.has(id)) this.measured.delete(id);
  }

  /** The report trimmed in the outbox to fit `budget`, or undefined after setting it aside when it cannot be. */
  private fit(e: Entry, budget: number): Entry | undefined {
    const r = e.report;
    const keyColumns = this.deps.keyColumns(String(r.body['taskId'] ?? ''));
    const body = fitReport(r.kind, r.body, budget, (b) => toItem({ ...r, body: b }), keyColumns);
    if (!body) {
      const why = `its ${e.bytes} bytes exceed central's message limit (${budget} bytes usable) and trimming cannot bring it below`;
      this.setAside(r, why);
      return undefined;
    }
    this.deps.spool.replaceReportBody(r.reportId, body);
    const report = { ...r, body };
    const item = toItem(report);
    const bytes = reportItemBytes(item);
    this.measured.set(r.reportId, bytes);
    this.deps.log.warn(
      { seq: r.seq, kind: r.kind, bytes: e.bytes, trimmedBytes: bytes, limitBytes: budget },
      'report trimmed to fit central message limit',
    );
    return { report, item, bytes };
  }

  /** After central refused a call of several reports: each alone, in order, to set aside only the refused ones. */
  private async sendOneByOne(entries: readonly Entry[], deadlineMs: number, signal?: AbortSignal): Promise<void> {
    for (const e of entries) {
      try {
        const res = await this.deps.client.report([e.item], deadlineMs, signal);
        this.deps.spool.deleteReports(res.ackedReportIds);
      } catch (err) {
        const refusal = reportRefusal(err);
        if (!refusal) throw err; // the rest stay in the outbox, in order
        this.setAside(e.report, refusal.reason);
      }
    }
  }

  /** Moves a report central refuses to the spool's dead-letter, with an ERROR log and an event for central. */
  private setAside(r: OutboxReport, reason: string): void {
    const taskId = String(r.body['taskId'] ?? '');
    const what = `${r.kind}${taskId ? ` of task ${taskId}` : ''}`;
    const message = `report ${r.seq} (${what}) set aside: central refused it: ${reason.slice(0, 1000)}; it is kept in the spool's report_dead_letter`;
    const event = this.deps.spool.setReportAside(r, reason, this.deps.clock(), {
      severity: 'error',
      code: 'REPORT_SET_ASIDE',
      message,
      taskId,
    });
    this.deps.log.error(
      { seq: r.seq, reportId: r.reportId, kind: r.kind, taskId, reason },
      'report set aside: central refused it',
    );
    this.deps.onReport(event);
    this.deps.onSetAside(r, reason);
  }
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Outbox kinds are the proto's snake_case oneof names; the generated client expects camelCase keys. */
const toItem = (r: OutboxReport): ReportItem => ({
  reportId: r.reportId,
  seq: r.seq,
  observedAtMs: r.observedAt,
  [camel(r.kind)]: r.body,
});

/**
 * Whether central refused a Report call for what it holds (not retryable: the same call fails again) and
 * why; undefined for every other failure, retryable or about the node (unknown node, credentials), which
 * must hold the outbox in place. A too-large refusal names central's limit when grpc-js says it.
 */
function reportRefusal(err: unknown): { reason: string; tooLarge: boolean; maxBytes?: number } | undefined {
  const code = grpcCode(err);
  const details = String((err as { details?: unknown }).details ?? (err as Error).message ?? '');
  if (code === GrpcStatus.INVALID_ARGUMENT || code === GrpcStatus.OUT_OF_RANGE)
    return { reason: `${GrpcStatus[code]}: ${details}`, tooLarge: false };
  if (code === GrpcStatus.RESOURCE_EXHAUSTED && /message (that decompresses to a size )?larger than/i.test(details)) {
    const named = /larger than (?:max \(\d+ vs\.? )?(\d+)/i.exec(details);
    return { reason: `RESOURCE_EXHAUSTED: ${details}`, tooLarge: true, ...(named && { maxBytes: Number(named[1]) }) };
  }
  return undefined;
}
