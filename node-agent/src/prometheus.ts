// The agent's Prometheus metrics (names start with xchg_agent_): one registry per Agent, so tests can run
// several agents in one process. Gauges read the agent's state at scrape time; counters follow what the
// agent records (task_run and event reports as they enter the outbox, each delivered batch's latency).
//
// Labels stay bounded: `task` and `kind` only name the tasks central assigned to this node (their number is
// bounded by the node's assignment set), `severity` and `outcome` are fixed sets; no batch ids, record keys
// or error texts. docs/metrics.md lists every series.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../common/src/process-metrics.js';
import type { PublishStats } from './exchange/publisher.js';

/** Where the scrape-time gauges read from (each called at every scrape). */
export interface AgentMetricSources {
  nodeId: () => string;
  version: string;
  state: () => string;
  assignmentVersion: () => number;
  centralReachable: () => boolean;
  /** Reports waiting in the outbox for central. */
  outboxDepth: () => number;
  /** Data batches and their bytes in the spool's outbox, waiting for the consumer's receipt. */
  spoolDepth: () => { batches: number; bytes: number };
  /** Bytes of the spool database files. */
  spoolFileBytes: () => number;
  lags: () => readonly { taskId: string; lagMs: number; pendingBatches: number }[];
  /** Records of a task in the spool's quarantine, not re-sent. */
  quarantined: (taskId: string) => number;
  /** JetStream publishes since start (undefined: no data plane). */
  publishStats: () => Readonly<PublishStats> | undefined;
  /** A task's kind (sync, exchange, file_sync, file_receive …), undefined when not in the applied set. */
  kindOf: (taskId: string) => string | undefined;
}

