// End-to-end: alerts (告警) from a real central process, a real agent, a real nats-server and a webhook
// receiver on port 0 — node offline on SIGKILL within TTL + one liveness check, listed by `xchg alert list -o
// json`, counted in the dashboard summary and on /metrics, posted with a valid HMAC signature; resolved when the
// agent returns; acknowledged through the CLI. A real sync task whose consumer never answers grows the agent's
// spool: spool_backlog fires as a warning, then escalates to critical (same alert, webhook 'escalated').
import Database from 'better-sqlite3';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { NatsServer } from '../helpers/nats-server.js';
import { parseSamples, scrape, sum } from '../helpers/prom-text.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

interface AlertJson {
  id: number;
  kind: string;
  entityId: string;
  severity: string;
  state: string;
  count: number;
  startedAt: number;
  endedAt: number | null;
  acknowledgement: { by: string; at: number; note: string } | null;
}
interface Received {
  body: string;
  signature: string;
  event: { event: string; alert: AlertJson; at: number };
}

interface Summary {
  alerts: { open: number; critical: number };
}

const SECRET = 'e2e-webhook-secret-0123456789';
/** Spool backlog thresholds of this central (batches of BATCH_RECORDS rows). */
const WARNING_BATCHES = 3;
const CRITICAL_BATCHES = 8;
const BATCH_RECORDS = 10;
const TTL_MS = 1_500;
const LIVENESS_MS = 100;

