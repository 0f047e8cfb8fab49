// /api/v1/subscriptions/:id/verify…, /api/v1/verifications/:id: reconciliation (对账) runs of a
// subscription and its verification schedule. Results hold sample keys (record values), so reading them
// is for province-wide roles only: province admin, operator, auditor.
import { Type } from 'typebox';
import { Role, requireRole, WRITERS } from '../auth.js';
import type { App, HttpDeps } from '../types.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const KeyList = Type.Array(Type.Record(Type.String(), Type.Unknown()));
const Result = Type.Object({
  rowsSource: Type.Integer(),
  rowsSink: Type.Integer(),
  rowsCompared: Type.Integer(),
  sourceRejected: Type.Integer(),
  buckets: Type.Integer(),
  bucketsDiffering: Type.Integer(),
  missing: Type.Integer(),
  extra: Type.Integer(),
  different: Type.Integer(),
  samples: Type.Object({ missing: KeyList, extra: KeyList, different: KeyList }),
  durationMs: Type.Integer(),
  rowsPerSecond: Type.Number(),
  repair: Type.Optional(Type.Object({ upserts: Type.Integer(), tombstones: Type.Integer(), rejected: Type.Integer() })),
});
const Verification = Type.Object({
  id: Type.String(),
  subscriptionId: Type.String(),
  exchangeTaskId: Type.String(),
  consumerNodeId: Type.String(),
  providerNodeId: Type.String(),
  repair: Type.Boolean(),
  trigger: Type.Enum(['manual', 'scheduled']),
  state: Type.Enum(['requested', 'running', 'done', 'failed']),
  requestedBy: Type.String(),
  requestedAt: Type.Integer(),
  startedAt: Type.Union([Type.Integer(), Type.Null()]),
  finishedAt: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.String(),
  result: Type.Union([Result, Type.Null()]),
});
const Schedule = Type.Object({ subscriptionId: Type.String(), intervalMs: Type.Integer(), source: Type.Enum(['subscription', 'default']) });
const READERS = [Role.PROVINCE_ADMIN, Role.OPERATOR, Role.AUDITOR];

export function registerReconcileRoutes(app: App, deps: HttpDeps): void {
  app.post(
    '/subscriptions/:id/verify',
    {
      schema: {
        tags: ['reconcile'],
        summary: "Verify a subscription: compare the consumer's sink with the provider's source (by digests; rows stay on the data plane); with repair, make the sink equal",
        params: Type.Object({ id: Id }),
        body: Type.Optional(Type.Object({ repair: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
        response: { 201: Verification },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(deps.reconcile.request(req.params.id, { repair: req.body?.repair ?? false, trigger: 'manual' }, p));
    },
  );

  app.get(
    '/subscriptions/:id/verifications',
    {
      schema: {
        tags: ['reconcile'],
        summary: 'Verification runs of a subscription, newest first',
        params: Type.Object({ id: Id }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }, { additionalProperties: false }),
        response: { 200: Type.Array(Verification) },
      },
    },
    async (req) => {
      requireRole(req, ...READERS);
      return deps.reconcile.list(req.params.id, req.query.limit ?? 100);
    },
  );

  app.get('/verifications/:id', { schema: { tags: ['reconcile'], summary: 'One verification run', params: Type.Object({ id: Id }), response: { 200: Verification } } }, async (req) => {
    requireRole(req, ...READERS);
    return deps.reconcile.get(req.params.id);
  });

  app.get(
    '/subscriptions/:id/verify-schedule',
    { schema: { tags: ['reconcile'], summary: 'How often the subscription is verified', params: Type.Object({ id: Id }), response: { 200: Schedule } } },
    async (req) => {
      requireRole(req, ...READERS);
      return deps.reconcile.schedule(req.params.id);
    },
  );

  app.put(
    '/subscriptions/:id/verify-schedule',
    {
      schema: {
        tags: ['reconcile'],
        summary: "Set how often the subscription is verified (0: never; null: central's default)",
        params: Type.Object({ id: Id }),
        body: Type.Object({ intervalMs: Type.Union([Type.Integer({ minimum: 0, maximum: 366 * 24 * 3_600_000 }), Type.Null()]) }, { additionalProperties: false }),
        response: { 200: Schedule },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.reconcile.setSchedule(req.params.id, req.body.intervalMs, p);
    },
  );
}
