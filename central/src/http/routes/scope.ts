// Which regions a caller sees: everything for province-wide roles, the region subtree for a city admin,
// narrowed further by an optional ?region= filter.
import type { FastifyRequest } from 'fastify';
import { notFound } from '../../errors.js';
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

/** Throws NOT_FOUND ("task <id> not found") for a city admin when the task's node lies outside its region subtree. */
export function requireTaskInScope(req: FastifyRequest, deps: HttpDeps, taskId: string): void {
  const scope = scopeOf(req, deps);
  if (!scope) return;
  const task = deps.assignments.getTask(taskId);
  if (!scope.includes(deps.nodes.get(task.nodeId).regionCode)) throw notFound('task', taskId);
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

/** The department codes a city admin sees (its region subtree), undefined for everyone else (no narrowing). */
export function departmentsInScope(req: FastifyRequest, deps: HttpDeps): string[] | undefined {
  const scope = scopeOf(req, deps);
  return scope && deps.registry.listDepartments(scope).map((d) => d.code);
}
