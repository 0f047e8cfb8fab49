// Central's scrape-time gauges of the province's state: nodes per department and city, open alerts, tasks,
// applications. Each reads grouped counts (store/metrics.ts) when Prometheus scrapes.
//
// Label bounds: severity, state, kind, status and enabled are fixed sets; `department` and `city` name the
// departments and regions registered in central (bounded by the registry, a few hundred departments in a
// province); no node ids, task ids, record keys or free text.
import { Gauge, type Registry } from 'prom-client';
import type { DepartmentNodeCount } from './store/metrics.js';

/** What the gauges read at each scrape. */
export interface StateSources {
  openAlerts: () => readonly { severity: string; kind: string; state: string; n: number }[];
  tasks: () => readonly { kind: string; enabled: number; n: number }[];
  applications: () => { pending: number; overdue: number };
  nodesByDepartment: () => readonly DepartmentNodeCount[];
}

const SEVERITIES = ['info', 'warning', 'critical'] as const;

/** Registers the state gauges on `registry`. */
export function registerStateGauges(registry: Registry, src: StateSources): void {
  new Gauge({
    name: 'xchg_alerts_open',
    help: 'Open alerts (firing or acknowledged) by severity; every severity present, 0 when none',
    labelNames: ['severity'] as const,
    registers: [registry],
    collect() {
      const n = new Map<string, number>();
      for (const a of src.openAlerts()) n.set(a.severity, (n.get(a.severity) ?? 0) + a.n);
      for (const severity of SEVERITIES) this.set({ severity }, n.get(severity) ?? 0);
    },
  });
  new Gauge({
    name: 'xchg_alerts_open_by_kind',
    help: 'Open alerts by severity, rule kind and state (firing, acknowledged); only combinations that occur',
    labelNames: ['severity', 'kind', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const a of src.openAlerts()) this.set({ severity: a.severity, kind: a.kind, state: a.state }, a.n);
    },
  });
  new Gauge({
    name: 'xchg_tasks',
    help: 'Tasks defined (not deleted) by kind and whether enabled',
    labelNames: ['kind', 'enabled'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const t of src.tasks()) this.set({ kind: t.kind, enabled: t.enabled ? 'true' : 'false' }, t.n);
    },
  });
  new Gauge({
    name: 'xchg_applications',
    help: 'Share applications waiting for the provider: pending (all) and overdue (past the deadline, a subset)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const a = src.applications();
      this.set({ state: 'pending' }, a.pending);
      this.set({ state: 'overdue' }, a.overdue);
    },
  });
  new Gauge({
    name: 'xchg_department_nodes',
    help: 'Enrolled nodes by city (city-level region code), department code and liveness status',
    labelNames: ['city', 'department', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of src.nodesByDepartment())
        this.set({ city: r.city, department: r.department, status: r.status }, r.n);
    },
  });
}
