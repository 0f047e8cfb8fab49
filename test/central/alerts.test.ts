// Alerts (告警) in process with the real services, store, gRPC server and an HTTP receiver on port 0: spool backlog
// from Heartbeat calls raising warning then critical (one alert, escalated), its end and a new alert after it; task
// failing; webhook retries, durability across a reopened store and give-up; a city admin's scope over the API;
// resolve() for the brain; the config's cross-field problems at once; migration 12 over old alarms.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ALERTS_DEFAULTS } from '../../central/src/config-alerts.js';
import { compileConfig, ConfigError } from '../../central/src/config.js';
import { buildGrpcServer, listenGrpc } from '../../central/src/grpc/server.js';
import { buildApp } from '../../central/src/http/app.js';
import { loadXchgV1, type AgentServiceClient } from '../../proto/index.js';
import { AlertRules, type AlertRuleSettings } from '../../central/src/services/alert-rules.js';
import { AlertWebhook, signBody } from '../../central/src/services/alert-webhook.js';
import { openDatabase } from '../../central/src/store/db.js';
import { Store } from '../../central/src/store/index.js';
import { MIGRATIONS } from '../../central/src/store/migrations.js';
import { tmpDir } from '../helpers/tmp.js';
import { join } from 'node:path';
import {
  closingCentralDeps,
  enrollNode,
  seedDepartment,
  TEST_ADMIN_TOKEN,
  type CentralDeps,
} from '../helpers/central-deps.js';

const deps = closingCentralDeps();
const SECRET = 'unit-webhook-secret-0123456789';
const SETTINGS: AlertRuleSettings = {
  ...ALERTS_DEFAULTS,
  spoolBacklog: { warningBatches: 10, criticalBatches: 100, warningBytes: 0, criticalBytes: 0 },
};
const WEBHOOK = { secret: SECRET, timeoutMs: 2_000, retryBaseMs: 1_000, retryMaxMs: 10_000, giveUpAfterMs: 60_000 };

