// Central's error catalogue: every failure that reaches a caller carries one of these codes. Pure: the
// adapters map a code to a transport status, each through its own table and nowhere else
// (grpc/status.ts GRPC_STATUS, http/error-status.ts HTTP_STATUS).

export const ErrorCode = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  TOKEN_UNKNOWN: 'TOKEN_UNKNOWN',
  TOKEN_USED: 'TOKEN_USED',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  NODE_UNKNOWN: 'NODE_UNKNOWN',
  NODE_DISABLED: 'NODE_DISABLED',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class XchgError extends Error {
  readonly code: ErrorCode;
  /** Name of the offending field or entity, when there is one (shown to the caller). */
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, opts: { field?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'XchgError';
    this.code = code;
    this.field = opts.field;
  }
}

export const invalid = (field: string, message: string): XchgError =>
  new XchgError(ErrorCode.INVALID_ARGUMENT, `${field}: ${message}`, { field });
export const notFound = (what: string, id: string): XchgError =>
  new XchgError(ErrorCode.NOT_FOUND, `${what} ${JSON.stringify(id)} not found`, { field: what });
export const alreadyExists = (what: string, id: string): XchgError =>
  new XchgError(ErrorCode.ALREADY_EXISTS, `${what} ${JSON.stringify(id)} already exists`, { field: what });
