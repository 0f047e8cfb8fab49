// HTTP authentication and roles. Every /api/v1 route requires a bearer token: the bootstrap province-admin
// token (generated into dataDir at first start) or a user's token (xchg user create), looked up by its
// hash and compared in constant time. The principal carries the role and scope the routes and services
// check (domain/roles.ts). An auditor reads only: every other method is refused here, for every route.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Role, type Actor } from '../domain/roles.js';
import { ErrorCode, XchgError } from '../errors.js';
import type { UserService } from '../services/users.js';

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
}

const READ_METHODS = new Set(['GET', 'HEAD']);

export function authenticate(opts: AuthOptions) {
  const admin = Buffer.from(opts.adminToken, 'utf8');
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer '))
      throw new XchgError(ErrorCode.UNAUTHENTICATED, 'missing bearer token (set --token or XCHG_TOKEN)');
    const token = header.slice(7).trim();
    const presented = Buffer.from(token, 'utf8');
    if (presented.length === admin.length && timingSafeEqual(presented, admin)) {
      req.principal = { name: 'admin', role: Role.PROVINCE_ADMIN };
      return;
    }
    const user = opts.users.authenticate(token);
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
