// End-to-end: an exchange center's health from its nats-server monitoring endpoint. A real nats-server with
// -m, a stream of 25 messages and a consumer that read none; a real central polls /varz and /jsz every 300 ms
// once `xchg center update --monitor-url` names the endpoint. The sample (API, `xchg center show`, /metrics)
// equals what the server itself says; a monitoring endpoint that does not answer, and the server stopped,
// raise center_unreachable, which ends when both answer again.
import { jetstreamManager, jetstream, AckPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { freePort, NatsServer } from '../helpers/nats-server.js';
import { parseSamples, promtoolCheck, scrape, sum } from '../helpers/prom-text.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const MESSAGES = 25;

interface Health {
  centerCode: string;
  monitorUrl: string | null;
  sampledAt: number | null;
  ok: boolean;
  error: string;
  serverVersion: string;
  jetStream: boolean;
  figures: Record<string, number> | null;
}
interface AlertJson {
  id: number;
  entityId: string;
  severity: string;
  state: string;
  message: string;
}

describe('center health - nats-server monitoring', () => {
  let nats: NatsServer;
  let central: CentralProcess;
  let api: Api;
  const env = (): NodeJS.ProcessEnv => ({ XCHG_SERVER: central.url, XCHG_TOKEN: central.adminToken });
  const health = (): Promise<Health> => api.ok<Health>('GET', '/centers/province/health');
  const alerts = (): Promise<AlertJson[]> =>
    cliJson<AlertJson[]>(central.url, central.adminToken, ['alert', 'list', '--kind', 'center_unreachable']);

  beforeAll(async () => {
    nats = await NatsServer.start({ monitor: true });
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'HEALTHCHECK', subjects: ['healthcheck.>'] });
    await jsm.consumers.add('HEALTHCHECK', { durable_name: 'idle', ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    for (let i = 0; i < MESSAGES; i++) await js.publish(`healthcheck.${i}`, new TextEncoder().encode(`m${i}`));
    await nc.close();
    const configFile = join(tmpDir('xchg-center-health-'), 'central.yaml');
    writeFileSync(configFile, 'alerts:\n  centerCheckIntervalMs: 300\n  centerCheckTimeoutMs: 1000\n');
    central = await CentralProcess.start({ natsUrls: [nats.url], env: { XCHG_CENTRAL_CONFIG: configFile } });
    api = new Api(central.url, central.adminToken);
  }, 60_000);

  afterAll(async () => {
    await central?.stop();
    await nats?.stop();
    removeTmpDirs();
  });

  it('center health - a bad monitoring URL is refused naming the field; none set: nothing sampled', async () => {
    const bad = await runCli(['center', 'update', 'province', '--monitor-url', 'nats://127.0.0.1:8222'], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/monitor-url|monitorUrl/);
    expect(bad.stderr).toMatch(/http:\/\/ or https:\/\//);
    expect(await health()).toMatchObject({ monitorUrl: null, sampledAt: null, ok: false, figures: null });
    expect((await api.call('GET', '/centers/nowhere/health')).status).toBe(404);
  });

  it('center health - a city admin reads the health of its region centers only', async () => {
    await api.ok('POST', '/regions', { code: '360000', name: '江西省', level: 'province' });
    for (const [code, name] of [
      ['360100', '南昌市'],
      ['360700', '赣州市'],
    ])
      await api.ok('POST', '/regions', { code, name, level: 'city', parentCode: '360000' });
    for (const [code, region] of [
      ['nanchang', '360100'],
      ['ganzhou', '360700'],
    ])
      await api.ok('POST', '/centers', { code, name: code, regionCode: region, level: 'city', natsUrls: [nats.url] });
    const { token } = await api.ok<{ token: string }>('POST', '/users', {
      name: 'nc',
      role: 'city_admin',
      regionCode: '360100',
    });
    const city = new Api(central.url, token);
    expect(await city.ok<Health>('GET', '/centers/nanchang/health')).toMatchObject({ centerCode: 'nanchang' });
    const other = await city.call<{ error: { code: string; message: string } }>('GET', '/centers/ganzhou/health');
    expect(other.status).toBe(403);
    expect(other.body.error.message).toMatch(/sees the exchange centers of region 360100 and below only/);
    for (const code of ['nanchang', 'ganzhou']) await api.ok('DELETE', `/centers/${code}`);
  });

  it('center health - the sample equals the server own /jsz; shown by the CLI and exported on /metrics', async () => {
    const set = await runCli(['center', 'update', 'province', '--monitor-url', nats.monitorUrl, '-o', 'json'], env());
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ code: 'province', monitorUrl: nats.monitorUrl });
    const h = await waitFor(
      async () => {
        const s = await health();
        return s.ok && s.figures && s.figures['jsMessages'] === MESSAGES && s;
      },
      15_000,
      100,
      'a sample with the stream',
    );
    const own = (await (await fetch(`${nats.monitorUrl}/jsz`)).json()) as Record<string, number>;
    expect(h).toMatchObject({ monitorUrl: nats.monitorUrl, jetStream: true, error: '' });
    expect(h.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(h.figures).toMatchObject({
      jsStreams: own['streams'],
      jsConsumers: own['consumers'],
      jsMessages: MESSAGES,
      jsPending: MESSAGES,
      jsStorageBytes: own['storage'],
    });
    expect(h.figures!['jsStorageBytes']).toBeGreaterThan(0);
    expect(h.figures!['connections']).toBeGreaterThanOrEqual(0);
    expect(h.figures!['memBytes']).toBeGreaterThan(0);

    const shown = await runCli(['center', 'show', 'province'], env());
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(nats.monitorUrl);
    expect(shown.stdout).toMatch(/Streams \/ consumers\s+1 \/ 1/);
    expect(shown.stdout).toMatch(new RegExp(`Messages / pending\\s+${MESSAGES} / ${MESSAGES}`));

    const text = await scrape(`${central.url}/metrics`);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
    const m = parseSamples(text);
    expect(sum(m, 'xchg_center_monitor_up', { center: 'province' })).toBe(1);
    expect(sum(m, 'xchg_center_jetstream_messages', { center: 'province' })).toBe(MESSAGES);
    expect(sum(m, 'xchg_center_jetstream_pending', { center: 'province' })).toBe(MESSAGES);
    expect(sum(m, 'xchg_center_jetstream_streams', { center: 'province' })).toBe(1);
    expect(await alerts()).toEqual([]);
  });

  it('center health - monitoring not answering, then the server stopped, raise center_unreachable; both back end it', async () => {
    // NATS answers, its monitoring endpoint does not (a port nothing listens on).
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    expect((await runCli(['center', 'update', 'province', '--monitor-url', nowhere], env())).code).toBe(0);
    const [down] = await waitFor(
      async () => {
        const l = (await alerts()).filter((a) => a.state === 'firing');
        return l.length > 0 && l;
      },
      15_000,
      100,
      'center_unreachable from monitoring',
    );
    expect(down).toMatchObject({ entityId: 'province', severity: 'critical' });
    expect(down!.message).toContain(`monitoring endpoint ${nowhere} does not answer`);
    expect(await health()).toMatchObject({ ok: false, error: 'connection refused', figures: null });
    const m = parseSamples(await scrape(`${central.url}/metrics`));
    expect(sum(m, 'xchg_center_monitor_up', { center: 'province' })).toBe(0);

    // Monitoring back: the same alert ends.
    expect((await runCli(['center', 'update', 'province', '--monitor-url', nats.monitorUrl], env())).code).toBe(0);
    await waitFor(async () => (await alerts()).every((a) => a.state === 'resolved'), 15_000, 100, 'resolved');

    // The server stopped: NATS and monitoring both silent, one new critical alert naming both.
    await nats.stop();
    const [stopped] = await waitFor(
      async () => {
        const l = (await alerts()).filter((a) => a.state === 'firing');
        return l.length > 0 && l;
      },
      15_000,
      100,
      'center_unreachable with the server stopped',
    );
    expect(stopped!.id).not.toBe(down!.id);
    expect(stopped!.message).toMatch(/no NATS server answers/);
    expect(stopped!.message).toMatch(/monitoring endpoint .* does not answer/);
    await nats.start();
    await waitFor(async () => (await alerts()).every((a) => a.state === 'resolved'), 15_000, 100, 'resolved again');
    await waitFor(async () => (await health()).ok, 15_000, 100, 'sampled again');
  });
});
