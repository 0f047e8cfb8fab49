// /api/v1/dashboard/topology: exchange centers, links colored by their probe-based state and the flows
// between departments with the route each crosses, within the caller's scope (a city admin: flows with an
// end in its region subtree and only the centers and links on them; an officer: its department's flows).
// /api/v1/dashboard/clusters: the brain page's clusters with their first members in one answer.
import type { FastifyRequest } from 'fastify';
import { ClusterBoardQuery, DashboardClusters } from '../../api/brain.js';
import { Topology, TopologyQuery } from '../../api/dashboard-topology.js';
import type { DashboardScope } from '../../services/dashboard.js';
import { principal, Role } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

/** The caller's scope, as the dashboard's other answers take it. */
function topologyScope(req: FastifyRequest, deps: HttpDeps): DashboardScope {
  const p = principal(req);
  if (p.role === Role.OFFICER && p.departmentCode) return { departmentCode: p.departmentCode };
  const regionCodes = scopeOf(req, deps);
  return regionCodes ? { regionCodes, regionCode: p.regionCode ?? null } : {};
}

export function registerTopologyRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/dashboard/topology',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'Topology: exchange centers, links with their state from the probes (latency p50, loss, load), and the ' +
          'department-to-department flows of the last 24 h or 7 d (hourly traffic history) with the route each ' +
          'crosses. A city admin sees the flows with an end in its region and the centers and links on them.',
        querystring: TopologyQuery,
        response: { 200: Topology },
      },
    },
    async (req) => deps.topology.topology(req.query, topologyScope(req, deps)),
  );

  app.get(
    '/dashboard/clusters',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'The brain page’s clusters: the newest clustering run with each cluster’s first member pairs (run null ' +
          'before the first run). A city admin sees the pairs with a node in its region (as GET /clusters).',
        querystring: ClusterBoardQuery,
        response: { 200: DashboardClusters },
      },
    },
    async (req) => {
      const regions = scopeOf(req, deps);
      const scope = regions && new Set(deps.nodes.list({ regionCodes: regions }).map((n) => n.id));
      return { run: deps.brainViews.board(scope, req.query.members ?? 10) };
    },
  );
}
