// Reconciliation (对账) end to end: changes a cursor cannot see (a key change, a hard delete, a row
// committed late with an older cursor value, a value changed without touching the cursor) are reported
// exactly by `xchg sub verify`, `--repair` makes the sink equal to the source, and a scheduled run raises
// the drift alert by itself. Real nats-server, central, two agents; PostgreSQL → PostgreSQL and SQLite → SQLite.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, FAST_AGENT } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { runCli } from '../helpers/cli.js';
import { Exchange } from '../helpers/exchange.js';
import { NatsServer } from '../helpers/nats-server.js';
import { PostgresServer } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait-for.js';

// Central looks for due verifications often; none is scheduled unless a test sets a subscription's interval.
process.env['XCHG_CENTRAL_VERIFY_INTERVAL_MS'] = '0';
process.env['XCHG_CENTRAL_VERIFY_SWEEP_INTERVAL_MS'] = '200';

interface Run {
  id: string;
  state: string;
  trigger: string;
  error: string;
  result: {
    rowsSource: number;
    rowsSink: number;
    missing: number;
    extra: number;
    different: number;
    samples: {
      missing: Record<string, unknown>[];
      extra: Record<string, unknown>[];
      different: Record<string, unknown>[];
    };
    repair?: { upserts: number; tombstones: number; rejected: number };
  } | null;
}

