// The governance HTTP API through fastify inject() on buildApp(deps) with the real services: user tokens
// and roles (officer scope, auditor read-only, city admin listings), catalog, applications, agreements,
// subscriptions, objections, audit and evaluation routes; bad input gets a clear 4xx naming the field
// and changes nothing.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../central/src/http/app.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}
interface Res<T> {
  status: number;
  body: T;
  text: string;
}

const apps: { app: App; d: CentralDeps }[] = [];
afterEach(async () => {
  for (const { app, d } of apps.splice(0)) {
    await app.close();
    d.close();
  }
});
afterAll(removeTmpDirs);

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
async function call<T = unknown>(
  app: App,
  method: Method,
  url: string,
  body?: unknown,
  token: string = TEST_ADMIN_TOKEN,
): Promise<Res<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({
    method,
    url: `/api/v1${url}`,
    headers,
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: (res.body ? JSON.parse(res.body) : undefined) as T, text: res.body };
}
async function ok<T = unknown>(app: App, method: Method, url: string, body?: unknown, token?: string): Promise<T> {
  const r = await call<T>(app, method, url, body, token);
  if (r.status >= 300) throw new Error(`${method} ${url} → ${r.status} ${r.text}`);
  return r.body;
}

interface World {
  app: App;
  d: CentralDeps;
  gatNode: string;
  mzjNode: string;
  /** User tokens: officers of 公安厅 (li) and 民政局 (wang), an operator, an auditor, 南昌市's city admin. */
  t: { li: string; wang: string; op: string; auditor: string; city: string };
}

