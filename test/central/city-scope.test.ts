// A city admin sees only its city in the whole HTTP API: every GET route of the OpenAPI document (enumerated at run
// time, so routes added later are covered), its path parameters filled with the other city's ids and its own, called
// as the city admin of 360100 and as the province admin, over the real services and SQLite (fastify inject).
import { afterAll, describe, expect, it } from 'vitest';
import { Role, SYSTEM_ACTOR, type Actor } from '../../central/src/domain/roles.js';
import { buildApp } from '../../central/src/http/app.js';
import { centralDeps, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { strings } from '../helpers/dashboard-province.js';
import { removeTmpDirs } from '../helpers/tmp.js';

afterAll(removeTmpDirs);
const ADMIN: Actor = { name: 'admin', role: Role.PROVINCE_ADMIN };

/**
 * Routes whose answer is province-wide by design, with the reason. A city admin's 200 from these may name the other
 * city; everything else may not.
 */
const PROVINCE_WIDE: Record<string, string> = {
  // The resource catalog is published to the whole province: any department may discover and apply for any resource.
  '/api/v1/resources': 'the published catalog (its providers included) is visible province-wide',
  '/api/v1/resources/{code}': 'one published resource and its provider, visible province-wide',
};

/** Two cities, each with two departments, an enrolled node each, a task, traffic, a token; a city admin of 360100. */
function province(d: CentralDeps) {
  const r = d.registry;
  r.createRegion({ code: '360000', name: '江西省', level: 'province' });
  r.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  r.createRegion({ code: '360200', name: '景德镇市', level: 'city', parentCode: '360000' });
  const depts = { ncGaj: 'nc-gaj', ncWjw: 'nc-wjw', jdzGaj: 'jdz-gaj', jdzWjw: 'jdz-wjw' } as const;
  for (const code of Object.values(depts))
    r.createDepartment({ code, name: `${code} 部门`, regionCode: code.startsWith('nc') ? '360100' : '360200' });
  const enroll = (dept: string): string => {
    const { token } = d.nodes.createToken({ departmentCode: dept, nodeName: `${dept}-01` });
    const node = d.nodes.enroll({ token, hostname: `${dept}.host`, agentVersion: '0.1.0', labels: {} }).node;
    d.nodes.heartbeat(
      node,
      { cpuPercent: 5, memRssBytes: 1, diskFreeBytes: 1e9, spoolDepth: 0, outboxDepth: 0 },
      '0.1.0',
    );
    return node.id;
  };
  const node = {
    ncGaj: enroll('nc-gaj'),
    ncWjw: enroll('nc-wjw'),
    jdzGaj: enroll('jdz-gaj'),
    jdzWjw: enroll('jdz-wjw'),
  };
  const spare = d.nodes.createToken({ departmentCode: 'jdz-gaj', nodeName: 'jdz-gaj-02' }).record.id;
  const task = (name: string, from: string, to: string) =>
    d.assignments.createTask({ name, kind: 'sync', nodeId: from, peerNodeId: to, binding: 'db' }).id;
  const ncTask = task('nc-pair', node.ncGaj, node.ncWjw);
  const jdzTask = task('jdz-pair', node.jdzGaj, node.jdzWjw);
  const at = d.clock();
  let seq = 0;
  for (const [from, to, res] of [
    [node.ncGaj, node.ncWjw, 'R-NC'],
    [node.jdzGaj, node.jdzWjw, 'R-JDZ'],
  ] as const) {
    seq += 1;
    const body = {
      sourceNodeId: from,
      destinationNodeId: to,
      resourceCode: res,
      bucketMs: 300_000,
      bucketStartMs: Math.floor((at - 600_000) / 300_000) * 300_000,
      batches: 1,
      records: 100,
      bytes: 1000,
      errors: 0,
      latencyP50Ms: 20,
      latencyP99Ms: 40,
    };
    d.reports.ingest(to, [{ reportId: `t-${seq}`, seq, observedAtMs: at, kind: 'traffic', body }]);
  }
  const alert = (dept: string, nodeId: string): string => {
    d.alerts.raise({ kind: 'node_offline', entityId: nodeId, departmentCode: dept, message: `${nodeId} offline`, at });
    return String(d.store.alerts.open('node_offline', nodeId)!.id);
  };
  const alerts = { nc: alert('nc-gaj', node.ncGaj), jdz: alert('jdz-gaj', node.jdzGaj) };
  // An application in each city: its consumer applies for its own city's published resource.
  for (const [code, provider] of [
    ['R-NC', 'nc-gaj'],
    ['R-JDZ2', 'jdz-gaj'],
  ] as const) {
    d.catalog.create(
      {
        code,
        name: `${code} 资源`,
        providerDepartmentCode: provider,
        fields: [{ name: 'id', type: 'integer', required: true }],
        shareType: 'conditional',
        conditions: '审核',
        providerNodeId: provider === 'nc-gaj' ? node.ncGaj : node.jdzGaj,
        binding: 'db',
      },
      ADMIN,
    );
    d.catalog.publish(code, ADMIN);
  }
  const ncApp = d.sharing.apply({ resourceCode: 'R-NC', consumerDepartmentCode: 'nc-wjw', purpose: '核查' }, ADMIN).id;
  const jdzApp = d.sharing.apply(
    { resourceCode: 'R-JDZ2', consumerDepartmentCode: 'jdz-wjw', purpose: '核查' },
    ADMIN,
  ).id;
  // Answered by another province admin (an application is not answered by its applicant): an agreement each.
  const CLERK: Actor = { name: 'clerk', role: Role.PROVINCE_ADMIN };
  const ncAg = d.sharing.approve(ncApp, {}, CLERK).agreement.id;
  const jdzAg = d.sharing.approve(jdzApp, {}, CLERK).agreement.id;
  const sub = (agreementId: string, consumerNodeId: string) =>
    d.sharing.subscribe({ agreementId, consumerNodeId, sinkBinding: 'db' }, CLERK).id;
  const ncSub = sub(ncAg, node.ncWjw);
  const jdzSub = sub(jdzAg, node.jdzWjw);
  const cityToken = d.users.create({ name: 'nc-admin', role: 'city_admin', regionCode: '360100' }, SYSTEM_ACTOR).token;
  return {
    cityToken,
    /** Ids of the other city (360200) to put into path parameters, and the strings that identify it. */
    outside: ['360200', depts.jdzGaj, depts.jdzWjw, node.jdzGaj, node.jdzWjw, jdzTask, spare, jdzApp, jdzAg, jdzSub],
    own: ['360100', depts.ncGaj, node.ncGaj, ncTask, ncApp, ncAg, ncSub],
    /** The other city's values for query parameters, by what they name. */
    foreign: {
      region: ['360200'],
      department: [depts.jdzGaj, depts.jdzWjw],
      node: [node.jdzGaj, node.jdzWjw, spare],
      resource: ['R-JDZ', 'R-JDZ2'],
      task: [jdzTask],
      agreement: [jdzAg],
      center: ['jdz'],
      text: ['jdz'],
    },
    /** Numeric ids: path parameters only (as strings they would match any number in a body). */
    alerts,
    node,
    spare,
  };
}

/** Every GET path of the OpenAPI document with its path parameters filled by each of `ids`. */
function urls(
  doc: { paths: Record<string, Record<string, unknown>> },
  ids: string[],
): { route: string; url: string }[] {
  const out: { route: string; url: string }[] = [];
  for (const [route, ops] of Object.entries(doc.paths)) {
    if (!ops['get']) continue;
    if (!route.includes('{')) out.push({ route, url: route });
    else for (const id of ids) out.push({ route, url: route.replace(/\{[^}]+\}/g, encodeURIComponent(id)) });
  }
  return out;
}

