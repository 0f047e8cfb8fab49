// Signing in to and out of the dashboard: GET /dashboard/session says who the cookie stands for (null when
// none: the page asks without provoking a 401) and central's time zone the pages show times in, POST exchanges an API token for a session cookie
// (sessions.ts), DELETE ends it. Outside /api/v1: the CLI's bearer flow is unchanged.
import { Type } from 'typebox';
import { ErrorCode, XchgError } from '../../errors.js';
import { actorForToken, type AuthOptions } from '../auth.js';
import { DASHBOARD_HEADER, sessionId, setSessionCookie, type SessionStore } from '../sessions.js';
import type { App } from '../types.js';

const SessionBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 256, description: 'an API token: the admin token or a user token' }),
  },
  { additionalProperties: false },
);

/** @param timeZone central's IANA time zone (traffic.timeZone): the dashboard shows every time in it */
export function registerSessionRoutes(
  app: App,
  auth: AuthOptions & { sessions: SessionStore },
  timeZone: string,
): void {
  app.post('/dashboard/session', { schema: { hide: true, body: SessionBody } }, async (req, reply) => {
    if (req.headers[DASHBOARD_HEADER] !== '1')
      throw new XchgError(ErrorCode.PERMISSION_DENIED, `sign-in must carry ${DASHBOARD_HEADER}: 1`);
    const token = req.body.token.trim();
    const actor = actorForToken(auth, token);
    if (!actor) throw new XchgError(ErrorCode.UNAUTHENTICATED, 'unknown or revoked token');
    const id = auth.sessions.open(token);
    setSessionCookie(req, reply, id, auth.sessions.ttlMs);
    req.log.info({ user: actor.name, role: actor.role }, 'dashboard session opened');
    return reply.status(201).send({ ...actor, expiresInMs: auth.sessions.ttlMs });
  });

  app.get('/dashboard/session', { schema: { hide: true } }, async (req, reply) => {
    const id = sessionId(req);
    const token = id && auth.sessions.token(id);
    const user = (token && actorForToken(auth, token)) || null;
    return reply.header('cache-control', 'no-store').send({ user, timeZone });
  });

  app.delete('/dashboard/session', { schema: { hide: true } }, async (req, reply) => {
    const id = sessionId(req);
    if (id) auth.sessions.close(id);
    setSessionCookie(req, reply, '', 0);
    return reply.status(204).send();
  });
}
