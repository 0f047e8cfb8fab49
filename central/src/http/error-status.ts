// The HTTP status of each of central's error codes (errors.ts): the API's half of the error table, kept
// in the adapter so the error catalogue loads no transport.
import type { ErrorCode } from '../errors.js';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  TOKEN_UNKNOWN: 401,
  TOKEN_USED: 403,
  TOKEN_EXPIRED: 403,
  NODE_UNKNOWN: 404,
  NODE_DISABLED: 403,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};
