// Roles and who may act for whom, pure (DESIGN.md, Security): province_admin sees and does everything;
// operator runs the exchange for every department; city_admin reads its region subtree; officer (数据专员)
// acts for its own department only; auditor reads only.
import { Role } from '../api/users.js';

// The roles are part of the API's vocabulary, declared with its records.
export { Role, ROLES } from '../api/users.js';

/** Who does something: an authenticated caller, a node, or central itself. */
export interface Actor {
  /** Unique name: a user's name, "admin" for the bootstrap token, "system" for central's own sweeps. */
  name: string;
  role: Role;
  /** For city_admin: the region whose subtree it sees. */
  regionCode?: string;
  /** For officer: the department it acts for. */
  departmentCode?: string;
}

/** Central itself (sweeps, expiry); acts with province-wide rights. */
export const SYSTEM_ACTOR: Actor = { name: 'system', role: Role.PROVINCE_ADMIN };

/** Names a user may not take: they stand for the bootstrap token and central itself in the audit log. */
export const RESERVED_NAMES: readonly string[] = ['admin', 'system'];

/** Roles that act for any department (catalog, applications, subscriptions). */
const ACT_FOR_ANY: readonly Role[] = [Role.PROVINCE_ADMIN, Role.OPERATOR];

/**
 * Why `actor` may not act for `departmentCode` (publish its resources, apply as it, answer applications
 * addressed to it), or undefined when it may.
 */
export function actForProblem(actor: Actor, departmentCode: string): string | undefined {
  if (ACT_FOR_ANY.includes(actor.role)) return undefined;
  if (actor.role === Role.OFFICER) {
    if (actor.departmentCode === departmentCode) return undefined;
    return `officer ${actor.name} acts for department ${actor.departmentCode ?? '(none)'} only, not for ${departmentCode}`;
  }
  return `role ${actor.role} may not act for a department (needs province_admin, operator or that department's officer)`;
}

/** The departments whose records `actor` may read, or undefined for all (officers see their own). */
export function readScopeDepartment(actor: Actor): string | undefined {
  return actor.role === Role.OFFICER ? (actor.departmentCode ?? '') : undefined;
}

/** What a user record must carry for its role: a region for city_admin, a department for officer, else neither. */
export function roleScopeProblem(
  role: Role,
  scope: { regionCode?: string | null; departmentCode?: string | null },
): { field: string; problem: string } | undefined {
  if (role === Role.CITY_ADMIN && !scope.regionCode)
    return { field: 'regionCode', problem: 'a city_admin needs the region it administers' };
  if (role === Role.OFFICER && !scope.departmentCode)
    return { field: 'departmentCode', problem: 'an officer needs the department it acts for' };
  if (role !== Role.CITY_ADMIN && scope.regionCode)
    return { field: 'regionCode', problem: `only a city_admin has a region (role is ${role})` };
  if (role !== Role.OFFICER && scope.departmentCode)
    return { field: 'departmentCode', problem: `only an officer has a department (role is ${role})` };
  return undefined;
}
