// The agent: enrollment, then four loops until shutdown — heartbeat, assignment long-poll, metrics
// sampling, outbox flush. States: INITIALIZED → RUNNING → DRAINING → STOPPED, or FAILED when it cannot
// start (bad token, no identity). Every wait takes the shutdown AbortSignal.
//
// Invariants
//  - Nothing observed is sent before it is in the spool outbox; it leaves the outbox only when central
//    acknowledges it (reports are delivered at least once and central stores each report_id once).
//  - The agent runs its last applied assignment set while central is unreachable, also after a restart
//    (the set is in the spool).
//  - The identity is written once, at enrollment; a restart never enrolls again.
//  - Reports leave in seq order. Every Report call fits central's message limit (the lower of
//    reportMaxMessageBytes and what central announces): a report too large for it is trimmed in the outbox
//    first (see control/report-fit.ts). A retryable failure holds the outbox in place (exactly once, in
//    order); a report central refuses as invalid is set aside in the spool's dead-letter with an event, so
//    it never holds up the reports after it. Failures about the node itself (unknown, credentials) set
//    nothing aside.
import { EventEmitter } from 'node:events';
import { statfsSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Assignment__Output, NodeHealth, ReportItem } from '../../proto/index.js';
import { Backoff, sleep } from './backoff.js';
import { enrollTokenOf, type AgentConfig } from './config.js';
import { CentralClient } from './control/central-client.js';
import { CALL_HEADROOM_BYTES, QUARANTINE_REPORT_BYTES, fitReport, quarantineReports, reportItemBytes } from './control/report-fit.js';
import { AgentError, AgentErrorCode, grpcCode, isRetryable } from './errors.js';
import { loadIdentity, saveIdentity, type NodeIdentity } from './identity.js';
import { DataPlane } from './exchange/data-plane.js';
import { DataSpool } from './spool/data-spool.js';
import { FileSpool } from './spool/file-spool.js';
import { SqliteSpool, type OutboxReport } from './spool/sqlite-spool.js';
import { startQueryApi } from './query-api.js';
import type { Server } from 'node:http';
import { TaskSupervisor, type RunnerFactory, type TaskAssignment } from './tasks/supervisor.js';
import { VERSION } from '../../common/src/version.js';

export type AgentState = 'INITIALIZED' | 'RUNNING' | 'DRAINING' | 'STOPPED' | 'FAILED';

export interface AgentDeps {
  logger: Logger;
  /** Task runners by task kind ("sync", "exchange"); kinds without one are rejected with a reason. */
  runners?: Readonly<Record<string, RunnerFactory>>;
  clock?: () => number;
}

