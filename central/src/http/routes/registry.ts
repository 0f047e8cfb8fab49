// /api/v1/regions and /api/v1/departments.
import { Type } from 'typebox';
import { requireRole, WRITERS, Role } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { scopeOf } from './scope.js';

const Code = Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9_-]+$', description: 'stable code, letters, digits, - and _' });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Level = Type.Enum(['province', 'city', 'county']);

const Region = Type.Object({
  code: Code,
  name: Name,
  level: Level,
  parentCode: Type.Union([Code, Type.Null()]),
  createdAt: Type.Integer(),
});
const Department = Type.Object({ code: Code, name: Name, regionCode: Code, createdAt: Type.Integer() });

export function registerRegistryRoutes(app: App, deps: HttpDeps): void {
  app.get('/regions', { schema: { tags: ['regions'], summary: 'List regions (行政区划)', response: { 200: Type.Array(Region) } } }, async () =>
    deps.registry.listRegions(),
  );

  app.post(
    '/regions',
    {
      schema: {
        tags: ['regions'],
        summary: 'Create a region',
        body: Type.Object({ code: Code, name: Name, level: Level, parentCode: Type.Optional(Type.Union([Code, Type.Null()])) }, { additionalProperties: false }),
        response: { 201: Region },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, Role.PROVINCE_ADMIN);
      return reply.status(201).send(deps.registry.createRegion(req.body, p));
    },
  );

  app.get('/regions/:code', { schema: { tags: ['regions'], params: Type.Object({ code: Code }), response: { 200: Region } } }, async (req) =>
    deps.registry.getRegion(req.params.code),
  );

  app.delete('/regions/:code', { schema: { tags: ['regions'], params: Type.Object({ code: Code }) } }, async (req, reply) => {
    const p = requireRole(req, Role.PROVINCE_ADMIN);
    deps.registry.deleteRegion(req.params.code, p);
    return reply.status(204).send();
  });

  app.get(
    '/departments',
    {
      schema: {
        tags: ['departments'],
        summary: 'List departments (部门), optionally under one region',
        querystring: Type.Object({ region: Type.Optional(Code) }, { additionalProperties: false }),
        response: { 200: Type.Array(Department) },
      },
    },
    async (req) => {
      const scope = scopeOf(req, deps, req.query.region);
      return deps.registry.listDepartments(scope);
    },
  );

  app.post(
    '/departments',
    {
      schema: {
        tags: ['departments'],
        summary: 'Create a department',
        body: Type.Object({ code: Code, name: Name, regionCode: Code }, { additionalProperties: false }),
        response: { 201: Department },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(deps.registry.createDepartment(req.body, p));
    },
  );

  app.get('/departments/:code', { schema: { tags: ['departments'], params: Type.Object({ code: Code }), response: { 200: Department } } }, async (req) =>
    deps.registry.getDepartment(req.params.code),
  );
}

export { Code, Name };
