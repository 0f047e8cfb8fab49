// /api/v1/users: people who use the API and the CLI, with a role and scope; the province admin manages them.
import { Type } from 'typebox';
import { ROLES } from '../../domain/roles.js';
import { principal, requireRole, Role } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { Code } from './registry.js';

const RoleSchema = Type.Enum([...ROLES], { description: 'province_admin | city_admin (needs regionCode) | operator | officer (needs departmentCode) | auditor (read-only)' });
const User = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  regionCode: Type.Union([Type.String(), Type.Null()]),
  departmentCode: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
});

export function registerUserRoutes(app: App, deps: HttpDeps): void {
  app.get('/users', { schema: { tags: ['users'], summary: 'List users (tokens are never shown again)', response: { 200: Type.Array(User) } } }, async (req) => {
    requireRole(req, Role.PROVINCE_ADMIN, Role.AUDITOR);
    return deps.users.list();
  });

  app.get(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        summary: 'Who the presented token stands for',
        response: { 200: Type.Object({ name: Type.String(), role: RoleSchema, regionCode: Type.Optional(Type.String()), departmentCode: Type.Optional(Type.String()) }) },
      },
    },
    async (req) => principal(req),
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user; answers its bearer token once',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\s]+$', description: 'login name, no spaces' }),
            role: RoleSchema,
            regionCode: Type.Optional(Code),
            departmentCode: Type.Optional(Code),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ token: Type.String(), user: User }) },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, Role.PROVINCE_ADMIN);
      return reply.status(201).send(deps.users.create(req.body, p));
    },
  );

  app.delete(
    '/users/:id',
    { schema: { tags: ['users'], summary: 'Revoke a user (by id or name): its token stops working at once', params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }), response: { 200: User } } },
    async (req) => {
      const p = requireRole(req, Role.PROVINCE_ADMIN);
      return deps.users.revoke(req.params.id, p);
    },
  );
}
