// Prometheus metrics of central (names start with xchg_). One registry per central instance so tests
// can run several in one process. Labels are bounded: gRPC methods, HTTP route patterns (never the URL with
// its ids), status codes, job names, report kinds and the state gauges' labels (metrics-state.ts). Every
// series is listed in docs/metrics.md.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../common/src/process-metrics.js';
import type { CenterHealthSample } from './domain/center-health.js';
import type { LoopDelayMonitor } from './loop-delay.js';
import { registerCenterGauges } from './metrics-centers.js';
import { registerStateGauges, type StateSources } from './metrics-state.js';

/** Request duration buckets, seconds: 1 ms to 60 s (a PollAssignments long-poll parks ~30 s). */
const DURATION_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class CentralMetrics {
  readonly registry = new Registry();
  readonly grpcRequests = new Counter({
    name: 'xchg_grpc_requests_total',
    help: 'AgentService calls by method and status code',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  readonly reportsReceived = new Counter({
    name: 'xchg_reports_received_total',
    help: 'Agent reports stored, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly reportsDuplicate = new Counter({
    name: 'xchg_reports_duplicate_total',
    help: 'Agent reports received again after they were stored (retries after a lost reply)',
    registers: [this.registry],
  });
  readonly nodeTransitions = new Counter({
    name: 'xchg_node_transitions_total',
    help: 'Node liveness transitions',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });
  readonly enrollments = new Counter({
    name: 'xchg_enrollments_total',
    help: 'Enrollment attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly grpcDuration = new Histogram({
    name: 'xchg_grpc_request_duration_seconds',
    help: 'AgentService call durations by method and status code (PollAssignments includes its long-poll wait)',
    labelNames: ['method', 'code'] as const,
    buckets: DURATION_BUCKETS_S,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'xchg_http_request_duration_seconds',
    help: 'HTTP request durations by method, route pattern (e.g. /api/v1/nodes/:id; unmatched for 404s) and status',
    labelNames: ['method', 'route', 'code'] as const,
    buckets: DURATION_BUCKETS_S,
    registers: [this.registry],
  });
  readonly jobRuns = new Counter({
    name: 'xchg_job_runs_total',
    help: 'Runs of central periodic jobs by job name and outcome (ok, failed)',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'xchg_job_duration_seconds',
    help: 'Durations of central periodic job runs by job name',
    labelNames: ['job'] as const,
    buckets: DURATION_BUCKETS_S,
    registers: [this.registry],
  });
  readonly trafficReports = new Counter({
    name: 'xchg_traffic_reports_total',
    help: 'Agent traffic reports ingested into the traffic history (new ones; retries are not counted)',
    registers: [this.registry],
  });
  readonly trafficBatches = new Counter({
    name: 'xchg_traffic_batches_total',
    help: 'Batches the ingested traffic reports counted (committed at consumers)',
    registers: [this.registry],
  });
  readonly trafficRecords = new Counter({
    name: 'xchg_traffic_records_total',
    help: 'Records the ingested traffic reports counted (written at consumers)',
    registers: [this.registry],
  });
  readonly trafficBytes = new Counter({
    name: 'xchg_traffic_bytes_total',
    help: 'Payload bytes the ingested traffic reports counted',
    registers: [this.registry],
  });
  readonly trafficErrors = new Counter({
    name: 'xchg_traffic_errors_total',
    help: 'Records in error (quarantined or refused) the ingested traffic reports counted',
    registers: [this.registry],
  });

  constructor(collectors: {
    nodesByStatus: () => Record<string, number>;
    parkedPolls: () => number;
    /** The state gauges (alerts, tasks, applications, nodes per department); absent: not exported. */
    state?: StateSources;
    /** The centers' latest monitoring samples; absent: not exported. */
    centers?: () => readonly CenterHealthSample[];
  }) {
    collectProcessMetrics(this.registry, 'xchg_central_');
    if (collectors.state) registerStateGauges(this.registry, collectors.state);
    if (collectors.centers) registerCenterGauges(this.registry, collectors.centers);
    new Gauge({
      name: 'xchg_nodes',
      help: 'Enrolled nodes by liveness status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      collect() {
        const counts = collectors.nodesByStatus();
        for (const s of ['online', 'offline']) this.set({ status: s }, counts[s] ?? 0);
      },
    });
    new Gauge({
      name: 'xchg_parked_polls',
      help: 'PollAssignments calls waiting for a change',
      registers: [this.registry],
      collect() {
        this.set(collectors.parkedPolls());
      },
    });
  }

  /** Exports `loop`'s figures (main.ts starts it): the largest event-loop delay since start and the stalls. */
  watchEventLoop(loop: LoopDelayMonitor): void {
    new Gauge({
      name: 'xchg_central_event_loop_delay_max_seconds',
      help: "Longest time central's event loop was held (a timer fired late) since start, seconds",
      registers: [this.registry],
      collect() {
        this.set(loop.maxMs / 1000);
      },
    });
    let counted = 0;
    new Counter({
      name: 'xchg_central_event_loop_stalls_total',
      help: `Times central's event loop was held ${loop.stallMs} ms or more (HTTP and gRPC waited meanwhile)`,
      registers: [this.registry],
      collect() {
        if (loop.stalls > counted) this.inc(loop.stalls - counted);
        counted = loop.stalls;
      },
    });
  }

  /** Counts one ingested traffic report (its body as the agent sent it). */
  observeTraffic(body: Record<string, unknown>): void {
    const n = (k: string): number => {
      const v = Number(body[k] ?? 0);
      return Number.isFinite(v) && v > 0 ? v : 0;
    };
    this.trafficReports.inc();
    this.trafficBatches.inc(n('batches'));
    this.trafficRecords.inc(n('records'));
    this.trafficBytes.inc(n('bytes'));
    this.trafficErrors.inc(n('errors'));
  }
}
