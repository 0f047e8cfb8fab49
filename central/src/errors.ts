// Central's error catalogue: every failure that reaches a caller carries one of these codes. The adapters
// (grpc/, http/) map a code to a transport status through ERROR_STATUS and nowhere else.
import { status as GrpcStatus } from '@grpc/grpc-js';

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

/** The single mapping of error codes to transport statuses. */
export const ERROR_STATUS: Record<ErrorCode, { http: number; grpc: GrpcStatus }> = {
  INVALID_ARGUMENT: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  ALREADY_EXISTS: { http: 409, grpc: GrpcStatus.ALREADY_EXISTS },
  FAILED_PRECONDITION: { http: 409, grpc: GrpcStatus.FAILED_PRECONDITION },
  UNAUTHENTICATED: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  PERMISSION_DENIED: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  TOKEN_UNKNOWN: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  TOKEN_USED: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  TOKEN_EXPIRED: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  NODE_UNKNOWN: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  NODE_DISABLED: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  INTERNAL: { http: 500, grpc: GrpcStatus.INTERNAL },
};

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
