// What a failed call to central means, read from its gRPC status: the one decision of what is worth
// retrying (isRetryable), used by every control loop and by enrollment.
import { status as GrpcStatus } from '@grpc/grpc-js';

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

/** Whether the same call may succeed later; an error without a gRPC status (a local failure) is retried. */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? RETRYABLE.has(code) : true;
}

/** The gRPC status of a failed call, or undefined for an error that is not a gRPC one. */
export function grpcCode(err: unknown): GrpcStatus | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? (code as GrpcStatus) : undefined;
}