export class Agent extends EventEmitter {
  private _state: AgentState = 'INITIALIZED';
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly abort = new AbortController();
  private readonly client: CentralClient;
  private spool: SqliteSpool | undefined;
  private identity: NodeIdentity | undefined;
  private supervisor: TaskSupervisor | undefined;
  private dataPlane: DataPlane | undefined;
  private dataSpool: DataSpool | undefined;
  private queryServer: Server | undefined;
  private loops: Promise<void>[] = [];
  private assignmentVersionHeld = 0;
  private heartbeatTtlMs = 15_000;
  private readonly startedAt: number;
  private lastCpu = process.cpuUsage();
  private lastCpuAt = process.hrtime.bigint();
  private flushKick: (() => void) | undefined;
  private centralReachable = false;
  /** Central's message limit as announced in its poll replies (0: not announced yet). */
  private centralMaxMessageBytes = 0;
  /** A lower limit learned from central refusing a call as too large (0: none). */
  private refusedMaxMessageBytes = 0;
  /** Key columns of each task's binding: kept whole when a quarantined record is trimmed. */
  private keyColumns = new Map<string, string[]>();

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    super();
    this.log = deps.logger.child({ component: 'agent' });
    this.clock = deps.clock ?? Date.now;
    this.startedAt = this.clock();
    this.client = new CentralClient(config.central.address);
  }

  get state(): AgentState {
    return this._state;
  }
  get nodeId(): string | undefined {
    return this.identity?.nodeId;
  }
  get assignmentVersion(): number {
    return this.assignmentVersionHeld;
  }
  get outboxDepth(): number {
    return this.spool?.reportDepth ?? 0;
  }

  /** Enrolls (or loads the identity), restores the last assignments and starts the loops. */
  async start(): Promise<void> {
    try {
      mkdirSync(this.config.dataDir, { recursive: true });
      this.identity = loadIdentity(this.config.dataDir) ?? (await this.enroll());
      if (this.identity.centralAddress !== this.config.central.address)
        this.log.warn({ enrolledWith: this.identity.centralAddress, configured: this.config.central.address }, 'central address changed since enrollment');
      this.client.setCredentials(this.identity);
      this.spool = new SqliteSpool(join(this.config.dataDir, 'spool.db'), this.config.spool);
      this.dataSpool = new DataSpool(this.spool.db, this.spool.hintDb);
      if (this.identity.dataPlane.natsUrls.length > 0)
        this.dataPlane = new DataPlane(this.identity, this.dataSpool, this.config.dataPlane, this.deps.logger);
      this.supervisor = new TaskSupervisor(
        this.deps.runners ?? {},
        {
          logger: this.deps.logger.child({ component: 'task' }),
          report: (kind, body) => this.report(kind, body),
          dataPlane: this.dataPlane,
          dataSpool: this.dataSpool,
          fileSpool: new FileSpool(this.spool.db, this.spool.hintDb),
        },
        this.config.shutdownGraceMs,
      );
      if (this.abort.signal.aborted) throw new AgentError(AgentErrorCode.NOT_ENROLLED, 'stopped while starting');
      const held = this.spool.loadAssignments<TaskAssignment>();
      if (held) {
        this.log.info({ version: held.version, tasks: held.assignments.length }, 'resuming last assignment set');
        this.learnKeyColumns(held.assignments);
        // Acknowledged once central answers: a task refused (or applied after a config fix) before a restart
        // is shown as it is now, not as central last heard.
        for (const o of await this.supervisor.apply(held.assignments)) this.pendingAcks.set(o.assignmentId, { ...o, version: held.version });
        this.assignmentVersionHeld = held.version;
      }
    } catch (err) {
      // Told to stop while starting: that is a stop, not a failure.
      if (!this.abort.signal.aborted) this.setState('FAILED', err instanceof Error ? err.message : String(err));
      await this.dataPlane?.close();
      this.close();
      throw err;
    }
    if (this.abort.signal.aborted) {
      await this.supervisor?.stopAll();
      await this.dataPlane?.close();
      this.close();
      throw new AgentError(AgentErrorCode.NOT_ENROLLED, 'stopped while starting');
    }
    if (this.config.queryListen && this.dataPlane) this.queryServer = await startQueryApi(this.config.queryListen, this.dataPlane, this.deps.logger);
    this.setState('RUNNING');
    this.report('event', { severity: 'info', code: 'AGENT_STARTED', message: `agent ${VERSION} started`, taskId: '' });
    const signal = this.abort.signal;
    this.loops = [this.heartbeatLoop(signal), this.pollLoop(signal), this.metricsLoop(signal), this.flushLoop(signal)];
  }

  /** Records an observation for central in the outbox (durable before this returns). */
  report(kind: 'task_run' | 'metrics' | 'traffic' | 'quarantine' | 'event' | 'reconcile', body: Record<string, unknown>): void {
    if (!this.spool) throw new AgentError(AgentErrorCode.NOT_ENROLLED, 'agent not started');
    const r = this.spool.enqueueReport(kind, body, this.clock());
    this.emit('report', r);
    this.flushKick?.();
  }

  /** SIGTERM path: stop polling → let running work finish within the grace period → flush → close the DB last. */
  async shutdown(): Promise<void> {
    if (this._state === 'STOPPED' || this._state === 'DRAINING') return;
    if (this._state !== 'RUNNING') {
      this.abort.abort();
      await this.dataPlane?.close();
      this.close();
      this.setState('STOPPED');
      return;
    }
    this.setState('DRAINING');
    this.abort.abort();
    this.queryServer?.close();
    await Promise.allSettled(this.loops);
    await this.supervisor?.stopAll();
    await this.dataPlane?.close();
    const deadline = this.clock() + this.config.shutdownGraceMs;
    while (this.spool && this.spool.reportDepth > 0 && this.clock() < deadline) {
      try {
        if ((await this.flushOnce(Math.max(500, deadline - this.clock()))) === 0) break;
      } catch {
        break; // central unreachable: the outbox keeps the rest for the next start
      }
    }
    const left = this.spool?.reportDepth ?? 0;
    if (left > 0) this.log.info({ reports: left }, 'reports kept in outbox for the next start');
    this.close();
    this.setState('STOPPED');
  }

  private close(): void {
    this.client.close();
    this.spool?.close();
    this.spool = undefined;
    this.dataSpool = undefined;
  }

  private setState(next: AgentState, reason?: string): void {
    const from = this._state;
    this._state = next;
    const fields = { from, to: next, nodeId: this.identity?.nodeId, ...(reason && { reason }) };
    if (next === 'FAILED') this.log.error(fields, 'agent state changed');
    else this.log.info(fields, 'agent state changed');
    this.emit('state', next);
  }

  private async enroll(): Promise<NodeIdentity> {
    const token = enrollTokenOf(this.config);
    if (!token)
      throw new AgentError(
        AgentErrorCode.NOT_ENROLLED,
        `no node identity in ${this.config.dataDir} and no enrollment token configured (central.enrollToken or XCHG_AGENT_ENROLL_TOKEN)`,
      );
    const backoff = new Backoff(this.config.backoff);
    for (;;) {
      try {
        const res = await this.client.enroll({ token, hostname: hostname(), agentVersion: VERSION, labels: { ...this.config.labels } });
        const id: NodeIdentity = {
          nodeId: res.nodeId,
          nodeSecret: res.nodeSecret,
          nodeName: res.nodeName,
          departmentCode: res.departmentCode,
          regionCode: res.regionCode,
          centralAddress: this.config.central.address,
          enrolledAt: this.clock(),
          dataPlane: {
            natsUrls: res.dataPlane?.natsUrls ?? [],
            subjectPrefix: res.dataPlane?.subjectPrefix ?? 'xchg',
            stream: res.dataPlane?.stream ?? 'XCHG_DATA',
            homeCenter: res.dataPlane?.homeCenter ?? '',
          },
        };
        saveIdentity(this.config.dataDir, id);
        this.heartbeatTtlMs = res.heartbeatTtlMs || this.heartbeatTtlMs;
        this.log.info({ nodeId: id.nodeId, name: id.nodeName, department: id.departmentCode }, 'enrolled');
        return id;
      } catch (err) {
        if (!isRetryable(err)) {
          const detail = (err as { details?: string }).details ?? (err as Error).message;
          throw new AgentError(AgentErrorCode.ENROLL_REFUSED, `enrollment refused by central: ${detail}`, { cause: err });
        }
        const delay = backoff.next();
        this.log.warn({ err: (err as Error).message, retryInMs: delay }, 'central unreachable; enrollment will be retried');
        if (!(await sleep(delay, this.abort.signal))) throw new AgentError(AgentErrorCode.NOT_ENROLLED, 'stopped before enrollment completed');
      }
    }
  }

  private heartbeatIntervalMs(): number {
    return this.config.heartbeatIntervalMs || Math.max(50, Math.floor(this.heartbeatTtlMs / 3));
  }

  private async heartbeatLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.config.backoff);
    while (!signal.aborted) {
      let delay = this.heartbeatIntervalMs();
      try {
        const res = await this.client.heartbeat(this.health());
        if (res.ttlMs && res.ttlMs !== this.heartbeatTtlMs) {
          this.heartbeatTtlMs = res.ttlMs;
          delay = this.heartbeatIntervalMs();
        }
        this.markCentral(true);
        backoff.reset();
      } catch (err) {
        this.onCentralError(err, 'heartbeat');
        delay = Math.min(delay, backoff.next());
      }
      await sleep(delay, signal);
    }
  }

  private async pollLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.config.backoff);
    while (!signal.aborted) {
      try {
        // Outcomes central has not heard (resumed at start, or an ack lost) go now, not after a long-poll.
        if (this.pendingAcks.size) void this.flushAcks();
        const res = await this.client.pollAssignments(this.assignmentVersionHeld, this.config.pollDeadlineMs, signal);
        if (res.heartbeatTtlMs) this.heartbeatTtlMs = res.heartbeatTtlMs;
        if (res.maxMessageBytes && res.maxMessageBytes !== this.centralMaxMessageBytes) {
          this.centralMaxMessageBytes = res.maxMessageBytes;
          this.log.info({ maxMessageBytes: res.maxMessageBytes }, 'central message limit announced');
        }
        this.markCentral(true);
        backoff.reset();
        if (res.version !== this.assignmentVersionHeld) await this.applyAssignments(res.version, res.assignments);
        if (res.nextPollDelayMs) await sleep(res.nextPollDelayMs, signal);
      } catch (err) {
        if (signal.aborted) break;
        if (grpcCode(err) === GrpcStatus.DEADLINE_EXCEEDED) continue; // a quiet long-poll: poll again
        this.onCentralError(err, 'poll');
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async applyAssignments(version: number, assignments: Assignment__Output[]): Promise<void> {
    const tasks: TaskAssignment[] = [];
    for (const a of assignments) {
      // A verification run (对账) is run like a task of kind "verify" (reconcile/consumer.ts): the supervisor
      // starts it once, keeps it in the saved set, and stops it when central withdraws it.
      if (a.spec === 'verify' && a.verify) {
        const v = a.verify;
        let params: Record<string, unknown> = {};
        try {
          params = v.paramsJson ? (JSON.parse(v.paramsJson) as Record<string, unknown>) : {};
        } catch {
          params = { __invalid: v.paramsJson };
        }
        tasks.push({ id: a.id, generation: Number(a.generation), kind: 'verify', enabled: true, binding: v.binding, peerNodeId: v.peerNodeId, resourceCode: v.resourceCode, subscriptionId: v.subscriptionId, params: { ...params, _verify: { runId: v.runId, repair: v.repair } }, intervalMs: 0, name: `verify ${v.subscriptionId}` });
        continue;
      }
      if (a.spec !== 'task' || !a.task) continue; // policies and routes: later releases
      let params: Record<string, unknown> = {};
      try {
        params = a.task.paramsJson ? (JSON.parse(a.task.paramsJson) as Record<string, unknown>) : {};
      } catch {
        params = { __invalid: a.task.paramsJson };
      }
      tasks.push({
        id: a.id,
        generation: Number(a.generation),
        kind: a.task.kind,
        enabled: a.task.enabled,
        binding: a.task.binding,
        peerNodeId: a.task.peerNodeId,
        resourceCode: a.task.resourceCode,
        subscriptionId: a.task.subscriptionId,
        params,
        intervalMs: a.task.intervalMs,
        name: a.task.name,
      });
    }
    this.learnKeyColumns(tasks);
    const outcomes = await this.supervisor!.apply(tasks);
    // Persist before acknowledging: after a crash the agent resumes exactly what it told central it applied.
    this.spool!.saveAssignments(version, tasks, this.clock());
    const previous = this.assignmentVersionHeld;
    this.assignmentVersionHeld = version;
    this.log.info({ from: previous, to: version, tasks: tasks.length, changed: outcomes.length }, 'assignments applied');
    this.emit('assignments', version, tasks);
    for (const o of outcomes) this.pendingAcks.set(o.assignmentId, { ...o, version });
    await this.flushAcks();
  }

  /** Outcomes not yet acknowledged to central, by assignment (the newest outcome of each wins). */
  private readonly pendingAcks = new Map<string, { assignmentId: string; generation: number; applied: boolean; reason: string; version: number }>();

  private flushing: Promise<void> | undefined;

  /** Sends the pending outcomes (one flush at a time); those central did not receive stay for the next poll. */
  private flushAcks(): Promise<void> {
    this.flushing ??= this.sendAcks().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async sendAcks(): Promise<void> {
    await Promise.all(
      [...this.pendingAcks.values()].map(async (a) => {
        try {
          await this.client.ackAssignment(a);
          if (this.pendingAcks.get(a.assignmentId) === a) this.pendingAcks.delete(a.assignmentId);
        } catch (err) {
          this.log.debug({ err: (err as Error).message, assignmentId: a.assignmentId }, 'ack not delivered; retried after the next poll');
        }
      }),
    );
  }

  private async metricsLoop(signal: AbortSignal): Promise<void> {
    while (await sleep(this.config.reportIntervalMs, signal)) {
      try {
        this.report('metrics', { health: this.health() });
        this.reportQuarantine();
      } catch (err) {
        this.log.error({ err }, 'could not record metrics report');
      }
    }
  }

  /**
   * Moves newly quarantined records into quarantine reports for central, in the same spool transaction
   * that marks them reported: each record is reported once, and none is lost between the two.
   */
  private reportQuarantine(): void {
    const ds = this.dataSpool;
    if (!ds) return;
    ds.transaction(() => {
      const rows = ds.unreportedQuarantine(500);
      if (rows.length === 0) return;
      const byTask = new Map<string, typeof rows>();
      for (const r of rows) byTask.set(r.taskId, [...(byTask.get(r.taskId) ?? []), r]);
      // Records too large for a report are trimmed and many records split into several reports, so that
      // no quarantine report can outgrow central's message limit (the spool keeps the whole records).
      const maxReportBytes = Math.min(QUARANTINE_REPORT_BYTES, this.reportCallBudget());
      for (const [taskId, rs] of byTask) {
        const bodies = quarantineReports(taskId, rs, {
          maxRecordBytes: Math.min(this.config.reportMaxRecordBytes, maxReportBytes - 1024),
          maxReportBytes,
          keyColumns: this.keyColumns.get(taskId) ?? [],
        });
        for (const body of bodies) this.report('quarantine', body);
      }
      ds.markReported(rows.map((r) => r.id));
    });
  }

  private async flushLoop(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.config.backoff);
    while (!signal.aborted) {
      let sent = 0;
      try {
        sent = await this.flushOnce(15_000);
        backoff.reset();
      } catch (err) {
        this.onCentralError(err, 'report');
        await sleep(backoff.next(), signal);
        continue;
      }
      if (sent > 0) continue;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.flushKick = undefined;
          signal.removeEventListener('abort', done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, 5_000);
        this.flushKick = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /**
   * Sends the oldest reports in one call that fits central's message limit (at most reportBatchSize);
   * deletes what central acknowledged. A report too large for any call is trimmed first; reports central
   * refuses as invalid are set aside. Returns how many reports were dealt with (0: the outbox is empty).
   * Throws the call's error when it is worth retrying (the outbox stays as it was).
   */
  private async flushOnce(deadlineMs: number): Promise<number> {
    const spool = this.spool!;
    const batch = spool.peekReports(this.config.reportBatchSize);
    if (batch.length === 0) return 0;
    const budget = this.reportCallBudget();
    const call: { report: OutboxReport; item: ReportItem }[] = [];
    let callBytes = 0;
    for (let r of batch) {
      let item = toItem(r);
      let bytes = reportItemBytes(item);
      if (bytes > budget) {
        if (call.length > 0) break; // the ones before it go first; it is fitted when it leads
        const body = fitReport(r.kind, r.body, budget, (b) => toItem({ ...r, body: b }), this.keyColumns.get(String(r.body['taskId'] ?? '')) ?? []);
        if (!body) {
          this.setReportAside(r, `its ${bytes} bytes exceed central's message limit (${budget} bytes usable) and trimming cannot bring it below`);
          return 1;
        }
        spool.replaceReportBody(r.reportId, body);
        r = { ...r, body };
        item = toItem(r);
        const was = bytes;
        bytes = reportItemBytes(item);
        this.log.warn({ seq: r.seq, kind: r.kind, bytes: was, trimmedBytes: bytes, limitBytes: budget }, 'report trimmed to fit central message limit');
      }
      if (call.length > 0 && callBytes + bytes > budget) break;
      call.push({ report: r, item });
      callBytes += bytes;
    }
    try {
      const res = await this.client.report(call.map((c) => c.item), deadlineMs);
      spool.deleteReports(res.ackedReportIds);
    } catch (err) {
      const refusal = reportRefusal(err);
      if (!refusal) throw err;
      if (refusal.tooLarge && this.lowerMessageLimit(refusal.maxBytes, callBytes)) return call.length; // again, smaller
      if (call.length === 1) this.setReportAside(call[0]!.report, refusal.reason);
      else await this.sendOneByOne(call, deadlineMs);
    }
    this.markCentral(true);
    return call.length;
  }

  /** After central refused a call of several reports: each alone, in order, to set aside only the refused ones. */
  private async sendOneByOne(call: readonly { report: OutboxReport; item: ReportItem }[], deadlineMs: number): Promise<void> {
    for (const c of call) {
      try {
        const res = await this.client.report([c.item], deadlineMs);
        this.spool!.deleteReports(res.ackedReportIds);
      } catch (err) {
        const refusal = reportRefusal(err);
        if (!refusal) throw err; // the rest stay in the outbox, in order
        this.setReportAside(c.report, refusal.reason);
      }
    }
  }

  /** Bytes one Report call may hold: the lowest limit known, less a headroom. */
  private reportCallBudget(): number {
    const limits = [this.config.reportMaxMessageBytes, this.centralMaxMessageBytes, this.refusedMaxMessageBytes].filter((n) => n > 0);
    return Math.min(...limits) - CALL_HEADROOM_BYTES;
  }

  /**
   * Central refused a call as larger than it accepts although it fitted the limit believed: believe the
   * limit it named (or half the call). Returns false when the limit cannot usefully go lower.
   */
  private lowerMessageLimit(namedMaxBytes: number | undefined, callBytes: number): boolean {
    const current = this.reportCallBudget() + CALL_HEADROOM_BYTES;
    const next = Math.max(MIN_MESSAGE_BYTES, namedMaxBytes ?? Math.floor((callBytes + CALL_HEADROOM_BYTES) / 2));
    if (next >= current) return false;
    this.refusedMaxMessageBytes = next;
    this.log.warn({ fromBytes: current, toBytes: next }, 'central refused a report call as too large; message limit lowered');
    return true;
  }

  /** Moves a report central refuses to the spool's dead-letter, with an ERROR log and an event for central. */
  private setReportAside(r: OutboxReport, reason: string): void {
    const taskId = String(r.body['taskId'] ?? '');
    const message = `report ${r.seq} (${r.kind}${taskId ? ` of task ${taskId}` : ''}) set aside: central refused it: ${reason.slice(0, 1000)}; it is kept in the spool's report_dead_letter`;
    const event = this.spool!.setReportAside(r, reason, this.clock(), { severity: 'error', code: 'REPORT_SET_ASIDE', message, taskId });
    this.log.error({ seq: r.seq, reportId: r.reportId, kind: r.kind, taskId, reason }, 'report set aside: central refused it');
    this.emit('report', event);
    this.emit('report-set-aside', r, reason);
  }

  /** Remembers the key columns of each task's binding (sources for sync tasks, sinks for exchange tasks). */
  private learnKeyColumns(tasks: readonly TaskAssignment[]): void {
    this.keyColumns.clear();
    for (const t of tasks) {
      const binding = (t.kind === 'sync' ? this.config.sources : this.config.sinks)[t.binding] as { key?: unknown } | undefined;
      const key = binding?.key;
      const cols = typeof key === 'string' ? [key] : Array.isArray(key) ? key.filter((k): k is string => typeof k === 'string') : [];
      if (cols.length) this.keyColumns.set(t.id, cols);
    }
  }

  private markCentral(reachable: boolean): void {
    if (reachable === this.centralReachable) return;
    this.centralReachable = reachable;
    if (reachable) this.log.info('central reachable');
    else this.log.warn('central unreachable; running the last assignment set, reports kept in outbox');
  }

  private onCentralError(err: unknown, what: string): void {
    const code = grpcCode(err);
    if (code === GrpcStatus.NOT_FOUND)
      this.log.error({ what, nodeId: this.identity?.nodeId }, 'central does not know this node; enroll it again with a new token');
    else if (code === GrpcStatus.UNAUTHENTICATED) this.log.error({ what }, 'central rejected this node credentials');
    else if (code === GrpcStatus.PERMISSION_DENIED) this.log.warn({ what, reason: (err as { details?: string }).details }, 'central refused the call');
    else if (isRetryable(err)) this.markCentral(false);
    else this.log.warn({ what, err: (err as Error).message }, 'central call failed');
  }

  health(): NodeHealth {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(now - this.lastCpuAt) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastCpuAt = now;
    let diskFree = 0;
    try {
      const fs = statfsSync(this.config.dataDir);
      diskFree = fs.bavail * fs.bsize;
    } catch {
      /* data dir gone: report 0 */
    }
    const lags = this.supervisor?.lags() ?? [];
    return {
      agentVersion: VERSION,
      uptimeS: Math.floor((this.clock() - this.startedAt) / 1000),
      cpuPercent: elapsedUs > 0 ? Math.round(((cpu.user + cpu.system) / elapsedUs) * 1000) / 10 : 0,
      memRssBytes: process.memoryUsage.rss(),
      diskFreeBytes: diskFree,
      spoolDepth: this.dataSpool?.depth().batches ?? 0,
      spoolBytes: this.spool?.sizeBytes() ?? 0,
      taskLags: lags.map((l) => ({ taskId: l.taskId, lagMs: l.lagMs, pendingBatches: l.pendingBatches })),
      state: this._state,
      assignmentVersion: this.assignmentVersionHeld,
      outboxDepth: this.spool?.reportDepth ?? 0,
    };
  }
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Outbox kinds are the proto's snake_case oneof names; the generated client expects camelCase keys. */
const toItem = (r: OutboxReport): ReportItem => ({ reportId: r.reportId, seq: r.seq, observedAtMs: r.observedAt, [camel(r.kind)]: r.body });

/** Lowest message limit the agent lowers itself to when central refuses calls as too large. */
const MIN_MESSAGE_BYTES = 64 * 1024;

/**
 * Whether central refused a Report call for what it holds (not retryable: the same call fails again) and
 * why; undefined for every other failure, retryable or about the node (unknown node, credentials), which
 * must hold the outbox in place. A too-large refusal names central's limit when grpc-js says it.
 */
function reportRefusal(err: unknown): { reason: string; tooLarge: boolean; maxBytes?: number } | undefined {
  const code = grpcCode(err);
  const details = String((err as { details?: unknown }).details ?? (err as Error).message ?? '');
  if (code === GrpcStatus.INVALID_ARGUMENT || code === GrpcStatus.OUT_OF_RANGE) return { reason: `${GrpcStatus[code]}: ${details}`, tooLarge: false };
  if (code === GrpcStatus.RESOURCE_EXHAUSTED && /message (that decompresses to a size )?larger than/i.test(details)) {
    const named = /larger than (?:max \(\d+ vs\.? )?(\d+)/i.exec(details);
    return { reason: `RESOURCE_EXHAUSTED: ${details}`, tooLarge: true, ...(named && { maxBytes: Number(named[1]) }) };
  }
  return undefined;
}
