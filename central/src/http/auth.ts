// HTTP authentication and roles. Every /api/v1 route requires a bearer token. Roles (DESIGN.md,
// Security): province_admin sees everything; city_admin is scoped to a region subtree; operator runs the
// exchange; officer is scoped to a department; auditor reads only. This release issues one bootstrap
// province-admin token; per-user tokens and login arrive with the security release.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, XchgError } from '../errors.js';

export const Role = {
  PROVINCE_ADMIN: 'province_admin',
  CITY_ADMIN: 'city_admin',
  OPERATOR: 'operator',
  OFFICER: 'officer',
  AUDITOR: 'auditor',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export interface Principal {
  name: string;
  role: Role;
  /** For city_admin: the region whose subtree is visible. */
  regionCode?: string;
  /** For officer: the department acted for. */
  departmentCode?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthOptions {
  adminToken: string;
}

export function authenticate(opts: AuthOptions) {
  const admin = Buffer.from(opts.adminToken, 'utf8');
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer '))
      throw new XchgError(ErrorCode.UNAUTHENTICATED, 'missing bearer token (set --token or XCHG_TOKEN)');
    const presented = Buffer.from(header.slice(7).trim(), 'utf8');
    if (presented.length === admin.length && timingSafeEqual(presented, admin)) {
      req.principal = { name: 'admin', role: Role.PROVINCE_ADMIN };
      return;
    }
    throw new XchgError(ErrorCode.UNAUTHENTICATED, 'unknown or revoked token');
  };
}

/** Throws PERMISSION_DENIED unless the caller holds one of `roles`. */
export function requireRole(req: FastifyRequest, ...roles: Role[]): Principal {
  const p = req.principal;
  if (!p) throw new XchgError(ErrorCode.UNAUTHENTICATED, 'not authenticated');
  if (!roles.includes(p.role)) throw new XchgError(ErrorCode.PERMISSION_DENIED, `role ${p.role} may not do this (needs ${roles.join(' or ')})`);
  return p;
}

/** Roles that may change the exchange's configuration. */
export const WRITERS: Role[] = [Role.PROVINCE_ADMIN, Role.OPERATOR];
