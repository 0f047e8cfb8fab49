// Exchange centers (交换中心) and links over the real HTTP API (fastify listening on port 0) and AgentService
// (grpc-js on port 0), on a real SQLite file: CRUD, every refusal with its message, the URL check against a
// real nats-server, a closed port, a silent listener and a TCP proxy, audit entries and the chain, city-admin
// scoping, and a node's move reaching its parked long-poll with the new center's data plane.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Center, Link } from '../../central/src/api/centers.js';
import type { Node } from '../../central/src/api/nodes.js';
import { buildGrpcServer, listenGrpc } from '../../central/src/grpc/server.js';
import { buildApp, type App } from '../../central/src/http/app.js';
import { loadXchgV1, type AgentServiceClient, type PollAssignmentsResponse__Output } from '../../proto/index.js';
import { centralDeps, enrollNode, TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { freePort, NatsServer } from '../helpers/nats-server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { removeTmpDirs } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

interface Answer<T = unknown> {
  status: number;
  body: T;
}
interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

let nats: NatsServer;
/** A port nothing listens on (connection refused). */
let closedPort: number;
/** A listener that accepts and never speaks (the check times out). */
let silent: Server;
let silentPort: number;

beforeAll(async () => {
  nats = await NatsServer.start();
  closedPort = await freePort();
  silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  await nats?.stop();
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  removeTmpDirs();
});

/** How long central holds a long-poll when nothing changes (a change must answer it well before). */
const POLL_HOLD_MS = 20_000;

interface Harness {
  d: CentralDeps;
  app: App;
  base: string;
  client: AgentServiceClient;
  grpcServer: grpc.Server;
  call<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<Answer<T>>;
}
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) {
    h.client.close();
    h.d.assignments.wakeAll();
    h.grpcServer.forceShutdown();
    await h.app.close();
    h.d.close();
  }
});

