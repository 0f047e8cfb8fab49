// Central's HTTP API through fastify inject() on buildApp(deps) with the real services on a temp SQLite
// file: authentication, CRUD of regions/departments/tokens/tasks, validation errors that name the field and
// change nothing, OpenAPI, health and metrics endpoints.
import { afterAll, afterEach, describe, it, expect } from 'vitest';
import { buildApp, type App } from '../../central/src/http/app.js';
import { centralDeps, enrollNode, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}
interface Res<T> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
  text: string;
}

const apps: { app: App; d: CentralDeps }[] = [];
async function start(): Promise<{ app: App; d: CentralDeps }> {
  const d = centralDeps();
  const app = await buildApp(d.http);
  apps.push({ app, d });
  return { app, d };
}
afterEach(async () => {
  for (const { app, d } of apps.splice(0)) {
    await app.close();
    d.close();
  }
});
afterAll(removeTmpDirs);

async function call<T = unknown>(
  app: App,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
  opts: { token?: string | null; raw?: string } = {},
): Promise<Res<T>> {
  const token = opts.token === undefined ? TEST_ADMIN_TOKEN : opts.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({ method, url, headers, ...(payload !== undefined && { payload }) });
  let parsed: unknown;
  try {
    parsed = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, body: parsed as T, headers: res.headers, text: res.body };
}

async function seedRegions(app: App): Promise<void> {
  expect(
    (await call(app, 'POST', '/api/v1/regions', { code: '360000', name: '江西省', level: 'province' })).status,
  ).toBe(201);
  expect(
    (await call(app, 'POST', '/api/v1/departments', { code: 'gat', name: '公安厅', regionCode: '360000' })).status,
  ).toBe(201);
}

/** Asserts the request was refused with 400 naming `field`, and that the listing at `listUrl` did not change. */
async function expectRejected(
  app: App,
  req: { method: 'POST' | 'PATCH'; url: string; body?: unknown; raw?: string },
  listUrl: string,
  field: string,
  message: RegExp,
): Promise<ErrorBody['error']> {
  const before = await call(app, 'GET', listUrl);
  const res = await call<ErrorBody>(app, req.method, req.url, req.body, req.raw === undefined ? {} : { raw: req.raw });
  expect(res.status, res.text).toBe(400);
  expect(res.body.error.code).toBe('INVALID_ARGUMENT');
  expect(res.body.error.field).toBe(field);
  expect(res.body.error.message).toMatch(message);
  const after = await call(app, 'GET', listUrl);
  expect(after.body).toEqual(before.body);
  return res.body.error;
}

describe('http auth', () => {
  it('auth - a request without a bearer token is 401 UNAUTHENTICATED', async () => {
    const { app } = await start();
    const res = await call<ErrorBody>(app, 'GET', '/api/v1/regions', undefined, { token: null });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
    expect(res.body.error.message).toMatch(/missing bearer token/);
  });

  it('auth - a wrong token is 401 and a write with it creates nothing', async () => {
    const { app, d } = await start();
    for (const token of ['wrong', TEST_ADMIN_TOKEN + 'x', TEST_ADMIN_TOKEN.slice(0, -1) + 'X']) {
      const res = await call<ErrorBody>(
        app,
        'POST',
        '/api/v1/regions',
        { code: '360000', name: '江西省', level: 'province' },
        { token },
      );
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/unknown or revoked token/);
    }
    expect(d.registry.listRegions()).toEqual([]);
  });

  it('auth - health, metrics, OpenAPI and the status page need no token', async () => {
    const { app } = await start();
    for (const url of ['/livez', '/readyz', '/metrics', '/api/v1/openapi.json', '/']) {
      expect((await call(app, 'GET', url, undefined, { token: null })).status, url).toBe(200);
    }
  });
});