/**
 * What each query parameter that can name another city's data names, so it is filled with the other city's values
 * (other query parameters are left out). from/to are node pairs (traffic, surges); q searches nodes.
 */
const QUERY_NAMES: Record<string, keyof ReturnType<typeof province>['foreign']> = {
  region: 'region',
  department: 'department',
  provider: 'department',
  consumer: 'department',
  node: 'node',
  from: 'node',
  to: 'node',
  entity: 'node',
  resource: 'resource',
  task: 'task',
  agreement: 'agreement',
  center: 'center',
  q: 'text',
};

/**
 * Every GET path without path parameters that takes a query parameter naming a city's data, called with each of
 * the other city's values in it (each alone; from and to also as pairs: both the other city's, or one end each),
 * as `route?name=value[&...]`. A pair with one end in the city is the city's own flow (its node sends to or
 * receives from the other city): its other end may be named in the answer (`counterpart`), nothing else may.
 */
function queryUrls(
  doc: { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> },
  foreign: ReturnType<typeof province>['foreign'],
  ownNode: string,
): { route: string; url: string; counterpart?: string }[] {
  const out: { route: string; url: string; counterpart?: string }[] = [];
  for (const [route, ops] of Object.entries(doc.paths)) {
    const names = (ops['get']?.parameters ?? []).filter((q) => q.in === 'query').map((q) => q.name);
    if (route.includes('{')) continue;
    for (const name of names) {
      const what = QUERY_NAMES[name];
      if (what) for (const v of foreign[what]) out.push({ route, url: `${route}?${name}=${encodeURIComponent(v)}` });
    }
    if (names.includes('from') && names.includes('to')) {
      const [a, b] = foreign.node;
      out.push({ route, url: `${route}?from=${a}&to=${b}` });
      out.push({ route, url: `${route}?from=${ownNode}&to=${b}`, counterpart: b });
      out.push({ route, url: `${route}?from=${a}&to=${ownNode}`, counterpart: a });
    }
  }
  return out;
}

