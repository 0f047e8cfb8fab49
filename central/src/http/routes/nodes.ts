// /api/v1/nodes, /api/v1/tokens (enrollment) and /api/v1/reports.
import { Type } from 'typebox';
import { REPORT_KINDS } from '../../api-types.js';
import { principal, requireRole, WRITERS } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { Code, Name } from './registry.js';
import { scopeOf } from './scope.js';

const NodeId = Type.String({ minLength: 1, maxLength: 64 });
const Node = Type.Object({
  id: NodeId,
  name: Type.String(),
  departmentCode: Type.String(),
  regionCode: Type.String(),
  hostname: Type.String(),
  agentVersion: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  status: Type.Enum(['online', 'offline']),
  enabled: Type.Boolean(),
  enrolledAt: Type.Integer(),
  lastHeartbeatAt: Type.Union([Type.Integer(), Type.Null()]),
  health: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  assignmentVersion: Type.Integer(),
});
const Token = Type.Object({
  id: Type.String(),
  departmentCode: Type.String(),
  nodeName: Type.String(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  usedAt: Type.Union([Type.Integer(), Type.Null()]),
  usedByNodeId: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
});

/** GET /reports: reports per page unless ?limit= says otherwise, and the most one page may hold. */
const REPORTS_DEFAULT_LIMIT = 1000;
const REPORTS_MAX_LIMIT = 10_000;
const Report = Type.Object({
  reportId: Type.String(),
  nodeId: Type.String(),
  seq: Type.Integer({ description: 'the node\'s own sequence number' }),
  kind: Type.String({ description: REPORT_KINDS.join(', ') }),
  observedAt: Type.Integer({ description: 'ms since epoch, by the agent\'s clock' }),
  receivedAt: Type.Integer({ description: 'ms since epoch, by central\'s clock' }),
  body: Type.Unknown(),
});

export function registerNodeRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/nodes',
    {
      schema: {
        tags: ['nodes'],
        summary: 'List nodes (前置节点) with liveness and last health',
        querystring: Type.Object(
          { region: Type.Optional(Code), department: Type.Optional(Code), status: Type.Optional(Type.Enum(['online', 'offline'])) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Node) },
      },
    },
    async (req) => {
      const regionCodes = scopeOf(req, deps, req.query.region);
      return deps.nodes.list({
        ...(regionCodes && { regionCodes }),
        ...(req.query.department && { departmentCode: req.query.department }),
        ...(req.query.status && { status: req.query.status }),
      });
    },
  );

  app.get('/nodes/:id', { schema: { tags: ['nodes'], params: Type.Object({ id: NodeId }) } }, async (req) => {
    const node = deps.nodes.get(req.params.id);
    return { ...node, events: deps.nodes.events(node.id), acks: deps.assignments.acks(node.id) };
  });

  for (const [verb, enabled] of [['disable', false], ['enable', true]] as const) {
    app.post(
      `/nodes/:id/${verb}`,
      {
        schema: {
          tags: ['nodes'],
          summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} a node`,
          params: Type.Object({ id: NodeId }),
          body: Type.Optional(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
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

  app.get('/tokens', { schema: { tags: ['tokens'], summary: 'List enrollment tokens (secrets never shown again)', response: { 200: Type.Array(Token) } } }, async () =>
    deps.nodes.listTokens(),
  );

  app.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Issue a one-time enrollment token for a new node of a department',
        body: Type.Object(
          { departmentCode: Code, nodeName: Name, ttlMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 366 * 24 * 3600_000 })) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ token: Type.String(), record: Token }) },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(deps.nodes.createToken(req.body, p));
    },
  );

  app.delete('/tokens/:id', { schema: { tags: ['tokens'], summary: 'Revoke an unused token', params: Type.Object({ id: Type.String({ minLength: 1 }) }) } }, async (req, reply) => {
    const p = requireRole(req, ...WRITERS);
    deps.nodes.revokeToken(req.params.id, p);
    return reply.status(204).send();
  });

  app.get(
    '/reports',
    {
      schema: {
        tags: ['reports'],
        summary:
          'Reports from agents, newest first (in the order central received them); page back with before=<last reportId>. An officer sees the reports of its ' +
          "department's nodes, a city admin those of its region's. Bodies hold record values as reported for province administrators and auditors only " +
          '(a page holding quarantined records is written to the audit log); for everyone else quarantined records carry their reason without quoted values ' +
          'and their column names (values: withheld), and run errors and event messages lose quoted values. Read record values per task: GET /tasks/:id/quarantine.',
        querystring: Type.Object(
          {
            node: Type.Optional(NodeId),
            kind: Type.Optional(Type.Enum([...REPORT_KINDS])),
            afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: 'only reports whose per-node sequence number is above this' })),
            before: Type.Optional(
              Type.String({ minLength: 1, maxLength: 128, description: 'a report id: only reports older than it in this order (the last report of the previous page)' }),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: REPORTS_MAX_LIMIT, default: REPORTS_DEFAULT_LIMIT, description: 'at most this many reports' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Report) },
      },
    },
    async (req) => {
      const q = req.query;
      // A city admin sees the reports of the nodes in its region subtree only; the scope is part of the query
      // so that a page holds `limit` visible reports and the cursor pages through visible ones.
      const scope = scopeOf(req, deps);
      return deps.records.listReports({
        ...(q.node && { nodeId: q.node }),
        ...(scope && { nodeIds: deps.nodes.list({ regionCodes: scope }).map((n) => n.id) }),
        ...(q.kind && { kind: q.kind }),
        ...(q.afterSeq !== undefined && { afterSeq: q.afterSeq }),
        ...(q.before !== undefined && { before: q.before }),
        limit: q.limit ?? REPORTS_DEFAULT_LIMIT,
      }, principal(req));
    },
  );
}