describe('http regions and departments', () => {
  it('regions - create, get, list and delete a province/city tree', async () => {
    const { app } = await start();
    const p = await call<{ code: string; parentCode: null; createdAt: number }>(app, 'POST', '/api/v1/regions', {
      code: '360000',
      name: '江西省',
      level: 'province',
    });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ code: '360000', name: '江西省', level: 'province', parentCode: null });
    expect(typeof p.body.createdAt).toBe('number');
    const c = await call(app, 'POST', '/api/v1/regions', {
      code: '360100',
      name: '南昌市',
      level: 'city',
      parentCode: '360000',
    });
    expect(c.status).toBe(201);
    expect((await call(app, 'GET', '/api/v1/regions/360100')).body).toMatchObject({
      name: '南昌市',
      parentCode: '360000',
    });
    const list = await call<{ code: string }[]>(app, 'GET', '/api/v1/regions');
    expect(list.body.map((r) => r.code)).toEqual(['360000', '360100']);

    const del = await call(app, 'DELETE', '/api/v1/regions/360100');
    expect(del.status).toBe(204);
    expect((await call<{ code: string }[]>(app, 'GET', '/api/v1/regions')).body.map((r) => r.code)).toEqual(['360000']);
    const gone = await call<ErrorBody>(app, 'GET', '/api/v1/regions/360100');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('NOT_FOUND');
  });

  it('regions - a duplicate region is 409 and the list keeps the first', async () => {
    const { app } = await start();
    await call(app, 'POST', '/api/v1/regions', { code: '360000', name: '江西省', level: 'province' });
    const dup = await call<ErrorBody>(app, 'POST', '/api/v1/regions', {
      code: '360000',
      name: 'other',
      level: 'province',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'ALREADY_EXISTS', field: 'region' });
    expect(dup.body.error.message).toContain('360000');
    expect((await call<{ name: string }[]>(app, 'GET', '/api/v1/regions')).body.map((r) => r.name)).toEqual(['江西省']);
  });

  it('regions - a county under a province is 400 naming parentCode and creates nothing', async () => {
    const { app } = await start();
    await call(app, 'POST', '/api/v1/regions', { code: '360000', name: '江西省', level: 'province' });
    await expectRejected(
      app,
      {
        method: 'POST',
        url: '/api/v1/regions',
        body: { code: '360102', name: '东湖区', level: 'county', parentCode: '360000' },
      },
      '/api/v1/regions',
      'parentCode',
      /must be a city/,
    );
  });

  it('regions - deleting a region with departments under it is 409 and keeps it', async () => {
    const { app } = await start();
    await seedRegions(app);
    const res = await call<ErrorBody>(app, 'DELETE', '/api/v1/regions/360000');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('FAILED_PRECONDITION');
    expect((await call(app, 'GET', '/api/v1/regions/360000')).status).toBe(200);
  });

  it('departments - create, get, list filtered by region', async () => {
    const { app } = await start();
    await seedRegions(app);
    await call(app, 'POST', '/api/v1/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
    expect(
      (await call(app, 'POST', '/api/v1/departments', { code: 'nc-gaj', name: '南昌市公安局', regionCode: '360100' }))
        .status,
    ).toBe(201);
    expect((await call(app, 'GET', '/api/v1/departments/nc-gaj')).body).toMatchObject({
      code: 'nc-gaj',
      regionCode: '360100',
    });
    const all = await call<{ code: string }[]>(app, 'GET', '/api/v1/departments');
    expect(all.body.map((x) => x.code)).toEqual(['gat', 'nc-gaj']);
    const city = await call<{ code: string }[]>(app, 'GET', '/api/v1/departments?region=360100');
    expect(city.body.map((x) => x.code)).toEqual(['nc-gaj']);
    // A mistyped region is an error, not an empty list.
    const typo = await call<ErrorBody>(app, 'GET', '/api/v1/departments?region=360199');
    expect([typo.status, typo.body.error.message]).toEqual([404, 'region "360199" not found']);
    expect((await call(app, 'GET', '/api/v1/nodes?region=360199')).status).toBe(404);
  });

  it('departments - a duplicate department is 409 and an unknown region is 400 naming regionCode', async () => {
    const { app } = await start();
    await seedRegions(app);
    const dup = await call<ErrorBody>(app, 'POST', '/api/v1/departments', {
      code: 'gat',
      name: 'x',
      regionCode: '360000',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('ALREADY_EXISTS');
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/departments', body: { code: 'sft', name: '司法厅', regionCode: '999999' } },
      '/api/v1/departments',
      'regionCode',
      /999999/,
    );
  });
});

