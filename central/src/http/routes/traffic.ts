// /api/v1/traffic: the traffic history of a node pair (GET /traffic), importing a history file (POST
// /traffic/import, province admins and operators) and exporting one (GET /traffic/export). A city admin sees
// the pairs with a node in its region subtree (as routes touching its region), an officer those with a node of its
// department.
import {
  TrafficExport,
  TrafficExportQuery,
  TrafficHistory,
  TrafficImportBody,
  TrafficImportSummary,
  TrafficShowQuery,
} from '../../api/traffic.js';
import { ErrorCode, XchgError } from '../../errors.js';
import { exportHistory, importHistory } from '../../services/traffic-files.js';
import { requireRole, WRITERS } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeText, visibleNodeIds } from './scope.js';

/** Largest history file accepted, bytes (a year of 5-min rows with bytes is ~4 MB). */
export const TRAFFIC_IMPORT_MAX_BYTES = 64 * 1024 * 1024;

const COUNTS_NOTE =
  'Per bucket: batches committed, records written, payload bytes, delivery latency p50/p99 (commit at the ' +
  'consumer − creation at the provider, including the two clocks’ skew), errors (records not written). Buckets ' +
  'coarser than the stored ones: sums, p50 the batch-weighted mean, p99 the largest.';

export function registerTrafficRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/traffic',
    {
      schema: {
        tags: ['traffic'],
        summary: `The traffic history of a node pair (resource optional: all summed) at a step. ${COUNTS_NOTE}`,
        querystring: TrafficShowQuery,
        response: { 200: TrafficHistory },
      },
    },
    async (req) => {
      requireVisible(req, deps, req.query.from, req.query.to);
      const history = deps.traffic.show(req.query);
      return { ...history, forecast: deps.brainViews.forecast(history) };
    },
  );

  app.post(
    '/traffic/import',
    {
      bodyLimit: TRAFFIC_IMPORT_MAX_BYTES,
      schema: {
        tags: ['traffic'],
        summary:
          'Import a history file for a node pair: CSV with a header timestamp,records[,bytes], rows at one fixed ' +
          "interval of 1 min to 1 h (timestamps ISO 8601 or 'YYYY-MM-DD HH:MM:SS' in central's time zone). All or " +
          'nothing: every bad row is named by its line. A re-import replaces the imported buckets of the range; ' +
          'live buckets are never overwritten.',
        body: TrafficImportBody,
        response: { 200: TrafficImportSummary },
      },
    },
    async (req) => {
      requireRole(req, ...WRITERS);
      return importHistory(deps.traffic, req.body);
    },
  );

  app.get(
    '/traffic/export',
    {
      schema: {
        tags: ['traffic'],
        summary:
          'Export the history of a node pair in the import format: the base buckets when the range is within ' +
          'their retention (or --step below an hour), else hours; resources summed when none is named.',
        querystring: TrafficExportQuery,
        response: { 200: TrafficExport },
      },
    },
    async (req) => {
      requireVisible(req, deps, req.query.from, req.query.to);
      const csv = exportHistory(deps.traffic, req.query);
      return { csv, rows: csv.split('\n').length - 2 };
    },
  );
}

/** A city admin sees a pair when one of its nodes is in the admin's region subtree, an officer in its department. */
function requireVisible(req: Parameters<typeof visibleNodeIds>[0], deps: HttpDeps, from: string, to: string): void {
  const visible = visibleNodeIds(req, deps);
  if (!visible || visible.includes(from) || visible.includes(to)) return;
  const { who, where } = scopeText(req);
  throw new XchgError(
    ErrorCode.PERMISSION_DENIED,
    `${who} sees the traffic of nodes in ${where} only, not ${from} → ${to}`,
  );
}
