// /api/v1/objections: 疑义/纠错 — a consumer flags received data as wrong, the provider answers.
import { Type } from 'typebox';
import {
  AnswerObjectionBody,
  Objection,
  ObjectionParams,
  ObjectionQuery,
  RaiseObjectionBody,
} from '../../api/objections.js';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

export function registerObjectionRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/objections',
    {
      schema: {
        tags: ['objections'],
        summary: 'List objections; department matches the consumer or the provider',
        querystring: ObjectionQuery,
        response: { 200: Type.Array(Objection) },
      },
    },
    async (req) => {
      const scope = scopeOf(req, deps);
      return deps.objections.list(
        {
          ...(req.query.resource && { resourceCode: req.query.resource }),
          ...(req.query.department && { departmentCode: req.query.department }),
          ...(req.query.status && { status: req.query.status }),
          ...(scope && { departmentCodes: deps.registry.listDepartments(scope).map((d) => d.code) }),
        },
        principal(req),
      );
    },
  );

  app.post(
    '/objections',
    {
      schema: {
        tags: ['objections'],
        summary: 'Raise an objection (疑义) about data received from a resource',
        body: RaiseObjectionBody,
        response: { 201: Objection },
      },
    },
    async (req, reply) => reply.status(201).send(deps.objections.raise(req.body, principal(req))),
  );

  app.post(
    '/objections/:id/answer',
    {
      schema: {
        tags: ['objections'],
        summary: "The provider's answer after verification (校核): corrected or confirmed_correct, with a note",
        params: ObjectionParams,
        body: AnswerObjectionBody,
        response: { 200: Objection },
      },
    },
    async (req) => deps.objections.answer(req.params.id, req.body, principal(req)),
  );
}