describe('http validation', () => {
  it('validation - an unknown field is 400 naming body.<field> with "unknown field"', async () => {
    const { app } = await start();
    const err = await expectRejected(
      app,
      {
        method: 'POST',
        url: '/api/v1/regions',
        body: { code: '360000', name: '江西省', level: 'province', colour: 'red' },
      },
      '/api/v1/regions',
      'body.colour',
      /unknown field/,
    );
    expect(err.message).toBe('body.colour: unknown field');
  });

  it('validation - a missing required field is 400 naming it', async () => {
    const { app } = await start();
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/regions', body: { code: '360000', level: 'province' } },
      '/api/v1/regions',
      'body.name',
      /name/,
    );
  });

  it('validation - a wrong type is 400 naming the field', async () => {
    const { app } = await start();
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/regions', body: { code: '360000', name: { zh: '江西省' }, level: 'province' } },
      '/api/v1/regions',
      'body.name',
      /string/,
    );
  });

  it('validation - a value outside its enum or pattern is 400 naming the field', async () => {
    const { app } = await start();
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/regions', body: { code: '360000', name: '江西省', level: 'planet' } },
      '/api/v1/regions',
      'body.level',
      /./,
    );
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/regions', body: { code: 'has space', name: 'x', level: 'province' } },
      '/api/v1/regions',
      'body.code',
      /pattern/,
    );
  });

  it('validation - invalid JSON is 400 naming the body', async () => {
    const { app } = await start();
    const err = await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/regions', raw: '{"code": "360000", "name": ' },
      '/api/v1/regions',
      'body',
      /JSON/,
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
  });

  it('validation - an empty body sent as JSON is no body: an optional body is fine, a required one is named', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d, 'fe-01');
    const dis = await call<{ enabled: boolean }>(app, 'POST', `/api/v1/nodes/${node.id}/disable`, undefined, {
      raw: '',
    });
    expect(dis.status, dis.text).toBe(200);
    expect(dis.body.enabled).toBe(false);
    const err = await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/regions', raw: '' },
      '/api/v1/regions',
      'body',
      /object/,
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
  });

  it('validation - an unknown query parameter is 400 naming it', async () => {
    const { app } = await start();
    const res = await call<ErrorBody>(app, 'GET', '/api/v1/nodes?colour=red');
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('querystring.colour');
  });

  it('validation - an unknown route is 404 naming the method and path', async () => {
    const { app } = await start();
    const res = await call<ErrorBody>(app, 'GET', '/api/v1/nope?x=1');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe('no route GET /api/v1/nope');
  });
});