async function verify(central: CentralProcess, sub: string, ...flags: string[]): Promise<Run> {
  const r = await runCli(['sub', 'verify', sub, ...flags, '-o', 'json'], {
    XCHG_SERVER: central.url,
    XCHG_TOKEN: central.adminToken,
  });
  if (r.code !== 0) throw new Error(`xchg sub verify ${sub} ${flags.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Run;
}

const FIELDS = [
  { name: 'id', type: 'integer', required: true },
  { name: 'name', as: 'xm', type: 'string' },
  { name: 'phone', mask: 'phone', type: 'string' },
  { name: 'updated_at' },
];

describe('reconcile - PostgreSQL to PostgreSQL', () => {
  let nats: NatsServer;
  let pg: PostgresServer;
  let central: CentralProcess;
  let api: Api;
  let provider: AgentProcess;
  let consumer: AgentProcess;
  const sinkRows = async (): Promise<Record<string, unknown>[]> =>
    pg.query(`SELECT id, xm, phone, updated_at::text AS updated_at FROM sink.t ORDER BY id`);

  beforeAll(async () => {
    nats = await NatsServer.start();
    pg = await PostgresServer.start();
    await pg.query(
      'CREATE TABLE t (id int PRIMARY KEY, name text, phone text, updated_at timestamp, deleted int NOT NULL DEFAULT 0)',
    );
    await pg.query('CREATE SCHEMA sink');
    await pg.query('CREATE TABLE sink.t (id int PRIMARY KEY, xm text, phone text, updated_at timestamp)');
    await pg.query(`INSERT INTO t (id, name, phone, updated_at) VALUES
      (1, 'a', '13800000001', '2024-05-01 10:00:01'), (3, 'c', '13800000003', '2024-05-01 10:00:03'),
      (4, 'd', '13800000004', '2024-05-01 10:00:04'), (5, 'e', '13800000005', '2024-05-01 10:00:05')`);
    central = await CentralProcess.start({ natsUrls: [nats.url], heartbeatTtlMs: 3_000 });
    api = new Api(central.url, central.adminToken);
    await api.seedDepartment('gat');
    await api.seedDepartment('mzj');
    const dataPlane = {
      ...((FAST_AGENT as Record<string, unknown>)['dataPlane'] as object),
      receiptTimeoutMs: 2_000,
      runReportIntervalMs: 500,
      pollIntervalMs: 100,
    };
    provider = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('gat', 'gat-01'),
      config: {
        dataPlane,
        sources: {
          people: { type: 'postgres', url: pg.url, table: 't', key: 'id', cursor: 'updated_at', deleted: 'deleted' },
        },
      },
    });
    consumer = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('mzj', 'mzj-01'),
      config: {
        dataPlane,
        sinks: { people: { type: 'postgres', url: pg.url, schema: 'sink', table: 't', key: 'id' } },
      },
    });
    const [p, c] = [await provider.nodeId, await consumer.nodeId];
    const params = { fields: FIELDS };
    await api.ok('POST', '/tasks', {
      name: 'pg-in',
      kind: 'exchange',
      nodeId: c,
      peerNodeId: p,
      subscriptionId: 'sub-pg',
      binding: 'people',
      params,
    });
    await api.ok('POST', '/tasks', {
      name: 'pg-out',
      kind: 'sync',
      nodeId: p,
      peerNodeId: c,
      subscriptionId: 'sub-pg',
      binding: 'people',
      params,
    });
    await waitFor(async () => (await sinkRows()).length === 4, 60_000, 100, 'the first four rows at the sink');
  }, 180_000);

  afterAll(async () => {
    await Promise.all([provider?.stop('SIGKILL'), consumer?.stop('SIGKILL')]);
    await central?.stop();
    await nats?.stop();
    await pg?.stop();
  });

  it('reconcile - a key change, a hard delete, a late commit and an unseen update are reported by key, repaired, and a scheduled run alerts', async () => {
    // Key change 1 → 2 (the cursor sees the new row, not that 1 is gone).
    await pg.query(`UPDATE t SET id = 2, updated_at = '2024-05-01 11:00:00' WHERE id = 1`);
    await waitFor(async () => (await sinkRows()).some((r) => r['id'] === 2), 60_000, 100, 'id 2 at the sink');
    await pg.query('DELETE FROM t WHERE id = 3'); // hard delete
    await pg.query(`INSERT INTO t (id, name, phone, updated_at) VALUES (6, 'f', '13800000006', '2024-05-01 09:00:00')`); // committed late: older than the cursor
    await pg.query(`UPDATE t SET name = 'd2' WHERE id = 4`); // changed without moving the cursor
    // The sink kept what the cursor could not see.
    expect((await sinkRows()).map((r) => r['id'])).toEqual([1, 2, 3, 4, 5]);

    const first = await verify(central, 'sub-pg');
    expect(first.state).toBe('done');
    expect(first.result).toMatchObject({ rowsSource: 4, rowsSink: 5, missing: 1, extra: 2, different: 1 });
    expect(first.result!.samples).toEqual({
      missing: [{ id: 6 }],
      extra: [{ id: 1 }, { id: 3 }],
      different: [{ id: 4 }],
    });

    const repaired = await verify(central, 'sub-pg', '--repair');
    expect(repaired.result).toMatchObject({
      missing: 1,
      extra: 2,
      different: 1,
      repair: { upserts: 2, tombstones: 2, rejected: 0 },
    });
    const expected = [
      { id: 2, xm: 'a', phone: '138****0001', updated_at: '2024-05-01 11:00:00' },
      { id: 4, xm: 'd2', phone: '138****0004', updated_at: '2024-05-01 10:00:04' },
      { id: 5, xm: 'e', phone: '138****0005', updated_at: '2024-05-01 10:00:05' },
      { id: 6, xm: 'f', phone: '138****0006', updated_at: '2024-05-01 09:00:00' },
    ];
    await waitFor(
      async () => JSON.stringify(await sinkRows()) === JSON.stringify(expected),
      60_000,
      100,
      'the sink to equal the source after repair',
    );
    expect(await sinkRows()).toEqual(expected);

    const again = await verify(central, 'sub-pg');
    expect(again.result).toMatchObject({ rowsSource: 4, rowsSink: 4, missing: 0, extra: 0, different: 0 });

    // Scheduled: new drift, and central finds it by itself.
    await pg.query('DELETE FROM t WHERE id = 5');
    await api.ok('PUT', '/subscriptions/sub-pg/verify-schedule', { intervalMs: 500 });
    const alerts = await waitFor(
      async () => {
        const mine = (
          await api.ok<{ kind: string; entityId: string; message: string }[]>('GET', '/alerts?kind=reconcile_drift')
        ).filter((a) => a.message.includes('sub-pg'));
        return mine.length > 0 && mine;
      },
      60_000,
      200,
      'a reconcile_drift alert',
    );
    expect(alerts[0]!.message).toContain('0 missing, 1 extra, 0 different');
    const run = await api.ok<Run>('GET', `/verifications/${alerts[0]!.entityId}`);
    expect(run.trigger).toBe('scheduled');
    expect(run.result!.samples.extra).toEqual([{ id: 5 }]);
    await api.ok('PUT', '/subscriptions/sub-pg/verify-schedule', { intervalMs: 0 });
  }, 240_000);
});

describe('reconcile - SQLite to SQLite', () => {
  let x: Exchange;

  beforeAll(async () => {
    x = await Exchange.start({ rows: 2_000 });
    await x.subscribe('sub-lite');
    await waitFor(() => x.sinkCount() === 2_000, 120_000, 100, 'all rows at the sink');
  }, 180_000);

  afterAll(async () => {
    await x?.stop();
  });

  it('reconcile - masked and renamed fields compare equal; differences are reported by key and repaired', async () => {
    const zero = await verify(x.central, 'sub-lite');
    expect(zero.result).toMatchObject({ rowsSource: 2_000, rowsSink: 2_000, missing: 0, extra: 0, different: 0 });

    const src = new Database(x.sourcePath);
    try {
      const top = (src.prepare('SELECT max(updated_at) AS m FROM person').get() as { m: number }).m;
      src.prepare('UPDATE person SET id = 100001, updated_at = ? WHERE id = 10').run(top + 1); // key change
      src.prepare('DELETE FROM person WHERE id = 20').run(); // hard delete
      src
        .prepare(
          'INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) SELECT 100002, id_no, name, gender, birth_date, phone, district, address, 1, 0 FROM person WHERE id = 40',
        )
        .run(); // late
      src.prepare(`UPDATE person SET address = '更正后的地址' WHERE id = 30`).run(); // unseen by the cursor
    } finally {
      src.close();
    }
    await waitFor(() => x.sinkCount() === 2_001, 60_000, 100, 'the key change at the sink (row 100001)');

    const found = await verify(x.central, 'sub-lite');
    expect(found.result!.samples).toEqual({
      missing: [{ id: 100002 }],
      extra: [{ id: 10 }, { id: 20 }],
      different: [{ id: 30 }],
    });
    expect(found.result).toMatchObject({ rowsSource: 2_000, rowsSink: 2_001, missing: 1, extra: 2, different: 1 });

    const repaired = await verify(x.central, 'sub-lite', '--repair');
    expect(repaired.result!.repair).toEqual({ upserts: 2, tombstones: 2, rejected: 0 });
    const c = await waitFor(
      () => {
        const r = x.compare();
        return r.problems.length === 0 && x.sinkCount() === 2_000 && r;
      },
      60_000,
      100,
      'the sink to equal the source after repair',
    ).catch(() => x.compare());
    expect(c.problems).toEqual([]);
    expect(c.rows).toBe(2_000);

    const again = await verify(x.central, 'sub-lite');
    expect(again.result).toMatchObject({ rowsSource: 2_000, rowsSink: 2_000, missing: 0, extra: 0, different: 0 });

    // A run on demand can be followed by id.
    const r = await runCli(['sub', 'verify', 'sub-lite', '--no-wait', '-o', 'json'], {
      XCHG_SERVER: x.central.url,
      XCHG_TOKEN: x.central.adminToken,
    });
    expect(r.code).toBe(0);
    const queued = JSON.parse(r.stdout) as Run;
    expect(queued.state).toBe('requested');
    const listed = await waitFor(
      async () => {
        const l = await runCli(['sub', 'verifications', 'sub-lite', '-o', 'json'], {
          XCHG_SERVER: x.central.url,
          XCHG_TOKEN: x.central.adminToken,
        });
        const runs = JSON.parse(l.stdout) as Run[];
        return runs[0]?.id === queued.id && runs[0].state === 'done' && runs;
      },
      60_000,
      200,
      'the queued run to finish',
    );
    expect(listed).toHaveLength(5);
    expect(listed[0]!.result).toMatchObject({ missing: 0, extra: 0, different: 0 });
  }, 240_000);
});
