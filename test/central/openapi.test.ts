// The HTTP API's declared contract (central/src/api/): every route in the OpenAPI document has request and
// response schemas, and the answers of key routes are exactly what the services return — fastify serializes
// with the response schema and drops properties it does not declare, so a schema missing a field would
// silently strip it — and they validate against the schemas the CLI reads them with.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Type, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { AuditEntry } from '../../central/src/api/audit.js';
import { Center } from '../../central/src/api/centers.js';
import { ResourceDetail } from '../../central/src/api/catalog.js';
import { DepartmentsAnswer } from '../../central/src/api/evaluation.js';
import { Node, NodeDetail, Report } from '../../central/src/api/nodes.js';
import { AgreementDetail, ApplicationView, SubscriptionView } from '../../central/src/api/sharing.js';
import { QuarantineView, TaskRun, TaskView } from '../../central/src/api/tasks.js';
import { LinkView, Relay, RouteDetail, RouteSummary } from '../../central/src/api/routing.js';
import type { Actor } from '../../central/src/domain/roles.js';
import { buildApp, type App } from '../../central/src/http/app.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const ADMIN: Actor = { name: 'admin', role: 'province_admin' };

interface Operation {
  parameters?: { in: string; name: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

const apps: { app: App; d: CentralDeps }[] = [];
afterEach(async () => {
  for (const { app, d } of apps.splice(0)) {
    await app.close();
    d.close();
  }
});
afterAll(removeTmpDirs);

async function start(): Promise<{ app: App; d: CentralDeps }> {
  const d = centralDeps();
  const app = await buildApp(d.http);
  apps.push({ app, d });
  return { app, d };
}

async function call<T>(
  app: App,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  token = TEST_ADMIN_TOKEN,
): Promise<T> {
  const res = await app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
  return JSON.parse(res.body) as T;
}

/** The routes of the document whose answer or request is not declared, as "METHOD /path: what is missing". */
function undeclared(doc: OpenApi): string[] {
  const problems: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const where = `${method.toUpperCase()} ${path}`;
      const responses = Object.entries(op.responses ?? {}).filter(([code]) => /^2\d\d$/.test(code));
      const declared = responses.some(
        ([code, r]) => code === '204' || r.content?.['application/json']?.schema !== undefined,
      );
      if (!declared) problems.push(`${where}: no 2xx response schema`);
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        const p = op.parameters?.find((x) => x.in === 'path' && `{${x.name}}` === name);
        if (!p?.schema) problems.push(`${where}: no schema for path parameter ${name}`);
      }
    }
  }
  return problems;
}

describe('openapi - the document declares every route', () => {
  it('openapi - every operation has a 2xx response schema (204 without a body) and schemas for its path parameters', async () => {
    const { app } = await start();
    const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    const doc = JSON.parse(res.body) as OpenApi;
    const operations = Object.values(doc.paths).flatMap((ops) => Object.keys(ops));
    expect(operations.length).toBeGreaterThanOrEqual(60);
    expect(undeclared(doc)).toEqual([]);
    // The two that had none before (issue 9): a node's detail and a task's runs.
    const json = (path: string) => doc.paths[path]?.['get']?.responses?.['200']?.content?.['application/json']?.schema;
    expect(json('/api/v1/nodes/{id}')).toMatchObject({
      properties: { events: { type: 'array' }, acks: { type: 'array' } },
    });
    expect(json('/api/v1/tasks/{id}/runs')).toMatchObject({ type: 'array', items: { properties: { runId: {} } } });
  });

  it('openapi - every operation declares its error answers as { error: { code, message, field? } }', async () => {
    const { app } = await start();
    const doc = JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).body) as OpenApi;
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const status of ['400', '401', '403', '404', '409', '500'])
          if (!op.responses?.[status]?.content?.['application/json']?.schema)
            missing.push(`${method.toUpperCase()} ${path} ${status}`);
    expect(missing).toEqual([]);
    const err = doc.paths['/api/v1/policies/{id}']?.['get']?.responses?.['404']?.content?.['application/json']?.schema;
    expect(err).toMatchObject({ properties: { error: { properties: { code: {}, message: {}, field: {} } } } });
    // And a real refusal has that shape (the 4xx schema serializes it unchanged).
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/policies/pol-nope',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/pol-nope/), field: 'policy' },
    });
  });

  it('openapi - a route without a response schema is reported (the check itself)', () => {
    const doc: OpenApi = {
      paths: {
        '/api/v1/x/{id}': { get: { responses: { '200': { content: {} } } } },
        '/api/v1/y': { delete: { responses: { '204': {} } } },
      },
    };
    expect(undeclared(doc)).toEqual([
      'GET /api/v1/x/{id}: no 2xx response schema',
      'GET /api/v1/x/{id}: no schema for path parameter {id}',
    ]);
  });
});

