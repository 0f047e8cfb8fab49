// The alert rules that central evaluates itself (the evaluation job, jobs/alerts.ts): node offline and spool
// backlog from liveness and heartbeat health, task failing from task_run reports, quarantine growing, a center's
// NATS unreachable or its monitoring sample (center-monitor.ts) unwell, and the end of overdue-application
// alerts. Each rule compares its verdict per entity with the open alerts of its kind: raise what holds (seen
// again while open: no duplicate), resolve what no longer does.
import {
  ALERT_KINDS,
  alertParams,
  backlogSeverity,
  trailingFailures,
  type AlertKind,
  type AlertMessageParams,
  type BacklogThresholds,
} from '../domain/alerts.js';
import type { AlertSeverity } from '../api/alerts.js';
import type { NodeRecord, Store } from '../store/index.js';
import type { AlertService } from './alerts.js';
import { healthProblem } from '../domain/center-health.js';
import { sampleCenter } from './center-monitor.js';
import { checkNatsUrls } from './nats-info.js';

/** The rules' thresholds (config alerts.*; defaults in config.ts DEFAULTS.alerts). */
export interface AlertRuleSettings {
  /** Severity of node_offline (critical). */
  nodeOfflineSeverity: AlertSeverity;
  spoolBacklog: BacklogThresholds;
  /** Consecutive failed runs (status 'failed') of a task that raise task_failing (3); 0: rule off. */
  taskFailingRuns: number;
  /** Records quarantined by one task within windowMs that raise quarantine_growing (100); 0: rule off. */
  quarantineRecords: number;
  quarantineWindowMs: number;
  /** How long each center URL may take to send its NATS INFO line, ms. */
  centerCheckTimeoutMs: number;
}

/** Tasks whose newest runs are read in one step of the rules (one indexed lookup each). */
const TASKS_PER_STEP = 250;
const END_OFFLINE = 'node online again';
const END_BACKLOG = 'spool backlog below the warning thresholds';

/** One verdict: the entity's alert should be firing with this severity and message. */
interface Verdict {
  entityId: string;
  departmentCode: string;
  severity: AlertSeverity;
  message: string;
  params: AlertMessageParams;
}

export class AlertRules {
  constructor(
    private readonly store: Store,
    private readonly alerts: AlertService,
    private readonly clock: () => number,
    private readonly settings: AlertRuleSettings,
  ) {}

  /** Every rule but the centers' (which does network I/O: centers()). Returns the alerts opened. */
  evaluate(): number {
    const out = { opened: 0 };
    for (const _ of this.evaluateSteps(out));
    return out.opened;
  }

  /**
   * evaluate() in steps, the alerts opened added to `out.opened`: it yields before each alert raised or resolved
   * (a transaction each) and between pages of tasks read, so that the job hands the event loop back between them
   * (jobs/slices.ts; at 2,000 nodes and 6,000 tasks the rules take about a second).
   */
  *evaluateSteps(out: { opened: number }): Generator<void, void> {
    yield* this.nodeSteps(out);
    yield* this.taskSteps(out);
    yield;
    out.opened += this.quarantine() + this.applications();
  }

  /** node_offline for enabled offline nodes; spool_backlog from each online node's last health. */
  nodes(): number {
    const out = { opened: 0 };
    for (const _ of this.nodeSteps(out));
    return out.opened;
  }

  private *nodeSteps(out: { opened: number }): Generator<void, void> {
    const offline: Verdict[] = [];
    const backlog: Verdict[] = [];
    for (const n of this.store.nodes.list()) {
      const v = this.nodeVerdicts(n);
      if (v.offline) offline.push(v.offline);
      if (v.backlog) backlog.push(v.backlog);
    }
    yield* this.applySteps(ALERT_KINDS.NODE_OFFLINE, offline, END_OFFLINE, out);
    yield* this.applySteps(ALERT_KINDS.SPOOL_BACKLOG, backlog, END_BACKLOG, out);
  }

