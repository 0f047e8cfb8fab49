// The operator's status page, served at "/": a token prompt, then the node table per region read from
// the API. The province and city dashboards (ECharts) replace it in the monitoring release.
import type { App, HttpDeps } from '../types.js';
import { STATUS_PAGE } from './status-page.js';

export function registerWeb(app: App, _deps: HttpDeps): void {
  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(STATUS_PAGE),
  );
}
