// /api/v1/subscriptions/:id/verify…, /api/v1/verifications/:id: reconciliation (对账) runs of a
// subscription and its verification schedule. Results hold sample keys (record values), so reading them
// is for province-wide roles only: province admin, operator, auditor.
import { Type } from 'typebox';
import { IdParams } from '../../api/common.js';
import {
  Verification,
  VerificationQuery,
  VerifyBody,
  VerifySchedule,
  VerifyScheduleBody,
} from '../../api/reconcile.js';
import { Role, requireRole, WRITERS } from '../auth.js';
import type { App, HttpDeps } from '../types.js';

const READERS = [Role.PROVINCE_ADMIN, Role.OPERATOR, Role.AUDITOR];

export function registerReconcileRoutes(app: App, deps: HttpDeps): void {
  registerVerificationRuns(app, deps);
  registerVerifySchedule(app, deps);
}

function registerVerificationRuns(app: App, deps: HttpDeps): void {
  app.post(
    '/subscriptions/:id/verify',
    {
      schema: {
        tags: ['reconcile'],
        summary:
          "Verify a subscription: compare the consumer's sink with the provider's source (by digests; rows stay on the " +
          'data plane); with repair, make the sink equal',
        params: IdParams,
        body: VerifyBody,
        response: { 201: Verification },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      const run = deps.reconcile.request(req.params.id, { repair: req.body?.repair ?? false, trigger: 'manual' }, p);
      return reply.status(201).send(run);
    },
  );

  app.get(
    '/subscriptions/:id/verifications',
    {
      schema: {
        tags: ['reconcile'],
        summary: 'Verification runs of a subscription, newest first',
        params: IdParams,
        querystring: VerificationQuery,
        response: { 200: Type.Array(Verification) },
      },
    },
    async (req) => {
      requireRole(req, ...READERS);
      return deps.reconcile.list(req.params.id, req.query.limit ?? 100);
    },
  );

  app.get(
    '/verifications/:id',
    {
      schema: {
        tags: ['reconcile'],
        summary: 'One verification run',
        params: IdParams,
        response: { 200: Verification },
      },
    },
    async (req) => {
      requireRole(req, ...READERS);
      return deps.reconcile.get(req.params.id);
    },
  );
}

function registerVerifySchedule(app: App, deps: HttpDeps): void {
  app.get(
    '/subscriptions/:id/verify-schedule',
    {
      schema: {
        tags: ['reconcile'],
        summary: 'How often the subscription is verified',
        params: IdParams,
        response: { 200: VerifySchedule },
      },
    },
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
        params: IdParams,
        body: VerifyScheduleBody,
        response: { 200: VerifySchedule },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.reconcile.setSchedule(req.params.id, req.body.intervalMs, p);
    },
  );
}
