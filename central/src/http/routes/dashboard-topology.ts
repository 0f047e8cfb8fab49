// /api/v1/dashboard/topology: exchange centers, links colored by their probe-based state and the flows
// between departments with the route each crosses, within the caller's scope (a city admin: flows with an
// end in its region subtree and only the centers and links on them; an officer: its department's flows).
// /api/v1/dashboard/clusters: the brain page's clusters with their first members in one answer.
import { ClusterBoardQuery, DashboardClusters } from '../../api/brain.js';
import { Topology, TopologyQuery } from '../../api/dashboard-topology.js';
import type { App, HttpDeps } from '../types.js';
import { pairScope } from './brain.js';
import { dashboardScope } from './dashboard-scope.js';

export function registerTopologyRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/dashboard/topology',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'Topology: exchange centers, links with their state from the probes (latency p50, loss, load), and the ' +
          'department-to-department flows of the last 24 h or 7 d (daily and hourly traffic rollups) with the route each ' +
          'crosses. A city admin sees the flows with an end in its region and the centers and links on them.',
        querystring: TopologyQuery,
        response: { 200: Topology },
      },
    },
    async (req) => deps.topology.topology(req.query, dashboardScope(req, deps)),
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
    async (req) => ({ run: deps.brainViews.board(pairScope(req, deps), req.query.members ?? 10) }),
  );
}
