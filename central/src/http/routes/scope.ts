// Which regions a caller sees: everything for province-wide roles, the region subtree for a city admin,
// narrowed further by an optional ?region= filter; and which departments and nodes: an officer (数据专员) its own
// department's, a city admin its region subtree's.
import type { FastifyRequest } from 'fastify';
import { ErrorCode, notFound, XchgError } from '../../errors.js';
import { Role } from '../auth.js';
import type { HttpDeps } from '../types.js';

export function scopeOf(req: FastifyRequest, deps: HttpDeps, regionFilter?: string): string[] | undefined {
  const p = req.principal;
  let scope: string[] | undefined;
  if (p?.role === Role.CITY_ADMIN && p.regionCode) scope = deps.registry.scope(p.regionCode);
  if (regionFilter) {
    deps.registry.getRegion(regionFilter); // an unknown region is a 404, not an empty list
    const wanted = deps.registry.scope(regionFilter);
    scope = scope ? wanted.filter((c) => scope!.includes(c)) : wanted;
  }
  return scope;
}

/**
 * Throws NOT_FOUND ("<what> <id> not found") when the record's region lies outside the caller's scope (a city admin
 * and another city's record), so that another city's records are indistinguishable from missing ones.
 */
export function requireInScope(
  req: FastifyRequest,
  deps: HttpDeps,
  regionCode: string,
  what: string,
  id: string,
): void {
  const scope = scopeOf(req, deps);
  if (scope && !scope.includes(regionCode)) throw notFound(what, id);
}

/**
 * Throws NOT_FOUND ("task <id> not found") for a city admin when the task's node lies outside its region subtree, and
 * for an officer when neither the task's node nor its peer belongs to its department (another department's flow).
 */
export function requireTaskInScope(req: FastifyRequest, deps: HttpDeps, taskId: string): void {
  const task = deps.assignments.getTask(taskId);
  const own = officerNodeIds(req, deps);
  if (own) {
    if (!own.includes(task.nodeId) && !(task.peerNodeId && own.includes(task.peerNodeId)))
      throw notFound('task', taskId);
    return;
  }
  const scope = scopeOf(req, deps);
  if (scope && !scope.includes(deps.nodes.get(task.nodeId).regionCode)) throw notFound('task', taskId);
}

/** The department an officer acts for ('' for an officer without one: it sees nothing); undefined for other roles. */
export function officerDepartment(req: FastifyRequest): string | undefined {
  const p = req.principal;
  return p?.role === Role.OFFICER ? (p.departmentCode ?? '') : undefined;
}

/** The ids of an officer's department's nodes; undefined for other roles. */
export function officerNodeIds(req: FastifyRequest, deps: HttpDeps): string[] | undefined {
  const dept = officerDepartment(req);
  return dept === undefined ? undefined : deps.nodes.list({ departmentCode: dept }).map((n) => n.id);
}

/**
 * The ids of the nodes whose flows a caller sees (a pair with one of them at either end): an officer its department's
 * nodes, a city admin its region subtree's; undefined for province-wide roles (every node).
 */
export function visibleNodeIds(req: FastifyRequest, deps: HttpDeps): string[] | undefined {
  const own = officerNodeIds(req, deps);
  if (own) return own;
  const scope = scopeOf(req, deps);
  return scope && deps.nodes.list({ regionCodes: scope }).map((n) => n.id);
}

/**
 * Who the caller is and where it sees, for a refusal: `${who} sees … in ${where} only`, e.g. who "officer x",
 * where "department nc-gaj"; who "city_admin y", where "region 360100 and below".
 */
export function scopeText(req: FastifyRequest): { who: string; where: string } {
  const p = req.principal;
  const who = `${p?.role ?? 'caller'} ${p?.name ?? '?'}`;
  if (p?.role === Role.OFFICER) return { who, where: `department ${p.departmentCode ?? '(none)'}` };
  return { who, where: `region ${p?.regionCode ?? '?'} and below` };
}

/**
 * The department a listing is narrowed to: an officer's own (PERMISSION_DENIED naming field department when it asks
 * for another), else `wanted` (undefined: no narrowing).
 */
export function departmentFilter(req: FastifyRequest, wanted: string | undefined): string | undefined {
  const own = officerDepartment(req);
  if (own === undefined) return wanted;
  if (wanted !== undefined && wanted !== own)
    throw new XchgError(
      ErrorCode.PERMISSION_DENIED,
      `department: ${scopeText(req).who} reads only the records of ${scopeText(req).where}, not those of ${wanted}`,
      { field: 'department' },
    );
  return own;
}

/**
 * The regions a caller sees: all for province-wide roles; for a city admin its region subtree and the regions above
 * it (the province it belongs to), never a sibling city.
 */
export function regionsInScope<R extends { code: string; parentCode: string | null }>(
  req: FastifyRequest,
  deps: HttpDeps,
  regions: R[],
): R[] {
  const scope = scopeOf(req, deps);
  if (!scope) return regions;
  const byCode = new Map(regions.map((r) => [r.code, r]));
  const visible = new Set(scope);
  for (let r = byCode.get(req.principal?.regionCode ?? ''); r?.parentCode; r = byCode.get(r.parentCode))
    visible.add(r.parentCode);
  return regions.filter((r) => visible.has(r.code));
}

/**
 * The department codes a caller's records are narrowed to: an officer's own, a city admin's region subtree's;
 * undefined for everyone else (no narrowing).
 */
export function departmentsInScope(req: FastifyRequest, deps: HttpDeps): string[] | undefined {
  const own = officerDepartment(req);
  if (own !== undefined) return [own];
  const scope = scopeOf(req, deps);
  return scope && deps.registry.listDepartments(scope).map((d) => d.code);
}
