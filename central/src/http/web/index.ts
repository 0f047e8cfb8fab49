// The web pages central serves: the operator's status page at "/" and the province and city dashboards
// (ECharts, built by scripts/build-web.mjs) at /dashboard.
import type { AuthOptions } from '../auth.js';
import type { SessionStore } from '../sessions.js';
import type { App, HttpDeps } from '../types.js';
import { registerDashboardAssets } from './dashboard.js';
import { registerSessionRoutes } from './session.js';
import { STATUS_PAGE } from './status-page.js';

export function registerWeb(app: App, deps: HttpDeps, auth: AuthOptions & { sessions: SessionStore }): void {
  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(STATUS_PAGE),
  );
  registerDashboardAssets(app);
  registerSessionRoutes(app, auth, deps.traffic.zone.name);
}