/** What a receiver does: HMAC-SHA256 of the raw body under the shared secret, compared in constant time. */
function validSignature(body: string, header: string): boolean {
  const want = Buffer.from('sha256=' + createHmac('sha256', SECRET).update(body).digest('hex'));
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

describe('alerts - node offline end to end', () => {
  let nats: NatsServer;
  let central: CentralProcess;
  let api: Api;
  let agent: AgentProcess;
  let receiver: Server;
  const received: Received[] = [];
  const sourcePath = join(tmpDir('xchg-alerts-source-'), 'events.db');

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const signature = String(req.headers['x-xchg-signature'] ?? '');
        received.push({ body, signature, event: JSON.parse(body) as Received['event'] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    nats = await NatsServer.start();
    // The rules every 200 ms, the centers every 300 ms and the webhook outbox every 50 ms (a config file: these have no variables).
    const configFile = join(tmpDir('xchg-alerts-config-'), 'central.yaml');
    writeFileSync(
      configFile,
      'alerts:\n  evaluateIntervalMs: 200\n  centerCheckIntervalMs: 300\n  centerCheckTimeoutMs: 500\n' +
        `  spoolBacklog:\n    warningBatches: ${WARNING_BATCHES}\n    criticalBatches: ${CRITICAL_BATCHES}\n` +
        '    warningBytes: 0\n    criticalBytes: 0\n  webhook:\n    pollIntervalMs: 50\n',
    );
    const db = new Database(sourcePath);
    db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, v TEXT NOT NULL, updated_at INTEGER NOT NULL)');
    db.close();
    central = await CentralProcess.start({
      heartbeatTtlMs: TTL_MS,
      livenessCheckIntervalMs: LIVENESS_MS,
      pollTimeoutMs: 2_000,
      natsUrls: [nats.url],
      env: {
        XCHG_CENTRAL_CONFIG: configFile,
        XCHG_CENTRAL_ALERT_WEBHOOK_URLS: hook,
        XCHG_CENTRAL_ALERT_WEBHOOK_SECRET: SECRET,
      },
    });
    api = new Api(central.url, central.adminToken);
    await api.seedDepartment('nc-gaj');
    agent = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('nc-gaj', 'fe-01'),
      config: {
        dataPlane: { batchRecords: BATCH_RECORDS, pollIntervalMs: 100 },
        sources: { events: { type: 'sqlite', path: sourcePath, table: 'events', key: 'id', cursor: 'updated_at' } },
      },
    });
  });

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await central?.stop();
    await nats?.stop();
    await new Promise((r) => receiver?.close(r));
    removeTmpDirs();
  });

  const alerts = (...args: string[]): Promise<AlertJson[]> =>
    cliJson<AlertJson[]>(central.url, central.adminToken, ['alert', 'list', ...args]);

  it('alerts - SIGKILL raises node_offline within TTL + one check, in the CLI and the webhook; the agent back resolves it', async () => {
    const nodeId = await agent.nodeId;
    await waitFor(async () => (await api.ok<{ status: string }>('GET', `/nodes/${nodeId}`)).status === 'online');
    expect(await alerts('--kind', 'node_offline')).toEqual([]);

    await agent.stop('SIGKILL');
    const killedAt = Date.now();
    const [offline] = await waitFor(
      async () => {
        const l = await alerts('--kind', 'node_offline', '--state', 'open');
        return l.length > 0 && l;
      },
      10_000,
      50,
      'node_offline alert',
    );
    const seenAfterMs = Date.now() - killedAt;
    expect(offline).toMatchObject({ kind: 'node_offline', entityId: nodeId, severity: 'critical', state: 'firing' });
    // Started once the TTL ran out after the node's last heartbeat, and within TTL + one liveness check of it
    // (500 ms of slack for timers on a loaded machine); the kill came after that heartbeat.
    const node = await api.ok<{ lastHeartbeatAt: number }>('GET', `/nodes/${nodeId}`);
    expect(offline!.startedAt - node.lastHeartbeatAt).toBeGreaterThan(TTL_MS);
    expect(offline!.startedAt - node.lastHeartbeatAt).toBeLessThanOrEqual(TTL_MS + LIVENESS_MS + 500);
    expect(offline!.startedAt - killedAt).toBeLessThanOrEqual(TTL_MS + LIVENESS_MS + 500);
    expect(seenAfterMs).toBeLessThan(TTL_MS + 5_000);

    const opened = await waitFor(() =>
      received.find((r) => r.event.event === 'opened' && r.event.alert.id === offline!.id),
    );
    expect(validSignature(opened.body, opened.signature)).toBe(true);
    expect(validSignature(opened.body + ' ', opened.signature)).toBe(false);
    expect(opened.event.alert).toMatchObject({ kind: 'node_offline', entityId: nodeId, state: 'firing' });
    expect(opened.event.at).toBeGreaterThanOrEqual(offline!.startedAt);
    // The dashboard's summary card and Prometheus count it.
    const summary = await api.ok<Summary>('GET', '/dashboard/summary');
    expect(summary.alerts).toEqual({ open: 1, critical: 1 });
    const m = parseSamples(await scrape(`${central.url}/metrics`));
    expect(sum(m, 'xchg_alerts_open', { severity: 'critical' })).toBe(1);
    expect(sum(m, 'xchg_alerts_open_by_kind', { kind: 'node_offline', state: 'firing' })).toBe(1);

    // Still offline across many evaluations: one alert, counted, not duplicated.
    await waitFor(async () => (await alerts('--kind', 'node_offline'))[0]!.count >= 2, 10_000, 200, 'seen again');
    const still = await alerts('--kind', 'node_offline');
    expect(still).toHaveLength(1);
    expect(received.filter((r) => r.event.alert.id === offline!.id && r.event.event === 'opened')).toHaveLength(1);

    // Acknowledged through the CLI: who and the note kept, still open.
    const ack = await runCli(['alert', 'ack', String(offline!.id), '--note', '机房断电, 已派人', '-o', 'json'], {
      XCHG_SERVER: central.url,
      XCHG_TOKEN: central.adminToken,
    });
    expect(ack.code).toBe(0);
    const acked = JSON.parse(ack.stdout) as AlertJson;
    expect(acked.state).toBe('acknowledged');
    expect(acked.acknowledgement).toMatchObject({ by: 'admin', note: '机房断电, 已派人' });
    const again = await runCli(['alert', 'ack', String(offline!.id)], {
      XCHG_SERVER: central.url,
      XCHG_TOKEN: central.adminToken,
    });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already acknowledged/);

    await agent.restart();
    const ended = await waitFor(
      async () => {
        const [a] = await cliJson<AlertJson[]>(central.url, central.adminToken, [
          'alert',
          'list',
          '--kind',
          'node_offline',
        ]);
        return a?.state === 'resolved' && a;
      },
      15_000,
      100,
      'node_offline resolved',
    );
    expect(ended.id).toBe(offline!.id);
    expect(ended.endedAt).toBeGreaterThan(offline!.startedAt);
    const shown = await cliJson<AlertJson>(central.url, central.adminToken, ['alert', 'show', String(offline!.id)]);
    expect(shown).toMatchObject({ state: 'resolved', acknowledgement: { note: '机房断电, 已派人' } });
    const events = await waitFor(() => {
      const e = received.filter((r) => r.event.alert.id === offline!.id).map((r) => r.event.event);
      return e.includes('resolved') && e;
    });
    expect(events).toEqual(['opened', 'acknowledged', 'resolved']);
    for (const r of received) expect(validSignature(r.body, r.signature)).toBe(true);
    expect((await api.ok<Summary>('GET', '/dashboard/summary')).alerts).toEqual({ open: 0, critical: 0 });
    // The nats-server answers its INFO line: the home center is not alerted.
    expect(await alerts('--kind', 'center_unreachable')).toEqual([]);
  });

  it('alerts - the home center nats-server stopped raises center_unreachable; started again it ends', async () => {
    await nats.stop();
    const [down] = await waitFor(
      async () => {
        const l = await alerts('--kind', 'center_unreachable', '--state', 'open');
        return l.length > 0 && l;
      },
      10_000,
      100,
      'center_unreachable',
    );
    expect(down).toMatchObject({ entityId: 'province', severity: 'critical', state: 'firing' });
    await nats.start();
    const up = await waitFor(
      async () => {
        const [a] = await alerts('--kind', 'center_unreachable');
        return a?.state === 'resolved' && a;
      },
      10_000,
      100,
      'center_unreachable resolved',
    );
    expect(up.id).toBe(down!.id);
    const events = await waitFor(() => {
      const e = received.filter((r) => r.event.alert.id === down!.id).map((r) => r.event.event);
      return e.length === 2 && e;
    });
    expect(events).toEqual(['opened', 'resolved']);
  });

  it('alerts - a growing spool raises spool_backlog as a warning, then critical: one alert, webhook opened then escalated', async () => {
    const nodeId = await agent.nodeId;
    // A sync task whose consumer (the node itself, without an exchange task) never answers "ready": what it
    // reads stays in the spool outbox, BATCH_RECORDS rows a batch.
    await api.ok('POST', '/tasks', {
      name: 'backlog-out',
      kind: 'sync',
      nodeId,
      peerNodeId: nodeId,
      subscriptionId: 'sub-backlog',
      binding: 'events',
      params: {
        fields: [
          { name: 'id', type: 'integer', required: true },
          { name: 'v', type: 'string' },
        ],
      },
    });
    const insert = (from: number, n: number): void => {
      const db = new Database(sourcePath);
      const put = db.prepare('INSERT INTO events (id, v, updated_at) VALUES (?, ?, ?)');
      db.transaction(() => {
        for (let i = from; i < from + n; i++) put.run(i, `event ${i}`, i);
      })();
      db.close();
    };
    const backlog = async (): Promise<AlertJson | undefined> => (await alerts('--kind', 'spool_backlog'))[0];

    insert(1, (WARNING_BATCHES + 1) * BATCH_RECORDS); // 4 batches: above the warning, below critical
    const warning = await waitFor(async () => (await backlog())?.severity === 'warning' && backlog(), 20_000, 100);
    expect(warning).toMatchObject({ entityId: nodeId, state: 'firing', severity: 'warning' });
    const node = await api.ok<{ health: { spoolDepth: number } }>('GET', `/nodes/${nodeId}`);
    expect(node.health.spoolDepth).toBeGreaterThanOrEqual(WARNING_BATCHES);
    expect(node.health.spoolDepth).toBeLessThan(CRITICAL_BATCHES);

    insert(1_000, CRITICAL_BATCHES * BATCH_RECORDS); // 8 more batches: 12 in all
    const critical = await waitFor(async () => (await backlog())?.severity === 'critical' && backlog(), 20_000, 100);
    expect(critical).toMatchObject({ id: warning!.id, entityId: nodeId, state: 'firing' });
    expect(critical!.count).toBeGreaterThan(1);
    expect(await alerts('--kind', 'spool_backlog')).toHaveLength(1);

    const changes = await waitFor(() => {
      const e = received.filter((r) => r.event.alert.id === warning!.id);
      return e.some((r) => r.event.event === 'escalated') && e;
    });
    expect(changes.map((r) => [r.event.event, r.event.alert.severity])).toEqual([
      ['opened', 'warning'],
      ['escalated', 'critical'],
    ]);
    for (const r of changes) expect(validSignature(r.body, r.signature)).toBe(true);
    expect((await api.ok<Summary>('GET', '/dashboard/summary')).alerts.critical).toBeGreaterThanOrEqual(1);
  });
});
