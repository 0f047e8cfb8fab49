// HTTP authentication and roles. Every /api/v1 route requires a bearer token: the bootstrap province-admin
// token (generated into dataDir at first start) or a user's token (xchg user create), looked up by its
// hash and compared in constant time. The principal carries the role and scope the routes and services
// check (domain/roles.ts). An auditor reads only: every other method is refused here, for every route.
// The dashboard's session cookie (sessions.ts) stands for the token it was opened with, checked the same way.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Role, type Actor } from '../domain/roles.js';
import { ErrorCode, XchgError } from '../errors.js';
import type { UserService } from '../services/users.js';
import { DASHBOARD_HEADER, sessionId, type SessionStore } from './sessions.js';

export { Role };
export type Principal = Actor;

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthOptions {
  /** The bootstrap province-admin token (generated into dataDir at first start). */
  adminToken: string;
  /** Looks up users' tokens by their hash. */
  users: UserService;
  /** Dashboard sessions; without it only bearer tokens are accepted. A bearer header wins over a cookie. */
  sessions?: SessionStore;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/** The actor a token stands for (the bootstrap admin token or a live user's token), or undefined. */
export function actorForToken(opts: AuthOptions, token: string): Principal | undefined {
  const admin = Buffer.from(opts.adminToken, 'utf8');
  const presented = Buffer.from(token, 'utf8');
  if (presented.length === admin.length && timingSafeEqual(presented, admin))
    return { name: 'admin', role: Role.PROVINCE_ADMIN };
  return opts.users.authenticate(token);
}

/** The token a request presents: its bearer header, else the one behind its dashboard session cookie. */
function presentedToken(req: FastifyRequest, sessions: SessionStore | undefined): string {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Bearer ')) return header.slice(7).trim();
  const id = sessions && sessionId(req);
  if (!sessions || !id)
    throw new XchgError(ErrorCode.UNAUTHENTICATED, 'missing bearer token (set --token or XCHG_TOKEN)');
  const token = sessions.token(id);
  if (token === undefined) throw new XchgError(ErrorCode.UNAUTHENTICATED, 'session expired or unknown; sign in again');
  if (!READ_METHODS.has(req.method) && req.headers[DASHBOARD_HEADER] !== '1')
    throw new XchgError(ErrorCode.PERMISSION_DENIED, `a session's ${req.method} must carry ${DASHBOARD_HEADER}: 1`);
  return token;
}

export function authenticate(opts: AuthOptions) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const user = actorForToken(opts, presentedToken(req, opts.sessions));
    if (!user) throw new XchgError(ErrorCode.UNAUTHENTICATED, 'unknown or revoked token');
    if (user.role === Role.AUDITOR && !READ_METHODS.has(req.method))
      throw new XchgError(ErrorCode.PERMISSION_DENIED, `auditor ${user.name} reads only; ${req.method} is not allowed`);
    req.principal = user;
  };
}

/** Throws PERMISSION_DENIED unless the caller holds one of `roles`. */
export function requireRole(req: FastifyRequest, ...roles: Role[]): Principal {
  const p = principal(req);
  if (!roles.includes(p.role))
    throw new XchgError(ErrorCode.PERMISSION_DENIED, `role ${p.role} may not do this (needs ${roles.join(' or ')})`);
  return p;
}

/** The authenticated caller (every /api/v1 route has one). */
export function principal(req: FastifyRequest): Principal {
  const p = req.principal;
  if (!p) throw new XchgError(ErrorCode.UNAUTHENTICATED, 'not authenticated');
  return p;
}

/** Roles that may change the exchange's configuration. */
export const WRITERS: Role[] = [Role.PROVINCE_ADMIN, Role.OPERATOR];
