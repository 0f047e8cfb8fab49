// gRPC client of central's AgentService: promisified calls with deadlines, node credentials in metadata,
// and cancellation through an AbortSignal. Decides nothing about retries (see errors.isRetryable).
import * as grpc from '@grpc/grpc-js';
import {
  loadXchgV1,
  type AgentServiceClient,
  type EnrollResponse__Output,
  type NodeHealth,
  type PollAssignmentsResponse__Output,
  type ReportItem,
} from '../../../proto/index.js';

export interface Credentials {
  nodeId: string;
  nodeSecret: string;
}

export class CentralClient {
  private readonly client: AgentServiceClient;
  private creds: Credentials | undefined;

  constructor(readonly address: string) {
    const Ctor = loadXchgV1().AgentService;
    this.client = new Ctor(address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 5_000,
    });
  }

  setCredentials(c: Credentials): void {
    this.creds = c;
  }

  enroll(
    req: { token: string; hostname: string; agentVersion: string; labels: Record<string, string> },
    deadlineMs = 15_000,
  ): Promise<EnrollResponse__Output> {
    return this.call((md, opts, cb) => this.client.Enroll(req, md, opts, cb), deadlineMs, undefined, false);
  }

  heartbeat(
    health: NodeHealth,
    deadlineMs = 10_000,
    signal?: AbortSignal,
  ): Promise<{ ttlMs: number; serverTimeMs: number; status: string }> {
    return this.call(
      (md, opts, cb) => this.client.Heartbeat({ health, sentAtMs: Date.now() }, md, opts, cb),
      deadlineMs,
      signal,
    );
  }

  pollAssignments(
    knownVersion: number,
    deadlineMs: number,
    signal?: AbortSignal,
  ): Promise<PollAssignmentsResponse__Output> {
    return this.call((md, opts, cb) => this.client.PollAssignments({ knownVersion }, md, opts, cb), deadlineMs, signal);
  }

  ackAssignment(
    a: { assignmentId: string; generation: number; applied: boolean; reason: string; version: number },
    deadlineMs = 10_000,
  ): Promise<unknown> {
    return this.call(
      (md, opts, cb) =>
        this.client.AckAssignment(
          {
            assignmentId: a.assignmentId,
            generation: a.generation,
            outcome: a.applied ? 'ASSIGNMENT_OUTCOME_APPLIED' : 'ASSIGNMENT_OUTCOME_REJECTED',
            reason: a.reason,
            version: a.version,
          },
          md,
          opts,
          cb,
        ),
      deadlineMs,
    );
  }

  report(items: ReportItem[], deadlineMs = 15_000, signal?: AbortSignal): Promise<{ ackedReportIds: string[] }> {
    return this.call((md, opts, cb) => this.client.Report({ items }, md, opts, cb), deadlineMs, signal);
  }

  close(): void {
    this.client.close();
  }

  private call<T>(
    invoke: (
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: T) => void,
    ) => grpc.ClientUnaryCall,
    deadlineMs: number,
    signal?: AbortSignal,
    authenticated = true,
  ): Promise<T> {
    const md = new grpc.Metadata();
    if (authenticated) {
      if (!this.creds) return Promise.reject(new Error('not enrolled: no node credentials'));
      md.set('x-xchg-node-id', this.creds.nodeId);
      md.set('authorization', `Bearer ${this.creds.nodeSecret}`);
    }
    return new Promise<T>((resolve, reject) => {
      const call = invoke(md, { deadline: Date.now() + deadlineMs }, (err, res) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(res as T);
      });
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