  /** The node rules for one node, at once (after its liveness transition: no wait for the next evaluation). */
  node(nodeId: string): void {
    const n = this.store.nodes.get(nodeId);
    if (!n) return;
    const v = this.nodeVerdicts(n);
    const now = this.clock();
    for (const [kind, verdict, end] of [
      [ALERT_KINDS.NODE_OFFLINE, v.offline, END_OFFLINE],
      [ALERT_KINDS.SPOOL_BACKLOG, v.backlog, END_BACKLOG],
    ] as const) {
      if (verdict) this.alerts.raise({ kind, ...verdict, at: now });
      else this.alerts.resolve(kind, n.id, end, now);
    }
  }

  private nodeVerdicts(n: NodeRecord): { offline?: Verdict; backlog?: Verdict } {
    const where = { entityId: n.id, departmentCode: n.departmentCode };
    const out: { offline?: Verdict; backlog?: Verdict } = {};
    // A node enrolled but never heard from is not yet online: only a node that went silent is alerted.
    if (n.enabled && n.status === 'offline' && n.lastHeartbeatAt !== null) {
      const since = new Date(n.lastHeartbeatAt).toISOString();
      out.offline = {
        ...where,
        severity: this.settings.nodeOfflineSeverity,
        message: `node ${n.name} of ${n.departmentCode} is offline: no heartbeat since ${since}`,
        params: alertParams(ALERT_KINDS.NODE_OFFLINE, {
          node: n.name,
          department: n.departmentCode,
          sinceAt: n.lastHeartbeatAt,
        }),
      };
    }
    const sev = n.status === 'online' && n.health ? backlogSeverity(n.health, this.settings.spoolBacklog) : undefined;
    if (sev) {
      const [batches, bytes] = [n.health?.spoolDepth ?? 0, n.health?.spoolBytes ?? 0];
      out.backlog = {
        ...where,
        severity: sev,
        message: `node ${n.name} of ${n.departmentCode}: spool backlog ${batches} batches, ${bytes} bytes`,
        params: alertParams(ALERT_KINDS.SPOOL_BACKLOG, { node: n.name, department: n.departmentCode, batches, bytes }),
      };
    }
    return out;
  }

  /** task_failing for tasks whose newest taskFailingRuns runs all failed. */
  tasks(): number {
    const out = { opened: 0 };
    for (const _ of this.taskSteps(out));
    return out.opened;
  }

  private *taskSteps(out: { opened: number }): Generator<void, void> {
    const n = this.settings.taskFailingRuns;
    if (n <= 0) return;
    const verdicts: Verdict[] = [];
    const statuses: ReturnType<Store['alerts']['recentRunStatuses']> = [];
    for (
      let page = this.store.alerts.recentRunStatuses(n, { afterTaskId: '', limit: TASKS_PER_STEP });
      page.length;
      page = this.store.alerts.recentRunStatuses(n, { afterTaskId: page.at(-1)!.taskId, limit: TASKS_PER_STEP })
    ) {
      statuses.push(...page);
      yield;
    }
    for (const t of statuses) {
      if (trailingFailures(t.statuses) < n) continue;
      verdicts.push({
        entityId: t.taskId,
        departmentCode: this.store.nodes.get(t.nodeId)?.departmentCode ?? '',
        severity: 'warning',
        message: `task ${t.taskId} on node ${t.nodeId}: its last ${n} runs failed`,
        params: alertParams(ALERT_KINDS.TASK_FAILING, { task: t.taskId, node: t.nodeId, runs: n }),
      });
    }
    yield* this.applySteps(ALERT_KINDS.TASK_FAILING, verdicts, 'a run did not fail', out);
  }