/** A province with two departments, their nodes (one with health), a published conditional resource, an
 * approved application, a subscription, a task run and a quarantined record. */
async function world(): Promise<{ app: App; d: CentralDeps; ids: Record<string, string> }> {
  const { app, d } = await start();
  await call(app, 'POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
  for (const code of ['gat', 'mzj'])
    await call(app, 'POST', '/departments', { code, name: code, regionCode: '360000' });
  const node = async (dept: string): Promise<string> => {
    const { token } = await call<{ token: string }>(app, 'POST', '/tokens', {
      departmentCode: dept,
      nodeName: `${dept}-01`,
    });
    return d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: { zone: 'a' } }).node.id;
  };
  const gat = await node('gat');
  const mzj = await node('mzj');
  // A field this version of central does not know passes through (health is open for newer agents).
  const health = {
    agentVersion: '0.1.0',
    uptimeS: 12,
    cpuPercent: 1.5,
    spoolDepth: 3,
    taskLags: [{ taskId: 't', lagMs: 4, pendingBatches: 1 }],
    futureField: 'kept',
  };
  d.nodes.heartbeat(d.nodes.get(gat), health, '0.1.0');
  await call(app, 'POST', '/resources', {
    code: 'R-POP',
    name: '人口基础信息',
    providerDepartmentCode: 'gat',
    fields: [
      { name: 'id', type: 'integer', required: true },
      { name: 'name', type: 'string', sensitive: true, mask: 'name', column: 'xm' },
    ],
    shareType: 'conditional',
    conditions: '仅用于核查',
    shareMethods: ['database_sync'],
    binding: 'population',
    providerNodeId: gat,
  });
  await call(app, 'POST', '/resources/R-POP/publish');
  const officer = await call<{ token: string }>(app, 'POST', '/users', {
    name: 'wang',
    role: 'officer',
    departmentCode: 'mzj',
  });
  const apply = { resourceCode: 'R-POP', purpose: '低保核查' };
  const application = await call<{ id: string }>(app, 'POST', '/applications', apply, officer.token);
  const { agreement } = await call<{ agreement: { id: string } }>(
    app,
    'POST',
    `/applications/${application.id}/approve`,
    {},
  );
  const sub = await call<{ id: string; syncTaskId: string }>(app, 'POST', '/subscriptions', {
    agreementId: agreement.id,
    consumerNodeId: mzj,
    sinkBinding: 'people',
  });
  const at = d.clock();
  const record = {
    id: 1,
    side: 'provider',
    origin: 'cursor:1',
    rowIndex: 0,
    reason: 'field name: bad "x"',
    field: 'name',
    recordJson: '{"id":1,"name":"x"}',
    createdAtMs: at,
  };
  d.reports.ingest(gat, [
    {
      reportId: 'r1',
      seq: 1,
      observedAtMs: at,
      kind: 'task_run',
      body: {
        runId: 'run-1',
        taskId: sub.syncTaskId,
        startedAtMs: at - 1000,
        finishedAtMs: at,
        status: 'ok',
        records: 5,
        bytes: 100,
        batches: 1,
        errors: 0,
        error: '',
      },
    },
    {
      reportId: 'r2',
      seq: 2,
      observedAtMs: at,
      kind: 'quarantine',
      body: { taskId: sub.syncTaskId, count: 1, byReason: { 'field name': 1 }, records: [record] },
    },
  ]);
  // An exchange center registered before it runs (no URL check) and its link to the province's.
  const center = { code: 'nanchang', name: '南昌市交换中心', regionCode: '360000', level: 'city', check: false };
  await call(app, 'POST', '/centers', { ...center, natsUrls: ['nats://127.0.0.1:1'], jsDomain: 'nc' });
  await call(app, 'POST', '/links', {
    a: 'province',
    b: 'nanchang',
    capacityBps: 1000,
    urlsAToB: ['nats://127.0.0.1:2'],
    check: false,
  });
  return {
    app,
    d,
    ids: { gat, application: application.id, agreement: agreement.id, sub: sub.id, task: sub.syncTaskId },
  };
}

