// Prometheus metrics of central (names start with xchg_). One registry per central instance so tests
// can run several in one process.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

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

  constructor(collectors: { nodesByStatus: () => Record<string, number>; parkedPolls: () => number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'xchg_central_' });
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
}
