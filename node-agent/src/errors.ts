// The agent's error catalogue: its codes and AgentError. What a failed call to central means (retry or not)
// is decided in control/grpc-errors.ts, next to the gRPC client.

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
