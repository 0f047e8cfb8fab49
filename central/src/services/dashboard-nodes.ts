// The node pages' figures: the node table (last health from heartbeats, open alerts) filtered, sorted and
// paged in memory over the scope's nodes (one query for nodes, one for open alerts), and one node's drill-down:
// its tasks with their newest runs (one indexed lookup a task), quarantine counts, reasons and newest records
// without values, and its open alerts. A node outside the caller's scope is not found. Reads only.
import type {
  DashboardNodeDetail,
  DashboardNodeRow,
  DashboardNodes as DashboardNodesAnswer,
  DashboardNodesQuery,
  NodeSort,
} from '../api/dashboard-nodes.js';
import { withholdValues } from '../domain/record-access.js';
import { notFound } from '../errors.js';
import type { NodeRecord, Store } from '../store/index.js';
import type { DashboardStore } from '../store/dashboard.js';
import type { ResolvedScope } from './dashboard-pages.js';

const RUNS_PER_TASK = 5;
const RECENT_QUARANTINE = 20;
const REASONS = 10;
const NODE_ALERTS = 50;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const int = (v: unknown): number | null => {
  const n = num(v);
  return n === null ? null : Math.round(n);
};

/** Sort keys → the value compared (nulls last whatever the order). */
const SORT_VALUE: Record<NodeSort, (r: DashboardNodeRow) => string | number | null> = {
  department: (r) => `${r.departmentCode}\u0000${r.name}`,
  name: (r) => r.name,
  status: (r) => r.status,
  heartbeat: (r) => r.heartbeatAgeMs,
  version: (r) => r.agentVersion,
  backlog: (r) => r.spoolDepth,
  cpu: (r) => r.cpuPercent,
  memory: (r) => r.memRssBytes,
  disk: (r) => r.diskFreeBytes,
};

export class DashboardNodeService {
  constructor(
    private readonly store: Store,
    private readonly q: DashboardStore,
    private readonly clock: () => number,
  ) {}

  list(query: DashboardNodesQuery, scope: ResolvedScope): DashboardNodesAnswer {
    const now = this.clock();
    const names = new Map(this.store.regions.listDepartments().map((d) => [d.code, d.name]));
    const open = this.openAlertCounts(scope);
    const needle = query.q?.toLowerCase();
    const regions = query.region ? new Set(this.store.regions.subtree(query.region)) : undefined;
    const rows = this.scoped(scope)
      .filter(
        (n) =>
          (!query.status || n.status === query.status) &&
          (!query.department || n.departmentCode === query.department) &&
          (!regions || regions.has(n.regionCode)) &&
          (!needle ||
            [n.id, n.name, n.hostname, n.departmentCode, names.get(n.departmentCode) ?? ''].some((s) =>
              s.toLowerCase().includes(needle),
            )),
      )
      .map((n) => row(n, names.get(n.departmentCode) ?? n.departmentCode, open.get(n.id) ?? 0, now));
    sortRows(rows, query.sort ?? 'department', query.order ?? 'asc');
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 100;
    return {
      generatedAt: now,
      total: rows.length,
      counts: {
        online: rows.filter((r) => r.status === 'online').length,
        offline: rows.filter((r) => r.status !== 'online').length,
      },
      offset,
      limit,
      nodes: rows.slice(offset, offset + limit),
    };
  }

