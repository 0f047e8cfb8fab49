// /api/v1/applications (共享申请), /api/v1/agreements (共享协议), /api/v1/subscriptions (订阅) and
// /api/v1/alerts (alarms: applications past their deadline, tasks a node refused).
import { Type } from 'typebox';
import { SHARE_METHODS } from '../../domain/catalog.js';
import { AGREEMENT_STATES, APPLICATION_STATES } from '../../domain/sharing.js';
import { SUBSCRIPTION_FLOW_STATES } from '../../api-types.js';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { ResourceCode } from './catalog.js';
import { Code } from './registry.js';
import { scopeOf } from './scope.js';
import { TaskRefusal } from './tasks.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const FieldNames = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 500 });
const Reason = Type.String({ minLength: 1, maxLength: 2000 });
const Application = Type.Object({
  id: Type.String(),
  resourceCode: Type.String(),
  resourceVersion: Type.Integer(),
  providerDepartmentCode: Type.String(),
  consumerDepartmentCode: Type.String(),
  applicant: Type.String(),
  purpose: Type.String(),
  requestedFields: Type.Array(Type.String()),
  status: Type.Enum([...APPLICATION_STATES]),
  submittedAt: Type.Integer(),
  deadlineAt: Type.Integer(),
  answeredAt: Type.Union([Type.Integer(), Type.Null()]),
  answeredBy: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  approvedFields: Type.Union([Type.Array(Type.String()), Type.Null()]),
  agreementId: Type.Union([Type.String(), Type.Null()]),
  overdue: Type.Boolean({ description: 'pending and past its deadline' }),
});
const Agreement = Type.Object({
  id: Type.String(),
  applicationId: Type.String(),
  resourceCode: Type.String(),
  providerDepartmentCode: Type.String(),
  consumerDepartmentCode: Type.String(),
  fields: Type.Array(Type.String()),
  purpose: Type.String(),
  validFrom: Type.Integer(),
  validUntil: Type.Integer(),
  status: Type.Enum([...AGREEMENT_STATES]),
  state: Type.Enum([...AGREEMENT_STATES], { description: 'status at this instant (active past validUntil reads expired)' }),
  createdAt: Type.Integer(),
  endedAt: Type.Union([Type.Integer(), Type.Null()]),
  endedBy: Type.Union([Type.String(), Type.Null()]),
  endReason: Type.String(),
});
const Subscription = Type.Object({
  id: Type.String(),
  resourceCode: Type.String(),
  agreementId: Type.Union([Type.String(), Type.Null()]),
  providerDepartmentCode: Type.String(),
  consumerDepartmentCode: Type.String(),
  providerNodeId: Type.String(),
  consumerNodeId: Type.String(),
  sinkBinding: Type.String(),
  method: Type.String(),
  fields: Type.Array(Type.String()),
  syncTaskId: Type.String(),
  exchangeTaskId: Type.String(),
  status: Type.Enum(['active', 'stopped']),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  stoppedAt: Type.Union([Type.Integer(), Type.Null()]),
  stopReason: Type.String(),
  state: Type.Enum([...SUBSCRIPTION_FLOW_STATES], {
    description: 'where the flow stands: stopped (status), refused (a node refuses one of its tasks, see refusals), pending (not acknowledged yet), active',
  }),
  refusals: Type.Array(TaskRefusal, { description: "its tasks' current generations that a node refuses, with the node's reason" }),
});
const Alert = Type.Object({ id: Type.Integer(), kind: Type.String(), entityId: Type.String(), departmentCode: Type.String(), message: Type.String(), at: Type.Integer() });

/** Filters of the three listings; `department` matches either party. */
const partyQuery = {
  resource: Type.Optional(ResourceCode),
  department: Type.Optional(Code),
};
const partyFilter = (q: { resource?: string; department?: string }) => ({
  ...(q.resource && { resourceCode: q.resource }),
  ...(q.department && { departmentCode: q.department }),
});