const STATES = ['INITIALIZED', 'RUNNING', 'DRAINING', 'STOPPED', 'FAILED'] as const;
/** Delivery latency buckets, seconds: 10 ms to 10 min. */
const LATENCY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly taskRecords = this.counter(
    'xchg_agent_task_records_total',
    'Records a task handled: read and committed for sending (sync kinds) or written to the sink (exchange kinds)',
  );
  private readonly taskBatches = this.counter(
    'xchg_agent_task_batches_total',
    'Batches (or file chunks) a task committed for sending or wrote to its sink',
  );
  private readonly taskBytes = this.counter(
    'xchg_agent_task_bytes_total',
    'Payload bytes a task committed for sending or received',
  );
  private readonly taskErrors = this.counter(
    'xchg_agent_task_errors_total',
    'Failed steps of a task (a source or sink error, a refused batch)',
  );
  private readonly taskQuarantined = this.counter(
    'xchg_agent_task_quarantined_total',
    'Records a task put in quarantine',
  );
  private readonly events = new Counter({
    name: 'xchg_agent_events_total',
    help: 'Events the agent reported to central, by severity',
    labelNames: ['severity'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'xchg_agent_delivery_latency_seconds',
    help: 'Delivery latency of batches committed at this node: commit time here minus creation at the provider',
    buckets: LATENCY_BUCKETS_S,
    registers: [this.registry],
  });

  constructor(private readonly src: AgentMetricSources) {
    collectProcessMetrics(this.registry, 'xchg_agent_');
    this.nodeGauges();
    this.spoolGauges();
    this.taskGauges();
  }

  /** Counts a report as it enters the outbox (task_run deltas, events). */
  observeReport(kind: string, body: Record<string, unknown>): void {
    if (kind === 'event') {
      const severity = body['severity'];
      this.events.inc({ severity: severity === 'warn' || severity === 'error' ? severity : 'info' });
      return;
    }
    if (kind !== 'task_run' || typeof body['taskId'] !== 'string') return;
    const labels = { task: body['taskId'], kind: this.src.kindOf(body['taskId']) ?? 'unknown' };
    const add = (c: Counter<'task' | 'kind'>, field: string): void => {
      const n = body[field];
      // Each series appears at a task's first run report, so rate() over it starts from a known zero.
      if (typeof n === 'number' && n >= 0) c.inc(labels, n);
    };
    add(this.taskRecords, 'records');
    add(this.taskBatches, 'batches');
    add(this.taskBytes, 'bytes');
    add(this.taskErrors, 'errors');
    add(this.taskQuarantined, 'quarantined');
  }

  /** One committed batch's delivery latency, ms. */
  observeLatencyMs(ms: number): void {
    this.latency.observe(ms / 1000);
  }

  private counter(name: string, help: string): Counter<'task' | 'kind'> {
    return new Counter({ name, help, labelNames: ['task', 'kind'] as const, registers: [this.registry] });
  }

  private gauge(name: string, help: string, collect: (g: Gauge) => void): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        collect(this);
      },
    });
  }

  private nodeGauges(): void {
    const src = this.src;
    new Gauge({
      name: 'xchg_agent_info',
      help: 'Always 1; labels name this node and the agent version',
      labelNames: ['node', 'version'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        this.set({ node: src.nodeId(), version: src.version }, 1);
      },
    });
    new Gauge({
      name: 'xchg_agent_state',
      help: 'The agent lifecycle state: 1 for the current state, 0 for the others',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const now = src.state();
        for (const s of STATES) this.set({ state: s }, s === now ? 1 : 0);
      },
    });
    this.gauge('xchg_agent_central_reachable', 'Whether central answered the last call (1) or not (0)', (g) =>
      g.set(src.centralReachable() ? 1 : 0),
    );
    this.gauge('xchg_agent_assignment_version', 'Version of the assignment set applied', (g) =>
      g.set(src.assignmentVersion()),
    );
    new Counter({
      name: 'xchg_agent_jetstream_publishes_total',
      help: 'JetStream publishes since start by outcome: acked by the stream, failed, resent (re-sends started)',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      collect() {
        const s = src.publishStats() ?? { acked: 0, failed: 0, resent: 0 };
        this.reset();
        for (const outcome of ['acked', 'failed', 'resent'] as const) this.inc({ outcome }, s[outcome]);
      },
    });
  }

  private spoolGauges(): void {
    const src = this.src;
    this.gauge('xchg_agent_report_outbox', 'Reports (runs, metrics, events, traffic) waiting to reach central', (g) =>
      g.set(src.outboxDepth()),
    );
    this.gauge('xchg_agent_spool_batches', 'Data batches in the spool outbox waiting for the consumer receipt', (g) =>
      g.set(src.spoolDepth().batches),
    );
    this.gauge('xchg_agent_spool_batch_bytes', 'Payload bytes of the data batches in the spool outbox', (g) =>
      g.set(src.spoolDepth().bytes),
    );
    this.gauge('xchg_agent_spool_file_bytes', 'Size of the spool database on disk, bytes', (g) =>
      g.set(src.spoolFileBytes()),
    );
  }

  private taskGauges(): void {
    const src = this.src;
    const perTask = (
      name: string,
      help: string,
      value: (l: ReturnType<AgentMetricSources['lags']>[number]) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['task', 'kind'] as const,
        registers: [this.registry],
        collect() {
          this.reset(); // tasks that left the assignment set leave the scrape
          for (const l of src.lags()) this.set({ task: l.taskId, kind: src.kindOf(l.taskId) ?? 'unknown' }, value(l));
        },
      });
    perTask(
      'xchg_agent_task_lag_seconds',
      'Age of the oldest batch of a running task waiting for the consumer receipt (0: none)',
      (l) => l.lagMs / 1000,
    );
    perTask(
      'xchg_agent_task_pending_batches',
      'Batches of a running task waiting for the consumer receipt',
      (l) => l.pendingBatches,
    );
    perTask('xchg_agent_quarantine_records', 'Records of a running task in the spool quarantine, not re-sent', (l) =>
      src.quarantined(l.taskId),
    );
  }
}
