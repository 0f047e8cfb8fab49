// The dashboard's figures: the headline summary (departments connected, nodes online and 联通率, today's
// exchanges from the hourly traffic history, resources, applications, alerts) and the exchange volume trend,
// within the caller's scope. Reads only.
import type { DashboardSummary, DashboardTrend, DashboardTrendBucket, TrendRange } from '../api/dashboard.js';
import type { TimeZone } from '../domain/time-zone.js';
import { DashboardStore } from '../store/dashboard.js';
import type { Store, TrafficRow } from '../store/index.js';
import { DashboardNodeService } from './dashboard-nodes.js';
import { DashboardPageService, type DashboardPagesOptions, type ResolvedScope } from './dashboard-pages.js';
import { EvaluationService } from './evaluation.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** What a caller sees: undefined fields mean everything (province-wide roles). */
export interface DashboardScope {
  /** A city admin's region subtree (region codes). */
  regionCodes?: readonly string[];
  /** An officer's department. */
  departmentCode?: string;
  /** The region the scope is named by (a city admin's), for display; null for the province. */
  regionCode?: string | null;
}

export class DashboardService {
  /** The overview's rankings, approvals, evaluation and city comparison. */
  readonly pages: DashboardPageService;
  /** The node table and a node's drill-down. */
  readonly nodes: DashboardNodeService;

  /**
   * @param clock ms since epoch
   * @param zone the traffic history's time zone: "today" and the trend's days are its local days
   * @param opts the working calendar and the approval deadline (for the approval figures)
   */
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly zone: TimeZone,
    opts: DashboardPagesOptions,
  ) {
    const q = new DashboardStore(store.db);
    this.pages = new DashboardPageService(store, q, clock, zone, new EvaluationService(store, clock), opts);
    this.nodes = new DashboardNodeService(store, q, clock);
  }

  /** The departments, nodes and regions a scope covers; undefined fields: everything. */
  resolveScope(scope: DashboardScope): ResolvedScope {
    return { ...this.resolve(scope), ...(scope.regionCodes && { regionCodes: scope.regionCodes }) };
  }

  summary(scope: DashboardScope): DashboardSummary {
    const now = this.clock();
    const { departmentCodes, nodeIds } = this.resolve(scope);
    const departments = departmentCodes ?? this.store.regions.listDepartments().map((d) => d.code);
    const nodes = this.scopedNodes(scope);
    const online = nodes.filter((n) => n.status === 'online');
    const todayStartMs = this.zone.dayStart(now);
    const today = sum(this.store.traffic.hourlyAcross(nodeIds, todayStartMs, this.zone.nextDayStart(now)));
    const pending = this.store.sharing.listApplications({
      status: 'pending',
      ...(departmentCodes && { departmentCodes }),
    });
    const alerts = this.store.alerts.list({
      state: 'open',
      ...(departmentCodes && { departmentCodes }),
      limit: Number.MAX_SAFE_INTEGER,
    });
    return {
      generatedAt: now,
      todayStartMs,
      timeZone: this.zone.name,
      regionCode: scope.regionCode ?? null,
      departments: { total: departments.length, connected: new Set(online.map((n) => n.departmentCode)).size },
      nodes: {
        total: nodes.length,
        online: online.length,
        onlineRate: nodes.length === 0 ? null : online.length / nodes.length,
      },
      today,
      resources: {
        published: this.store.catalog.list({ status: 'published', ...(departmentCodes && { departmentCodes }) }).length,
      },
      applications: { pending: pending.length, overdue: pending.filter((a) => a.deadlineAt <= now).length },
      alerts: { open: alerts.length, critical: alerts.filter((a) => a.severity === 'critical').length },
    };
  }

  /** Today by hour up to the current hour, or the last 7 / 30 local days (today included) by day. */
  trend(range: TrendRange, scope: DashboardScope): DashboardTrend {
    const now = this.clock();
    const { nodeIds } = this.resolve(scope);
    const starts: number[] = [];
    if (range === 'today') {
      for (let t = this.zone.dayStart(now); t <= now; t += HOUR_MS) starts.push(t);
    } else {
      let day = this.zone.dayStart(now);
      for (let i = 0; i < (range === '7d' ? 7 : 30); i++) {
        starts.unshift(day);
        day = this.zone.dayStart(day - 1);
      }
    }
    const sinceMs = starts[0]!;
    const untilMs = range === 'today' ? Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS : this.zone.nextDayStart(now);
    const rows = this.store.traffic.hourlyAcross(nodeIds, sinceMs, untilMs);
    const buckets = starts.map((startMs, i) => {
      const end = starts[i + 1] ?? untilMs;
      return { startMs, ...sum(rows.filter((r) => r.startMs >= startMs && r.startMs < end)) };
    });
    return {
      range,
      stepMs: range === 'today' ? HOUR_MS : DAY_MS,
      sinceMs,
      untilMs,
      timeZone: this.zone.name,
      buckets: buckets.map(({ startMs, batches, records, bytes }): DashboardTrendBucket => ({
        startMs,
        batches,
        records,
        bytes,
      })),
    };
  }

  /** The departments and nodes of a scope; undefined when the scope is everything. */
  private resolve(scope: DashboardScope): { departmentCodes?: string[]; nodeIds?: string[] } {
    if (!scope.regionCodes && !scope.departmentCode) return {};
    const departmentCodes = scope.departmentCode
      ? [scope.departmentCode]
      : this.store.regions.listDepartments(scope.regionCodes).map((d) => d.code);
    return { departmentCodes, nodeIds: this.scopedNodes(scope).map((n) => n.id) };
  }

  private scopedNodes(scope: DashboardScope) {
    return this.store.nodes.list({
      ...(scope.regionCodes && { regionCodes: scope.regionCodes }),
      ...(scope.departmentCode && { departmentCode: scope.departmentCode }),
    });
  }
}

/** Sums of rows; bytes null when no row knows its bytes. */
function sum(rows: readonly TrafficRow[]): { batches: number; records: number; bytes: number | null; errors: number } {
  let batches = 0;
  let records = 0;
  let bytes: number | null = null;
  let errors = 0;
  for (const r of rows) {
    batches += r.batches;
    records += r.records;
    errors += r.errors;
    if (r.bytes !== null) bytes = (bytes ?? 0) + r.bytes;
  }
  return { batches, records, bytes, errors };
}
