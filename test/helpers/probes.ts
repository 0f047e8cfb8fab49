// A relay's side of the control plane, for central's routing tests: ProbeReports (测试粒子 windows) sent through
// the real gRPC Report RPC, and long-polls of a node's assignment set with its RouteSpecs and RelaySpec.
import * as grpc from '@grpc/grpc-js';
import type {
  AgentServiceClient,
  Assignment__Output,
  PollAssignmentsResponse__Output,
  ReportItem,
} from '../../proto/index.js';

/** A node's identity as the agent holds it. */
export interface NodeIdentity {
  id: string;
  secret: string;
}

export function nodeMetadata(n: NodeIdentity): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('x-xchg-node-id', n.id);
  md.set('authorization', `Bearer ${n.secret}`);
  return md;
}

export function report(
  client: AgentServiceClient,
  n: NodeIdentity,
  items: ReportItem[],
): Promise<{ ackedReportIds: string[] }> {
  return new Promise((resolve, reject) =>
    client.Report({ items }, nodeMetadata(n), { deadline: Date.now() + 15_000 }, (err, res) =>
      err ? reject(err) : resolve({ ackedReportIds: res!.ackedReportIds }),
    ),
  );
}

export function poll(
  client: AgentServiceClient,
  n: NodeIdentity,
  knownVersion: number,
  timeoutMs = 30_000,
): Promise<PollAssignmentsResponse__Output> {
  return new Promise((resolve, reject) =>
    client.PollAssignments({ knownVersion }, nodeMetadata(n), { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res!),
    ),
  );
}

/** The RouteSpecs of a poll answer by destination center: hops joined with '>'. */
export function routesOf(res: PollAssignmentsResponse__Output): Record<string, string> {
  return Object.fromEntries(
    res.assignments
      .filter((a): a is Assignment__Output & { route: NonNullable<Assignment__Output['route']> } => !!a.route)
      .map((a) => [a.route.destinationCenter, a.route.hops.join('>')]),
  );
}

let seq = 0;

/** One link probe window as a relay at `from` reports it (sizes as a relay's: ~100-byte probes, request and reply). */
export function linkWindow(w: {
  from: string;
  to: string;
  linkId: string;
  endMs: number;
  windowMs: number;
  rttP50Ms: number;
  rttP99Ms?: number;
  sent?: number;
  answered?: number;
  forwardedBytes?: number;
  queueDepth?: number;
}): ReportItem {
  const sent = w.sent ?? 3;
  const answered = w.answered ?? sent;
  seq++;
  return {
    reportId: `probe-${w.from}-${w.linkId}-${w.endMs}-${seq}`,
    seq,
    observedAtMs: w.endMs,
    probe: {
      fromCenter: w.from,
      toCenter: w.to,
      linkId: w.linkId,
      route: [],
      windowStartMs: w.endMs - w.windowMs,
      windowEndMs: w.endMs,
      sent,
      answered,
      rttP50Us: Math.round(w.rttP50Ms * 1000),
      rttP99Us: Math.round((w.rttP99Ms ?? w.rttP50Ms * 1.5) * 1000),
      forwardedBytes: w.forwardedBytes ?? 0,
      probeBytes: sent * 100 + answered * 100,
      queueDepth: w.queueDepth ?? 0,
    },
  };
}
