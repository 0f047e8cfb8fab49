// Dashboard sessions through buildApp + inject() on real services: signing in with an API token sets an
// HttpOnly SameSite=Strict cookie the API accepts with the token's role and scope; writes need the dashboard
// header; signing out, revoking the user and expiry each end the session; bearer tokens work as before.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../central/src/http/app.js';
import { SessionStore } from '../../central/src/http/sessions.js';
import {
  ManualClock,
  centralDeps,
  seedDepartment,
  TEST_ADMIN_TOKEN,
  type CentralDeps,
} from '../helpers/central-deps.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const made: { app: App; d: CentralDeps }[] = [];
afterEach(async () => {
  for (const { app, d } of made.splice(0)) {
    await app.close();
    d.close();
  }
});
afterAll(removeTmpDirs);

async function start(): Promise<{ app: App; d: CentralDeps; cityToken: string; cityUserId: string }> {
  const d = centralDeps();
  seedDepartment(d);
  d.registry.createRegion({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000' });
  const app = await buildApp(d.http);
  made.push({ app, d });
  const { token, user } = d.users.create(
    { name: 'nc-admin', role: 'city_admin', regionCode: '360100' },
    { name: 'admin', role: 'province_admin' },
  );
  return { app, d, cityToken: token, cityUserId: user.id };
}

async function signIn(app: App, token: string, header = true): Promise<{ status: number; cookie: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/dashboard/session',
    headers: { 'content-type': 'application/json', ...(header && { 'x-xchg-dashboard': '1' }) },
    payload: JSON.stringify({ token }),
  });
  const setCookie = String(res.headers['set-cookie'] ?? '');
  return { status: res.statusCode, cookie: setCookie.split(';')[0] ?? '' };
}

const me = (app: App, cookie: string) => app.inject({ method: 'GET', url: '/api/v1/users/me', headers: { cookie } });

describe('dashboard sessions', () => {
  it('a city admin signs in; the cookie carries its role and scope; sign-out ends it', async () => {
    const { app, cityToken } = await start();
    const res = await app.inject({
      method: 'POST',
      url: '/dashboard/session',
      headers: { 'content-type': 'application/json', 'x-xchg-dashboard': '1' },
      payload: JSON.stringify({ token: cityToken }),
    });
    expect(res.statusCode).toBe(201);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^xchg_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    const cookie = setCookie.split(';')[0]!;
    const who = await me(app, cookie);
    expect(who.statusCode).toBe(200);
    expect(who.json()).toEqual({ name: 'nc-admin', role: 'city_admin', regionCode: '360100' });

    // A write through the cookie without the dashboard header is refused; with it, the role decides.
    const body = JSON.stringify({ code: '360101', name: 'x', level: 'county', parentCode: '360100' });
    const bare = await app.inject({
      method: 'POST',
      url: '/api/v1/regions',
      headers: { cookie, 'content-type': 'application/json' },
      payload: body,
    });
    expect(bare.statusCode).toBe(403);
    expect(bare.json().error.message).toContain('x-xchg-dashboard');

    const out = await app.inject({ method: 'DELETE', url: '/dashboard/session', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    const after = await me(app, cookie);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.message).toContain('sign in again');
  });

  it('refuses a wrong token and a sign-in without the dashboard header; revoking the user ends its session', async () => {
    const { app, d, cityToken, cityUserId } = await start();
    expect((await signIn(app, 'xut_not-a-token')).status).toBe(401);
    expect((await signIn(app, cityToken, false)).status).toBe(403);
    const { status, cookie } = await signIn(app, cityToken);
    expect(status).toBe(201);
    expect((await me(app, cookie)).statusCode).toBe(200);
    d.users.revoke(cityUserId, { name: 'admin', role: 'province_admin' });
    expect((await me(app, cookie)).statusCode).toBe(401);
  });

  it('the admin token signs in as province admin; the bearer flow is unchanged', async () => {
    const { app } = await start();
    const { cookie } = await signIn(app, TEST_ADMIN_TOKEN);
    expect((await me(app, cookie)).json()).toEqual({ name: 'admin', role: 'province_admin' });
    const bearer = await app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(bearer.json()).toEqual({ name: 'admin', role: 'province_admin' });
    expect((await me(app, 'xchg_session=forged')).statusCode).toBe(401);
  });
});

describe('SessionStore', () => {
  it('a session expires at its TTL, not before', () => {
    const clock = new ManualClock();
    const s = new SessionStore(clock.now, 1000);
    const id = s.open('tok');
    clock.advance(999);
    expect(s.token(id)).toBe('tok');
    clock.advance(1);
    expect(s.token(id)).toBeUndefined();
  });
});