async function start(): Promise<Harness> {
  const d = centralDeps({ clock: Date.now, urlCheckTimeoutMs: 500 });
  const app = await buildApp(d.http);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1`;
  const grpcServer = buildGrpcServer({ ...d.grpc, pollTimeoutMs: POLL_HOLD_MS });
  const port = await listenGrpc(grpcServer, '127.0.0.1', 0);
  const client = new (loadXchgV1().AgentService)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = async <T>(method: string, path: string, body?: unknown, token = TEST_ADMIN_TOKEN) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const h: Harness = { d, app, base, client, grpcServer, call };
  running.push(h);
  await ok(h.call('POST', '/regions', { code: '360000', name: '江西省', level: 'province' }));
  await ok(h.call('POST', '/regions', { code: '360100', name: '南昌市', level: 'city', parentCode: '360000' }));
  await ok(h.call('POST', '/regions', { code: '360700', name: '赣州市', level: 'city', parentCode: '360000' }));
  return h;
}

async function ok<T>(p: Promise<Answer<T>>): Promise<T> {
  const a = await p;
  expect(a.status, JSON.stringify(a.body)).toBeLessThan(300);
  return a.body;
}
async function refused(p: Promise<Answer>, status: number, code: string, message: RegExp): Promise<string> {
  const a = (await p) as Answer<ErrorBody>;
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.body.error.code).toBe(code);
  expect(a.body.error.message).toMatch(message);
  return a.body.error.message;
}

const center = (code: string, regionCode: string, natsUrls: string[], extra: Record<string, unknown> = {}) => ({
  code,
  name: `${code} 交换中心`,
  regionCode,
  level: 'city',
  natsUrls,
  ...extra,
});

function poll(h: Harness, nodeId: string, secret: string, knownVersion: number) {
  const md = new grpc.Metadata();
  md.set('x-xchg-node-id', nodeId);
  md.set('authorization', `Bearer ${secret}`);
  return new Promise<PollAssignmentsResponse__Output>((resolve, reject) =>
    h.client.PollAssignments({ knownVersion }, md, { deadline: Date.now() + 30_000 }, (err, res) =>
      err ? reject(err) : resolve(res!),
    ),
  );
}

describe('centers - registering exchange centers', () => {
  it('centers - create with a reachable URL, list, show, update, delete; every change audited and the chain intact', async () => {
    const h = await start();
    const made = await ok<Center>(h.call('POST', '/centers', center('nanchang', '360100', [nats.url])));
    expect(made).toMatchObject({ code: 'nanchang', regionCode: '360100', level: 'city', natsUrls: [nats.url] });
    expect(made.jsDomain).toBeNull();
    // The config's home center exists from the start (no region yet) beside the new one.
    const all = await ok<Center[]>(h.call('GET', '/centers'));
    expect(all.map((c) => [c.code, c.regionCode])).toEqual([
      ['nanchang', '360100'],
      ['province', null],
    ]);
    expect(await ok<Center>(h.call('GET', '/centers/nanchang'))).toEqual(made);
    const changed = await ok<Center>(
      h.call('PATCH', '/centers/nanchang', {
        name: '南昌市交换中心',
        jsDomain: 'nc',
        natsUrls: [nats.url, `nats://127.0.0.1:${closedPort}`],
      }),
    );
    expect(changed).toMatchObject({ name: '南昌市交换中心', jsDomain: 'nc' });
    expect(changed.natsUrls).toHaveLength(2); // one URL answering is enough
    expect((await h.call('DELETE', '/centers/nanchang')).status).toBe(204);
    expect((await h.call('GET', '/centers/nanchang')).status).toBe(404);

    const entries = h.d.audit.list({ action: 'center' });
    expect(entries.map((e) => [e.action, e.entityId, e.actor])).toEqual([
      ['center.create', 'province', 'system'],
      ['center.create', 'nanchang', 'admin'],
      ['center.update', 'nanchang', 'admin'],
      ['center.delete', 'nanchang', 'admin'],
    ]);
    expect(entries[2]!.details).toMatchObject({
      changed: ['name', 'jsDomain', 'natsUrls'],
      before: { name: 'nanchang 交换中心', jsDomain: null },
      after: { name: '南昌市交换中心', jsDomain: 'nc' },
      checked: true,
    });
    expect(h.d.audit.verify()).toMatchObject({ ok: true });
  });

  it('centers - bad code, unknown region, bad URLs, a taken code or JetStream domain are refused naming what is wrong', async () => {
    const h = await start();
    const post = (body: unknown) => h.call('POST', '/centers', body);
    await refused(
      post(center('Nanchang', '360100', [nats.url])),
      400,
      'INVALID_ARGUMENT',
      /^code: "Nanchang" is not a center code: lowercase letters, digits and -/,
    );
    await refused(post(center('n', '360100', [nats.url])), 400, 'INVALID_ARGUMENT', /^code: "n" is not a center code/);
    await refused(
      post(center('nanchang', '369999', [nats.url])),
      400,
      'INVALID_ARGUMENT',
      /^regionCode: region "369999" not found$/,
    );
    await refused(
      post(center('nanchang', '360100', [])),
      400,
      'INVALID_ARGUMENT',
      /^natsUrls: at least one nats:\/\/ or tls:\/\/ URL is required$/,
    );
    await refused(
      post(center('nanchang', '360100', ['http://127.0.0.1:4222'])),
      400,
      'INVALID_ARGUMENT',
      /^natsUrls\.0: "http:\/\/127\.0\.0\.1:4222" is not a NATS URL: scheme http \(expected nats or tls\)$/,
    );
    await refused(
      post(center('nanchang', '360100', [nats.url, 'nats://u:p@10.0.0.1:4222'])),
      400,
      'INVALID_ARGUMENT',
      /^natsUrls\.1: .*credentials do not belong in a center URL$/,
    );
    await refused(
      post(center('nanchang', '360100', [nats.url, nats.url])),
      400,
      'INVALID_ARGUMENT',
      /^natsUrls\.1: .* is listed twice$/,
    );
    await ok(post(center('nanchang', '360100', [nats.url], { jsDomain: 'nc' })));
    await refused(
      post(center('nanchang', '360100', [nats.url])),
      409,
      'ALREADY_EXISTS',
      /^center "nanchang" already exists$/,
    );
    await refused(
      post(center('ganzhou', '360700', [nats.url], { jsDomain: 'nc' })),
      409,
      'ALREADY_EXISTS',
      /^jsDomain: JetStream domain nc is already center nanchang's$/,
    );
    await refused(
      h.call('PATCH', '/centers/nanchang', { regionCode: '1' }),
      400,
      'INVALID_ARGUMENT',
      /^regionCode: region "1" not found$/,
    );
    await refused(h.call('PATCH', '/centers/nowhere', { name: 'x' }), 404, 'NOT_FOUND', /^center "nowhere" not found$/);
    // Nothing half-written: only the one center was made.
    expect(h.d.centers.list().map((c) => c.code)).toEqual(['nanchang', 'province']);
  });

  it('centers - a center none of whose URLs answers as NATS is refused naming each URL and why; check: false registers it', async () => {
    const h = await start();
    const closed = `nats://127.0.0.1:${closedPort}`;
    const mute = `nats://127.0.0.1:${silentPort}`;
    const message = await refused(
      h.call('POST', '/centers', center('ganzhou', '360700', [closed, mute])),
      409,
      'FAILED_PRECONDITION',
      /^natsUrls: no NATS server answered at /,
    );
    expect(message).toContain(`${closed} (connection refused)`);
    expect(message).toContain(`${mute} (no NATS INFO within 500 ms)`);
    expect(message).toContain('check: false');
    expect(h.d.centers.list().map((c) => c.code)).toEqual(['province']);
    expect(h.d.audit.list({ action: 'center.create' })).toHaveLength(1); // the bootstrap only
    // Pre-provisioning: registered unchecked, and the audit says so.
    await ok(h.call('POST', '/centers', center('ganzhou', '360700', [closed], { check: false })));
    expect(h.d.audit.list({ entityId: 'ganzhou' })[0]!.details).toMatchObject({ checked: false, natsUrls: [closed] });
    // Changing the URLs to unreachable ones is checked the same way.
    await ok(h.call('PATCH', '/centers/ganzhou', { natsUrls: [nats.url] }));
    await refused(
      h.call('PATCH', '/centers/ganzhou', { natsUrls: [closed] }),
      409,
      'FAILED_PRECONDITION',
      /connection refused/,
    );
    expect(h.d.centers.get('ganzhou').natsUrls).toEqual([nats.url]);
  });
});

