// The data plane end to end: a provider agent syncs a SQLite table through JetStream to a consumer agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

describe('dataplane - sqlite to sqlite through JetStream', () => {
  let x: Exchange;
  const ROWS = 20_000;

  beforeAll(async () => {
    x = await Exchange.start({ rows: ROWS });
    await x.subscribe();
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('dataplane - every source row arrives once, masked, and the sink equals the source', async () => {
    await waitFor(() => x.sinkCount() === ROWS, 60_000, 200, `${ROWS} rows at the sink`);
    const { problems, rows } = x.compare();
    expect(problems).toEqual([]);
    expect(rows).toBe(ROWS);
  });

  it('dataplane - updates and deletes at the source follow incrementally', async () => {
    const src = new Database(x.sourcePath);
    const now = Date.now();
    src.prepare("UPDATE person SET name = '测试人', updated_at = ? WHERE id = 7").run(now);
    src.prepare('UPDATE person SET deleted = 1, updated_at = ? WHERE id = 8').run(now + 1);
    src
      .prepare(
        "INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (?, '36010219900101123X', '新增', '男', '1990-01-01', '13800000000', '南昌市东湖区', '地址', ?, 0)",
      )
      .run(ROWS + 1, now + 2);
    src.close();
    await waitFor(
      () => {
        const c = x.compare();
        return c.problems.length === 0 && c.rows === ROWS;
      },
      30_000,
      200,
      'sink to follow the update, delete and insert',
    );
    const dst = new Database(x.sinkPath, { readonly: true });
    expect((dst.prepare('SELECT xm FROM person WHERE id = 7').get() as { xm: string }).xm).toBe('测*人');
    expect(dst.prepare('SELECT 1 FROM person WHERE id = 8').get()).toBeUndefined();
    dst.close();
  });

  it('dataplane - the provider outbox empties once receipts arrive, and task runs reach central', async () => {
    await waitFor(
      async () => {
        const nodes = await x.api.ok<{ id: string; health: { spoolDepth?: number } | null }[]>('GET', '/nodes');
        return nodes.find((n) => n.id === x.providerId)?.health?.spoolDepth === 0;
      },
      30_000,
      200,
      'provider outbox empty',
    );
    const runs = await waitFor(
      async () => {
        const reports = await x.api.ok<{ body: { records: number; taskId: string } }[]>(
          'GET',
          `/reports?node=${x.consumerId}&kind=task_run&limit=10000`,
        );
        const total = reports.reduce((n, r) => n + r.body.records, 0);
        return total >= ROWS + 1 && reports;
      },
      30_000,
      200,
      'consumer task runs',
    );
    expect(runs.length).toBeGreaterThan(0);
  });

  it('dataplane - online query: the consumer asks the provider for one person by ID number and gets the masked record', async () => {
    const src = new Database(x.sourcePath, { readonly: true });
    const p = src.prepare('SELECT * FROM person WHERE id = 4242').get() as {
      id_no: string;
      name: string;
      phone: string;
    };
    src.close();
    const res = await fetch(`http://127.0.0.1:${x.queryPort}/v1/query/sub-population?sfzh=${p.id_no}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { found: boolean; record: Record<string, unknown>; elapsedMs: number };
    expect(body.found).toBe(true);
    expect(body.record['id']).toBe(4242);
    expect(body.record['sfzh']).toBe(p.id_no.slice(0, 3) + '*'.repeat(11) + p.id_no.slice(-4));
    expect(body.record['xm']).not.toBe(p.name);
    expect(body.record['lxdh']).toBe(p.phone.slice(0, 3) + '****' + p.phone.slice(-4));
    expect(body.elapsedMs).toBeLessThan(1_000);

    const missing = (await (
      await fetch(`http://127.0.0.1:${x.queryPort}/v1/query/sub-population?sfzh=000000000000000000`)
    ).json()) as { found: boolean };
    expect(missing.found).toBe(false);
    const unknownSub = await fetch(`http://127.0.0.1:${x.queryPort}/v1/query/sub-nope?sfzh=1`);
    expect(unknownSub.status).toBe(502);
    expect(((await unknownSub.json()) as { error: string }).error).toContain(
      'no exchange task of subscription sub-nope',
    );
    const badField = await fetch(
      `http://127.0.0.1:${x.queryPort}/v1/query/sub-population?xm=${encodeURIComponent('张三')}`,
    );
    expect(badField.status).toBe(502);
    expect(((await badField.json()) as { error: string }).error).toContain('cannot look up by "name"');
  });
});