export function registerSharingRoutes(app: App, deps: HttpDeps): void {
  /** A city admin sees records with a party in its region subtree. */
  const scoped = (req: Parameters<typeof scopeOf>[0]) => {
    const scope = scopeOf(req, deps);
    return scope ? { departmentCodes: deps.registry.listDepartments(scope).map((d) => d.code) } : {};
  };

  app.get(
    '/applications',
    {
      schema: {
        tags: ['sharing'],
        summary: 'List applications for conditional resources, with whether each is overdue',
        querystring: Type.Object(
          { ...partyQuery, status: Type.Optional(Type.Enum([...APPLICATION_STATES])), overdue: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Application) },
      },
    },
    async (req) =>
      deps.sharing.listApplications(
        { ...partyFilter(req.query), ...scoped(req), ...(req.query.status && { status: req.query.status }), ...(req.query.overdue !== undefined && { overdue: req.query.overdue }) },
        principal(req),
      ),
  );

  app.post(
    '/applications',
    {
      schema: {
        tags: ['sharing'],
        summary: 'Apply for a conditional resource (共享申请); the provider answers within the deadline',
        body: Type.Object(
          {
            resourceCode: ResourceCode,
            consumerDepartmentCode: Type.Optional(Code),
            purpose: Type.String({ minLength: 1, maxLength: 2000, description: 'what the data is for (申请用途)' }),
            fields: Type.Optional(FieldNames),
          },
          { additionalProperties: false },
        ),
        response: { 201: Application },
      },
    },
    async (req, reply) => reply.status(201).send(deps.sharing.apply(req.body, principal(req))),
  );

  app.get('/applications/:id', { schema: { tags: ['sharing'], params: Type.Object({ id: Id }), response: { 200: Application } } }, async (req) =>
    deps.sharing.getApplication(req.params.id, principal(req)),
  );

  app.post(
    '/applications/:id/approve',
    {
      schema: {
        tags: ['sharing'],
        summary: "Approve a pending application (the provider's officer, an operator or the admin): creates the agreement",
        params: Type.Object({ id: Id }),
        body: Type.Object(
          {
            fields: Type.Optional(FieldNames),
            validUntil: Type.Optional(Type.Integer({ minimum: 0, description: 'end of validity, ms since epoch' })),
            validDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
            note: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ application: Application, agreement: Agreement }) },
      },
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => deps.sharing.approve(req.params.id, req.body ?? {}, principal(req)),
  );

  app.post(
    '/applications/:id/reject',
    {
      schema: {
        tags: ['sharing'],
        summary: 'Reject a pending application; the reason is required and shown to the applicant',
        params: Type.Object({ id: Id }),
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: Application },
      },
    },
    async (req) => deps.sharing.reject(req.params.id, req.body.reason, principal(req)),
  );

  app.get(
    '/agreements',
    {
      schema: {
        tags: ['sharing'],
        summary: 'List agreements (共享协议)',
        querystring: Type.Object({ ...partyQuery, status: Type.Optional(Type.Enum([...AGREEMENT_STATES])) }, { additionalProperties: false }),
        response: { 200: Type.Array(Agreement) },
      },
    },
    async (req) => deps.sharing.listAgreements({ ...partyFilter(req.query), ...scoped(req), ...(req.query.status && { status: req.query.status }) }, principal(req)),
  );

  app.get(
    '/agreements/:id',
    { schema: { tags: ['sharing'], summary: 'One agreement with its subscriptions', params: Type.Object({ id: Id }), response: { 200: Type.Object({ ...Agreement.properties, subscriptions: Type.Array(Subscription) }) } } },
    async (req) => deps.sharing.getAgreement(req.params.id, principal(req)),
  );

  app.post(
    '/agreements/:id/revoke',
    {
      schema: {
        tags: ['sharing'],
        summary: 'Revoke an agreement (reason required): its flows stop with the agents\' next poll',
        params: Type.Object({ id: Id }),
        body: Type.Object({ reason: Reason }, { additionalProperties: false }),
        response: { 200: Agreement },
      },
    },
    async (req) => deps.sharing.revokeAgreement(req.params.id, req.body.reason, principal(req)),
  );

  app.get(
    '/subscriptions',
    {
      schema: {
        tags: ['sharing'],
        summary: 'List subscriptions (订阅) and their tasks',
        querystring: Type.Object({ ...partyQuery, status: Type.Optional(Type.Enum(['active', 'stopped'])), agreement: Type.Optional(Id) }, { additionalProperties: false }),
        response: { 200: Type.Array(Subscription) },
      },
    },
    async (req) =>
      deps.sharing.listSubscriptions(
        { ...partyFilter(req.query), ...scoped(req), ...(req.query.status && { status: req.query.status }), ...(req.query.agreement && { agreementId: req.query.agreement }) },
        principal(req),
      ),
  );

  app.post(
    '/subscriptions',
    {
      schema: {
        tags: ['sharing'],
        summary: 'Subscribe a consumer node to a resource (unconditional, or on an agreement): creates its sync and exchange tasks',
        body: Type.Object(
          {
            resourceCode: Type.Optional(ResourceCode),
            agreementId: Type.Optional(Id),
            consumerNodeId: Id,
            sinkBinding: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: "sink name in the consumer agent's config" }),
            method: Type.Optional(Type.Enum([...SHARE_METHODS])),
            intervalMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600_000 })),
            filters: Type.Optional(
              Type.Array(
                Type.Object(
                  { field: Type.String({ minLength: 1, maxLength: 64 }), op: Type.Enum(['=', '!=', '>', '>=', '<', '<=', 'in', 'notnull', 'prefix']), value: Type.Optional(Type.Unknown()) },
                  { additionalProperties: false },
                ),
                { maxItems: 50 },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: Subscription },
      },
    },
    async (req, reply) => reply.status(201).send(deps.sharing.subscribe(req.body, principal(req))),
  );

  app.get('/subscriptions/:id', { schema: { tags: ['sharing'], params: Type.Object({ id: Id }), response: { 200: Subscription } } }, async (req) =>
    deps.sharing.getSubscription(req.params.id, principal(req)),
  );

  app.delete(
    '/subscriptions/:id',
    { schema: { tags: ['sharing'], summary: 'End a subscription: its tasks are deleted', params: Type.Object({ id: Id }), response: { 200: Subscription } } },
    async (req) => deps.sharing.unsubscribe(req.params.id, principal(req)),
  );

  app.get(
    '/alerts',
    {
      schema: {
        tags: ['sharing'],
        summary: 'Alarms, newest first: application_overdue (raised by the governance sweep), task_refused (a node refused a task generation; entityId is <task>@<generation>), reconcile_drift and reconcile_failed (a scheduled verification found differences or failed; entityId is the verification run)',
        querystring: Type.Object({ kind: Type.Optional(Type.String({ maxLength: 64 })), department: Type.Optional(Code), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }, { additionalProperties: false }),
        response: { 200: Type.Array(Alert) },
      },
    },
    async (req) => {
      const p = principal(req);
      const department = p.role === 'officer' ? p.departmentCode : req.query.department;
      return deps.sharing.alerts({ ...(req.query.kind && { kind: req.query.kind }), ...(department && { departmentCode: department }), ...(req.query.limit && { limit: req.query.limit }) });
    },
  );
}
