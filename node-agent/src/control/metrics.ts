// The metrics loop: every reportIntervalMs a health sample goes to the outbox, and newly quarantined
// records go into quarantine reports, until shutdown.
//
// Invariants
//  - A quarantined record is put in a report and marked reported in ONE spool transaction: each record is
//    reported once, and none is lost between the two (the outbox then delivers it at least once).
//  - No quarantine report can outgrow central's message limit: records are trimmed and split (report-fit.ts);
//    the spool keeps the whole records.
import type { Logger } from 'pino';
import type { NodeHealth } from '../../../proto/index.js';
import { sleep } from '../backoff.js';
import type { DataSpool } from '../spool/data-spool.js';
import { QUARANTINE_REPORT_BYTES, quarantineReports } from './report-fit.js';
import type { ReportKind } from './reports.js';

/** Quarantined records read per metrics interval at most. */
const QUARANTINE_ROWS_PER_PASS = 500;

export interface MetricsDeps {
  /** How often a sample is recorded (ms). */
  intervalMs: number;
  health: () => NodeHealth;
  report: (kind: ReportKind, body: Record<string, unknown>) => void;
  /** Moves newly quarantined records into reports (see reportQuarantine). */
  reportQuarantine: () => void;
  log: Logger;
}

/** Records a metrics sample (and the new quarantine) every interval until the signal aborts. */
export async function runMetrics(deps: MetricsDeps, signal: AbortSignal): Promise<void> {
  while (await sleep(deps.intervalMs, signal)) {
    try {
      deps.report('metrics', { health: deps.health() });
      deps.reportQuarantine();
    } catch (err) {
      deps.log.error({ err }, 'could not record metrics report');
    }
  }
}

export interface QuarantineReportOptions {
  /** Largest record's values (JSON bytes) in a report; longer values are clipped with a marker. */
  maxRecordBytes: number;
  /** Bytes one Report call may hold now (CentralView.reportCallBudget). */
  callBudgetBytes: number;
  keyColumns: (taskId: string) => readonly string[];
  report: (kind: 'quarantine', body: Record<string, unknown>) => void;
}

/**
 * Moves newly quarantined records into quarantine reports for central, in the same spool transaction that
 * marks them reported.
 */
export function reportQuarantine(
  ds: Pick<DataSpool, 'transaction' | 'unreportedQuarantine' | 'markReported'>,
  opts: QuarantineReportOptions,
): void {
  ds.transaction(() => {
    const rows = ds.unreportedQuarantine(QUARANTINE_ROWS_PER_PASS);
    if (rows.length === 0) return;
    const byTask = new Map<string, typeof rows>();
    for (const r of rows) byTask.set(r.taskId, [...(byTask.get(r.taskId) ?? []), r]);
    // Records too large for a report are trimmed and many records split into several reports, so that
    // no quarantine report can outgrow central's message limit (the spool keeps the whole records).
    const maxReportBytes = Math.min(QUARANTINE_REPORT_BYTES, opts.callBudgetBytes);
    for (const [taskId, rs] of byTask) {
      const bodies = quarantineReports(taskId, rs, {
        maxRecordBytes: Math.min(opts.maxRecordBytes, maxReportBytes - 1024),
        maxReportBytes,
        keyColumns: opts.keyColumns(taskId),
      });
      for (const body of bodies) opts.report('quarantine', body);
    }
    ds.markReported(rows.map((r) => r.id));
  });
}
