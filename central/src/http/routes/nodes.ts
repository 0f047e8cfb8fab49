// /api/v1/nodes, /api/v1/tokens (enrollment) and /api/v1/reports.
import { Type } from 'typebox';
import { IdParams, NoContent, OptionalReasonBody } from '../../api/common.js';
import {
  CreateTokenBody,
  EnrollmentToken,
  IssuedToken,
  Node,
  NodeDetail,
  NodeQuery,
  Report,
  ReportQuery,
  REPORTS_DEFAULT_LIMIT,
} from '../../api/nodes.js';
import { principal, requireRole, WRITERS } from '../auth.js';
import { notFound } from '../../errors.js';
import { noContent } from '../reply.js';
import type { App, HttpDeps } from '../types.js';
import { departmentFilter, departmentsInScope, officerDepartment, requireInScope, scopeOf } from './scope.js';

export function registerNodeRoutes(app: App, deps: HttpDeps): void {
  registerNodeReads(app, deps);
  registerNodeSwitches(app, deps);
  registerTokenRoutes(app, deps);
  registerReportRoutes(app, deps);
}

function registerNodeReads(app: App, deps: HttpDeps): void {
  app.get(
    '/nodes',
    {
      schema: {
        tags: ['nodes'],
        summary: 'List nodes (前置节点) with liveness and last health',
        querystring: NodeQuery,
        response: { 200: Type.Array(Node) },
      },
    },
    async (req) => {
      const regionCodes = scopeOf(req, deps, req.query.region);
      const departmentCode = departmentFilter(req, req.query.department); // an officer: its own department's nodes
      return deps.nodes.list({
        ...(regionCodes && { regionCodes }),
        ...(departmentCode !== undefined && { departmentCode }),
        ...(req.query.status && { status: req.query.status }),
      });
    },
  );

  app.get(
    '/nodes/:id',
    {
      schema: {
        tags: ['nodes'],
        summary: 'One node with its recent events and assignment acknowledgements',
        params: IdParams,
        response: { 200: NodeDetail },
      },
    },
    async (req) => {
      const node = deps.nodes.get(req.params.id);
      requireInScope(req, deps, node.regionCode, 'node', node.id); // another city's node is 404 for a city admin
      const own = officerDepartment(req); // and another department's for an officer
      if (own !== undefined && node.departmentCode !== own) throw notFound('node', node.id);
      return { ...node, events: deps.nodes.events(node.id), acks: deps.assignments.acks(node.id) };
    },
  );
}

function registerNodeSwitches(app: App, deps: HttpDeps): void {
  for (const [verb, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    app.post(
      `/nodes/:id/${verb}`,
      {
        schema: {
          tags: ['nodes'],
          summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} a node`,
          params: IdParams,
          body: OptionalReasonBody,
          response: { 200: Node },
        },
        // The body is optional: a POST without one (no reason given) validates as {} instead of failing "must be object".
        preValidation: async (req) => {
          req.body ??= {};
        },
      },
      async (req) => {
        const p = requireRole(req, ...WRITERS);
        return deps.nodes.setEnabled(req.params.id, enabled, req.body?.reason ?? `${verb}d by ${p.name}`, p);
      },
    );
  }
}

function registerTokenRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'List enrollment tokens (secrets never shown again)',
        response: { 200: Type.Array(EnrollmentToken) },
      },
    },
    // A city admin sees the tokens of its region's departments only.
    async (req) => deps.nodes.listTokens(departmentsInScope(req, deps)),
  );

  app.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Issue a one-time enrollment token for a new node of a department',
        body: CreateTokenBody,
        response: { 201: IssuedToken },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(deps.nodes.createToken(req.body, p));
    },
  );

  app.delete(
    '/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an unused token',
        params: Type.Object({ id: Type.String({ minLength: 1 }) }),
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      deps.nodes.revokeToken(req.params.id, p);
      return noContent(reply);
    },
  );
}

const REPORTS_SUMMARY =
  'Reports from agents, newest first (in the order central received them); page back with before=<last reportId>. ' +
  "An officer sees the reports of its department's nodes, a city admin those of its region's. Bodies hold record " +
  'values as reported for province administrators and auditors only (a page holding quarantined records is written ' +
  'to the audit log); for everyone else quarantined records carry their reason without quoted values and their ' +
  'column names (values: withheld), and run errors and event messages lose quoted values. Read record values per ' +
  'task: GET /tasks/:id/quarantine.';

function registerReportRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/reports',
    {
      schema: {
        tags: ['reports'],
        summary: REPORTS_SUMMARY,
        querystring: ReportQuery,
        response: { 200: Type.Array(Report) },
      },
    },
    async (req) => {
      const q = req.query;
      // A city admin sees the reports of the nodes in its region subtree only; the scope is part of the query
      // so that a page holds `limit` visible reports and the cursor pages through visible ones.
      const scope = scopeOf(req, deps);
      return deps.records.listReports(
        {
          ...(q.node && { nodeId: q.node }),
          ...(scope && { nodeIds: deps.nodes.list({ regionCodes: scope }).map((n) => n.id) }),
          ...(q.kind && { kind: q.kind }),
          ...(q.afterSeq !== undefined && { afterSeq: q.afterSeq }),
          ...(q.before !== undefined && { before: q.before }),
          limit: q.limit ?? REPORTS_DEFAULT_LIMIT,
        },
        principal(req),
      );
    },
  );
}