  /** quarantine_growing for tasks that quarantined quarantineRecords or more within the window. */
  quarantine(): number {
    const { quarantineRecords: limit, quarantineWindowMs: windowMs } = this.settings;
    if (limit <= 0) return 0;
    const verdicts: Verdict[] = [];
    for (const q of this.store.alerts.quarantinedSince(this.clock() - windowMs)) {
      if (q.records < limit) continue;
      verdicts.push({
        entityId: q.taskId,
        departmentCode: this.store.nodes.get(q.nodeId)?.departmentCode ?? '',
        severity: 'warning',
        message: `task ${q.taskId}: ${q.records} records quarantined within ${Math.round(windowMs / 60_000)} min`,
        params: alertParams(ALERT_KINDS.QUARANTINE_GROWING, {
          task: q.taskId,
          records: q.records,
          windowMin: Math.round(windowMs / 60_000),
        }),
      });
    }
    return this.apply(ALERT_KINDS.QUARANTINE_GROWING, verdicts, 'quarantine stopped growing');
  }

  /** Ends application_overdue alerts of applications answered since (the governance sweep raises them). */
  applications(): number {
    for (const a of this.alerts.openOfKind(ALERT_KINDS.APPLICATION_OVERDUE)) {
      const app = this.store.sharing.getApplication(a.entityId);
      if (!app || app.status !== 'pending')
        this.alerts.resolve(a.kind, a.entityId, `application ${app?.status ?? 'gone'}`, this.clock());
    }
    return 0;
  }

  /**
   * center_unreachable for centers none of whose URLs answers with a NATS INFO line (critical), and, for a
   * center with a monitoring URL, from its sample, stored here as the center's latest: the endpoint not
   * answering or JetStream off (critical), JetStream storage near its limit (warning; healthProblem()).
   */
  async centers(): Promise<number> {
    const verdicts: Verdict[] = [];
    const timeoutMs = this.settings.centerCheckTimeoutMs;
    for (const c of this.store.centers.list()) {
      const [answers, sample] = await Promise.all([
        checkNatsUrls(c.natsUrls, timeoutMs),
        c.monitorUrl ? sampleCenter(c.code, c.monitorUrl, timeoutMs, this.clock) : undefined,
      ]);
      // Stored unless the center's monitoring URL changed while it was sampled.
      if (sample && this.store.centers.get(c.code)?.monitorUrl === sample.monitorUrl)
        this.store.centers.putHealth(sample);
      const problem = sample && healthProblem(sample);
      const at = `exchange center ${c.code}`;
      if (!answers.some((a) => a.ok)) {
        const why = answers.map((a) => `${a.url}: ${a.detail}`).join('; ');
        const also = problem ? `; ${problem.message}` : '';
        verdicts.push({
          entityId: c.code,
          departmentCode: '',
          severity: 'critical',
          message: `${at}: no NATS server answers (${why})${also}`,
          params: alertParams(ALERT_KINDS.CENTER_UNREACHABLE, { center: c.code, detail: `${why}${also}` }),
        });
      } else if (problem)
        verdicts.push({
          entityId: c.code,
          departmentCode: '',
          severity: problem.severity,
          message: `${at}: ${problem.message}`,
          params: alertParams(ALERT_KINDS.CENTER_UNREACHABLE, { center: c.code, detail: problem.message }),
        });
    }
    return this.apply(ALERT_KINDS.CENTER_UNREACHABLE, verdicts, 'NATS and its monitoring answer again');
  }

  /** Raises every verdict and resolves open alerts of the kind without one; the number opened. */
  private apply(kind: AlertKind, verdicts: readonly Verdict[], endReason: string): number {
    const out = { opened: 0 };
    for (const _ of this.applySteps(kind, verdicts, endReason, out));
    return out.opened;
  }

  /** apply() in steps: one before each raise and each resolve; the alerts opened added to `out.opened`. */
  private *applySteps(
    kind: AlertKind,
    verdicts: readonly Verdict[],
    endReason: string,
    out: { opened: number },
  ): Generator<void, void> {
    const now = this.clock();
    const holding = new Set(verdicts.map((v) => v.entityId));
    for (const v of verdicts) {
      yield;
      if (this.alerts.raise({ kind, ...v, at: now })) out.opened++;
    }
    for (const a of this.alerts.openOfKind(kind))
      if (!holding.has(a.entityId)) {
        yield;
        this.alerts.resolve(kind, a.entityId, endReason, now);
      }
  }
}
