// A city admin sees only its city in the whole HTTP API: every GET route of the OpenAPI document (enumerated at run
// time, so routes added later are covered), its path parameters filled with the other city's ids and its own, called
// as the city admin of 360100 and as the province admin, over the real services and SQLite (fastify inject).
import { afterAll, describe, expect, it } from 'vitest';
import { Role, type Actor } from '../../central/src/domain/roles.js';
import { buildApp } from '../../central/src/http/app.js';
import { centralDeps, TEST_ADMIN_TOKEN } from '../helpers/central-deps.js';
import { strings } from '../helpers/dashboard-province.js';
import { province, queryUrls, urls } from '../helpers/scope-province.js';
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
