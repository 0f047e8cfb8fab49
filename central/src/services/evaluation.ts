// Evaluation (考核) over a period: per department what it published, how it answered applications (and
// whether on time), the data it provided and used (from its nodes' task runs) and its objections; per
// region the online rate (联通率) of its nodes computed from their liveness events.
import type { DepartmentReport, Period, RegionReport } from '../api/evaluation.js';
import { nodeUptime, rate } from '../domain/evaluation.js';
import type { Store } from '../store/index.js';

export type { DepartmentReport, Period, RegionReport } from '../api/evaluation.js';

export class EvaluationService {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {}

  /** Default period: the last 30 days up to now; `until` is capped at now. */
  period(since?: number, until?: number): Period {
    const now = this.clock();
    const end = Math.min(until ?? now, now);
    return { since: since ?? end - 30 * 86_400_000, until: end };
  }

  departments(p: Period, regionCodes?: readonly string[]): DepartmentReport[] {
    const depts = new Map(this.store.regions.listDepartments(regionCodes).map((d) => [d.code, d]));
    return this.store.evaluation
      .departmentCounts(p.since, p.until, this.clock())
      .filter((c) => depts.has(c.departmentCode))
      .map((c) => ({
        ...c,
        name: depts.get(c.departmentCode)!.name,
        regionCode: depts.get(c.departmentCode)!.regionCode,
        onTimeRate: rate(c.applicationsAnsweredOnTime, c.applicationsReceived),
        objectionResolutionRate: rate(c.objectionsResolved, c.objectionsReceived),
      }));
  }

  regions(p: Period, regionCodes?: readonly string[]): RegionReport[] {
    const regions = this.store.regions.list().filter((r) => !regionCodes || regionCodes.includes(r.code));
    const events = this.store.evaluation.nodeEvents(p.until);
    const perNode = this.store.nodes.list().map((n) => ({
      regionCode: n.regionCode,
      ...nodeUptime(events.get(n.id) ?? [], n.enrolledAt, p.since, p.until),
    }));
    return regions.map((r) => {
      const under = new Set(this.store.regions.subtree(r.code));
      const mine = perNode.filter((n) => under.has(n.regionCode));
      const onlineMs = mine.reduce((s, n) => s + n.onlineMs, 0);
      const observedMs = mine.reduce((s, n) => s + n.observedMs, 0);
      return {
        regionCode: r.code,
        name: r.name,
        level: r.level,
        nodes: mine.length,
        onlineMs,
        observedMs,
        onlineRate: rate(onlineMs, observedMs),
      };
    });
  }
}