async function world(): Promise<World> {
  const d = centralDeps();
  const app = await buildApp(d.http);
  apps.push({ app, d });
  await ok(app, 'POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
  await ok(app, 'POST', '/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  await ok(app, 'POST', '/departments', { code: 'gat', name: '公安厅', regionCode: '360000' });
  await ok(app, 'POST', '/departments', { code: 'mzj', name: '南昌市民政局', regionCode: '360100' });
  const node = async (dept: string): Promise<string> => {
    const { token } = await ok<{ token: string }>(app, 'POST', '/tokens', {
      departmentCode: dept,
      nodeName: `${dept}-01`,
    });
    return d.nodes.enroll({ token, hostname: dept, agentVersion: '0.1.0', labels: {} }).node.id;
  };
  const user = async (body: Record<string, string>): Promise<string> =>
    (await ok<{ token: string }>(app, 'POST', '/users', body)).token;
  return {
    app,
    d,
    gatNode: await node('gat'),
    mzjNode: await node('mzj'),
    t: {
      li: await user({ name: 'li', role: 'officer', departmentCode: 'gat' }),
      wang: await user({ name: 'wang', role: 'officer', departmentCode: 'mzj' }),
      op: await user({ name: 'op', role: 'operator' }),
      auditor: await user({ name: 'audit', role: 'auditor' }),
      city: await user({ name: 'nc', role: 'city_admin', regionCode: '360100' }),
    },
  };
}

const resourceBody = (w: World, over: Record<string, unknown> = {}) => ({
  code: 'R-POP',
  name: '人口基础信息',
  providerDepartmentCode: 'gat',
  fields: [
    { name: 'id', type: 'integer', required: true },
    { name: 'name', type: 'string', required: true, sensitive: true, mask: 'name' },
    { name: 'phone', type: 'string', sensitive: true },
  ],
  shareType: 'conditional',
  conditions: '仅用于救助审核',
  shareMethods: ['database_sync'],
  binding: 'population',
  providerNodeId: w.gatNode,
  ...over,
});

/** Expects a refusal with `status`, naming `field` when given, and no change in `listUrl`'s answer. */
async function refused(
  w: World,
  req: { method: Method; url: string; body?: unknown; token?: string },
  status: number,
  expect_: { field?: string; message: RegExp },
  listUrls: string[] = ['/resources', '/applications', '/agreements', '/subscriptions', '/tasks', '/audit?limit=10000'],
): Promise<void> {
  const before = await Promise.all(listUrls.map((u) => call(w.app, 'GET', u)));
  const r = await call<ErrorBody>(w.app, req.method, req.url, req.body, req.token);
  expect(r.status, r.text).toBe(status);
  if (expect_.field !== undefined) expect(r.body.error.field).toBe(expect_.field);
  expect(r.body.error.message).toMatch(expect_.message);
  const after = await Promise.all(listUrls.map((u) => call(w.app, 'GET', u)));
  expect(after.map((a) => a.body)).toEqual(before.map((b) => b.body));
}

describe('http users and roles', () => {
  it('users - a user token authenticates as that user until revoked; /users/me says who it is', async () => {
    const w = await world();
    expect(await ok(w.app, 'GET', '/users/me', undefined, w.t.li)).toEqual({
      name: 'li',
      role: 'officer',
      departmentCode: 'gat',
    });
    const users = await ok<{ id: string; name: string }[]>(w.app, 'GET', '/users');
    expect(users.map((u) => u.name)).toEqual(['li', 'wang', 'op', 'audit', 'nc']);
    expect(JSON.stringify(users)).not.toContain(w.t.li);
    const revoked = await ok<{ revokedAt: number }>(w.app, 'DELETE', '/users/li');
    expect(revoked.revokedAt).toBe(w.d.clock());
    const after = await call<ErrorBody>(w.app, 'GET', '/resources', undefined, w.t.li);
    expect([after.status, after.body.error.message]).toEqual([401, 'unknown or revoked token']);
  });

  it('users - only the province admin creates users; a role without its scope is refused naming the field', async () => {
    const w = await world();
    await refused(
      w,
      { method: 'POST', url: '/users', body: { name: 'x', role: 'operator' }, token: w.t.op },
      403,
      { message: /role operator may not do this/ },
      ['/users'],
    );
    await refused(
      w,
      { method: 'POST', url: '/users', body: { name: 'x', role: 'officer' } },
      400,
      { field: 'departmentCode', message: /an officer needs the department/ },
      ['/users'],
    );
    await refused(
      w,
      { method: 'POST', url: '/users', body: { name: 'x', role: 'king' } },
      400,
      { field: 'body.role', message: /must be equal to one of the allowed values/ },
      ['/users'],
    );
    await refused(
      w,
      { method: 'POST', url: '/users', body: { name: 'li', role: 'operator' } },
      409,
      { message: /user "li" already exists/ },
      ['/users'],
    );
  });

  it('roles - an auditor reads everything and changes nothing', async () => {
    const w = await world();
    for (const url of [
      '/resources',
      '/applications',
      '/agreements',
      '/subscriptions',
      '/objections',
      '/audit',
      '/audit/verify',
      '/reports/departments',
      '/users',
      '/nodes',
    ])
      expect((await call(w.app, 'GET', url, undefined, w.t.auditor)).status, url).toBe(200);
    await refused(w, { method: 'POST', url: '/resources', body: resourceBody(w), token: w.t.auditor }, 403, {
      message: /^auditor audit reads only; POST is not allowed$/,
    });
    await refused(w, { method: 'DELETE', url: '/users/li', token: w.t.auditor }, 403, { message: /reads only/ }, [
      '/users',
    ]);
  });

  it('roles - an officer acting for another department is refused and nothing changes', async () => {
    const w = await world();
    await refused(w, { method: 'POST', url: '/resources', body: resourceBody(w), token: w.t.wang }, 403, {
      message: /^officer wang acts for department mzj only, not for gat$/,
    });
    await ok(w.app, 'POST', '/resources', resourceBody(w), w.t.li);
    await refused(w, { method: 'POST', url: '/resources/R-POP/publish', token: w.t.wang }, 403, {
      message: /officer wang acts for department mzj only/,
    });
    await refused(w, { method: 'PATCH', url: '/resources/R-POP', body: { name: 'x' }, token: w.t.wang }, 403, {
      message: /officer wang/,
    });
    // An officer cannot reach the task API, which bypasses the catalog.
    await refused(
      w,
      {
        method: 'POST',
        url: '/tasks',
        body: { name: 't', kind: 'sync', nodeId: w.gatNode, binding: 'x' },
        token: w.t.li,
      },
      403,
      { message: /role officer may not do this/ },
    );
  });

  it('roles - a city admin lists only its region subtree: nodes, departments, tasks, reports', async () => {
    const w = await world();
    const nodes = await ok<{ id: string }[]>(w.app, 'GET', '/nodes', undefined, w.t.city);
    expect(nodes.map((n) => n.id)).toEqual([w.mzjNode]);
    const depts = await ok<{ code: string }[]>(w.app, 'GET', '/departments', undefined, w.t.city);
    expect(depts.map((x) => x.code)).toEqual(['mzj']);
    await ok(w.app, 'POST', '/tasks', { name: 't', kind: 'sync', nodeId: w.gatNode, binding: 'other' });
    expect(await ok(w.app, 'GET', '/tasks', undefined, w.t.city)).toEqual([]);
    const report = await ok<{ departments: { departmentCode: string }[] }>(
      w.app,
      'GET',
      '/reports/departments',
      undefined,
      w.t.city,
    );
    expect(report.departments.map((x) => x.departmentCode)).toEqual(['mzj']);
    const regions = await ok<{ regions: { regionCode: string }[] }>(
      w.app,
      'GET',
      '/reports/regions',
      undefined,
      w.t.city,
    );
    expect(regions.regions.map((x) => x.regionCode)).toEqual(['360100']);
    // It reads but does not act for departments.
    await refused(w, { method: 'POST', url: '/resources', body: resourceBody(w), token: w.t.city }, 403, {
      message: /role city_admin may not act for a department/,
    });
  });

  it('roles - a city admin pages through the reports of its subtree only: limit counts the reports it sees', async () => {
    const w = await world();
    // Reports of 公安厅's node (province level, not visible) and 南昌市民政局's node (visible), alternating in time.
    for (const seq of [1, 2, 3]) {
      for (const node of [w.gatNode, w.mzjNode]) {
        w.d.reports.ingest(node, [
          { reportId: `${node === w.gatNode ? 'gat' : 'mzj'}-${seq}`, seq, observedAtMs: seq, kind: 'event', body: {} },
        ]);
        w.d.manual!.advance(1000);
      }
    }
    const ids = async (query: string, token?: string): Promise<string[]> =>
      (await ok<{ reportId: string }[]>(w.app, 'GET', `/reports${query}`, undefined, token)).map((r) => r.reportId);
    expect(await ids('?limit=2')).toEqual(['mzj-3', 'gat-3']);
    expect(await ids('?limit=2', w.t.city)).toEqual(['mzj-3', 'mzj-2']);
    expect(await ids('?limit=2&before=mzj-2', w.t.city)).toEqual(['mzj-1']);
    expect(await ids(`?node=${w.gatNode}`, w.t.city)).toEqual([]);
  });
});

describe('http catalog', () => {
  it('catalog - create, publish, change into version 2 and read the history', async () => {
    const w = await world();
    const created = await call<{ status: string; version: number }>(
      w.app,
      'POST',
      '/resources',
      resourceBody(w),
      w.t.li,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: 'R-POP', status: 'draft', version: 1 });
    await ok(w.app, 'POST', '/resources/R-POP/publish', undefined, w.t.li);
    const v2 = await ok<{ version: number; fields: { name: string }[] }>(
      w.app,
      'PATCH',
      '/resources/R-POP',
      {
        fields: [
          { name: 'id', type: 'integer', required: true },
          { name: 'name', type: 'string', sensitive: true },
        ],
        note: '去掉电话',
      },
      w.t.li,
    );
    expect(v2.version).toBe(2);
    const detail = await ok<{
      versions: { version: number; changedKeys: string[]; note: string; content: { fields: unknown[] } }[];
    }>(w.app, 'GET', '/resources/R-POP', undefined, w.t.wang);
    expect(detail.versions.map((v) => [v.version, v.changedKeys, v.note, v.content.fields.length])).toEqual([
      [1, [], 'created', 3],
      [2, ['fields'], '去掉电话', 2],
    ]);
    expect((await ok<unknown[]>(w.app, 'GET', '/resources/R-POP/versions')).length).toBe(2);
    const list = await ok<{ code: string }[]>(w.app, 'GET', '/resources?status=published&provider=gat');
    expect(list.map((r) => r.code)).toEqual(['R-POP']);
  });

  it('catalog - bad input: duplicate code, missing legal basis, conditional without conditions, unknown field, unknown resource', async () => {
    const w = await world();
    await ok(w.app, 'POST', '/resources', resourceBody(w), w.t.li);
    await refused(w, { method: 'POST', url: '/resources', body: resourceBody(w), token: w.t.li }, 409, {
      message: /^resource "R-POP" already exists$/,
    });
    await refused(
      w,
      {
        method: 'POST',
        url: '/resources',
        body: resourceBody(w, { code: 'R-S', shareType: 'not_shared', shareMethods: [], conditions: '' }),
        token: w.t.li,
      },
      400,
      { field: 'legalBasis', message: /^legalBasis: a not-shared resource \(不予共享\) states the law or regulation/ },
    );
    await refused(
      w,
      { method: 'POST', url: '/resources', body: resourceBody(w, { code: 'R-C', conditions: '' }), token: w.t.li },
      400,
      { field: 'conditions', message: /states its conditions of use/ },
    );
    await refused(
      w,
      { method: 'POST', url: '/resources', body: resourceBody(w, { code: 'R-X', owner: 'x' }), token: w.t.li },
      400,
      { field: 'body.owner', message: /unknown field/ },
    );
    await refused(
      w,
      {
        method: 'POST',
        url: '/resources',
        body: resourceBody(w, { code: 'R-T', fields: [{ name: 'id', type: 'uuid' }] }),
        token: w.t.li,
      },
      400,
      { field: 'body.fields.0.type', message: /allowed values/ },
    );
    await refused(
      w,
      { method: 'POST', url: '/resources', body: resourceBody(w, { code: 'bad code!' }), token: w.t.li },
      400,
      { field: 'body.code', message: /pattern/ },
    );
    await refused(w, { method: 'PATCH', url: '/resources/R-POP', body: {}, token: w.t.li }, 400, {
      field: 'body',
      message: /fewer than 1/,
    });
    const missing = await call<ErrorBody>(w.app, 'GET', '/resources/R-NOPE');
    expect([missing.status, missing.body.error.message]).toEqual([404, 'resource "R-NOPE" not found']);
    // Another department's officer does not see a draft.
    expect((await call(w.app, 'GET', '/resources/R-POP', undefined, w.t.wang)).status).toBe(403);
  });
});

describe('http sharing', () => {
  async function published(w: World, over: Record<string, unknown> = {}): Promise<void> {
    await ok(w.app, 'POST', '/resources', resourceBody(w, over), w.t.li);
    await ok(w.app, 'POST', `/resources/${String(over['code'] ?? 'R-POP')}/publish`, undefined, w.t.li);
  }

  it('sharing - apply, approve, subscribe: the agreement and both tasks carry only the approved fields; revoke disables them', async () => {
    const w = await world();
    await published(w);
    const app = await call<{ id: string; deadlineAt: number; overdue: boolean }>(
      w.app,
      'POST',
      '/applications',
      { resourceCode: 'R-POP', purpose: '低保核查', fields: ['id', 'name'] },
      w.t.wang,
    );
    expect(app.status).toBe(201);
    expect(app.body.overdue).toBe(false);
    const { agreement } = await ok<{ agreement: { id: string; fields: string[] } }>(
      w.app,
      'POST',
      `/applications/${app.body.id}/approve`,
      { fields: ['id', 'name'] },
      w.t.li,
    );
    expect(agreement.fields).toEqual(['id', 'name']);
    const sub = await call<{ id: string; syncTaskId: string; exchangeTaskId: string }>(
      w.app,
      'POST',
      '/subscriptions',
      { agreementId: agreement.id, consumerNodeId: w.mzjNode, sinkBinding: 'people' },
      w.t.wang,
    );
    expect(sub.status).toBe(201);
    const tasks = await ok<
      { id: string; kind: string; params: Record<string, unknown>; subscriptionId: string; enabled: boolean }[]
    >(w.app, 'GET', '/tasks');
    expect(tasks.map((t) => [t.kind, t.subscriptionId, t.params['agreementId'], t.params['allowedFields']])).toEqual([
      ['exchange', sub.body.id, agreement.id, ['id', 'name']],
      ['sync', sub.body.id, agreement.id, ['id', 'name']],
    ]);
    expect(tasks[1]!.params['fields']).toEqual([
      { name: 'id', type: 'integer', required: true },
      { name: 'name', type: 'string', required: true, mask: 'name' },
    ]);
    await refused(w, { method: 'POST', url: `/agreements/${agreement.id}/revoke`, body: {}, token: w.t.li }, 400, {
      field: 'body.reason',
      message: /must have required property 'reason'/,
    });
    const revoked = await ok<{ state: string }>(
      w.app,
      'POST',
      `/agreements/${agreement.id}/revoke`,
      { reason: '超范围使用' },
      w.t.li,
    );
    expect(revoked.state).toBe('revoked');
    expect((await ok<{ enabled: boolean }[]>(w.app, 'GET', '/tasks')).map((t) => t.enabled)).toEqual([false, false]);
    const detail = await ok<{ subscriptions: { status: string }[] }>(
      w.app,
      'GET',
      `/agreements/${agreement.id}`,
      undefined,
      w.t.wang,
    );
    expect(detail.subscriptions.map((s) => s.status)).toEqual(['stopped']);
  });

  it('sharing - refusals: not-shared names its basis, unknown resource, own application, reject without a reason, other officer', async () => {
    const w = await world();
    await published(w);
    await published(w, {
      code: 'R-SECRET',
      shareType: 'not_shared',
      shareMethods: [],
      conditions: '',
      legalBasis: '《中华人民共和国统计法》第三十九条',
    });
    await refused(
      w,
      { method: 'POST', url: '/applications', body: { resourceCode: 'R-SECRET', purpose: '核查' }, token: w.t.wang },
      403,
      {
        field: 'resourceCode',
        message:
          /^resourceCode: resource R-SECRET is not shared \(不予共享\); legal basis: 《中华人民共和国统计法》第三十九条$/,
      },
    );
    await refused(
      w,
      { method: 'POST', url: '/applications', body: { resourceCode: 'R-NOPE', purpose: '核查' }, token: w.t.wang },
      404,
      { field: 'resourceCode', message: /resource "R-NOPE" not found/ },
    );
    await refused(
      w,
      { method: 'POST', url: '/applications', body: { resourceCode: 'R-POP', purpose: '' }, token: w.t.wang },
      400,
      { field: 'body.purpose', message: /fewer than 1 characters/ },
    );
    // The operator applies for 民政局 and may then not approve that application itself.
    const a = await ok<{ id: string }>(
      w.app,
      'POST',
      '/applications',
      { resourceCode: 'R-POP', purpose: '核查', consumerDepartmentCode: 'mzj' },
      w.t.op,
    );
    await refused(w, { method: 'POST', url: `/applications/${a.id}/approve`, body: {}, token: w.t.op }, 403, {
      field: 'application',
      message: /op submitted application .*; an application is answered by someone else/,
    });
    await refused(w, { method: 'POST', url: `/applications/${a.id}/approve`, body: {}, token: w.t.wang }, 403, {
      message: /officer wang acts for department mzj only, not for gat/,
    });
    await refused(w, { method: 'POST', url: `/applications/${a.id}/reject`, body: {}, token: w.t.li }, 400, {
      field: 'body.reason',
      message: /required property 'reason'/,
    });
    await refused(
      w,
      { method: 'POST', url: `/applications/${a.id}/reject`, body: { reason: '   ' }, token: w.t.li },
      400,
      { field: 'reason', message: /a rejection states its reason/ },
    );
    const rejected = await ok<{ status: string; reason: string }>(
      w.app,
      'POST',
      `/applications/${a.id}/reject`,
      { reason: '用途不符' },
      w.t.li,
    );
    expect(rejected).toMatchObject({ status: 'rejected', reason: '用途不符' });
    expect(await ok(w.app, 'GET', '/agreements')).toEqual([]);
    await refused(
      w,
      {
        method: 'POST',
        url: '/subscriptions',
        body: { resourceCode: 'R-POP', consumerNodeId: w.mzjNode, sinkBinding: 'people' },
        token: w.t.wang,
      },
      409,
      { field: 'agreementId', message: /conditional/ },
    );
    await refused(
      w,
      {
        method: 'POST',
        url: '/subscriptions',
        body: { resourceCode: 'R-SECRET', consumerNodeId: w.mzjNode, sinkBinding: 'people' },
        token: w.t.wang,
      },
      403,
      { message: /legal basis: 《中华人民共和国统计法》/ },
    );
  });

  it('sharing - a hand-made task for a conditional resource is refused by central', async () => {
    const w = await world();
    await published(w);
    await refused(
      w,
      {
        method: 'POST',
        url: '/tasks',
        body: {
          name: 't',
          kind: 'sync',
          nodeId: w.gatNode,
          peerNodeId: w.mzjNode,
          resourceCode: 'R-POP',
          subscriptionId: 's1',
          binding: 'population',
          params: { fields: [{ name: 'id' }] },
        },
      },
      403,
      {
        field: 'params.agreementId',
        message: /R-POP is conditional \(有条件共享\): its data moves only under an approved agreement/,
      },
    );
    await refused(
      w,
      {
        method: 'POST',
        url: '/tasks',
        body: {
          name: 't',
          kind: 'sync',
          nodeId: w.gatNode,
          peerNodeId: w.mzjNode,
          subscriptionId: 's1',
          binding: 'population',
        },
      },
      403,
      { field: 'resourceCode', message: /carries catalog resource R-POP/ },
    );
  });

  it('sharing - overdue applications are listed as such and alarmed by the sweep', async () => {
    const w = await world();
    await published(w);
    const a = await ok<{ id: string; deadlineAt: number }>(
      w.app,
      'POST',
      '/applications',
      { resourceCode: 'R-POP', purpose: '核查' },
      w.t.wang,
    );
    w.d.manual!.nowMs = a.deadlineAt;
    w.d.sharing.sweep();
    const overdue = await ok<{ id: string; overdue: boolean; status: string }[]>(
      w.app,
      'GET',
      '/applications?overdue=true',
      undefined,
      w.t.li,
    );
    expect(overdue.map((x) => [x.id, x.status, x.overdue])).toEqual([[a.id, 'pending', true]]);
    const alerts = await ok<{ kind: string; entityId: string }[]>(w.app, 'GET', '/alerts', undefined, w.t.li);
    expect(alerts.map((x) => [x.kind, x.entityId])).toEqual([['application_overdue', a.id]]);
    expect(await ok(w.app, 'GET', '/alerts', undefined, w.t.wang)).toEqual([]);
  });

  it('sharing - objections are raised by the consumer and answered by the provider; notices reach the consumer', async () => {
    const w = await world();
    await published(w, { shareType: 'unconditional', conditions: '' });
    await ok(
      w.app,
      'POST',
      '/subscriptions',
      { resourceCode: 'R-POP', consumerNodeId: w.mzjNode, sinkBinding: 'people' },
      w.t.wang,
    );
    const o = await call<{ id: string; status: string }>(
      w.app,
      'POST',
      '/objections',
      { resourceCode: 'R-POP', recordKey: 'id=7', note: '姓名错误' },
      w.t.wang,
    );
    expect(o.status).toBe(201);
    await refused(
      w,
      { method: 'POST', url: `/objections/${o.body.id}/answer`, body: { result: 'fixed', note: 'x' }, token: w.t.li },
      400,
      { field: 'body.result', message: /allowed values/ },
    );
    const answered = await ok<{ status: string; result: string }>(
      w.app,
      'POST',
      `/objections/${o.body.id}/answer`,
      { result: 'corrected', note: '已更正' },
      w.t.li,
    );
    expect(answered).toMatchObject({ status: 'answered', result: 'corrected' });
    expect((await ok<unknown[]>(w.app, 'GET', '/objections?status=answered&department=mzj')).length).toBe(1);
    await ok(w.app, 'PATCH', '/resources/R-POP', { updateCycle: 'hourly' }, w.t.li);
    const notices = await ok<{ departmentCode: string; kind: string; version: number }[]>(
      w.app,
      'GET',
      '/notifications',
      undefined,
      w.t.wang,
    );
    expect(notices.map((n) => [n.departmentCode, n.kind, n.version])).toEqual([['mzj', 'resource.changed', 2]]);
    expect(await ok(w.app, 'GET', '/notifications', undefined, w.t.li)).toEqual([]);
    expect((await call(w.app, 'GET', '/notifications?department=gat', undefined, w.t.wang)).status).toBe(403);
  });
});

describe('http audit and evaluation', () => {
  it('audit - entries are listed by department, resource and time; officers see only their own; verify reports the chain', async () => {
    const w = await world();
    await ok(w.app, 'POST', '/resources', resourceBody(w), w.t.li);
    const byResource = await ok<{ action: string; actor: string }[]>(w.app, 'GET', '/audit?resource=R-POP');
    expect(byResource.map((e) => [e.action, e.actor])).toEqual([['resource.create', 'li']]);
    const users = await ok<{ action: string }[]>(w.app, 'GET', '/audit?action=user');
    expect(users.map((e) => e.action)).toEqual(Array(5).fill('user.create'));
    expect(await ok(w.app, 'GET', `/audit?since=${w.d.clock() + 1}`)).toEqual([]);
    const mine = await ok<{ departmentCode: string; peerDepartmentCode: string }[]>(
      w.app,
      'GET',
      '/audit',
      undefined,
      w.t.wang,
    );
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.departmentCode === 'mzj' || e.peerDepartmentCode === 'mzj')).toBe(true);
    expect((await call(w.app, 'GET', '/audit?department=gat', undefined, w.t.wang)).status).toBe(403);
    const v = await ok<{ ok: boolean; entries: number; headHash: string }>(
      w.app,
      'GET',
      '/audit/verify',
      undefined,
      w.t.auditor,
    );
    expect(v.ok).toBe(true);
    expect(v.entries).toBe((await ok<unknown[]>(w.app, 'GET', '/audit?limit=10000')).length);
  });

  it('evaluation - department and region reports take since/until and answer the period they cover', async () => {
    const w = await world();
    const since = w.d.clock() - 1000;
    await ok(w.app, 'POST', '/resources', resourceBody(w), w.t.li);
    await ok(w.app, 'POST', '/resources/R-POP/publish', undefined, w.t.li);
    w.d.manual!.advance(5000);
    const r = await ok<{
      period: { since: number; until: number };
      departments: { departmentCode: string; resourcesPublished: number }[];
    }>(w.app, 'GET', `/reports/departments?since=${since}&until=${w.d.clock()}`);
    expect(r.period).toEqual({ since, until: w.d.clock() });
    expect(r.departments.map((x) => [x.departmentCode, x.resourcesPublished])).toEqual([
      ['gat', 1],
      ['mzj', 0],
    ]);
    const regions = await ok<{ regions: { regionCode: string; nodes: number; onlineRate: number | null }[] }>(
      w.app,
      'GET',
      `/reports/regions?since=${since}`,
    );
    expect(regions.regions.map((x) => [x.regionCode, x.nodes, x.onlineRate])).toEqual([
      ['360000', 2, 0],
      ['360100', 1, 0],
    ]);
    await refused(
      w,
      { method: 'GET', url: '/reports/regions?since=yesterday' },
      400,
      { field: 'querystring.since', message: /integer/ },
      [],
    );
  });

  it('openapi - every governance route is documented and every body refuses unknown fields', async () => {
    const w = await world();
    const doc = await ok<{
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { additionalProperties?: boolean } }> } }>
      >;
    }>(w.app, 'GET', '/openapi.json');
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/v1/users',
      '/api/v1/users/{id}',
      '/api/v1/resources',
      '/api/v1/resources/{code}',
      '/api/v1/resources/{code}/publish',
      '/api/v1/resources/{code}/retire',
      '/api/v1/resources/{code}/versions',
      '/api/v1/notifications',
      '/api/v1/applications',
      '/api/v1/applications/{id}/approve',
      '/api/v1/applications/{id}/reject',
      '/api/v1/agreements',
      '/api/v1/agreements/{id}/revoke',
      '/api/v1/subscriptions',
      '/api/v1/subscriptions/{id}',
      '/api/v1/objections',
      '/api/v1/objections/{id}/answer',
      '/api/v1/audit',
      '/api/v1/audit/verify',
      '/api/v1/reports/departments',
      '/api/v1/reports/regions',
      '/api/v1/alerts',
    ])
      expect(paths).toContain(p);
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const schema = op.requestBody?.content['application/json']?.schema;
        if (schema) expect(schema.additionalProperties, `${method} ${path}`).toBe(false);
      }
  });
});