describe('centers - links', () => {
  it('links - create, list, show, update, delete; self links, unknown centers, duplicates either way round and capacity 0 are refused', async () => {
    const h = await start();
    await ok(h.call('POST', '/centers', center('nanchang', '360100', [nats.url])));
    await ok(h.call('POST', '/centers', center('ganzhou', '360700', [nats.url])));
    const link = await ok<Link>(h.call('POST', '/links', { a: 'province', b: 'nanchang', capacityBps: 12_500_000 }));
    expect(link).toMatchObject({
      a: 'province',
      b: 'nanchang',
      capacityBps: 12_500_000,
      urlsAToB: null,
      urlsBToA: null,
    });
    expect(link.id).toMatch(/^lk-[0-9a-f]{12}$/);
    const post = (body: Record<string, unknown>) => h.call('POST', '/links', { capacityBps: 1000, ...body });
    await refused(
      post({ a: 'nanchang', b: 'nanchang' }),
      400,
      'INVALID_ARGUMENT',
      /^b: a link joins two centers; both ends are nanchang$/,
    );
    await refused(post({ a: 'nanchang', b: 'jiujiang' }), 400, 'INVALID_ARGUMENT', /^b: center "jiujiang" not found$/);
    await refused(
      post({ a: 'nanchang', b: 'province' }),
      409,
      'ALREADY_EXISTS',
      new RegExp(`^b: centers nanchang and province are already linked by link ${link.id}`),
    );
    await refused(
      post({ a: 'nanchang', b: 'ganzhou', capacityBps: 0 }),
      400,
      'INVALID_ARGUMENT',
      /^body\.capacityBps: must be >= 1$/,
    );
    await refused(
      post({ a: 'nanchang', b: 'ganzhou', urlsAToB: ['nats://x'], urlsBToA: [] }),
      400,
      'INVALID_ARGUMENT',
      /^urlsBToA: at least one/,
    );

    const changed = await ok<Link>(h.call('PATCH', `/links/${link.id}`, { capacityBps: 25_000_000 }));
    expect(changed.capacityBps).toBe(25_000_000);
    // Reads add the link's state from the probes (none yet: down).
    const withState = { ...changed, state: expect.objectContaining({ state: 'down' }) };
    expect(await ok<Link[]>(h.call('GET', '/links?center=nanchang'))).toEqual([withState]);
    expect(await ok<Link[]>(h.call('GET', '/links?center=ganzhou'))).toEqual([]);
    expect(await ok<Link>(h.call('GET', `/links/${link.id}`))).toEqual(withState);
    expect((await h.call('DELETE', `/links/${link.id}`)).status).toBe(204);
    expect((await h.call('GET', `/links/${link.id}`)).status).toBe(404);
    expect(h.d.audit.list({ entityId: link.id }).map((e) => e.action)).toEqual([
      'link.create',
      'link.update',
      'link.delete',
    ]);
    expect(h.d.audit.list({ entityId: link.id })[1]!.details).toMatchObject({
      changed: ['capacityBps'],
      before: { capacityBps: 12_500_000 },
      after: { capacityBps: 25_000_000 },
    });
    expect(h.d.audit.verify()).toMatchObject({ ok: true });
  });

  it('links - the URLs an end dials (a TCP proxy in front of a center) are checked: through the proxy yes, cut no', async () => {
    const h = await start();
    await ok(h.call('POST', '/centers', center('nanchang', '360100', [nats.url])));
    const proxy = await TcpProxy.start({ targetPort: nats.port });
    try {
      const via = `nats://127.0.0.1:${proxy.port}`;
      const link = await ok<Link>(
        h.call('POST', '/links', { a: 'nanchang', b: 'province', capacityBps: 1000, urlsAToB: [via] }),
      );
      expect(link.urlsAToB).toEqual([via]);
      proxy.cut();
      await refused(
        h.call('PATCH', `/links/${link.id}`, { urlsBToA: [via] }),
        409,
        'FAILED_PRECONDITION',
        new RegExp(`^urlsBToA: no NATS server answered at ${via} \\(`),
      );
      await ok(h.call('PATCH', `/links/${link.id}`, { urlsBToA: [via], check: false }));
      const back = await ok<Link>(h.call('PATCH', `/links/${link.id}`, { urlsAToB: null }));
      expect(back).toMatchObject({ urlsAToB: null, urlsBToA: [via] });
    } finally {
      await proxy.close();
    }
  });

  it("centers - a center is not deleted while a node calls it home or a link ends at it, nor central's default center, nor its region", async () => {
    const h = await start();
    await ok(h.call('POST', '/centers', center('nanchang', '360100', [nats.url])));
    const { node } = enrollNode(h.d, 'fe-01');
    await ok(h.call('PUT', `/nodes/${node.id}/center`, { center: 'nanchang' }));
    const link = await ok<Link>(h.call('POST', '/links', { a: 'province', b: 'nanchang', capacityBps: 1000 }));
    await refused(
      h.call('DELETE', '/centers/nanchang'),
      409,
      'FAILED_PRECONDITION',
      new RegExp(
        `^center nanchang is in use: it is the home center of 1 node\\(s\\) \\(move them first: xchg node move\\); links ${link.id} end at it \\(delete them first\\)$`,
      ),
    );
    await refused(
      h.call('DELETE', '/regions/360100'),
      409,
      'FAILED_PRECONDITION',
      /^region 360100 still has regions, departments or exchange centers under it$/,
    );
    await refused(
      h.call('DELETE', '/centers/province'),
      409,
      'FAILED_PRECONDITION',
      /^center province is central's default home center \(dataPlane\.homeCenter/,
    );
    await ok(h.call('PUT', `/nodes/${node.id}/center`, { center: 'province' }));
    await ok(h.call('DELETE', `/links/${link.id}`));
    expect((await h.call('DELETE', '/centers/nanchang')).status).toBe(204);
  });
});

