// The gRPC status of each of central's error codes (errors.ts): the control plane's half of the error
// table, kept in the adapter so the error catalogue (and domain/, which throws it) loads no transport.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ErrorCode } from '../errors.js';

export const GRPC_STATUS: Record<ErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  TOKEN_UNKNOWN: GrpcStatus.UNAUTHENTICATED,
  TOKEN_USED: GrpcStatus.PERMISSION_DENIED,
  TOKEN_EXPIRED: GrpcStatus.PERMISSION_DENIED,
  NODE_UNKNOWN: GrpcStatus.NOT_FOUND,
  NODE_DISABLED: GrpcStatus.PERMISSION_DENIED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  INTERNAL: GrpcStatus.INTERNAL,
};
