// The agent's lifecycle and wiring: enrollment (control/enrollment.ts), then five loops until shutdown —
// heartbeat, assignment long-poll, metrics sampling, outbox flush (control/), the traffic meter closing its
// buckets (exchange/traffic-meter.ts). States: INITIALIZED → RUNNING → DRAINING → STOPPED, or FAILED when it
// cannot start (bad token, no identity).
//
// Invariants (each kept by the module named; the top comment there says how)
//  - Every wait takes the shutdown AbortSignal (this.abort): the loops end when it aborts.
//  - Nothing observed is sent before it is in the spool outbox; it leaves the outbox only when central
//    acknowledges it. Reports leave in seq order, every Report call fits central's message limit, and a
//    report central refuses as invalid is set aside in the spool's dead-letter (control/reports.ts).
//  - The agent runs its last applied assignment set while central is unreachable, also after a restart
//    (the set is in the spool); outcomes are acknowledged before each long-poll (control/assignments.ts).
//  - The identity is written at enrollment and again when central moves the node to another center (or
//    changes its center's URLs): saved first, then the data plane and the relay move there without a
//    restart (followDataPlane); a restart never enrolls again (control/enrollment.ts).
//  - Routes to other exchange centers and the relay role (relay/host.ts) are applied from each assignment
//    set before its tasks start (the config's until central sends its own); the relay closes before the
//    data plane.
//  - Shutdown: stop polling → let running work finish within the grace period → flush → close the DB last.
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { VERSION } from '../../common/src/version.js';
import type { NodeHealth, PollAssignmentsResponse__Output } from '../../proto/index.js';
import type { AgentConfig } from './config.js';
import { checkingParams } from './control/assignment-decode.js';
import { AssignmentLoop } from './control/assignments.js';
import { CentralClient } from './control/central-client.js';
import { CentralView } from './control/central-view.js';
import { loadOrEnroll } from './control/enrollment.js';
import { HealthSampler, spreadableBindings } from './control/health.js';
import { runHeartbeats } from './control/heartbeat.js';
import { reportQuarantine, runMetrics } from './control/metrics.js';
import { ReportOutbox, type ReportKind } from './control/reports.js';
import { AgentError, AgentErrorCode } from './errors.js';
import { DataPlane } from './exchange/data-plane.js';
import type { DataPathContext } from './exchange/runner-kit.js';
import { sameDataPlane, saveIdentity, type NodeIdentity } from './identity.js';
import { startMetricsApi } from './metrics-api.js';
import { AgentMetrics } from './prometheus.js';
import { startQueryApi } from './query-api.js';
import { RoutingHost } from './relay/host.js';
import { relaySpecFromConfig } from './relay/spec.js';
import { DataSpool } from './spool/data-spool.js';
import { FileSpool } from './spool/file-spool.js';
import { TrafficMeter } from './exchange/traffic-meter.js';
import { SqliteSpool } from './spool/sqlite-spool.js';
import { TaskSupervisor, type RunnerFactory } from './tasks/supervisor.js';
import { PolicyBook } from './policy/book.js';

export type AgentState = 'INITIALIZED' | 'RUNNING' | 'DRAINING' | 'STOPPED' | 'FAILED';

export interface AgentDeps {
  logger: Logger;
  /** Task runners by task kind ("sync", "exchange"); kinds without one are rejected with a reason. */
  runners?: Readonly<Record<string, RunnerFactory<DataPathContext>>>;
  /** Wall clock (ms since epoch); default Date.now. */
  clock?: () => number;
}

/**
 * One agent. Events: 'state' (AgentState), 'report' (each OutboxReport recorded), 'report-set-aside'
 * (OutboxReport, reason), 'assignments' (version, tasks) after a new set is applied.
 */
