// Which regions a caller sees: everything for province-wide roles, the region subtree for a city admin,
// narrowed further by an optional ?region= filter.
import type { FastifyRequest } from 'fastify';
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
