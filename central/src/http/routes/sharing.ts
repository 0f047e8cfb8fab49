// /api/v1/applications (共享申请), /api/v1/agreements (共享协议) and /api/v1/subscriptions (订阅).
// Alarms are in alerts.ts.
import { Type } from 'typebox';
import { IdParams } from '../../api/common.js';
import {
  AgreementDetail,
  AgreementQuery,
  AgreementView,
  ApplicationQuery,
  ApplicationView,
  ApplyBody,
  Approval,
  ApproveBody,
  ReasonBody,
  SubscribeBody,
  SubscriptionQuery,
  SubscriptionView,
} from '../../api/sharing.js';
import { notFound } from '../../errors.js';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

/** A city admin sees records with a party in its region subtree. */
type Scoped = (req: Parameters<typeof scopeOf>[0]) => { departmentCodes?: string[] };

const partyFilter = (q: { resource?: string; department?: string }) => ({
  ...(q.resource && { resourceCode: q.resource }),
  ...(q.department && { departmentCode: q.department }),
});

/** NOT_FOUND ("<what> <id> not found") when a city admin's region holds neither party of the record. */
function requirePartyInScope(
  scope: { departmentCodes?: string[] },
  r: { providerDepartmentCode: string; consumerDepartmentCode: string },
  what: string,
  id: string,
): void {
  const codes = scope.departmentCodes;
  if (codes && !codes.includes(r.providerDepartmentCode) && !codes.includes(r.consumerDepartmentCode))
    throw notFound(what, id);
}

export function registerSharingRoutes(app: App, deps: HttpDeps): void {
  const scoped: Scoped = (req) => {
    const scope = scopeOf(req, deps);
    return scope ? { departmentCodes: deps.registry.listDepartments(scope).map((d) => d.code) } : {};
  };
  registerApplicationReads(app, deps, scoped);
  registerApplicationAnswers(app, deps);
  registerAgreementRoutes(app, deps, scoped);
  registerSubscriptionRoutes(app, deps, scoped);
}

function registerApplicationReads(app: App, deps: HttpDeps, scoped: Scoped): void {
  app.get(
    '/applications',
    {
      schema: {
        tags: ['sharing'],
        summary: 'List applications for conditional resources, with whether each is overdue',
        querystring: ApplicationQuery,
        response: { 200: Type.Array(ApplicationView) },
      },
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...partyFilter(q),
        ...scoped(req),
        ...(q.status && { status: q.status }),
        ...(q.overdue !== undefined && { overdue: q.overdue }),
      };
      return deps.sharing.listApplications(filter, principal(req));
    },
  );

  app.post(
    '/applications',
    {
      schema: {
        tags: ['sharing'],
        summary: 'Apply for a conditional resource (共享申请); the provider answers within the deadline',
        body: ApplyBody,
        response: { 201: ApplicationView },
      },
    },
    async (req, reply) => reply.status(201).send(deps.sharing.apply(req.body, principal(req))),
  );

  app.get(
    '/applications/:id',
    { schema: { tags: ['sharing'], summary: 'One application', params: IdParams, response: { 200: ApplicationView } } },
    async (req) => {
      const application = deps.sharing.getApplication(req.params.id, principal(req));
      requirePartyInScope(scoped(req), application, 'application', req.params.id);
      return application;
    },
  );
}

function registerApplicationAnswers(app: App, deps: HttpDeps): void {
  app.post(
    '/applications/:id/approve',
    {
      schema: {
        tags: ['sharing'],
        summary:
          "Approve a pending application (the provider's officer, an operator or the admin): creates the agreement",
        params: IdParams,
        body: ApproveBody,
        response: { 200: Approval },
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
        params: IdParams,
        body: ReasonBody,
        response: { 200: ApplicationView },
      },
    },
    async (req) => deps.sharing.reject(req.params.id, req.body.reason, principal(req)),
  );
}

function registerAgreementRoutes(app: App, deps: HttpDeps, scoped: Scoped): void {
  app.get(
    '/agreements',
    {
      schema: {
        tags: ['sharing'],
        summary: 'List agreements (共享协议)',
        querystring: AgreementQuery,
        response: { 200: Type.Array(AgreementView) },
      },
    },
    async (req) => {
      const filter = {
        ...partyFilter(req.query),
        ...scoped(req),
        ...(req.query.status && { status: req.query.status }),
      };
      return deps.sharing.listAgreements(filter, principal(req));
    },
  );

  app.get(
    '/agreements/:id',
    {
      schema: {
        tags: ['sharing'],
        summary: 'One agreement with its subscriptions',
        params: IdParams,
        response: { 200: AgreementDetail },
      },
    },
    async (req) => {
      const agreement = deps.sharing.getAgreement(req.params.id, principal(req));
      requirePartyInScope(scoped(req), agreement, 'agreement', req.params.id);
      return agreement;
    },
  );

  app.post(
    '/agreements/:id/revoke',
    {
      schema: {
        tags: ['sharing'],
        summary: "Revoke an agreement (reason required): its flows stop with the agents' next poll",
        params: IdParams,
        body: ReasonBody,
        response: { 200: AgreementView },
      },
    },
    async (req) => deps.sharing.revokeAgreement(req.params.id, req.body.reason, principal(req)),
  );
}

function registerSubscriptionRoutes(app: App, deps: HttpDeps, scoped: Scoped): void {
  app.get(
    '/subscriptions',
    {
      schema: {
        tags: ['sharing'],
        summary: 'List subscriptions (订阅) and their tasks',
        querystring: SubscriptionQuery,
        response: { 200: Type.Array(SubscriptionView) },
      },
    },
    async (req) => {
      const q = req.query;
      const filter = {
        ...partyFilter(q),
        ...scoped(req),
        ...(q.status && { status: q.status }),
        ...(q.agreement && { agreementId: q.agreement }),
      };
      return deps.sharing.listSubscriptions(filter, principal(req));
    },
  );

  app.post(
    '/subscriptions',
    {
      schema: {
        tags: ['sharing'],
        summary:
          'Subscribe a consumer node to a resource (unconditional, or on an agreement): creates its sync and exchange tasks',
        body: SubscribeBody,
        response: { 201: SubscriptionView },
      },
    },
    async (req, reply) => reply.status(201).send(deps.sharing.subscribe(req.body, principal(req))),
  );

  app.get(
    '/subscriptions/:id',
    {
      schema: { tags: ['sharing'], summary: 'One subscription', params: IdParams, response: { 200: SubscriptionView } },
    },
    async (req) => {
      const sub = deps.sharing.getSubscription(req.params.id, principal(req));
      // A city admin sees a subscription with an end (provider or consumer node) in its region subtree.
      const scope = scopeOf(req, deps);
      const inScope = (nodeId: string) => scope!.includes(deps.nodes.get(nodeId).regionCode);
      if (scope && !inScope(sub.providerNodeId) && !inScope(sub.consumerNodeId)) throw notFound('subscription', sub.id);
      return sub;
    },
  );

  app.delete(
    '/subscriptions/:id',
    {
      schema: {
        tags: ['sharing'],
        summary: 'End a subscription: its tasks are deleted',
        params: IdParams,
        response: { 200: SubscriptionView },
      },
    },
    async (req) => deps.sharing.unsubscribe(req.params.id, principal(req)),
  );
}