describe('city scope', () => {
  it('city scope - no GET route gives a city admin another city’s regions, departments, nodes, tasks or tokens', async () => {
    const d = centralDeps();
    const app = await buildApp(d.http);
    try {
      const p = province(d);
      d.catalog.create(
        {
          code: 'R-JDZ',
          name: 'R-JDZ 资源',
          providerDepartmentCode: 'jdz-gaj',
          fields: [{ name: 'id', type: 'integer', required: true }],
          shareType: 'unconditional',
        },
        ADMIN,
      );
      d.catalog.publish('R-JDZ', ADMIN);
      const get = async (url: string, token: string) => {
        const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
        return { status: res.statusCode, body: res.body };
      };
      const doc = JSON.parse((await get('/api/v1/openapi.json', TEST_ADMIN_TOKEN)).body);
      const holds = (body: string) => {
        let all: string[];
        try {
          all = strings(JSON.parse(body));
        } catch {
          all = [body];
        }
        return p.outside.filter((n) => all.some((s) => s.includes(n)));
      };
      const leaks: string[] = [];
      const adminSees = new Set<string>();
      let ownOk = 0;
      for (const { route, url } of urls(doc, [...p.outside, p.alerts.jdz, ...p.own, p.alerts.nc])) {
        const city = await get(url, p.cityToken);
        expect(city.status, `${url} as the city admin: ${city.body}`).toBeLessThan(500);
        if (city.status === 403 || city.status === 404)
          expect((JSON.parse(city.body) as { error: { message: string } }).error.message, url).toMatch(/\w{3,} \w{3,}/);
        const admin = await get(url, TEST_ADMIN_TOKEN);
        if (admin.status === 200 && holds(admin.body).length > 0) adminSees.add(route);
        if (city.status !== 200) continue;
        if ([...p.own, p.alerts.nc].some((id) => url.endsWith(`/${encodeURIComponent(id)}`))) ownOk += 1;
        const found = holds(city.body);
        if (found.length > 0 && !PROVINCE_WIDE[route]) leaks.push(`${url} -> ${found.join(', ')}`);
      }
      expect(leaks).toEqual([]);
      // The check can fail: the province admin's answers on these routes hold the other city's data.
      for (const route of ['/api/v1/nodes', '/api/v1/nodes/{id}', '/api/v1/tokens', '/api/v1/departments'])
        expect([...adminSees], route).toContain(route);
      expect(ownOk).toBeGreaterThan(0);
    } finally {
      await app.close();
      d.close();
    }
  }, 120_000);

  it('city scope - no query parameter (region, department, provider, node, from/to, resource, task, q …) gives a city admin another city’s data', async () => {
    const d = centralDeps();
    const app = await buildApp(d.http);
    try {
      const p = province(d);
      // The other city's exchange center and its link, and a policy of its task, for the filters that name them.
      await d.centers.update('province', { regionCode: '360000', name: '省交换中心' });
      await d.centers.create({
        code: 'jdz',
        name: '景德镇交换中心',
        regionCode: '360200',
        level: 'city',
        natsUrls: ['nats://127.0.0.1:2'],
        check: false,
      });
      await d.links.create({ a: 'jdz', b: 'province', capacityBps: 1_000_000, check: false });
      d.centers.moveNode(p.node.jdzGaj, 'jdz');
      d.policies.create({
        kind: 'static',
        taskIds: p.foreign.task,
        windows: [],
        outside: { batchRecords: 7 },
        reason: 'operator',
      });
      const get = async (url: string, token: string) => {
        const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
        return { status: res.statusCode, body: res.body };
      };
      const doc = JSON.parse((await get('/api/v1/openapi.json', TEST_ADMIN_TOKEN)).body);
      const needles = [...p.outside, 'jdz'];
      const holds = (body: string) => {
        let all: string[];
        try {
          all = strings(JSON.parse(body));
        } catch {
          all = [body];
        }
        return needles.filter((n) => all.some((s) => s.includes(n)));
      };
      const leaks: string[] = [];
      const adminSees = new Set<string>();
      const calls = queryUrls(doc, p.foreign, p.node.ncGaj);
      for (const { route, url, counterpart } of calls) {
        const city = await get(url, p.cityToken);
        expect(city.status, `${url} as the city admin: ${city.body}`).toBeLessThan(500);
        if (city.status === 403 || city.status === 404)
          expect((JSON.parse(city.body) as { error: { message: string } }).error.message, url).toMatch(/\w{3,} \w{3,}/);
        const admin = await get(url, TEST_ADMIN_TOKEN);
        if (admin.status === 200 && holds(admin.body).length > 0) adminSees.add(url);
        if (city.status !== 200) continue;
        const found = holds(city.body).filter((n) => n !== counterpart);
        if (found.length > 0 && !PROVINCE_WIDE[route]) leaks.push(`${url} -> ${found.join(', ')}`);
      }
      expect(leaks).toEqual([]);
      // The check can fail: with these filters the province admin's answers hold the other city's rows.
      const n = p.foreign.node;
      for (const url of [
        '/api/v1/nodes?region=360200',
        '/api/v1/alerts?department=jdz-gaj',
        `/api/v1/traffic?from=${n[0]}&to=${n[1]}`,
        `/api/v1/tasks?node=${n[0]}`,
        '/api/v1/dashboard/nodes?q=jdz',
        '/api/v1/centers?region=360200',
        '/api/v1/links?center=jdz',
        `/api/v1/policies?task=${p.foreign.task[0]}`,
      ])
        expect([...adminSees], url).toContain(url);
      expect(calls.length).toBeGreaterThan(40);
    } finally {
      await app.close();
      d.close();
    }
  }, 120_000);

  it('city scope - a city admin cannot write to another city’s nodes, tokens or alerts', async () => {
    const d = centralDeps();
    const app = await buildApp(d.http);
    try {
      const p = province(d);
      const call = async (method: 'POST' | 'DELETE', url: string, payload?: object) => {
        const res = await app.inject({
          method,
          url: `/api/v1${url}`,
          headers: { authorization: `Bearer ${p.cityToken}` },
          ...(payload && { payload }),
        });
        return { status: res.statusCode, body: res.body };
      };
      // Another city's alert is 404 (indistinguishable from a missing one) and stays unacknowledged.
      const ack = await call('POST', `/alerts/${p.alerts.jdz}/ack`, { note: 'mine?' });
      expect([ack.status, ack.body]).toEqual([404, expect.stringContaining('not found')]);
      expect(d.alerts.get(Number(p.alerts.jdz)).state).toBe('firing');
      expect((await call('POST', `/alerts/${p.alerts.nc}/ack`, { note: 'taken' })).status).toBe(200);
      // Node switches and enrollment tokens are for province-wide writers only.
      for (const [method, url, body] of [
        ['POST', `/nodes/${p.node.jdzGaj}/disable`, { reason: 'x' }],
        ['POST', '/tokens', { departmentCode: 'jdz-gaj', nodeName: 'x' }],
        ['DELETE', `/tokens/${p.spare}`, undefined],
      ] as const) {
        const res = await call(method, url, body);
        expect([url, res.status]).toEqual([url, 403]);
      }
      expect(d.nodes.get(p.node.jdzGaj).enabled).toBe(true);
      expect(d.nodes.listTokens(['jdz-gaj']).find((t) => t.id === p.spare)?.revokedAt).toBeNull();
    } finally {
      await app.close();
      d.close();
    }
  }, 120_000);
});