describe('http tokens and nodes', () => {
  it('tokens - issue, list (without the secret) and revoke an enrollment token', async () => {
    const { app, d } = await start();
    await seedRegions(app);
    const res = await call<{
      token: string;
      record: { id: string; departmentCode: string; nodeName: string; expiresAt: number; createdAt: number };
    }>(app, 'POST', '/api/v1/tokens', { departmentCode: 'gat', nodeName: 'fe-01', ttlMs: 3_600_000 });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^xet_/);
    expect(res.body.record).toMatchObject({ departmentCode: 'gat', nodeName: 'fe-01', usedAt: null, revokedAt: null });
    expect(res.body.record.expiresAt - res.body.record.createdAt).toBe(3_600_000);

    const list = await call<Record<string, unknown>[]>(app, 'GET', '/api/v1/tokens');
    expect(list.body).toHaveLength(1);
    expect(list.text).not.toContain(res.body.token);
    expect(list.body[0]).not.toHaveProperty('token');
    expect(list.body[0]).not.toHaveProperty('tokenHash');

    expect((await call(app, 'DELETE', `/api/v1/tokens/${res.body.record.id}`)).status).toBe(204);
    const after = await call<{ revokedAt: number | null }[]>(app, 'GET', '/api/v1/tokens');
    expect(after.body[0]?.revokedAt).toBe(d.clock());
    expect((await call(app, 'DELETE', '/api/v1/tokens/tk-nope')).status).toBe(404);
  });

  it('tokens - an unknown department is 400 naming departmentCode and issues nothing', async () => {
    const { app } = await start();
    await seedRegions(app);
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/tokens', body: { departmentCode: 'nope', nodeName: 'fe-01' } },
      '/api/v1/tokens',
      'departmentCode',
      /department "nope" not found/,
    );
  });

  it('tokens - a ttl below the minimum is 400 naming body.ttlMs', async () => {
    const { app } = await start();
    await seedRegions(app);
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/tokens', body: { departmentCode: 'gat', nodeName: 'fe-01', ttlMs: 10 } },
      '/api/v1/tokens',
      'body.ttlMs',
      />= 1000/,
    );
  });

  it('tokens - a token for an already enrolled node name is 409', async () => {
    const { app, d } = await start();
    enrollNode(d, 'fe-01');
    const res = await call<ErrorBody>(app, 'POST', '/api/v1/tokens', { departmentCode: 'gat', nodeName: 'fe-01' });
    expect(res.status).toBe(409);
    expect(res.body.error.field).toBe('nodeName');
    expect((await call<unknown[]>(app, 'GET', '/api/v1/tokens')).body).toHaveLength(1);
  });

  it('nodes - list, filter, get with events, and disable/enable', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d, 'fe-01');
    enrollNode(d, 'fe-02');
    d.nodes.heartbeat(node, { spoolDepth: 0 }, '0.1.0');

    const list = await call<{ id: string; name: string; status: string; regionCode: string }[]>(
      app,
      'GET',
      '/api/v1/nodes',
    );
    expect(list.body.map((n) => [n.name, n.status, n.regionCode])).toEqual([
      ['fe-01', 'online', '360000'],
      ['fe-02', 'offline', '360000'],
    ]);
    const online = await call<{ name: string }[]>(app, 'GET', '/api/v1/nodes?status=online');
    expect(online.body.map((n) => n.name)).toEqual(['fe-01']);
    const other = await call<unknown[]>(app, 'GET', '/api/v1/nodes?department=other');
    expect(other.body).toEqual([]);

    const one = await call<{ id: string; events: { kind: string }[]; acks: unknown[] }>(
      app,
      'GET',
      `/api/v1/nodes/${node.id}`,
    );
    expect(one.body.events.map((e) => e.kind)).toEqual(['enrolled', 'online']);
    expect(one.body.acks).toEqual([]);

    const dis = await call<{ enabled: boolean }>(app, 'POST', `/api/v1/nodes/${node.id}/disable`, {
      reason: 'maintenance',
    });
    expect(dis.status).toBe(200);
    expect(dis.body.enabled).toBe(false);
    expect(d.nodes.events(node.id).at(-1)).toMatchObject({ kind: 'disabled', reason: 'maintenance' });
    const en = await call<{ enabled: boolean }>(app, 'POST', `/api/v1/nodes/${node.id}/enable`);
    expect(en.body.enabled).toBe(true);
    expect(d.nodes.events(node.id).at(-1)).toMatchObject({ kind: 'enabled', reason: 'enabled by admin' });

    expect((await call<ErrorBody>(app, 'GET', '/api/v1/nodes/nd-nope')).status).toBe(404);
  });

  it('reports - the reports listing returns what agents reported, filtered by node and kind, newest first', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d);
    d.reports.ingest(node.id, [
      { reportId: 'r1', seq: 1, observedAtMs: 1, kind: 'event', body: { code: 'a' } },
      { reportId: 'r2', seq: 2, observedAtMs: 2, kind: 'task_run', body: { runId: 'x', taskId: 't' } },
    ]);
    const all = await call<{ reportId: string }[]>(app, 'GET', `/api/v1/reports?node=${node.id}`);
    expect(all.body.map((r) => r.reportId)).toEqual(['r2', 'r1']);
    const runs = await call<{ reportId: string }[]>(app, 'GET', '/api/v1/reports?kind=task_run');
    expect(runs.body.map((r) => r.reportId)).toEqual(['r2']);
  });

  it('reports - newest first across nodes; limit takes the newest and before pages back to the oldest, none twice or left out', async () => {
    const { app, d } = await start();
    const a = enrollNode(d, 'fe-01').node.id;
    const b = enrollNode(d, 'fe-02').node.id;
    const ev = (reportId: string, seq: number) => ({
      reportId,
      seq,
      observedAtMs: seq,
      kind: 'event',
      body: { code: reportId },
    });
    // Received in this order; b2 and b3 in one call (the same instant), where the node's sequence decides.
    d.reports.ingest(a, [ev('a1', 1), ev('a2', 2)]);
    d.manual!.advance(1000);
    d.reports.ingest(b, [ev('b1', 1)]);
    d.manual!.advance(1000);
    d.reports.ingest(a, [{ ...ev('a3', 3), kind: 'metrics' }]);
    d.manual!.advance(1000);
    d.reports.ingest(b, [ev('b2', 2), ev('b3', 3)]);
    const ids = async (query: string): Promise<string[]> => {
      const res = await call<{ reportId: string }[]>(app, 'GET', `/api/v1/reports${query}`);
      expect(res.status, res.text).toBe(200);
      return res.body.map((r) => r.reportId);
    };
    const newestFirst = ['b3', 'b2', 'a3', 'b1', 'a2', 'a1'];
    expect(await ids('')).toEqual(newestFirst);
    expect(await ids('?limit=2')).toEqual(['b3', 'b2']);
    // Page back with the last id of each page until a page comes back empty.
    const pages: string[][] = [];
    for (let page = await ids('?limit=2'); page.length; page = await ids(`?limit=2&before=${page.at(-1)}`))
      pages.push(page);
    expect(pages).toEqual([
      ['b3', 'b2'],
      ['a3', 'b1'],
      ['a2', 'a1'],
    ]);
    // The cursor combines with the filters: one node, a kind, a sequence floor.
    expect(await ids(`?node=${a}&limit=2`)).toEqual(['a3', 'a2']);
    expect(await ids(`?node=${a}&limit=2&before=a2`)).toEqual(['a1']);
    expect(await ids('?kind=event&before=a3')).toEqual(['b1', 'a2', 'a1']);
    expect(await ids('?afterSeq=1&before=b2')).toEqual(['a3', 'a2']);
    const first = await call<
      {
        reportId: string;
        nodeId: string;
        seq: number;
        kind: string;
        observedAt: number;
        receivedAt: number;
        body: unknown;
      }[]
    >(app, 'GET', '/api/v1/reports?limit=1');
    expect(first.body).toEqual([
      { reportId: 'b3', nodeId: b, seq: 3, kind: 'event', observedAt: 3, receivedAt: d.clock(), body: { code: 'b3' } },
    ]);
  });

  it('reports - without limit a page holds the newest 1000 reports', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d);
    d.reports.ingest(
      node.id,
      Array.from({ length: 1001 }, (_, i) => ({
        reportId: `r${i + 1}`,
        seq: i + 1,
        observedAtMs: i,
        kind: 'metrics',
        body: {},
      })),
    );
    const page = await call<{ seq: number }[]>(app, 'GET', '/api/v1/reports');
    expect(page.body).toHaveLength(1000);
    expect([page.body[0]!.seq, page.body.at(-1)!.seq]).toEqual([1001, 2]);
  });

  it('reports - a bad limit, cursor or sequence is refused with 400 naming the parameter, and changes nothing', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d);
    d.reports.ingest(
      node.id,
      [1, 2, 3].map((seq) => ({ reportId: `r${seq}`, seq, observedAtMs: seq, kind: 'event', body: {} })),
    );
    const before = await call<{ reportId: string }[]>(app, 'GET', '/api/v1/reports');
    expect(before.body.map((r) => r.reportId)).toEqual(['r3', 'r2', 'r1']);
    for (const [query, field, message] of [
      ['limit=0', 'querystring.limit', /^querystring\.limit: must be >= 1$/],
      ['limit=10001', 'querystring.limit', /^querystring\.limit: must be <= 10000$/],
      ['limit=ten', 'querystring.limit', /^querystring\.limit: must be integer$/],
      ['limit=2.5', 'querystring.limit', /^querystring\.limit: must be integer$/],
      ['limit=', 'querystring.limit', /^querystring\.limit: must be integer$/],
      ['before=', 'querystring.before', /^querystring\.before: must NOT have fewer than 1 characters$/],
      ['before=r9', 'before', /^before: report "r9" not found$/],
      ['afterSeq=-1', 'querystring.afterSeq', /^querystring\.afterSeq: must be >= 0$/],
      ['order=asc', 'querystring.order', /^querystring\.order: unknown field$/],
    ] as const) {
      const res = await call<ErrorBody>(app, 'GET', `/api/v1/reports?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toMatchObject({ code: 'INVALID_ARGUMENT', field });
      expect(res.body.error.message, query).toMatch(message);
    }
    expect((await call(app, 'GET', '/api/v1/reports')).body).toEqual(before.body);
    expect(d.store.db.prepare('SELECT count(*) AS n FROM reports').get()).toEqual({ n: 3 });
  });
});

describe('http tasks', () => {
  it('tasks - create, get, list, patch and delete, with the node version bumped each time', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d);
    const created = await call<{ id: string; generation: number; params: unknown; kind: string }>(
      app,
      'POST',
      '/api/v1/tasks',
      {
        name: 'sync people',
        kind: 'sync',
        nodeId: node.id,
        binding: 'hr-db',
        params: { table: 'people' },
        intervalMs: 60_000,
      },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'sync people',
      kind: 'sync',
      nodeId: node.id,
      generation: 1,
      params: { table: 'people' },
      intervalMs: 60_000,
      enabled: true,
    });
    const id = created.body.id;
    expect(d.nodes.get(node.id).assignmentVersion).toBe(2);

    expect((await call(app, 'GET', `/api/v1/tasks/${id}`)).body).toEqual(created.body);
    expect((await call<unknown[]>(app, 'GET', `/api/v1/tasks?node=${node.id}`)).body).toEqual([created.body]);
    expect((await call<unknown[]>(app, 'GET', '/api/v1/tasks?node=nd-other')).body).toEqual([]);

    const patched = await call<{ generation: number; enabled: boolean; name: string }>(
      app,
      'PATCH',
      `/api/v1/tasks/${id}`,
      { enabled: false },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ generation: 2, enabled: false, name: 'sync people' });
    expect(d.nodes.get(node.id).assignmentVersion).toBe(3);

    expect((await call(app, 'DELETE', `/api/v1/tasks/${id}`)).status).toBe(204);
    expect((await call(app, 'GET', `/api/v1/tasks/${id}`)).status).toBe(404);
    expect((await call<unknown[]>(app, 'GET', '/api/v1/tasks')).body).toEqual([]);
    expect(d.nodes.get(node.id).assignmentVersion).toBe(4);
  });

  it('tasks - an unknown node is 400 naming nodeId and creates nothing', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d);
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/tasks', body: { name: 't', kind: 'sync', nodeId: 'nd-ghost', binding: 'hr-db' } },
      '/api/v1/tasks',
      'nodeId',
      /nd-ghost/,
    );
    expect(d.nodes.get(node.id).assignmentVersion).toBe(1);
  });

  it('tasks - a wrong type, a bad binding and an unknown field are each 400 naming the field', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d);
    const base = { name: 't', kind: 'sync', nodeId: node.id, binding: 'hr-db' };
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/tasks', body: { ...base, intervalMs: 'hourly' } },
      '/api/v1/tasks',
      'body.intervalMs',
      /integer/,
    );
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/tasks', body: { ...base, params: ['not', 'an', 'object'] } },
      '/api/v1/tasks',
      'body.params',
      /object/,
    );
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/tasks', body: { ...base, binding: 'a b' } },
      '/api/v1/tasks',
      'body.binding',
      /pattern/,
    );
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/tasks', body: { ...base, generation: 7 } },
      '/api/v1/tasks',
      'body.generation',
      /unknown field/,
    );
    await expectRejected(
      app,
      { method: 'POST', url: '/api/v1/tasks', body: { name: 't', kind: 'sync', nodeId: node.id } },
      '/api/v1/tasks',
      'body.binding',
      /binding/,
    );
    expect(d.nodes.get(node.id).assignmentVersion).toBe(1);
  });

  it('tasks - an empty or unknown-field patch is 400 and leaves the task unchanged', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d);
    const t = d.assignments.createTask({ name: 't', kind: 'sync', nodeId: node.id, binding: 'hr-db' });
    const empty = await call<ErrorBody>(app, 'PATCH', `/api/v1/tasks/${t.id}`, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.field).toBe('body');
    await expectRejected(
      app,
      { method: 'PATCH', url: `/api/v1/tasks/${t.id}`, body: { nodeId: 'nd-other' } },
      `/api/v1/tasks/${t.id}`,
      'body.nodeId',
      /unknown field/,
    );
    expect(d.assignments.getTask(t.id)).toEqual(t);
  });

  it('tasks - runs of a task list what its node reported; runs of an unknown task are 404', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d);
    const t = d.assignments.createTask({ name: 't', kind: 'sync', nodeId: node.id, binding: 'hr-db' });
    d.reports.ingest(node.id, [
      {
        reportId: 'r1',
        seq: 1,
        observedAtMs: 1,
        kind: 'task_run',
        body: { runId: 'run-1', taskId: t.id, startedAtMs: 10, finishedAtMs: 20, records: 5 },
      },
    ]);
    const runs = await call<{ runId: string; records: number }[]>(app, 'GET', `/api/v1/tasks/${t.id}/runs`);
    expect(runs.body.map((r) => [r.runId, r.records])).toEqual([['run-1', 5]]);
    expect((await call(app, 'GET', '/api/v1/tasks/tsk-nope/runs')).status).toBe(404);
  });
});

describe('http operations', () => {
  it('operations - GET /api/v1/openapi.json is an OpenAPI 3 document listing the API paths', async () => {
    const { app } = await start();
    const res = await call<{
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, unknown>;
    }>(app, 'GET', '/api/v1/openapi.json', undefined, { token: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.info.version).toBe('0.0.0-test');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/nodes',
        '/api/v1/regions',
        '/api/v1/departments',
        '/api/v1/tokens',
        '/api/v1/tasks',
        '/api/v1/tasks/{id}',
      ]),
    );
    expect(Object.keys(res.body.paths)).not.toContain('/livez');
    // The reports listing documents its paging parameters, with the default and the bounds of limit.
    const reports = res.body.paths['/api/v1/reports'] as {
      get: { parameters: { name: string; schema: Record<string, unknown> }[] };
    };
    const params = Object.fromEntries(reports.get.parameters.map((p) => [p.name, p.schema]));
    expect(Object.keys(params).sort()).toEqual(['afterSeq', 'before', 'kind', 'limit', 'node']);
    expect(params['limit']).toMatchObject({ type: 'integer', minimum: 1, maximum: 10_000, default: 1000 });
    expect(params['before']).toMatchObject({ type: 'string', minLength: 1 });
  });

  it('operations - /livez is 200 and /readyz follows readiness', async () => {
    const { app, d } = await start();
    expect((await call(app, 'GET', '/livez')).body).toEqual({ status: 'ok' });
    const ready = await call(app, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
    d.readyState.ready = false;
    const draining = await call(app, 'GET', '/readyz');
    expect(draining.status).toBe(503);
    expect(draining.body).toEqual({ status: 'not ready' });
  });

  it('operations - /metrics exposes xchg_ metrics with the node counts by status', async () => {
    const { app, d } = await start();
    const { node } = enrollNode(d, 'fe-01');
    enrollNode(d, 'fe-02');
    d.nodes.heartbeat(node, {}, '0.1.0');
    const res = await call(app, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/text\/plain/);
    expect(res.text).toContain('xchg_grpc_requests_total');
    expect(res.text).toContain('xchg_parked_polls 0');
    expect(res.text).toMatch(/^xchg_nodes\{status="online"\} 1$/m);
    expect(res.text).toMatch(/^xchg_nodes\{status="offline"\} 1$/m);
    expect(res.text).toMatch(/^xchg_node_transitions_total\{to="online"\} 1$/m);
    expect(res.text).toContain('xchg_central_process_cpu_user_seconds_total');
  });

  it('operations - the status page at / is HTML', async () => {
    const { app } = await start();
    const res = await call(app, 'GET', '/', undefined, { token: null });
    expect(String(res.headers['content-type'])).toMatch(/text\/html/);
    expect(res.text).toMatch(/<html/i);
  });
});