/** JSON as the service's value would be written without a schema. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('openapi - answers are what the services return, and match their schemas', () => {
  it('openapi - key routes answer every field the services give (nothing stripped by the response schema)', async () => {
    const { app, d, ids } = await world();
    const { records } = d.http;
    // Routing: the gat node relays the province center, a pinned route, one evaluation (links, routes).
    d.relays.set('province', ids['gat']!, ADMIN);
    d.routing.pin('province', 'nanchang', ['province', 'nanchang'], ADMIN);
    d.routing.evaluate();
    const node = d.nodes.get(ids['gat']!);
    const period = d.evaluation.period();
    const cases: [string, TSchema, () => unknown][] = [
      ['/nodes', Type.Array(Node), () => d.nodes.list({})],
      [
        `/nodes/${ids['gat']}`,
        NodeDetail,
        () => ({ ...node, events: d.nodes.events(node.id), acks: d.assignments.acks(node.id) }),
      ],
      [`/tasks/${ids['task']}`, TaskView, () => d.assignments.view(d.assignments.getTask(ids['task']!))],
      [`/tasks/${ids['task']}/runs`, Type.Array(TaskRun), () => records.taskRuns(ids['task']!, ADMIN)],
      [
        `/tasks/${ids['task']}/quarantine`,
        Type.Array(QuarantineView),
        () => records.quarantine(ids['task']!, ADMIN, { includeResent: false, limit: 1000 }),
      ],
      ['/resources/R-POP', ResourceDetail, () => d.catalog.get('R-POP')],
      [
        `/applications/${ids['application']}`,
        ApplicationView,
        () => d.sharing.getApplication(ids['application']!, ADMIN),
      ],
      [`/agreements/${ids['agreement']}`, AgreementDetail, () => d.sharing.getAgreement(ids['agreement']!, ADMIN)],
      [`/subscriptions/${ids['sub']}`, SubscriptionView, () => d.sharing.getSubscription(ids['sub']!, ADMIN)],
      ['/reports', Type.Array(Report), () => records.listReports({ limit: 1000 }, ADMIN)],
      [
        '/reports/departments',
        DepartmentsAnswer,
        () => ({ period, departments: d.evaluation.departments(period, undefined) }),
      ],
      ['/centers', Type.Array(Center), () => d.centers.list()],
      ['/centers/nanchang', Center, () => d.centers.get('nanchang')],
      ['/links', Type.Array(LinkView), () => d.routing.links(d.links.list())],
      ['/routes', Type.Array(RouteSummary), () => d.routing.list()],
      ['/routes/province/nanchang', RouteDetail, () => d.routing.show('province', 'nanchang')],
      ['/relays', Type.Array(Relay), () => d.relays.list()],
      ['/audit', Type.Array(AuditEntry), () => d.audit.list({})],
    ];
    for (const [url, schema, expected] of cases) {
      // The service first: reading quarantined records writes audit entries, so /audit is read after them.
      const want = plain(expected());
      const body = await call<unknown>(app, 'GET', url);
      expect(body, url).toEqual(want);
      expect(
        [...Value.Errors(schema, body)].map((e) => `${e.instancePath} ${e.message}`),
        url,
      ).toEqual([]);
    }
    const detail = await call<{ health: Record<string, unknown>; labels: Record<string, string> }>(
      app,
      'GET',
      `/nodes/${ids['gat']}`,
    );
    expect(detail.health).toMatchObject({
      cpuPercent: 1.5,
      futureField: 'kept',
      taskLags: [{ taskId: 't', lagMs: 4, pendingBatches: 1 }],
    });
    expect(detail.labels).toEqual({ zone: 'a' });
  });
});