  /** One node's drill-down; NOT_FOUND when unknown or outside the scope. */
  detail(id: string, scope: ResolvedScope): DashboardNodeDetail {
    const now = this.clock();
    const n = this.store.nodes.get(id);
    if (!n || !inScope(n, scope)) throw notFound('node', id);
    const tasks = this.store.tasks.forNode(id);
    const alerts = this.store.alerts.list({
      state: 'open',
      entityIds: [id, ...tasks.map((t) => t.id)],
      limit: NODE_ALERTS,
    });
    const dept = this.store.regions.getDepartment(n.departmentCode);
    const counts = this.q.quarantineByTask(id);
    const quarantine = new Map(counts.map((c) => [c.taskId, c]));
    const lags = new Map((n.health?.taskLags ?? []).map((l) => [l.taskId, l.lagMs]));
    const visiblePeer = (peer: string | null): string | null => {
      if (!peer || !scope.nodeIds) return peer;
      return scope.nodeIds.includes(peer) ? peer : null;
    };
    return {
      generatedAt: now,
      node: row(n, dept?.name ?? n.departmentCode, alerts.filter((a) => a.entityId === id).length, now),
      tasks: tasks.map((t) => ({
        id: t.id,
        name: t.name,
        kind: t.kind,
        resourceCode: t.resourceCode,
        peerNodeId: visiblePeer(t.peerNodeId),
        enabled: t.enabled,
        lagMs: int(lags.get(t.id)),
        runs: this.store.reports.taskRuns({ taskId: t.id, limit: RUNS_PER_TASK }).map((r) => ({
          runId: r.runId,
          startedAt: r.startedAt,
          finishedAt: r.finishedAt,
          status: r.status,
          records: r.records,
          batches: r.batches,
          bytes: r.bytes,
          errors: r.errors,
          quarantined: r.quarantined,
          lagMs: r.lagMs,
          error: withholdValues(r.error),
        })),
        quarantined: quarantine.get(t.id)?.total ?? 0,
        quarantinedOpen: quarantine.get(t.id)?.open ?? 0,
      })),
      quarantine: this.quarantine(id, counts),
      alerts,
    };
  }

  /** The node's quarantine: `counts` per task (quarantineByTask, read once by detail()) and the reasons. */
  private quarantine(
    id: string,
    counts: ReturnType<DashboardStore['quarantineByTask']>,
  ): DashboardNodeDetail['quarantine'] {
    // Reasons that differ only in their values become one once the values are taken out.
    const reasons = new Map<string, number>();
    for (const r of this.q.quarantineReasons(id, 200)) {
      const k = withholdValues(r.reason);
      reasons.set(k, (reasons.get(k) ?? 0) + r.count);
    }
    return {
      total: counts.reduce((s, c) => s + c.total, 0),
      open: counts.reduce((s, c) => s + c.open, 0),
      reasons: [...reasons.entries()]
        .map(([reason, count]) => ({ reason, count }))
        .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
        .slice(0, REASONS),
      recent: this.q.recentQuarantine(id, RECENT_QUARANTINE).map((r) => ({ ...r, reason: withholdValues(r.reason) })),
    };
  }

  private scoped(scope: ResolvedScope): NodeRecord[] {
    const all = this.store.nodes.list(scope.regionCodes ? { regionCodes: scope.regionCodes } : {});
    if (!scope.departmentCodes) return all;
    const mine = new Set(scope.departmentCodes);
    return all.filter((n) => mine.has(n.departmentCode));
  }

  /** Open alerts per entity id within the scope's departments (counted by the store). */
  private openAlertCounts(scope: ResolvedScope): Map<string, number> {
    return this.store.alerts.openCountsByEntity(scope.departmentCodes);
  }
}

function inScope(n: NodeRecord, scope: ResolvedScope): boolean {
  if (scope.nodeIds) return scope.nodeIds.includes(n.id);
  return true;
}

function row(n: NodeRecord, departmentName: string, openAlerts: number, now: number): DashboardNodeRow {
  const h = (n.health ?? {}) as Record<string, unknown>;
  return {
    id: n.id,
    name: n.name,
    departmentCode: n.departmentCode,
    departmentName,
    regionCode: n.regionCode,
    hostname: n.hostname,
    status: n.status,
    enabled: n.enabled,
    lastHeartbeatAt: n.lastHeartbeatAt,
    heartbeatAgeMs: n.lastHeartbeatAt === null ? null : Math.max(0, now - n.lastHeartbeatAt),
    agentVersion: n.agentVersion,
    outboxDepth: int(h['outboxDepth']),
    spoolDepth: int(h['spoolDepth']),
    spoolBytes: int(h['spoolBytes']),
    cpuPercent: num(h['cpuPercent']),
    memRssBytes: int(h['memRssBytes']),
    diskFreeBytes: int(h['diskFreeBytes']),
    openAlerts,
  };
}

function sortRows(rows: DashboardNodeRow[], sort: NodeSort, order: 'asc' | 'desc'): void {
  const value = SORT_VALUE[sort];
  const sign = order === 'asc' ? 1 : -1;
  rows.sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === null || y === null) return x === y ? a.id.localeCompare(b.id) : x === null ? 1 : -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? sign * c : a.id.localeCompare(b.id);
  });
}
