// The fastify application factory: routes, schemas, OpenAPI, error mapping. buildApp never listens;
// main.ts does, and tests use inject().
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyError, type FastifyBaseLogger } from 'fastify';
import { XchgError } from '../errors.js';
import { ApiErrorBody } from '../api/common.js';
import { HTTP_STATUS } from './error-status.js';
import { authenticate } from './auth.js';
import { SessionStore } from './sessions.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerBrainRoutes } from './routes/brain.js';
import { registerCatalogRoutes } from './routes/catalog.js';
import { registerCenterRoutes } from './routes/centers.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerTopologyRoutes } from './routes/dashboard-topology.js';
import { registerEvaluationRoutes } from './routes/evaluation.js';
import { registerNodeRoutes } from './routes/nodes.js';
import { registerObjectionRoutes } from './routes/objections.js';
import { registerPolicyRoutes } from './routes/policies.js';
import { registerReconcileRoutes } from './routes/reconcile.js';
import { registerRoutingRoutes } from './routes/routing.js';
import { registerSharingRoutes } from './routes/sharing.js';
import { registerUserRoutes } from './routes/users.js';
import { registerRegistryRoutes } from './routes/registry.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerTrafficRoutes } from './routes/traffic.js';
import { registerWeb } from './web/index.js';
import type { App, HttpDeps } from './types.js';

export type { App, HttpDeps };

export async function buildApp(deps: HttpDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  acceptEmptyJson(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'xchg central API',
        description: '政务数据共享交换平台 — exchange manager API',
        version: deps.version,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  answerErrors(app);
  declareErrors(app);
  // Durations by route pattern (the URL with ids would be an unbounded label).
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration.observe(
      { method: req.method, route, code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  registerOperations(app, deps);

  const auth = { adminToken: deps.adminToken, users: deps.users, sessions: new SessionStore() };
  await app.register(
    async (api) => {
      api.addHook('onRequest', authenticate(auth));
      registerRegistryRoutes(api as App, deps);
      registerNodeRoutes(api as App, deps);
      registerCenterRoutes(api as App, deps);
      registerRoutingRoutes(api as App, deps);
      registerPolicyRoutes(api as App, deps);
      registerTaskRoutes(api as App, deps);
      registerUserRoutes(api as App, deps);
      registerCatalogRoutes(api as App, deps);
      registerSharingRoutes(api as App, deps);
      registerAlertRoutes(api as App, deps);
      registerObjectionRoutes(api as App, deps);
      registerReconcileRoutes(api as App, deps);
      registerAuditRoutes(api as App, deps);
      registerEvaluationRoutes(api as App, deps);
      registerTrafficRoutes(api as App, deps);
      registerBrainRoutes(api as App, deps);
      registerDashboardRoutes(api as App, deps);
      registerTopologyRoutes(api as App, deps);
    },
    { prefix: '/api/v1' },
  );

  registerWeb(app, deps, auth);
  await app.ready();
  return app;
}

/**
 * An empty body sent as JSON means "no body" (routes whose body is optional, such as approving without a
 * note), not "Body cannot be empty"; a route that needs a body still names what is missing.
 */
function acceptEmptyJson(app: App): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string; // parseAs: 'string'
    if (text.length === 0) return done(null, undefined);
    // The default parser answers through done(); it returns nothing to wait for.
    void json(req, text, done);
  });
}

/**
 * The error answers in the OpenAPI document: every route that declares its responses also declares each error
 * status central answers with (HTTP_STATUS, 400 for validation, 413 for a body too large) as ApiErrorBody,
 * so clients see the shape of a refusal, not only of success.
 */
function declareErrors(app: App): void {
  const statuses = [...new Set([400, 413, ...Object.values(HTTP_STATUS)])].sort((a, b) => a - b);
  app.addHook('onRoute', (route) => {
    const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
    if (!response) return;
    for (const status of statuses) response[String(status)] ??= ApiErrorBody;
  });
}

/** Every error answers `{ error: { code, message, field? } }` (api/common.ts ApiErrorBody). */
function answerErrors(app: App): void {
  app.setErrorHandler((err: FastifyError | XchgError, req, reply) => {
    if (err instanceof XchgError) {
      return reply
        .status(HTTP_STATUS[err.code])
        .send({ error: { code: err.code, message: err.message, field: err.field } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const v = fe.validation[0];
      const where = fe.validationContext ?? 'body';
      const extra = v?.params && 'additionalProperty' in v.params ? `/${String(v.params['additionalProperty'])}` : '';
      const missing = v?.params && 'missingProperty' in v.params ? `/${String(v.params['missingProperty'])}` : '';
      const field = `${where}${v?.instancePath ?? ''}${extra}${missing}`.replaceAll('/', '.');
      const allowed = v?.params && 'allowedValues' in v.params ? v.params['allowedValues'] : undefined;
      const values = Array.isArray(allowed) ? ` (${allowed.map((x) => JSON.stringify(x)).join(', ')})` : '';
      const message = extra ? 'unknown field' : `${v?.message ?? 'invalid'}${values}`;
      return reply.status(400).send({ error: { code: 'INVALID_ARGUMENT', message: `${field}: ${message}`, field } });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      // Body parser errors (invalid JSON, empty JSON body, wrong media type, too large) are about the body as a whole.
      const field = fe.code?.startsWith('FST_ERR_CTP_') ? 'body' : undefined;
      const message = field ? `${field}: ${fe.message}` : fe.message;
      return reply.status(fe.statusCode).send({ error: { code: 'INVALID_ARGUMENT', message, field } });
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );
}

/** Health, readiness, metrics and the OpenAPI document: outside /api/v1's authentication, not in the document. */
function registerOperations(app: App, deps: HttpDeps): void {
  app.get('/livez', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const ok = deps.ready() && deps.ping();
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