export class Agent extends EventEmitter {
  private _state: AgentState = 'INITIALIZED';
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly abort = new AbortController();
  private readonly client: CentralClient;
  private readonly central: CentralView;
  private readonly healthSampler: HealthSampler;
  private identity: NodeIdentity | undefined;
  private spool: SqliteSpool | undefined;
  private dataSpool: DataSpool | undefined;
  private dataPlane: DataPlane | undefined;
  private supervisor: TaskSupervisor | undefined;
  private routing: RoutingHost | undefined;
  private outbox: ReportOutbox | undefined;
  private traffic: TrafficMeter | undefined;
  private assignments: AssignmentLoop | undefined;
  private queryServer: Server | undefined;
  private metricsServer: Server | undefined;
  /** Prometheus metrics (served on config metrics.listen when set). */
  readonly metrics: AgentMetrics;
  private loops: Promise<void>[] = [];

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    super();
    this.log = deps.logger.child({ component: 'agent' });
    this.clock = deps.clock ?? Date.now;
    this.client = new CentralClient(config.central.address);
    this.central = new CentralView({
      log: this.log,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      reportMaxMessageBytes: config.reportMaxMessageBytes,
      nodeId: () => this.identity?.nodeId,
    });
    this.healthSampler = new HealthSampler({
      dataDir: config.dataDir,
      clock: this.clock,
      state: () => this._state,
      assignmentVersion: () => this.assignmentVersion,
      outboxDepth: () => this.outboxDepth,
      spoolBytes: () => this.spool?.sizeBytes() ?? 0,
      spoolBatches: () => this.dataSpool?.depth().batches ?? 0,
      lags: () => this.supervisor?.lags() ?? [],
      bindings: () => spreadableBindings(config.sources),
    });
    this.metrics = new AgentMetrics({
      nodeId: () => this.identity?.nodeId ?? '',
      version: VERSION,
      state: () => this._state,
      assignmentVersion: () => this.assignmentVersion,
      centralReachable: () => this.central.isReachable,
      outboxDepth: () => this.outboxDepth,
      spoolDepth: () => this.dataSpool?.depth() ?? { batches: 0, bytes: 0 },
      spoolFileBytes: () => this.spool?.sizeBytes() ?? 0,
      lags: () => this.supervisor?.lags() ?? [],
      quarantined: (taskId) => this.dataSpool?.quarantineCount(taskId) ?? 0,
      publishStats: () => this.dataPlane?.publishStats,
      kindOf: (taskId) => this.supervisor?.kindOf(taskId),
    });
  }

  get state(): AgentState {
    return this._state;
  }
  get nodeId(): string | undefined {
    return this.identity?.nodeId;
  }
  get assignmentVersion(): number {
    return this.assignments?.version ?? 0;
  }
  get outboxDepth(): number {
    return this.outbox?.depth ?? 0;
  }

  /** Enrolls (or loads the identity), restores the last assignments and starts the loops. */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      // Told to stop while starting: that is a stop, not a failure.
      if (!this.abort.signal.aborted) this.setState('FAILED', err instanceof Error ? err.message : String(err));
      await this.closeDataPath();
      this.close();
      throw err;
    }
    if (this.abort.signal.aborted) {
      await this.supervisor?.stopAll();
      await this.closeDataPath();
      this.close();
      throw new AgentError(AgentErrorCode.NOT_ENROLLED, 'stopped while starting');
    }
    if (this.config.queryListen && this.dataPlane)
      this.queryServer = await startQueryApi(this.config.queryListen, this.dataPlane, this.deps.logger);
    if (this.config.metrics.listen)
      this.metricsServer = await startMetricsApi(this.config.metrics.listen, this.metrics.registry, this.deps.logger);
    this.setState('RUNNING');
    this.report('event', { severity: 'info', code: 'AGENT_STARTED', message: `agent ${VERSION} started`, taskId: '' });
    this.loops = this.startLoops(this.abort.signal);
  }

  /** Records an observation for central in the outbox (durable before this returns). */
  report(kind: ReportKind, body: Record<string, unknown>): void {
    if (!this.outbox) throw new AgentError(AgentErrorCode.NOT_ENROLLED, 'agent not started');
    this.outbox.add(kind, body);
    this.metrics.observeReport(kind, body);
  }

  /** SIGTERM path: stop polling → let running work finish within the grace period → flush → close the DB last. */
  async shutdown(): Promise<void> {
    if (this._state === 'STOPPED' || this._state === 'DRAINING') return;
    if (this._state !== 'RUNNING') {
      this.abort.abort();
      await this.closeDataPath();
      this.close();
      this.setState('STOPPED');
      return;
    }
    this.setState('DRAINING');
    this.abort.abort();
    this.queryServer?.close();
    await Promise.allSettled(this.loops);
    await this.supervisor?.stopAll();
    this.traffic?.flush(); // the open buckets, counted until now, into the outbox
    await this.closeDataPath();
    await this.outbox?.drain(this.clock() + this.config.shutdownGraceMs);
    this.close();
    this.setState('STOPPED');
  }

  /** A health sample (heartbeats and metrics reports carry it). */
  health(): NodeHealth {
    return this.healthSampler.sample();
  }

  /** Identity, spools, data plane and supervisor, then the assignment set held in the spool. */
  private async open(): Promise<void> {
    const { config, client } = this;
    mkdirSync(config.dataDir, { recursive: true });
    const enrolled = await loadOrEnroll({ client, config, log: this.log, clock: this.clock }, this.abort.signal);
    this.identity = enrolled.identity;
    if (enrolled.heartbeatTtlMs) this.central.heartbeatTtlMs = enrolled.heartbeatTtlMs;
    if (this.identity.centralAddress !== config.central.address)
      this.log.warn(
        { enrolledWith: this.identity.centralAddress, configured: config.central.address },
        'central address changed since enrollment',
      );
    client.setCredentials(this.identity);
    const assignments = this.wire(this.identity);
    if (this.abort.signal.aborted) throw new AgentError(AgentErrorCode.NOT_ENROLLED, 'stopped while starting');
    await assignments.resume();
  }

  /** Builds the spools, the data plane (when central gave an exchange center), the outbox and the supervisor. */
  private wire(identity: NodeIdentity): AssignmentLoop {
    const { config, client, central } = this;
    const spool = (this.spool = new SqliteSpool(join(config.dataDir, 'spool.db'), config.spool));
    this.dataSpool = new DataSpool(spool.db, spool.hintDb);
    if (identity.dataPlane.natsUrls.length > 0)
      this.dataPlane = new DataPlane(identity, this.dataSpool, config.dataPlane, this.deps.logger);
    const { natsUrls, subjectPrefix: prefix, stream } = identity.dataPlane;
    this.routing = new RoutingHost({
      routes: this.dataPlane?.routes,
      home: this.dataPlane && { natsUrls, prefix, stream },
      staticRoutes: config.routes,
      staticRelay: relaySpecFromConfig(config.relay),
      logger: this.deps.logger,
      onProbe: (w) => this.outbox?.addProbe({ ...w }),
    });
    this.routing.apply([], new Map()); // the config's routes and relay, until a set is applied
    const keyColumns = (taskId: string): readonly string[] => this.assignments?.keyColumns(taskId) ?? [];
    this.outbox = new ReportOutbox({
      spool,
      client,
      central,
      batchSize: config.reportBatchSize,
      backoff: config.backoff,
      log: this.log,
      clock: this.clock,
      keyColumns,
      onReport: (r) => this.emit('report', r),
      onSetAside: (r, reason) => this.emit('report-set-aside', r, reason),
    });
    const policies = new PolicyBook(this.deps.logger.child({ component: 'policy' }));
    const traffic = (this.traffic = new TrafficMeter({
      nodeId: () => this.identity?.nodeId ?? '',
      report: (body) => this.report('traffic', body),
      clock: this.clock,
      onLatencyMs: (ms) => this.metrics.observeLatencyMs(ms),
    }));
    const supervisor = (this.supervisor = new TaskSupervisor(
      checkingParams(this.deps.runners ?? {}),
      {
        logger: this.deps.logger.child({ component: 'task' }),
        report: (kind, body) => this.report(kind, body),
        dataPlane: this.dataPlane,
        dataSpool: this.dataSpool,
        fileSpool: new FileSpool(spool.db, spool.hintDb),
        policies,
        traffic,
      },
      config.shutdownGraceMs,
    ));
    return (this.assignments = new AssignmentLoop({
      client,
      central,
      supervisor,
      routing: this.routing,
      policies,
      spool,
      bindings: config,
      pollDeadlineMs: config.pollDeadlineMs,
      backoff: config.backoff,
      log: this.log,
      clock: this.clock,
      onDataPlane: (dp) => this.followDataPlane(dp),
      onTrafficBucketMs: (ms) => traffic.setBucketMs(ms),
      onApplied: (version, tasks) => this.emit('assignments', version, tasks),
    }));
  }

  /**
   * Follows the data plane of a poll answer: when central names another home center (an operator moved
   * the node) or new URLs, the identity is saved with it, then the data plane and the relay move there.
   * The move is compared with where the data plane is, so one that failed is tried again at the next poll.
   */
  private async followDataPlane(dp: NonNullable<PollAssignmentsResponse__Output['dataPlane']>): Promise<void> {
    const id = this.identity;
    if (!id || dp.natsUrls.length === 0) return; // no URLs named: keep what the node has
    const from = id.dataPlane;
    const to = {
      natsUrls: [...dp.natsUrls],
      subjectPrefix: dp.subjectPrefix || from.subjectPrefix,
      stream: dp.stream || from.stream,
      homeCenter: dp.homeCenter,
    };
    if (!sameDataPlane(from, to)) {
      this.identity = { ...id, dataPlane: to };
      saveIdentity(this.config.dataDir, this.identity);
      const fields = { from: from.homeCenter, to: to.homeCenter, fromUrls: from.natsUrls, toUrls: to.natsUrls };
      if (from.homeCenter !== to.homeCenter) this.log.info(fields, 'node moved to another exchange center');
      else this.log.info(fields, 'exchange center URLs changed');
      if (to.subjectPrefix !== from.subjectPrefix)
        this.log.warn({ from: from.subjectPrefix, to: to.subjectPrefix }, 'subject prefix changed: restart the agent');
      if (!this.dataPlane) this.log.warn('this node has no data plane yet: restart the agent to join its center');
    }
    const at = this.dataPlane?.location;
    if (!at || sameDataPlane(at, { ...to, subjectPrefix: at.subjectPrefix })) return;
    await this.dataPlane!.move(to);
    await this.routing?.rehome({ natsUrls: to.natsUrls, prefix: at.subjectPrefix, stream: to.stream });
  }

  /** The control loops and the traffic meter's bucket closer; each ends when the signal aborts. */
  private startLoops(signal: AbortSignal): Promise<void>[] {
    const { client, central, config } = this;
    const health = (): NodeHealth => this.health();
    const report = (kind: ReportKind, body: Record<string, unknown>): void => this.report(kind, body);
    const quarantine = (): void => {
      if (!this.dataSpool) return;
      reportQuarantine(this.dataSpool, {
        maxRecordBytes: config.reportMaxRecordBytes,
        callBudgetBytes: central.reportCallBudget(),
        keyColumns: (taskId) => this.assignments?.keyColumns(taskId) ?? [],
        report,
      });
    };
    return [
      runHeartbeats({ client, central, backoff: config.backoff, health }, signal),
      this.assignments!.run(signal),
      runMetrics(
        { intervalMs: config.reportIntervalMs, health, report, reportQuarantine: quarantine, log: this.log },
        signal,
      ),
      this.outbox!.run(signal),
      this.traffic!.run(signal),
    ];
  }

  /** The relay (its forwards in flight settle first), then the data plane. */
  private async closeDataPath(): Promise<void> {
    await this.routing?.close();
    await this.dataPlane?.close();
  }

  private close(): void {
    this.metricsServer?.close();
    this.client.close();
    this.spool?.close();
    this.spool = undefined;
    this.dataSpool = undefined;
    this.outbox = undefined;
  }

  private setState(next: AgentState, reason?: string): void {
    const from = this._state;
    this._state = next;
    const fields = { from, to: next, nodeId: this.identity?.nodeId, ...(reason && { reason }) };
    if (next === 'FAILED') this.log.error(fields, 'agent state changed');
    else this.log.info(fields, 'agent state changed');
    this.emit('state', next);
  }
}
