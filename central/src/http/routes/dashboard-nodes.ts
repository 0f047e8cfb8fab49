// /api/v1/dashboard/nodes and /dashboard/nodes/:id: the node table (filter, sort, page) and one node's
// drill-down (tasks with recent runs, quarantine, open alerts), scoped: a node outside the caller's region is
// not found.
import { DashboardNodeDetail, DashboardNodes, DashboardNodesQuery } from '../../api/dashboard-nodes.js';
import { IdParams } from '../../api/common.js';
import type { App, HttpDeps } from '../types.js';
import { dashboardScope } from './dashboard-scope.js';

export function registerDashboardNodeRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/dashboard/nodes',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'Nodes with their last health (heartbeat age, version, backlog, CPU, memory, disk) and open alerts; filter, sort, page',
        querystring: DashboardNodesQuery,
        response: { 200: DashboardNodes },
      },
    },
    async (req) => {
      if (req.query.region) deps.registry.getRegion(req.query.region); // an unknown region is a 404
      return deps.dashboard.nodes.list(req.query, deps.dashboard.resolveScope(dashboardScope(req, deps)));
    },
  );

  app.get(
    '/dashboard/nodes/:id',
    {
      schema: {
        tags: ['dashboard'],
        summary:
          'One node: its tasks with their newest runs and quarantine counts, quarantined records’ reasons (no values), open alerts',
        params: IdParams,
        response: { 200: DashboardNodeDetail },
      },
    },
    async (req) => deps.dashboard.nodes.detail(req.params.id, deps.dashboard.resolveScope(dashboardScope(req, deps))),
  );
}