describe('centers - who sees and changes them', () => {
  it('centers - a city admin sees the centers of its region and the links touching them, and changes nothing', async () => {
    const h = await start();
    await ok(h.call('POST', '/centers', center('nanchang', '360100', [nats.url])));
    await ok(h.call('POST', '/centers', center('ganzhou', '360700', [nats.url])));
    const ncLink = await ok<Link>(h.call('POST', '/links', { a: 'province', b: 'nanchang', capacityBps: 1000 }));
    const gzLink = await ok<Link>(h.call('POST', '/links', { a: 'province', b: 'ganzhou', capacityBps: 1000 }));
    const { token: city } = await ok<{ token: string }>(
      h.call('POST', '/users', { name: 'nc', role: 'city_admin', regionCode: '360100' }),
    );
    const { token: operator } = await ok<{ token: string }>(h.call('POST', '/users', { name: 'op', role: 'operator' }));
    expect((await ok<Center[]>(h.call('GET', '/centers', undefined, city))).map((c) => c.code)).toEqual(['nanchang']);
    expect((await ok<Link[]>(h.call('GET', '/links', undefined, city))).map((l) => l.id)).toEqual([ncLink.id]);
    await refused(
      h.call('GET', '/centers/ganzhou', undefined, city),
      403,
      'PERMISSION_DENIED',
      /^city_admin nc sees the exchange centers of region 360100 and below only, not center ganzhou$/,
    );
    await refused(h.call('GET', `/links/${gzLink.id}`, undefined, city), 403, 'PERMISSION_DENIED', /not link/);
    await refused(
      h.call('POST', '/centers', center('jiujiang', '360100', [nats.url]), city),
      403,
      'PERMISSION_DENIED',
      /^role city_admin may not do this \(needs province_admin or operator\)$/,
    );
    await refused(h.call('PATCH', '/centers/nanchang', { name: 'x' }, city), 403, 'PERMISSION_DENIED', /city_admin/);
    // An operator runs the exchange: it may.
    await ok(h.call('PATCH', '/centers/nanchang', { name: '南昌' }, operator));
    expect(h.d.audit.list({ entityId: 'nanchang' }).map((e) => [e.action, e.actor])).toEqual([
      ['center.create', 'admin'],
      ['center.update', 'op'],
    ]);
  });
});

