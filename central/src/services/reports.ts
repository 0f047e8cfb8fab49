// Ingests agent reports. Idempotent: a report_id already stored is acknowledged again and not re-applied,
// so an agent retrying after a lost reply never double counts (exactly-once effect over at-least-once
// delivery). Runs of exchange tasks that wrote data are also the audit log's record of each delivery
// (batch.delivered: who provided, to whom, which resource, how many records and batches, when).
import { invalid } from '../errors.js';
import type { ReportFilter, Store, StoredReport } from '../store/index.js';
import type { AuditTrail } from './audit.js';

export interface ReportInput {
  reportId: string;
  seq: number;
  observedAtMs: number;
  kind: string;
  body: Record<string, unknown>;
}

export interface IngestResult {
  acked: string[];
  /** Kind of each report stored by this call (duplicates left out). */
  freshKinds: string[];
  duplicates: number;
}

export class ReportService {
  /** Receives reconciliation reports inside the ingest transaction (set by createServices: ReconcileService.ingest). */
  onReconcile: ((nodeId: string, body: Record<string, unknown>) => void) | undefined;
  /** A shard plan's step reported by an agent (dynamic node allocation, services/shards.ts). */
  onShard: ((nodeId: string, body: Record<string, unknown>) => void) | undefined;
  /**
   * Stores a probe window (ProbeReport) inside the ingest transaction and says whether its report id was new
   * (set by createServices: ProbeService.ingest). Probe windows live in their own table with a bounded
   * retention, not among the reports.
   */
  onProbe:
    | ((nodeId: string, reportId: string, body: Record<string, unknown>, receivedAt: number, at: string) => boolean)
    | undefined;

  /**
   * Counts a traffic report (TrafficReport) into the traffic history inside the ingest transaction and says
   * whether its report id was new (set by createServices: TrafficService.ingest). Traffic reports live in
   * their buckets (traffic_buckets), not among the reports: one per pair, resource and 5 min would outgrow
   * every other kind.
   */
  onTraffic:
    | ((nodeId: string, reportId: string, body: Record<string, unknown>, receivedAt: number, at: string) => boolean)
    | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly audit: AuditTrail,
  ) {}

  ingest(nodeId: string, items: readonly ReportInput[]): IngestResult {
    for (const [i, it] of items.entries()) {
      if (!it.reportId || it.reportId.length > 128) throw invalid(`items[${i}].report_id`, 'must be 1-128 characters');
      if (!it.kind)
        throw invalid(`items[${i}].body`, 'is empty: one of task_run, metrics, traffic, quarantine, event is required');
    }
    const now = this.clock();
    return this.store.tx(() => {
      const freshKinds: string[] = [];
      for (const [i, it] of items.entries()) {
        const isNew =
          it.kind === 'probe' && this.onProbe
            ? this.onProbe(nodeId, it.reportId, it.body, now, `items[${i}].probe`)
            : it.kind === 'traffic' && this.onTraffic
              ? this.onTraffic(nodeId, it.reportId, it.body, now, `items[${i}].traffic`)
              : this.store.reports.insertIfNew({
                  reportId: it.reportId,
                  nodeId,
                  seq: it.seq,
                  kind: it.kind,
                  observedAt: it.observedAtMs,
                  receivedAt: now,
                  body: it.body,
                });
        if (!isNew) continue;
        freshKinds.push(it.kind);
        if (it.kind === 'task_run') this.applyTaskRun(nodeId, it.body, now);
        else if (it.kind === 'quarantine') this.applyQuarantine(nodeId, it.body, now);
        else if (it.kind === 'reconcile') this.onReconcile?.(nodeId, it.body);
        else if (it.kind === 'shard') this.onShard?.(nodeId, it.body);
      }
      return { acked: items.map((i) => i.reportId), freshKinds, duplicates: items.length - freshKinds.length };
    });
  }

  /**
   * Reports newest first (see ReportStore.list); `before` is a report id, the last one of the previous page,
   * and must name a stored report: an unknown cursor is refused rather than read as "nothing older".
   */
  list(filter: Omit<ReportFilter, 'before'> & { before?: string }): StoredReport[] {
    const { before, ...rest } = filter;
    if (before === undefined) return this.store.reports.list(rest);
    const cursor = this.store.reports.get(before);
    if (!cursor) throw invalid('before', `report ${JSON.stringify(before)} not found`);
    return this.store.reports.list({ ...rest, before: cursor });
  }

  taskRuns(filter: Parameters<Store['reports']['taskRuns']>[0]): ReturnType<Store['reports']['taskRuns']> {
    return this.store.reports.taskRuns(filter);
  }

  quarantined(
    taskId: string,
    opts: { includeResent?: boolean; limit?: number } = {},
  ): ReturnType<Store['reports']['quarantined']> {
    return this.store.reports.quarantined(taskId, opts);
  }

  private applyQuarantine(nodeId: string, b: Record<string, unknown>, now: number): void {
    const taskId = String(b['taskId'] ?? '');
    for (const r of (b['records'] as Record<string, unknown>[] | undefined) ?? []) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(String(r['recordJson'] ?? '{}')) as Record<string, unknown>;
      } catch {
        record = { unparsable: String(r['recordJson']) };
      }
      this.store.reports.insertQuarantined({
        nodeId,
        agentId: Number(r['id']),
        taskId,
        side: String(r['side'] ?? ''),
        origin: String(r['origin'] ?? ''),
        rowIndex: Number(r['rowIndex'] ?? 0),
        reason: String(r['reason'] ?? ''),
        field: String(r['field'] ?? ''),
        record,
        createdAt: Number(r['createdAtMs'] ?? now),
      });
    }
    const resent = ((b['resentIds'] as unknown[] | undefined) ?? []).map(Number);
    if (resent.length) this.store.reports.markQuarantineResent(nodeId, resent, now);
  }

  private applyTaskRun(nodeId: string, b: Record<string, unknown>, now: number): void {
    const num = (k: string): number => Number(b[k] ?? 0) || 0;
    const str = (k: string): string => String(b[k] ?? '');
    const task = this.store.tasks.getAny(str('taskId'));
    if (task && task.kind === 'exchange' && task.nodeId === nodeId && (num('records') > 0 || num('batches') > 0)) {
      const consumer = this.store.nodes.get(nodeId);
      const provider = task.peerNodeId ? this.store.nodes.get(task.peerNodeId) : undefined;
      this.audit.record(
        `node:${nodeId}`,
        {
          action: 'batch.delivered',
          entityType: 'task_run',
          entityId: str('runId'),
          departmentCode: provider?.departmentCode ?? '',
          peerDepartmentCode: consumer?.departmentCode ?? '',
          resourceCode: task.resourceCode,
          details: {
            subscriptionId: task.subscriptionId,
            taskId: task.id,
            providerNodeId: task.peerNodeId,
            consumerNodeId: nodeId,
            records: num('records'),
            batches: num('batches'),
            bytes: num('bytes'),
            quarantined: num('quarantined'),
            startedAt: num('startedAtMs'),
            finishedAt: num('finishedAtMs'),
          },
        },
        now,
      );
    }
    this.store.reports.insertTaskRun({
      runId: str('runId'),
      taskId: str('taskId'),
      nodeId,
      startedAt: num('startedAtMs'),
      finishedAt: num('finishedAtMs'),
      status: str('status') || 'ok',
      records: num('records'),
      bytes: num('bytes'),
      batches: num('batches'),
      errors: num('errors'),
      lagMs: num('lagMs'),
      quarantined: num('quarantined'),
      error: str('error'),
    });
  }
}
