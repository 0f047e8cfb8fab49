// Bad input never vanishes and never stops the rest: records of the wrong type, oversized, or with
// invalid UTF-8 are quarantined with the reason and the original values,
// counted in reports, listed centrally, and re-sent after a fix; every other record arrives.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSON_FIELDS } from '../../scripts/synthetic.js';
import { cliJson, runCli } from '../helpers/cli.js';
import { Exchange } from '../helpers/exchange.js';
import { waitFor } from '../helpers/wait-for.js';

const ROWS = 5_000;
const BAD = {
  notADate: ROWS + 1,
  emptyName: ROWS + 2,
  oversized: ROWS + 3,
  badUtf8: ROWS + 4,
  binaryId: ROWS + 5,
};

interface QuarantinedJson {
  side: string;
  reason: string;
  record: Record<string, unknown>;
  resentAt: number | null;
}

describe('bad input - quarantined with the reason, the rest goes on', () => {
  let x: Exchange;
  let syncTaskId = '';
  let exchangeTaskId = '';

  beforeAll(async () => {
    x = await Exchange.start({ rows: ROWS });
    const db = new Database(x.sourcePath);
    const ins = db.prepare(
      "INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (?, ?, ?, '男', ?, '13800000000', '南昌市东湖区', ?, ?, 0)",
    );
    const at = 1_700_000_000_000 + ROWS / 2; // in the middle of the others: batches mix good and bad rows
    ins.run(BAD.notADate, '360102199001011234', '李四', '1990-13-45', '地址', at);
    // '' is a value, not a missing one ('' ≠ NULL): a required text field holding '' arrives as ''.
    ins.run(BAD.emptyName, '360102199001011235', '', '1990-01-01', '地址', at);
    ins.run(BAD.oversized, '360102199001011236', '王五', '1990-01-01', '长'.repeat(40_000), at);
    db.prepare(
      "INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (?, '360102199001011237', CAST(x'E5BCA0C328' AS TEXT), '男', '1990-01-01', '138', '区', '址', ?, 0)",
    ).run(BAD.badUtf8, at);
    db.prepare(
      "INSERT INTO person (id, id_no, name, gender, birth_date, phone, district, address, updated_at, deleted) VALUES (?, x'00FF', '赵六', '男', '1990-01-01', '138', '区', '址', ?, 0)",
    ).run(BAD.binaryId, at);
    db.close();
    await x.subscribe();
    const tasks = await x.api.ok<{ id: string; kind: string }[]>('GET', '/tasks');
    syncTaskId = tasks.find((t) => t.kind === 'sync')!.id;
    exchangeTaskId = tasks.find((t) => t.kind === 'exchange')!.id;
  });
  afterAll(async () => {
    await x?.stop();
  });

  it('bad input - every good record arrives; each bad one is quarantined at the provider with its reason', async () => {
    const bad = new Set([BAD.notADate, BAD.oversized, BAD.badUtf8, BAD.binaryId]);
    await waitFor(() => x.sinkCount() === ROWS + 1, 60_000, 100, 'good rows at the sink');
    const c = x.compare({ exclude: bad });
    expect(c.problems).toEqual([]);
    expect(c.rows).toBe(ROWS + 1);
    const sink = new Database(x.sinkPath, { readonly: true });
    expect(sink.prepare('SELECT xm FROM person WHERE id = ?').get(BAD.emptyName)).toEqual({ xm: '' });
    sink.close();

    const spool = new Database(`${x.provider.dataDir}/spool.db`, { readonly: true });
    const q = spool.prepare("SELECT reason, record FROM quarantine WHERE side = 'provider' ORDER BY id").all() as {
      reason: string;
      record: string;
    }[];
    spool.close();
    const reasonOf = (id: number): string | undefined =>
      q.find((r) => (JSON.parse(r.record) as { id: number }).id === id)?.reason;
    expect(q).toHaveLength(4);
    expect(reasonOf(BAD.notADate)).toBe(
      'field csrq: expected a date YYYY-MM-DD, got string "1990-13-45": no month 13 in 1990-13-45',
    );
    expect(reasonOf(BAD.oversized)).toBe('record larger than 65536 bytes');
    expect(reasonOf(BAD.badUtf8)).toBe('field xm: invalid UTF-8 text');
    expect(reasonOf(BAD.binaryId)).toBe('field sfzh: expected text, got 2 bytes of binary');
    // The original values are kept (the date as it was, unmasked).
    expect(JSON.parse(q.find((r) => r.reason.startsWith('field csrq'))!.record)).toMatchObject({
      id: BAD.notADate,
      birth_date: '1990-13-45',
      name: '李四',
    });
  });

  it('bad input - quarantine counts reach central in task runs, and the records are listed by the CLI', async () => {
    await waitFor(
      async () => {
        const runs = await x.api.ok<{ body: { taskId: string; quarantined: number } }[]>(
          'GET',
          `/reports?node=${x.providerId}&kind=task_run&limit=10000`,
        );
        return runs.filter((r) => r.body.taskId === syncTaskId).reduce((n, r) => n + r.body.quarantined, 0) === 4;
      },
      30_000,
      200,
      'quarantined count in task runs',
    );
    const listed = await waitFor(
      async () => {
        const rows = await cliJson<QuarantinedJson[]>(x.central.url, x.central.adminToken, [
          'task',
          'quarantine',
          syncTaskId,
        ]);
        return rows.length === 4 && rows;
      },
      30_000,
      200,
      'quarantine listed centrally',
    );
    expect(listed.map((r) => r.reason).sort()).toEqual([
      'field csrq: expected a date YYYY-MM-DD, got string "1990-13-45": no month 13 in 1990-13-45',
      'field sfzh: expected text, got 2 bytes of binary',
      'field xm: invalid UTF-8 text',
      'record larger than 65536 bytes',
    ]);
    const table = await runCli(['task', 'quarantine', syncTaskId], {
      XCHG_SERVER: x.central.url,
      XCHG_TOKEN: x.central.adminToken,
    });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('record larger than 65536 bytes');
  });

  it('bad input - after a fix (the date field relaxed to text) a re-send delivers the record that now passes', async () => {
    const relaxed = { fields: PERSON_FIELDS.map((f) => (f.name === 'birth_date' ? { ...f, type: 'string' } : f)) };
    await x.api.ok('PATCH', `/tasks/${exchangeTaskId}`, { params: relaxed });
    await x.api.ok('PATCH', `/tasks/${syncTaskId}`, { params: relaxed });
    const r = await runCli(['task', 'resend-quarantine', syncTaskId], {
      XCHG_SERVER: x.central.url,
      XCHG_TOKEN: x.central.adminToken,
    });
    expect(r.code).toBe(0);
    await waitFor(
      () => {
        const db = new Database(x.sinkPath, { readonly: true });
        const row = db.prepare('SELECT csrq FROM person WHERE id = ?').get(BAD.notADate) as
          { csrq: string } | undefined;
        db.close();
        return row?.csrq === '1990-13-45';
      },
      30_000,
      200,
      'the fixed record at the sink',
    );
    expect(x.sinkCount()).toBe(ROWS + 2); // the other three still fail and stay quarantined
    const left = await waitFor(
      async () => {
        const rows = await cliJson<QuarantinedJson[]>(x.central.url, x.central.adminToken, [
          'task',
          'quarantine',
          syncTaskId,
        ]);
        return rows.length === 3 && rows;
      },
      30_000,
      200,
      'three left in quarantine',
    );
    expect(left.some((q) => q.reason.startsWith('field csrq'))).toBe(false);
  });
});
