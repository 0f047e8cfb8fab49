// Enrollment token rules, pure: a token is good once, before it expires, unless revoked.
import { ErrorCode } from '../errors.js';

export interface TokenState {
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
}

export type TokenVerdict = { ok: true } | { ok: false; code: ErrorCode; reason: string };

export function checkToken(token: TokenState | undefined, now: number): TokenVerdict {
  if (!token)
    return {
      ok: false,
      code: ErrorCode.TOKEN_UNKNOWN,
      reason: 'enrollment token is unknown (mistyped, forged or from another central)',
    };
  if (token.revokedAt !== null)
    return { ok: false, code: ErrorCode.TOKEN_USED, reason: 'enrollment token was revoked' };
  if (token.usedAt !== null)
    return { ok: false, code: ErrorCode.TOKEN_USED, reason: 'enrollment token was already used; ask for a new one' };
  if (now >= token.expiresAt)
    return { ok: false, code: ErrorCode.TOKEN_EXPIRED, reason: 'enrollment token has expired; ask for a new one' };
  return { ok: true };
}