describe('centers - the data plane a node is handed', () => {
  it('centers - moving a node bumps its version; its parked poll returns with the new center, and so does a URL change', async () => {
    const h = await start();
    await ok(h.call('POST', '/centers', center('nanchang', '360100', [nats.url])));
    const { node, secret } = enrollNode(h.d, 'fe-01');
    expect(node.homeCenter).toBe('province');
    const first = await poll(h, node.id, secret, 0);
    expect(first.dataPlane).toMatchObject({
      natsUrls: ['nats://127.0.0.1:4222'],
      homeCenter: 'province',
      subjectPrefix: 'xchg',
      stream: 'XCHG_DATA',
    });
    const parked = poll(h, node.id, secret, Number(first.version));
    await waitForParked(h);
    const movedAt = Date.now();
    const moved = await ok<Node>(h.call('PUT', `/nodes/${node.id}/center`, { center: 'nanchang' }));
    expect(moved).toMatchObject({ homeCenter: 'nanchang', assignmentVersion: Number(first.version) + 1 });
    const answer = await parked;
    // Woken by the move, not by the end of the 20 s hold.
    expect(Date.now() - movedAt).toBeLessThan(POLL_HOLD_MS / 2);
    expect(answer.changed).toBe(true);
    expect(Number(answer.version)).toBe(Number(first.version) + 1);
    expect(answer.dataPlane).toMatchObject({ natsUrls: [nats.url], homeCenter: 'nanchang' });
    expect(h.d.audit.list({ action: 'node.move' }).map((e) => e.details)).toEqual([
      { name: 'fe-01', from: 'province', to: 'nanchang' },
    ]);
    // Moving it where it already is changes nothing.
    await ok(h.call('PUT', `/nodes/${node.id}/center`, { center: 'nanchang' }));
    expect(h.d.nodes.get(node.id).assignmentVersion).toBe(Number(answer.version));
    await refused(
      h.call('PUT', `/nodes/${node.id}/center`, { center: 'jiujiang' }),
      400,
      'INVALID_ARGUMENT',
      /^center: center "jiujiang" not found$/,
    );
    await refused(
      h.call('PUT', '/nodes/nd-none/center', { center: 'nanchang' }),
      404,
      'NOT_FOUND',
      /^node "nd-none" not found$/,
    );

    // New URLs of its center reach the node the same way.
    const next = poll(h, node.id, secret, Number(answer.version));
    await waitForParked(h);
    const proxy = await TcpProxy.start({ targetPort: nats.port });
    try {
      const via = `nats://127.0.0.1:${proxy.port}`;
      const changedAt = Date.now();
      await ok(h.call('PATCH', '/centers/nanchang', { natsUrls: [via] }));
      const again = await next;
      expect(Date.now() - changedAt).toBeLessThan(POLL_HOLD_MS / 2);
      expect(Number(again.version)).toBe(Number(answer.version) + 1);
      expect(again.dataPlane).toMatchObject({ natsUrls: [via], homeCenter: 'nanchang' });
    } finally {
      await proxy.close();
    }
    expect(h.d.audit.verify()).toMatchObject({ ok: true });
  });

  it("centers - nodes enrolled before centers existed are given the config's center at start; a changed config does not move it", () => {
    const d = centralDeps();
    try {
      const { node } = enrollNode(d, 'old-01');
      d.store.db.prepare('UPDATE nodes SET home_center = NULL').run(); // as migration 6 leaves them
      expect(d.nodes.get(node.id).homeCenter).toBeNull();
      const b = d.centers.bootstrap();
      expect(b).toMatchObject({ created: false, adopted: 1, configUrlsDiffer: false });
      expect(d.nodes.get(node.id).homeCenter).toBe('province');
      expect(d.audit.list({ action: 'center.adopt' }).map((e) => e.details)).toEqual([
        { fromConfig: true, natsUrls: ['nats://127.0.0.1:4222'], level: 'province', nodesAdopted: 1 },
      ]);
      d.store.centers.update({ ...d.centers.get('province'), natsUrls: ['nats://10.0.0.9:4222'] });
      expect(d.centers.bootstrap()).toMatchObject({ created: false, adopted: 0, configUrlsDiffer: true });
      expect(d.centers.dataPlaneFor(d.nodes.get(node.id)).natsUrls).toEqual(['nats://10.0.0.9:4222']);
    } finally {
      d.close();
    }
  });
});

