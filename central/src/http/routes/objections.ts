// /api/v1/objections: 疑义/纠错 — a consumer flags received data as wrong, the provider answers.
import { Type } from 'typebox';
import { principal } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { ResourceCode } from './catalog.js';
import { Code } from './registry.js';
import { scopeOf } from './scope.js';

const Objection = Type.Object({
  id: Type.String(),
  resourceCode: Type.String(),
  providerDepartmentCode: Type.String(),
  consumerDepartmentCode: Type.String(),
  recordKey: Type.String(),
  note: Type.String(),
  raisedBy: Type.String(),
  raisedAt: Type.Integer(),
  status: Type.Enum(['open', 'answered']),
  result: Type.Union([Type.Enum(['corrected', 'confirmed_correct']), Type.Null()]),
  answerNote: Type.String(),
  answeredBy: Type.Union([Type.String(), Type.Null()]),
  answeredAt: Type.Union([Type.Integer(), Type.Null()]),
});

export function registerObjectionRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/objections',
    {
      schema: {
        tags: ['objections'],
        summary: 'List objections; department matches the consumer or the provider',
        querystring: Type.Object(
          { resource: Type.Optional(ResourceCode), department: Type.Optional(Code), status: Type.Optional(Type.Enum(['open', 'answered'])) },
          { additionalProperties: false },
        ),
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
        body: Type.Object(
          {
            resourceCode: ResourceCode,
            consumerDepartmentCode: Type.Optional(Code),
            recordKey: Type.Optional(Type.String({ maxLength: 200, description: 'the record concerned, e.g. id=42' })),
            note: Type.String({ minLength: 1, maxLength: 2000 }),
          },
          { additionalProperties: false },
        ),
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
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: Type.Object({ result: Type.Enum(['corrected', 'confirmed_correct']), note: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
        response: { 200: Objection },
      },
    },
    async (req) => deps.objections.answer(req.params.id, req.body, principal(req)),
  );
}
