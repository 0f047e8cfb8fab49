// /api/v1/clusters and /api/v1/surges: the brain's clustering of node pairs by traffic shape (the newest run,
// one cluster with its members, a run on demand) and the surges its detector found, live or over imported
// history. A city admin sees the pairs with a node in its region subtree (clusters narrowed to them), an officer the
// pairs with a node of its department.
import {
  ClusterDetail,
  ClusterParams,
  ClusterQuery,
  ClusterRunSummary,
  ClusterRunView,
  SurgeQuery,
  SurgeView,
} from '../../api/brain.js';
import { Type } from 'typebox';
import { ErrorCode, XchgError } from '../../errors.js';
import { requireRole, WRITERS } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { visibleNodeIds } from './scope.js';

/** The nodes a caller's pairs must touch: a city admin's region's, an officer's department's (undefined: every pair). */
export function pairScope(req: Parameters<typeof visibleNodeIds>[0], deps: HttpDeps): ReadonlySet<string> | undefined {
  const nodes = visibleNodeIds(req, deps);
  return nodes && new Set(nodes);
}

export function registerBrainRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/clusters',
    {
      schema: {
        tags: ['brain'],
        summary:
          'The newest clustering (聚类) of node pairs by traffic shape: k and how it was chosen (mean silhouette per k), ' +
          'each cluster with its label, silhouette, profile and static-policy template. 404 before the first run.',
        response: { 200: ClusterRunView },
      },
    },
    async (req) => {
      const run = deps.brainViews.latestRun(pairScope(req, deps));
      if (!run)
        throw new XchgError(
          ErrorCode.NOT_FOUND,
          'no clustering has run yet (xchg cluster run, or wait for the brain job)',
        );
      return run;
    },
  );

  app.get(
    '/clusters/:id',
    {
      schema: {
        tags: ['brain'],
        summary: 'One cluster of the newest run with its member pairs and their features.',
        params: ClusterParams,
        querystring: ClusterQuery,
        response: { 200: ClusterDetail },
      },
    },
    async (req) => deps.brainViews.cluster(req.params.id, pairScope(req, deps), req.query.limit),
  );

  app.post(
    '/clusters/run',
    {
      schema: {
        tags: ['brain'],
        summary:
          'Cluster now (the brain job does it every brain.clusterIntervalMs): pairs with enough history, and one ' +
          'static policy per pair with a sync task, replaced in place. Province admins and operators.',
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 200: ClusterRunSummary },
      },
    },
    async (req) => {
      requireRole(req, ...WRITERS);
      const r = deps.runClusters ? await deps.runClusters() : deps.clusters.run();
      return { ...r, run: r.run ? (deps.brainViews.latestRun(undefined) ?? null) : null };
    },
  );

  app.get(
    '/surges',
    {
      schema: {
        tags: ['brain'],
        summary:
          'Surges (浪涌) found by the detector, oldest first: live ones (with the dynamic policy and alert they ' +
          'caused) and those found by replaying imported history in time order, without look-ahead (origin import).',
        querystring: SurgeQuery,
        response: { 200: Type.Array(SurgeView) },
      },
    },
    async (req) => deps.brainViews.surges(req.query, pairScope(req, deps)),
  );
}