describe('centers - the schema keeps the invariants too', () => {
  it('store - a reversed duplicate, a self link and capacity 0 are refused by central.db itself', () => {
    const d = centralDeps();
    try {
      const base = { capacityBps: 1, urlsAToB: null, urlsBToA: null, createdAt: 1, updatedAt: 1 };
      d.store.centers.insert({ ...d.centers.get('province'), code: 'nanchang', jsDomain: null });
      d.store.centers.insertLink({ ...base, id: 'lk-1', a: 'province', b: 'nanchang' });
      expect(() => d.store.centers.insertLink({ ...base, id: 'lk-2', a: 'nanchang', b: 'province' })).toThrow(
        /UNIQUE constraint failed/,
      );
      expect(() => d.store.centers.insertLink({ ...base, id: 'lk-3', a: 'nanchang', b: 'nanchang' })).toThrow(
        /CHECK constraint failed/,
      );
      expect(() =>
        d.store.centers.insertLink({ ...base, id: 'lk-4', a: 'nanchang', b: 'jiujiang', capacityBps: 5 }),
      ).toThrow(/FOREIGN KEY constraint failed/);
      d.store.centers.deleteLink('lk-1');
      expect(() =>
        d.store.centers.insertLink({ ...base, id: 'lk-5', a: 'nanchang', b: 'province', capacityBps: 0 }),
      ).toThrow(/CHECK constraint failed/);
    } finally {
      d.close();
    }
  });
});

/** Until one long-poll is parked on central (so the change below happens during its wait). */
async function waitForParked(h: Harness): Promise<void> {
  await waitFor(() => h.d.assignments.parkedPolls === 1, 10_000, 20, 'a parked poll');
}
