// The agent's error catalogue and the one decision of what is worth retrying.
import { status as GrpcStatus } from '@grpc/grpc-js';

export const AgentErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  ENROLL_REFUSED: 'ENROLL_REFUSED',
  NOT_ENROLLED: 'NOT_ENROLLED',
  NODE_UNKNOWN: 'NODE_UNKNOWN',
  CREDENTIALS_REJECTED: 'CREDENTIALS_REJECTED',
  SPOOL_FULL: 'SPOOL_FULL',
  SPOOL_CORRUPT: 'SPOOL_CORRUPT',
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AgentError';
  }
}

/** gRPC statuses after which the same call may succeed later (central restarting, network, overload). */
const RETRYABLE = new Set<GrpcStatus>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNKNOWN,
  GrpcStatus.CANCELLED,
]);

export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? RETRYABLE.has(code) : true;
}

export function grpcCode(err: unknown): GrpcStatus | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? (code as GrpcStatus) : undefined;
}
