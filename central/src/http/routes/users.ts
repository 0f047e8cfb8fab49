// /api/v1/users: people who use the API and the CLI, with a role and scope; the province admin manages them.
import { Type } from 'typebox';
import { CreateUserBody, IssuedUser, User, Whoami } from '../../api/users.js';
import { principal, requireRole, Role } from '../auth.js';
import type { App, HttpDeps } from '../types.js';

export function registerUserRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List users (tokens are never shown again)',
        response: { 200: Type.Array(User) },
      },
    },
    async (req) => {
      requireRole(req, Role.PROVINCE_ADMIN, Role.AUDITOR);
      return deps.users.list();
    },
  );

  app.get(
    '/users/me',
    { schema: { tags: ['users'], summary: 'Who the presented token stands for', response: { 200: Whoami } } },
    async (req) => principal(req),
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user; answers its bearer token once',
        body: CreateUserBody,
        response: { 201: IssuedUser },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, Role.PROVINCE_ADMIN);
      return reply.status(201).send(deps.users.create(req.body, p));
    },
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Revoke a user (by id or name): its token stops working at once',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: User },
      },
    },
    async (req) => {
      const p = requireRole(req, Role.PROVINCE_ADMIN);
      return deps.users.revoke(req.params.id, p);
    },
  );
}
