// The dashboard's figures: the headline summary (departments connected, nodes online and 联通率, today's
// exchanges from the hourly traffic history, resources, applications, alerts) and the exchange volume trend,
// within the caller's scope. Reads only.
import type { DashboardSummary, DashboardTrend, DashboardTrendBucket, TrendRange } from '../api/dashboard.js';
import type { TimeZone } from '../domain/time-zone.js';
import { DashboardStore } from '../store/dashboard.js';
import { DashboardCountStore } from '../store/dashboard-counts.js';
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
    const c = new DashboardCountStore(this.store.db).summary(departmentCodes, now);
    const todayStartMs = this.zone.dayStart(now);
    const today = sum(this.acrossDays(nodeIds, todayStartMs, this.zone.nextDayStart(now)));
    return {
      generatedAt: now,
      todayStartMs,
      timeZone: this.zone.name,
      regionCode: scope.regionCode ?? null,
      departments: { total: c.departments, connected: c.departmentsConnected },
      nodes: {
        total: c.nodes,
        online: c.nodesOnline,
        onlineRate: c.nodes === 0 ? null : c.nodesOnline / c.nodes,
      },
      today,
      resources: { published: c.resourcesPublished },
      applications: { pending: c.applicationsPending, overdue: c.applicationsOverdue },
      alerts: { open: c.alertsOpen, critical: c.alertsCritical },
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
    const rows =
      range === 'today'
        ? this.store.traffic.hourlyAcross(nodeIds, sinceMs, untilMs)
        : this.acrossDays(nodeIds, sinceMs, untilMs);
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

  /**
   * Rows of every series touching `nodeIds` over whole local days [sinceMs, untilMs): the daily rollup when it is cut
   * by this zone's days (one row a series a day), else the hours.
   */
  private acrossDays(nodeIds: readonly string[] | undefined, sinceMs: number, untilMs: number): TrafficRow[] {
    const offset = this.store.traffic.dailyOffset();
    return offset !== null && offset === this.zone.offsetMs(sinceMs)
      ? this.store.traffic.dailyAcross(nodeIds, sinceMs, untilMs)
      : this.store.traffic.hourlyAcross(nodeIds, sinceMs, untilMs);
  }

  /** The departments and nodes of a scope; undefined when the scope is everything. */
  private resolve(scope: DashboardScope): { departmentCodes?: string[]; nodeIds?: string[] } {
    if (!scope.regionCodes && !scope.departmentCode) return {};
    return new DashboardCountStore(this.store.db).scope(scope.regionCodes, scope.departmentCode);
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