/** A webhook receiver answering `status()` and keeping what it got. */
async function receiver(status: () => number): Promise<{
  url: string;
  got: { event: string; alert: { id: number; severity: string; state: string } }[];
  sigOk: boolean[];
  server: Server;
}> {
  const got: { event: string; alert: { id: number; severity: string; state: string } }[] = [];
  const sigOk: boolean[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const code = status();
      if (code < 300) {
        got.push(JSON.parse(body) as (typeof got)[number]);
        sigOk.push(req.headers['x-xchg-signature'] === signBody(body, SECRET));
      }
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, got, sigOk, server };
}
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A real gRPC AgentService on port 0 over `d`, a node enrolled through it, and its Heartbeat call. */
async function grpcNode(d: CentralDeps): Promise<{ nodeId: string; heartbeat: (spoolDepth: number) => Promise<void> }> {
  const server = buildGrpcServer(d.grpc);
  const port = await listenGrpc(server, '127.0.0.1', 0);
  const client: AgentServiceClient = new (loadXchgV1().AgentService)(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  closers.push(() => {
    client.close();
    server.forceShutdown();
  });
  seedDepartment(d, 'gat');
  const { token } = d.nodes.createToken({ departmentCode: 'gat', nodeName: 'fe-01' });
  const e = await new Promise<{ nodeId: string; nodeSecret: string }>((resolve, reject) =>
    client.Enroll({ token, hostname: 'fe', agentVersion: '0.1.0', labels: {} }, (err, v) =>
      err ? reject(err) : resolve(v!),
    ),
  );
  const md = new grpc.Metadata();
  md.set('x-xchg-node-id', e.nodeId);
  md.set('authorization', `Bearer ${e.nodeSecret}`);
  const heartbeat = (spoolDepth: number): Promise<void> =>
    new Promise((resolve, reject) =>
      client.Heartbeat({ health: { spoolDepth, spoolBytes: spoolDepth * 1000, state: 'RUNNING' } }, md, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  return { nodeId: e.nodeId, heartbeat };
}
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

describe('alerts - rules, lifecycle and webhook', () => {
  it('alerts - a growing spool raises warning then critical as one alert; cleared it ends; again it is a new alert', async () => {
    const d = deps();
    const { heartbeat } = await grpcNode(d);
    const rules = new AlertRules(d.store, d.alerts, d.clock, SETTINGS);
    const hook = await receiver(() => 204);
    d.alerts.configure({ webhookUrls: [hook.url] });
    const backlog = () => d.alerts.list({ kind: 'spool_backlog' });

    await heartbeat(9);
    rules.evaluate();
    expect(backlog()).toEqual([]);
    await heartbeat(10);
    d.manual!.advance(1000);
    rules.evaluate();
    await heartbeat(60);
    d.manual!.advance(1000);
    rules.evaluate();
    expect(backlog().map((a) => [a.severity, a.state, a.count])).toEqual([['warning', 'firing', 2]]);
    await heartbeat(100);
    d.manual!.advance(1000);
    rules.evaluate();
    const [crit] = backlog();
    expect([crit!.severity, crit!.count, crit!.message]).toEqual([
      'critical',
      3,
      'node fe-01 of gat: spool backlog 100 batches, 100000 bytes',
    ]);
    // Draining below critical does not lower it; below warning ends it.
    await heartbeat(50);
    rules.evaluate();
    expect(backlog()[0]!.severity).toBe('critical');
    await heartbeat(0);
    d.manual!.advance(1000);
    rules.evaluate();
    expect(backlog().map((a) => [a.id, a.state, a.endReason])).toEqual([
      [crit!.id, 'resolved', 'spool backlog below the warning thresholds'],
    ]);
    await heartbeat(20);
    rules.evaluate();
    expect(backlog().map((a) => [a.state, a.severity])).toEqual([
      ['firing', 'warning'],
      ['resolved', 'critical'],
    ]);

    const webhook = new AlertWebhook(d.store, WEBHOOK, pino({ level: 'silent' }), d.clock);
    expect(await webhook.deliverDue()).toBe(4);
    expect(hook.got.map((e) => [e.event, e.alert.id, e.alert.severity, e.alert.state])).toEqual([
      ['opened', crit!.id, 'warning', 'firing'],
      ['escalated', crit!.id, 'critical', 'firing'],
      ['resolved', crit!.id, 'critical', 'resolved'],
      ['opened', crit!.id + 1, 'warning', 'firing'],
    ]);
    expect(hook.sigOk).toEqual([true, true, true, true]);
    expect(d.store.alerts.pending()).toBe(0);
  });

  it('alerts - a task whose last 3 runs failed is failing; a good run ends it', () => {
    const d = deps();
    const { node } = enrollNode(d, 'fe-01', 'gat');
    const rules = new AlertRules(d.store, d.alerts, d.clock, SETTINGS);
    d.store.db
      .prepare(
        `INSERT INTO tasks (id, name, kind, node_id, binding, created_at, updated_at) VALUES ('tsk-1', 't', 'sync', ?, 'b', 0, 0)`,
      )
      .run(node.id);
    const run = d.store.db.prepare(
      `INSERT INTO task_runs (run_id, task_id, node_id, started_at, finished_at, status, records, bytes, batches, errors, lag_ms, quarantined)
       VALUES (?, 'tsk-1', ?, ?, ?, ?, 0, 0, 0, 1, 0, 0)`,
    );
    const at = (i: number, status: string) => run.run(`r${i}`, node.id, i * 1000, i * 1000 + 1, status);
    at(1, 'ok');
    at(2, 'failed');
    at(3, 'failed');
    rules.evaluate();
    expect(d.alerts.list({ kind: 'task_failing' })).toEqual([]);
    at(4, 'failed');
    rules.evaluate();
    expect(d.alerts.list({ kind: 'task_failing' }).map((a) => [a.entityId, a.state, a.departmentCode])).toEqual([
      ['tsk-1', 'firing', 'gat'],
    ]);
    at(5, 'partial');
    rules.evaluate();
    expect(d.alerts.list({ kind: 'task_failing' })[0]!.state).toBe('resolved');
  });

  it('alerts - webhook retries with backoff, survives a reopened store, keeps order, and gives up after its age', async () => {
    const d = deps();
    let answer = 500;
    const hook = await receiver(() => answer);
    d.alerts.configure({ webhookUrls: [hook.url] });
    const logs: { msg: string; level: number }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (l: string) => void logs.push(JSON.parse(l) as (typeof logs)[number]) },
    );
    d.alerts.raise({
      kind: 'surge_detected',
      entityId: 'srg-1',
      departmentCode: 'gat',
      message: 'surge',
      at: d.clock(),
    });
    expect(d.alerts.resolve('surge_detected', 'srg-1', 'surge ended', d.clock())).toBe(true);
    expect(d.alerts.resolve('surge_detected', 'srg-1')).toBe(false);
    const first = new AlertWebhook(d.store, WEBHOOK, logger, d.clock);
    expect(await first.deliverDue()).toBe(0);
    // The first row failed: retried 1 s ± 20 % later; the second was not sent before it (order per URL).
    const due = d.store.alerts.pendingFor(hook.url, 10);
    expect(due.map((r) => r.attempts)).toEqual([1, 0]);
    expect(due[0]!.nextAttemptAt - d.clock()).toBeGreaterThanOrEqual(800);
    expect(due[0]!.nextAttemptAt - d.clock()).toBeLessThanOrEqual(1200);
    expect(logs.filter((l) => l.msg === 'alert webhook delivery failed; will retry')).toHaveLength(1);

    // central restarts: the outbox is in central.db.
    const reopened = Store.open(d.dbFile);
    try {
      answer = 204;
      const second = new AlertWebhook(reopened, WEBHOOK, logger, d.clock);
      expect(await second.deliverDue()).toBe(0); // not due yet
      d.manual!.advance(1_200);
      expect(await second.deliverDue()).toBe(2);
      expect(hook.got.map((e) => e.event)).toEqual(['opened', 'resolved']);

      answer = 503;
      d.alerts.raise({
        kind: 'surge_detected',
        entityId: 'srg-2',
        departmentCode: 'gat',
        message: 'surge',
        at: d.clock(),
      });
      for (let i = 0; i < 20 && reopened.alerts.pending() > 0; i++) {
        await second.deliverDue();
        d.manual!.advance(10_000);
      }
      expect(reopened.alerts.pending()).toBe(0);
      expect(hook.got).toHaveLength(2);
      const gaveUp = logs.filter((l) => l.msg === 'alert webhook delivery given up');
      expect(gaveUp.map((l) => l.level)).toEqual([50]);
    } finally {
      reopened.close();
    }
  });

  it('alerts - a city admin lists, shows and acknowledges only alerts of its region', async () => {
    const d = deps();
    const app = await buildApp(d.http);
    try {
      const call = async (method: 'GET' | 'POST', url: string, token = TEST_ADMIN_TOKEN, body?: unknown) => {
        const r = await app.inject({
          method,
          url: `/api/v1${url}`,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { payload: JSON.stringify(body) }),
        });
        return {
          status: r.statusCode,
          body: JSON.parse(r.body) as Record<string, unknown> & Record<string, unknown>[],
        };
      };
      await call('POST', '/regions', TEST_ADMIN_TOKEN, { code: '360000', name: '江西省', level: 'province' });
      await call('POST', '/regions', TEST_ADMIN_TOKEN, {
        code: '360100',
        name: '南昌市',
        level: 'city',
        parentCode: '360000',
      });
      await call('POST', '/departments', TEST_ADMIN_TOKEN, { code: 'gat', name: '公安厅', regionCode: '360000' });
      await call('POST', '/departments', TEST_ADMIN_TOKEN, { code: 'mzj', name: '南昌市民政局', regionCode: '360100' });
      const city = (
        await call('POST', '/users', TEST_ADMIN_TOKEN, { name: 'nc', role: 'city_admin', regionCode: '360100' })
      ).body['token'] as string;
      const raise = (dept: string, entityId: string) =>
        d.alerts.raise({
          kind: 'node_offline',
          entityId,
          departmentCode: dept,
          message: entityId,
          at: d.clock(),
          severity: 'critical',
        });
      raise('gat', 'nd-gat');
      raise('mzj', 'nd-mzj');
      d.alerts.raise({
        kind: 'center_unreachable',
        entityId: 'province',
        departmentCode: '',
        message: 'c',
        at: d.clock(),
        severity: 'critical',
      });
      const all = (await call('GET', '/alerts')).body;
      expect(all.map((a) => a['entityId'])).toEqual(['province', 'nd-mzj', 'nd-gat']);
      const seen = (await call('GET', '/alerts?state=open&severity=critical', city)).body;
      expect(seen.map((a) => a['entityId'])).toEqual(['nd-mzj']);
      const gatId = all.find((a) => a['entityId'] === 'nd-gat')!['id'];
      const mzjId = all.find((a) => a['entityId'] === 'nd-mzj')!['id'];
      expect((await call('GET', `/alerts/${gatId}`, city)).status).toBe(404);
      expect((await call('POST', `/alerts/${gatId}/ack`, city, {})).status).toBe(404);
      const acked = await call('POST', `/alerts/${mzjId}/ack`, city, { note: '已处理' });
      expect([acked.status, acked.body['state'], acked.body['acknowledgement']]).toEqual([
        200,
        'acknowledged',
        { by: 'nc', at: expect.any(Number), note: '已处理' },
      ]);
      expect((await call('GET', '/alerts?state=acknowledged')).body.map((a) => a['entityId'])).toEqual(['nd-mzj']);
    } finally {
      await app.close();
    }
  });

  it('alerts - config: every cross-field problem of the alerts section is reported at once', () => {
    let err: unknown;
    try {
      compileConfig({
        overrides: {
          alerts: {
            spoolBacklog: { warningBatches: 100, criticalBatches: 50, warningBytes: 10, criticalBytes: 10 },
            webhook: { urls: ['https://ops.example/x'], secret: 'short', retryBaseMs: 5000, retryMaxMs: 1000 },
          },
        },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'alerts.spoolBacklog.criticalBatches: 50 must be above warningBatches (100)',
      'alerts.spoolBacklog.criticalBytes: 10 must be above warningBytes (10)',
      'alerts.webhook.secret: at least 16 characters are needed when alerts.webhook.urls are set',
      'alerts.webhook.retryMaxMs: 1000 must be at least retryBaseMs (5000)',
    ]);
  });
});

describe('alerts - migration 12', () => {
  it('alerts - old alarms keep their meaning: an overdue application since answered is resolved, the rest firing', () => {
    const file = join(tmpDir('xchg-alerts-migration-'), 'central.db');
    const v11 = openDatabase(file, MIGRATIONS.slice(0, 11));
    v11.pragma('foreign_keys = OFF');
    const app = v11.prepare(
      `INSERT INTO applications (id, resource_code, resource_version, provider_department_code, consumer_department_code,
         applicant, purpose, requested_fields_json, status, submitted_at, deadline_at, answered_at)
       VALUES (?, 'R', 1, 'gat', 'mzj', 'li', 'p', '[]', ?, 1, 10, ?)`,
    );
    app.run('ap-answered', 'approved', 50);
    app.run('ap-pending', 'pending', null);
    const old = v11.prepare(
      'INSERT INTO alerts (kind, entity_id, department_code, message, at) VALUES (?, ?, ?, ?, ?)',
    );
    old.run('application_overdue', 'ap-answered', 'gat', 'late', 20);
    old.run('application_overdue', 'ap-pending', 'gat', 'late too', 30);
    old.run('task_refused', 'tsk-1@2', 'mzj', 'refused', 40);
    v11.close();

    const store = Store.open(file);
    try {
      const rows = store.alerts
        .list()
        .map((a) => [a.entityId, a.state, a.severity, a.startedAt, a.endedAt, a.endReason]);
      expect(rows).toEqual([
        ['tsk-1@2', 'firing', 'warning', 40, null, ''],
        ['ap-pending', 'firing', 'warning', 30, null, ''],
        ['ap-answered', 'resolved', 'warning', 20, 50, 'application approved'],
      ]);
      // The old UNIQUE (kind, entity) is gone: the resolved one may fire again as a new alert.
      expect(store.alerts.open('application_overdue', 'ap-answered')).toBeUndefined();
      store.alerts.insert({
        kind: 'application_overdue',
        entityId: 'ap-answered',
        departmentCode: 'gat',
        message: 'x',
        at: 60,
        severity: 'warning',
      });
      expect(store.alerts.list({ kind: 'application_overdue', state: 'open' })).toHaveLength(2);
    } finally {
      store.close();
    }
  });
});
