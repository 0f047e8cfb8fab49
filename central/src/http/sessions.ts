// Dashboard sessions: signing in exchanges an API token (the bootstrap admin token or a user's token) for a
// random session id in an HttpOnly, SameSite=Strict cookie that expires. Sessions live in central's memory
// (a restart signs everyone out) and keep the token they were opened with, so each request re-checks it:
// revoking the user ends its sessions at once, and the scope is exactly the token's.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The cookie the session id travels in. */
export const SESSION_COOKIE = 'xchg_session';
/** How long a session lasts from sign-in: 8 hours (a working day); not extended by use. */
export const SESSION_TTL_MS = 8 * 3_600_000;
/** At most this many live sessions; the oldest is dropped beyond it (memory bound). */
export const MAX_SESSIONS = 10_000;
/**
 * The header the dashboard sends on every call. A cookie-authenticated request other than GET/HEAD must carry
 * it: a cross-site form cannot set it (a second guard beside SameSite=Strict).
 */
export const DASHBOARD_HEADER = 'x-xchg-dashboard';

interface Session {
  token: string;
  expiresAt: number;
}

const key = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex');

export class SessionStore {
  // Keyed by the id's sha-256, in insertion (= expiry) order.
  private readonly sessions = new Map<string, Session>();

  /**
   * @param clock ms since epoch
   * @param ttlMs a session's lifetime from sign-in (default SESSION_TTL_MS)
   */
  constructor(
    private readonly clock: () => number = Date.now,
    readonly ttlMs: number = SESSION_TTL_MS,
  ) {}

  /** Opens a session for an already verified token; answers its id (32 random bytes, base64url). */
  open(token: string): string {
    this.prune();
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(key(id), { token, expiresAt: this.clock() + this.ttlMs });
    return id;
  }

  /** The token behind a live session, or undefined (unknown or expired; an expired one is dropped). */
  token(id: string): string | undefined {
    const k = key(id);
    const s = this.sessions.get(k);
    if (!s) return undefined;
    if (s.expiresAt <= this.clock()) {
      this.sessions.delete(k);
      return undefined;
    }
    return s.token;
  }

  close(id: string): void {
    this.sessions.delete(key(id));
  }

  /** Drops expired sessions from the front (they expire in insertion order). */
  private prune(): void {
    const now = this.clock();
    for (const [k, s] of this.sessions) {
      if (s.expiresAt > now) break;
      this.sessions.delete(k);
    }
  }
}

/** The session id in the request's cookie header, if any. */
export function sessionId(req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Sets the session cookie (Secure when the request came over TLS); maxAgeMs 0 clears it. */
export function setSessionCookie(req: FastifyRequest, reply: FastifyReply, id: string, maxAgeMs: number): void {
  const parts = [
    `${SESSION_COOKIE}=${id}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
  ];
  if (req.protocol === 'https') parts.push('Secure');
  reply.header('set-cookie', parts.join('; '));
}
