// The overview page's figures beyond the headline: department rankings as provider and as consumer and top
// resources (hourly traffic history, last 7/30 local days), approval response times against the deadline,
// evaluation (考核) per department (EvaluationService's counts), and the province's cities compared. Reads only.
import type {
  ApprovalRange,
  CityRow,
  DashboardApprovals,
  DashboardCities,
  DashboardEvaluation,
  DashboardRankings,
  DepartmentVolume,
  RankingRange,
} from '../api/dashboard-pages.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import { approvalFigures } from '../domain/approval-stats.js';
import type { TimeZone } from '../domain/time-zone.js';
import type { Store } from '../store/index.js';
import type { ApplicationTiming, DashboardStore, VolumeRow } from '../store/dashboard.js';
import type { EvaluationService } from './evaluation.js';

const RANGE_DAYS: Record<RankingRange | ApprovalRange, number> = { '7d': 7, '30d': 30, '90d': 90, '365d': 365 };

/** A resolved scope: undefined fields mean everything. */
export interface ResolvedScope {
  departmentCodes?: readonly string[];
  nodeIds?: readonly string[];
  regionCodes?: readonly string[];
}

export interface DashboardPagesOptions {
  calendar: WorkingCalendar;
  /** The answer deadline of applications in working days (sharing's approvalWorkingDays). */
  approvalWorkingDays: number;
}

export class DashboardPageService {
  constructor(
    private readonly store: Store,
    private readonly q: DashboardStore,
    private readonly clock: () => number,
    private readonly zone: TimeZone,
    private readonly evaluation: EvaluationService,
    private readonly opts: DashboardPagesOptions,
  ) {}

  /** The last `days` local days, today included: [start of the first, start of tomorrow). */
  private days(days: number, now: number): { sinceMs: number; untilMs: number } {
    let since = this.zone.dayStart(now);
    for (let i = 1; i < days; i++) since = this.zone.dayStart(since - 1);
    return { sinceMs: since, untilMs: this.zone.nextDayStart(now) };
  }

  rankings(range: RankingRange, limit: number, scope: ResolvedScope): DashboardRankings {
    const { sinceMs, untilMs } = this.days(RANGE_DAYS[range], this.clock());
    const depts = new Map(this.store.regions.listDepartments().map((d) => [d.code, d]));
    const dept = (r: VolumeRow): DepartmentVolume => ({
      departmentCode: r.key,
      name: depts.get(r.key)?.name ?? r.key,
      regionCode: depts.get(r.key)?.regionCode ?? '',
      records: r.records,
      batches: r.batches,
      bytes: r.bytes,
    });
    const providers = this.q.departmentVolumes('from', sinceMs, untilMs, scope.departmentCodes, limit).map(dept);
    const consumers = this.q.departmentVolumes('to', sinceMs, untilMs, scope.departmentCodes, limit).map(dept);
    const resources = this.q.resourceVolumes(sinceMs, untilMs, scope.nodeIds, limit).map((r) => {
      const res = this.store.catalog.get(r.key);
      return {
        resourceCode: r.key,
        name: res?.name ?? null,
        providerDepartmentCode: res?.providerDepartmentCode ?? null,
        records: r.records,
        batches: r.batches,
        bytes: r.bytes,
      };
    });
    return { range, sinceMs, untilMs, timeZone: this.zone.name, providers, consumers, resources };
  }

  approvals(range: ApprovalRange, limit: number, scope: ResolvedScope): DashboardApprovals {
    const now = this.clock();
    const { sinceMs } = this.days(RANGE_DAYS[range], now);
    const apps = this.q.applications(sinceMs, now + 1, scope.departmentCodes);
    const byDept = groupBy(apps, (a) => a.providerDepartmentCode);
    const depts = new Map(this.store.regions.listDepartments().map((d) => [d.code, d]));
    const departments = [...byDept.entries()]
      .map(([code, list]) => ({
        departmentCode: code,
        name: depts.get(code)?.name ?? code,
        regionCode: depts.get(code)?.regionCode ?? '',
        ...approvalFigures(list, this.opts.calendar, now),
      }))
      .sort((a, b) => b.received - a.received || a.departmentCode.localeCompare(b.departmentCode))
      .slice(0, limit);
    return {
      range,
      sinceMs,
      untilMs: now,
      deadlineWorkingDays: this.opts.approvalWorkingDays,
      overall: approvalFigures(apps, this.opts.calendar, now),
      departments,
    };
  }

