// Enrollment: the node identity loaded from the data dir, or obtained once from central with the one-time
// token and written before it is used (identity.ts writes it atomically).
//
// Invariants
//  - The identity is written once, at enrollment; an agent with an identity file never enrolls again.
//  - Only a retryable failure (central unreachable) is retried, with jittered backoff; central refusing the
//    token ends enrollment with ENROLL_REFUSED. The wait between attempts takes the shutdown signal; the
//    Enroll call itself is let finish (deadline 15 s): cancelled, central could spend the one-time token on
//    an identity the agent never saved.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { VERSION } from '../../../common/src/version.js';
import { Backoff, sleep } from '../backoff.js';
import { enrollTokenOf, type AgentConfig } from '../config.js';
import { AgentError, AgentErrorCode } from '../errors.js';
import { loadIdentity, saveIdentity, type NodeIdentity } from '../identity.js';
import type { CentralClient } from './central-client.js';
import { isRetryable } from './grpc-errors.js';

export interface EnrollmentDeps {
  client: CentralClient;
  config: AgentConfig;
  log: Logger;
  clock: () => number;
}

/** The identity and, when this call enrolled, the heartbeat TTL central set (ms). */
export interface Enrolled {
  identity: NodeIdentity;
  heartbeatTtlMs?: number;
}

/** The identity in the data dir, or a new one from central (retried while central is unreachable). */
export async function loadOrEnroll(deps: EnrollmentDeps, signal: AbortSignal): Promise<Enrolled> {
  const identity = loadIdentity(deps.config.dataDir);
  return identity ? { identity } : enroll(deps, signal);
}

async function enroll(deps: EnrollmentDeps, signal: AbortSignal): Promise<Enrolled> {
  const { config, log } = deps;
  const token = enrollTokenOf(config);
  if (!token)
    throw new AgentError(
      AgentErrorCode.NOT_ENROLLED,
      `no node identity in ${config.dataDir} and no enrollment token configured (central.enrollToken or XCHG_AGENT_ENROLL_TOKEN)`,
    );
  const backoff = new Backoff(config.backoff);
  for (;;) {
    try {
      const req = { token, hostname: hostname(), agentVersion: VERSION, labels: { ...config.labels } };
      const res = await deps.client.enroll(req);
      const identity: NodeIdentity = {
        nodeId: res.nodeId,
        nodeSecret: res.nodeSecret,
        nodeName: res.nodeName,
        departmentCode: res.departmentCode,
        regionCode: res.regionCode,
        centralAddress: config.central.address,
        enrolledAt: deps.clock(),
        dataPlane: {
          natsUrls: res.dataPlane?.natsUrls ?? [],
          subjectPrefix: res.dataPlane?.subjectPrefix ?? 'xchg',
          stream: res.dataPlane?.stream ?? 'XCHG_DATA',
          homeCenter: res.dataPlane?.homeCenter ?? '',
        },
      };
      saveIdentity(config.dataDir, identity);
      log.info({ nodeId: identity.nodeId, name: identity.nodeName, department: identity.departmentCode }, 'enrolled');
      return { identity, ...(res.heartbeatTtlMs && { heartbeatTtlMs: res.heartbeatTtlMs }) };
    } catch (err) {
      if (!isRetryable(err)) {
        const detail = (err as { details?: string }).details ?? (err as Error).message;
        throw new AgentError(AgentErrorCode.ENROLL_REFUSED, `enrollment refused by central: ${detail}`, { cause: err });
      }
      const delay = backoff.next();
      log.warn({ err: (err as Error).message, retryInMs: delay }, 'central unreachable; enrollment will be retried');
      if (!(await sleep(delay, signal)))
        throw new AgentError(AgentErrorCode.NOT_ENROLLED, 'stopped before enrollment completed');
    }
  }
}
