// Records a sink refuses (issue 8, fault 5) and cursor values a clock cannot vouch for (fault 10), end to
// end through real agents: the refused record is quarantined at the consumer with the database's reason
// while the rest of its batch and the stream go on; a row dated in the future is held, not allowed to
// move the cursor past rows written later with correct dates.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson } from '../helpers/cli.js';
import { Exchange } from '../helpers/exchange.js';
import { PostgresServer } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait-for.js';

interface QuarantinedJson {
  side: string;
  reason: string;
  rowIndex: number;
  record: Record<string, unknown>;
}

const N = 1_000;

describe('poison records - refused by the sink, quarantined alone, the rest goes on', () => {
  let x: Exchange;
  let pg: PostgresServer;
  let dir = '';
  const tasks: Record<string, string> = {};

  beforeAll(async () => {
    pg = await PostgresServer.start();
    await pg.query('CREATE TABLE poison (id bigint PRIMARY KEY, v text NOT NULL, n integer)');
    await pg.query('CREATE TABLE fault5 (id bigint PRIMARY KEY, v text)');
    await pg.query('CREATE TABLE future (id bigint PRIMARY KEY, v text, updated_at text)');
    x = await Exchange.start({
      rows: 10,
      sources: (d) => ({
        poison_src: { type: 'sqlite', path: join(d, 'poison.db'), table: 'poison', key: 'id', cursor: 'id' },
        fault5_src: { type: 'sqlite', path: join(d, 'poison.db'), table: 'fault5', key: 'id', cursor: 'id' },
        future_src: { type: 'sqlite', path: join(d, 'poison.db'), table: 'future', key: 'id', cursor: 'updated_at' },
      }),
      sinks: {
        poison_dst: { type: 'postgres', url: pg.url, table: 'poison', key: 'id' },
        fault5_dst: { type: 'postgres', url: pg.url, table: 'fault5', key: 'id' },
        future_dst: { type: 'postgres', url: pg.url, table: 'future', key: 'id' },
      },
      prepare: (d) => {
        dir = d;
        const db = new Database(join(d, 'poison.db'));
        db.exec('CREATE TABLE poison (id INTEGER PRIMARY KEY, v TEXT, n INTEGER)');
        db.exec('CREATE TABLE fault5 (id INTEGER PRIMARY KEY, v TEXT)');
        db.exec('CREATE TABLE future (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT)');
        db.close();
      },
    });
    const list = async (): Promise<{ id: string; name: string }[]> => x.api.ok('GET', '/tasks');
    for (const sub of ['poison', 'fault5', 'future']) {
      await x.subscribe(`sub-${sub}`, { source: `${sub}_src`, sink: `${sub}_dst` }, {});
      const all = await list();
      tasks[sub] = all.find((t) => t.name === `sub-${sub}-in`)!.id;
    }
  });
  afterAll(async () => {
    await x?.stop();
    await pg?.stop();
  });

  it('poison records - one NUL in a batch of 1,000: 999 land, 1 quarantined with the database reason, in under 10 s, no hot loop', async () => {
    const db = new Database(join(dir, 'poison.db'));
    const ins = db.prepare('INSERT INTO poison (id, v, n) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= N; i++) ins.run(i, i === 500 ? 'a\u0000b' : `值${i}`, i);
    })();
    db.close();
    const started = Date.now();
    await waitFor(
      async () => (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM poison'))[0]!.n === N - 1,
      30_000,
      100,
      '999 rows at the sink',
    );
    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeLessThan(10_000);
    const rows = await pg.query<{ id: string; v: string; n: number }>(
      'SELECT id::text AS id, v, n FROM poison ORDER BY poison.id',
    );
    expect(rows.map((r) => Number(r.id))).toEqual(Array.from({ length: N }, (_, i) => i + 1).filter((i) => i !== 500));
    expect(rows.every((r) => r.v === `值${r.id}` && r.n === Number(r.id))).toBe(true);
    const q = await waitFor(
      async () => {
        const list = await cliJson<QuarantinedJson[]>(x.central.url, x.central.adminToken, [
          'task',
          'quarantine',
          tasks['poison']!,
        ]);
        return list.length === 1 && list;
      },
      30_000,
      200,
      'the refused record listed centrally',
    );
    expect(q[0]!.side).toBe('consumer');
    expect(q[0]!.reason).toMatch(/^sink refused the record: invalid byte sequence for encoding "UTF8": 0x00 \(22021\)/);
    expect(q[0]!.record).toEqual({ id: 500, v: 'a\u0000b', n: 500 });
    // No hot retry loop: the batch was never redelivered because of the poison record.
    expect(x.consumer.proc.output()).not.toContain('sink write failed');
  });

  it('poison records - the issue input: (1, a NUL b) and (2, ok) into a text column; NOT NULL and out-of-range refused the same way', async () => {
    const db = new Database(join(dir, 'poison.db'));
    db.prepare('INSERT INTO fault5 (id, v) VALUES (?, ?)').run(1, 'a\u0000b');
    db.prepare('INSERT INTO fault5 (id, v) VALUES (?, ?)').run(2, 'ok');
    db.prepare('INSERT INTO poison (id, v, n) VALUES (?, ?, ?)').run(N + 1, null, 1);
    db.prepare('INSERT INTO poison (id, v, n) VALUES (?, ?, ?)').run(N + 2, 'big', 2 ** 40);
    db.prepare('INSERT INTO poison (id, v, n) VALUES (?, ?, ?)').run(N + 3, 'after', 3);
    db.close();
    await waitFor(async () => (await pg.query('SELECT id FROM fault5')).length === 1, 30_000, 100, 'row 2 at the sink');
    expect(await pg.query('SELECT id::int AS id, v FROM fault5')).toEqual([{ id: 2, v: 'ok' }]);
    await waitFor(
      async () => (await pg.query('SELECT 1 FROM poison WHERE id = $1', [N + 3])).length === 1,
      30_000,
      100,
      'the row after the refused ones',
    );
    expect(await pg.query('SELECT id FROM poison WHERE id IN ($1, $2)', [N + 1, N + 2])).toEqual([]);
    const reasons = await waitFor(
      async () => {
        const list = await cliJson<QuarantinedJson[]>(x.central.url, x.central.adminToken, [
          'task',
          'quarantine',
          tasks['poison']!,
        ]);
        return (
          list.length === 3 &&
          list
            .map((r) => r.reason)
            .sort((p, q) => (p.includes('22003') ? -1 : q.includes('22003') ? 1 : p.localeCompare(q)))
        );
      },
      30_000,
      200,
      'three refused records listed',
    );
    expect(reasons[0]).toMatch(
      /^sink refused the record: value "1099511627776" is out of range for type integer \(22003\)/,
    );
    expect(reasons[1]).toMatch(/^sink refused the record: invalid byte sequence for encoding "UTF8": 0x00 \(22021\)/);
    expect(reasons[2]).toMatch(
      /^sink refused the record: null value in column "v" of relation "poison" violates not-null constraint \(23502\)/,
    );
    const f5 = await waitFor(
      async () => {
        const list = await cliJson<QuarantinedJson[]>(x.central.url, x.central.adminToken, [
          'task',
          'quarantine',
          tasks['fault5']!,
        ]);
        return list.length === 1 && list;
      },
      30_000,
      200,
      'fault 5 record listed',
    );
    expect(f5[0]!.record).toEqual({ id: 1, v: 'a\u0000b' });
    // Central shows the event the consumer raised.
    const events = await waitFor(
      async () => {
        const r = await x.api.ok<{ body: { code?: string; message?: string } }[]>(
          'GET',
          `/reports?node=${x.consumerId}&kind=event&limit=1000`,
        );
        const hits = r.filter((e) => e.body.code === 'SINK_REFUSED_RECORDS');
        return hits.length > 0 && hits;
      },
      30_000,
      200,
      'SINK_REFUSED_RECORDS event at central',
    );
    expect(events[0]!.body.message).toMatch(/the sink refused \d+ record\(s\) of batch/);
  });

  it('sink down - a PostgreSQL sink stopped for a while: redelivered with a growing delay, SINK_FAILING at central, every row arrives after it is back', async () => {
    await pg.stop();
    const db = new Database(join(dir, 'poison.db'));
    const ins = db.prepare('INSERT INTO poison (id, v, n) VALUES (?, ?, ?)');
    for (let i = 1; i <= 50; i++) ins.run(2 * N + i, `停机${i}`, i);
    db.close();
    await waitFor(
      async () => {
        const r = await x.api.ok<{ body: { code?: string } }[]>(
          'GET',
          `/reports?node=${x.consumerId}&kind=event&limit=1000`,
        );
        return r.some((e) => e.body.code === 'SINK_FAILING');
      },
      30_000,
      200,
      'SINK_FAILING event at central',
    );
    // Let it fail for a while: with 1 s x 1.6 backoff, 8 s hold about 5 attempts, not thousands.
    await new Promise((r) => setTimeout(r, 8_000));
    const failedLines = (x.consumer.proc.output().match(/sink write failed/g) ?? []).length;
    await pg.restart();
    await waitFor(
      async () => (await pg.query('SELECT 1 FROM poison WHERE id > $1', [2 * N])).length === 50,
      90_000,
      200,
      'the 50 rows after the sink is back',
    );
    expect((await pg.query<{ v: string }>('SELECT v FROM poison WHERE id = $1', [2 * N + 50]))[0]!.v).toBe('停机50');
    // Logged at the first failure and every tenth: a hot loop would have logged hundreds of lines.
    expect(failedLines).toBeGreaterThanOrEqual(1);
    expect(failedLines).toBeLessThanOrEqual(2);
  });

  it('future cursor - a row dated in the future is held; rows written later with correct dates still arrive; an event says why', async () => {
    const db = new Database(join(dir, 'poison.db'));
    const ins = db.prepare('INSERT INTO future (id, v, updated_at) VALUES (?, ?, ?)');
    ins.run(1, 'first', '2024-05-01 09:00:00');
    ins.run(2, 'from the future', '2099-01-01 00:00:00');
    await waitFor(async () => (await pg.query('SELECT id FROM future')).length === 1, 30_000, 100, 'the first row');
    // Written after the future row was seen, with a correct (past) date: the cursor must not have moved past it.
    ins.run(3, 'late but correct', '2024-05-01 10:00:00');
    db.close();
    await waitFor(
      async () => (await pg.query('SELECT id FROM future')).length === 2,
      30_000,
      100,
      'the row written later',
    );
    expect(await pg.query('SELECT id::int AS id, v FROM future ORDER BY id')).toEqual([
      { id: 1, v: 'first' },
      { id: 3, v: 'late but correct' },
    ]);
    const events = await waitFor(
      async () => {
        const r = await x.api.ok<{ body: { code?: string; message?: string } }[]>(
          'GET',
          `/reports?node=${x.providerId}&kind=event&limit=1000`,
        );
        const hits = r.filter((e) => e.body.code === 'CURSOR_IN_FUTURE');
        return hits.length > 0 && hits;
      },
      30_000,
      200,
      'CURSOR_IN_FUTURE event at central',
    );
    expect(events[0]!.body.message).toContain('row {"id":"2"} has cursor updated_at = 2099-01-01 00:00:00');
  });
});