  evaluationReport(range: RankingRange, limit: number, scope: ResolvedScope): DashboardEvaluation {
    const now = this.clock();
    // The last local days, today included (as the rankings): whole days read the runs' daily rollup.
    const period = this.evaluation.period(this.days(RANGE_DAYS[range], now).sinceMs, now);
    let rows = this.evaluation.departments(period, scope.regionCodes);
    if (scope.departmentCodes) {
      const mine = new Set(scope.departmentCodes);
      rows = rows.filter((r) => mine.has(r.departmentCode));
    }
    rows.sort(
      (a, b) =>
        b.providedRecords + b.usedRecords - (a.providedRecords + a.usedRecords) ||
        a.departmentCode.localeCompare(b.departmentCode),
    );
    return { period, total: rows.length, departments: rows.slice(0, limit) };
  }

  /** Every city of the province (and the province's own departments) side by side; province-wide callers only. */
  cities(): DashboardCities {
    const now = this.clock();
    const regions = this.store.regions.list();
    const byCode = new Map(regions.map((r) => [r.code, r]));
    // The row a region belongs to: the province itself, or the city at or above it.
    const rowOf = (code: string): string | undefined => {
      for (let r = byCode.get(code); r; r = r.parentCode ? byCode.get(r.parentCode) : undefined)
        if (r.level === 'city' || r.level === 'province') return r.code;
      return undefined;
    };
    const rows = new Map<string, CityRow>();
    for (const r of regions)
      if (r.level === 'city' || r.level === 'province') rows.set(r.code, emptyCity(r.code, r.name, r.level));
    const deptRow = new Map<string, string>();
    for (const d of this.store.regions.listDepartments()) {
      const row = rowOf(d.regionCode);
      if (!row) continue;
      deptRow.set(d.code, row);
      rows.get(row)!.departments++;
    }
    const nodeRow = new Map<string, string>();
    for (const n of this.store.nodes.list()) {
      const row = deptRow.get(n.departmentCode);
      if (!row) continue;
      nodeRow.set(n.id, row);
      const c = rows.get(row)!;
      c.nodes++;
      if (n.status === 'online') c.nodesOnline++;
    }
    this.addVolumes(rows, nodeRow, now);
    this.addApprovals(rows, deptRow, now);
    for (const c of rows.values()) c.onlineRate = c.nodes === 0 ? null : c.nodesOnline / c.nodes;
    const list = [...rows.values()].sort(
      (a, b) =>
        Number(b.level === 'province') - Number(a.level === 'province') || a.regionCode.localeCompare(b.regionCode),
    );
    return { generatedAt: now, cities: list };
  }

  /** Today's and the last 7 days' records of pairs with either end in each row (counted once per row). */
  private addVolumes(rows: Map<string, CityRow>, nodeRow: Map<string, string>, now: number): void {
    const week = this.days(7, now);
    // One scan of the week gives both sums (today's: from today's local midnight on).
    for (const p of this.q.pairVolumes(week.sinceMs, this.zone.dayStart(now), week.untilMs)) {
      const ends = new Set([nodeRow.get(p.fromNode), nodeRow.get(p.toNode)]);
      for (const row of ends) {
        if (!row) continue;
        const c = rows.get(row)!;
        c.weekRecords += p.records;
        c.todayRecords += p.recordsSince;
      }
    }
  }

  private addApprovals(rows: Map<string, CityRow>, deptRow: Map<string, string>, now: number): void {
    const { sinceMs } = this.days(90, now);
    const byRow = groupBy(
      this.q.applications(sinceMs, now + 1, undefined),
      (a) => deptRow.get(a.providerDepartmentCode) ?? '',
    );
    for (const [row, apps] of byRow) {
      const c = rows.get(row);
      if (!c) continue;
      const f = approvalFigures(apps, this.opts.calendar, now);
      c.approvalsReceived = f.received;
      c.approvalsOnTimeShare = f.onTimeShare;
    }
  }
}

function emptyCity(regionCode: string, name: string, level: string): CityRow {
  return {
    regionCode,
    name,
    level,
    departments: 0,
    nodes: 0,
    nodesOnline: 0,
    onlineRate: null,
    todayRecords: 0,
    weekRecords: 0,
    approvalsReceived: 0,
    approvalsOnTimeShare: null,
  };
}

function groupBy(
  apps: readonly ApplicationTiming[],
  key: (a: ApplicationTiming) => string,
): Map<string, ApplicationTiming[]> {
  const out = new Map<string, ApplicationTiming[]>();
  for (const a of apps) {
    const k = key(a);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(a);
  }
  return out;
}
