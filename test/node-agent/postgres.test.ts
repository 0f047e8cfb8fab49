// The PostgreSQL connector against a real server started by our helper: source paging (cursor ties,
// microsecond cursors through JSON, full mode, tombstones, lookup), sink writes (upsert, deletes,
// duplicate/gap, atomicity, table creation, big batches), and both directions through the data plane.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSink, type PostgresSinkConfig } from '../../node-agent/src/connectors/postgres/dialect.js';
import { PostgresSource, type PostgresSourceConfig } from '../../node-agent/src/connectors/postgres/source.js';
import type { Cursor, RefusedRecord, SinkBatch, SinkSchemaHint } from '../../node-agent/src/connectors/types.js';
import { Decimal, JsonText, Temporal } from '../../node-agent/src/values/value.js';
import { mask, type MaskRule } from '../../node-agent/src/pipeline/mask.js';
import { PERSON_FIELDS, seedPopulation } from '../../scripts/synthetic.js';
import { AgentProcess } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { NatsServer, freePort } from '../helpers/nats-server.js';
import { PostgresServer } from '../helpers/postgres.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await PostgresServer.start();
});
afterAll(async () => {
  await server?.stop();
});

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

function source(cfg: Omit<PostgresSourceConfig, 'type' | 'url'>): PostgresSource {
  const s = new PostgresSource('src', { type: 'postgres', url: server.url, ...cfg });
  opened.push(s);
  return s;
}

function sink(cfg: Omit<PostgresSinkConfig, 'type' | 'url'>, hint?: SinkSchemaHint): PostgresSink {
  const s = new PostgresSink('dst', { type: 'postgres', url: server.url, ...cfg }, hint);
  opened.push(s);
  return s;
}

/**
 * Reads until exhausted, passing the cursor through JSON each time as the spool stores it. Fails once
 * more than `maxRows` arrive (a cursor that repeats rows would otherwise read forever).
 */
async function drain(
  src: PostgresSource,
  from: Cursor,
  pageSize: number,
  maxRows = 1_000,
): Promise<{ rows: Record<string, unknown>[]; ops: ('u' | 'd')[]; cursor: Cursor; pages: number }> {
  const rows: Record<string, unknown>[] = [];
  const ops: ('u' | 'd')[] = [];
  let cursor = from;
  for (let pages = 1; ; pages++) {
    const page = await src.read(cursor, pageSize);
    expect(page.rows.length).toBeLessThanOrEqual(pageSize);
    if (rows.length + page.rows.length > maxRows)
      throw new Error(`more than ${maxRows} rows read: the cursor repeats rows (at ${JSON.stringify(cursor)})`);
    rows.push(...page.rows);
    ops.push(...page.ops);
    cursor = JSON.parse(JSON.stringify(page.cursor)) as Cursor;
    if (page.exhausted) return { rows, ops, cursor, pages };
  }
}

const ids = (rows: Record<string, unknown>[]): unknown[] => rows.map((r) => r['id']);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('postgres - source', () => {
  it('postgres - incremental reads break cursor ties by key: nothing skipped, nothing repeated', async () => {
    await server.query('CREATE TABLE ties (id bigint PRIMARY KEY, v text NOT NULL, seq bigint NOT NULL)');
    // Tie groups of 25 rows share one cursor value; pages of 7 end in the middle of every group.
    await server.query("INSERT INTO ties SELECT i, 'v' || i, i / 25 FROM generate_series(1, 100) AS i");
    const src = source({ table: 'ties', key: 'id', cursor: 'seq' });
    expect(src.mode).toBe('incremental');
    const first = await drain(src, null, 7);
    expect(ids(first.rows)).toEqual(range(1, 100));
    expect(first.pages).toBeGreaterThan(100 / 7);
    expect(first.ops.every((o) => o === 'u')).toBe(true);
    expect(first.rows[0]).toEqual({ id: 1, v: 'v1', seq: 0 });

    // New rows in the last tie group (larger keys), a later group, and an old row moved to the end.
    await server.query("INSERT INTO ties SELECT i, 'v' || i, 4 FROM generate_series(101, 110) AS i");
    await server.query("INSERT INTO ties SELECT i, 'v' || i, 5 FROM generate_series(111, 120) AS i");
    await server.query("UPDATE ties SET v = 'moved', seq = 6 WHERE id = 3");
    const next = await drain(src, first.cursor, 7);
    expect(ids(next.rows)).toEqual([...range(101, 120), 3]);
    expect(next.rows.at(-1)).toEqual({ id: 3, v: 'moved', seq: 6 });

    const idle = await src.read(next.cursor, 7);
    expect(idle).toEqual({ rows: [], ops: [], cursor: next.cursor, exhausted: true });
  });

  it('postgres - timestamp cursors with microseconds round-trip through JSON without skipping or repeating', async () => {
    await server.query(
      'CREATE TABLE micro (id int PRIMARY KEY, ts timestamp(6) NOT NULL, tstz timestamptz(6) NOT NULL)',
    );
    // 90 rows whose cursors differ only in microseconds (groups of 3 equal), all in the same millisecond.
    await server.query(`INSERT INTO micro SELECT i, '2024-05-01 10:00:00.123'::timestamp + (i / 3) * interval '1 microsecond',
      '2024-05-01 10:00:00.123+08'::timestamptz + (i / 3) * interval '1 microsecond' FROM generate_series(0, 89) AS i`);
    const after: Record<string, Cursor> = {};
    for (const cursor of ['ts', 'tstz']) {
      const all = await drain(source({ table: 'micro', key: 'id', cursor }), null, 4);
      expect(ids(all.rows), cursor).toEqual(range(0, 89));
      const c = (all.cursor as { c: unknown }).c;
      expect(typeof c).toBe('string');
      expect(c as string).toMatch(
        cursor === 'ts' ? /^2024-05-01 10:00:00\.123029$/ : /^2024-05-01 \d\d:00:00\.123029[+-]\d\d/,
      );
      after[cursor] = all.cursor;
    }
    // A row one microsecond after the last cursor is read from the stored cursor; nothing before comes again.
    await server.query(
      "INSERT INTO micro VALUES (1000, '2024-05-01 10:00:00.123030', '2024-05-01 10:00:00.123030+08')",
    );
    for (const cursor of ['ts', 'tstz']) {
      const more = await drain(source({ table: 'micro', key: 'id', cursor }), after[cursor]!, 4);
      expect(ids(more.rows), cursor).toEqual([1000]);
    }
    const row = (await source({ table: 'micro', key: 'id' }).lookup({ id: 5 }))!;
    // Exact to the microsecond; the timestamp without zone is wall-clock text, the timestamptz an instant in UTC.
    expect(row['ts']).toEqual(new Temporal('timestamp', '2024-05-01T10:00:00.123001'));
    expect(row['tstz']).toEqual(new Temporal('timestamptz', '2024-05-01T02:00:00.123001Z'));
  });

  it('postgres - full mode pages by key order and starts over from null', async () => {
    await server.query('CREATE TABLE codes (code text PRIMARY KEY, label text)');
    const codes = ['b07', 'a01', 'c11', 'a02', 'b01', 'z99', 'c02', 'a10', 'b02', 'm50'];
    for (const c of codes) await server.query('INSERT INTO codes VALUES ($1, $2)', [c, `label ${c}`]);
    const src = source({ table: 'codes', key: 'code' });
    expect(src.mode).toBe('full');
    const pass = await drain(src, null, 3);
    expect(pass.rows.map((r) => r['code'])).toEqual([...codes].sort());
    expect(pass.rows[0]).toEqual({ code: 'a01', label: 'label a01' });
    expect(pass.cursor).toEqual({ k: 'z99' });
    const again = await src.read(null, 3);
    expect(again.rows.map((r) => r['code'])).toEqual(['a01', 'a02', 'a10']);
    expect(again.exhausted).toBe(false);
  });

  it('postgres - tombstones come from the deleted column, lookup hides them, values are exact model values', async () => {
    await server.query(`CREATE TABLE people (id bigint PRIMARY KEY, name text, birth date, score numeric(8, 2), big bigint, tags jsonb,
      updated_at bigint NOT NULL, deleted boolean NOT NULL DEFAULT false)`);
    await server.query(`INSERT INTO people VALUES
      (1, '张三', '1990-02-28', 12.50, 9007199254740993, '{"a": 1}', 10, false),
      (2, '李四', NULL, NULL, 42, NULL, 11, true),
      (3, '王五', '2000-01-01', 0, NULL, NULL, 12, false)`);
    const src = source({ table: 'people', key: 'id', cursor: 'updated_at', deleted: 'deleted' });
    const page = await src.read(null, 10);
    expect(page.ops).toEqual(['u', 'd', 'u']);
    expect(page.rows[0]).toEqual({
      id: 1,
      name: '张三',
      birth: new Temporal('date', '1990-02-28'),
      score: new Decimal('12.50'),
      big: 9007199254740993n,
      tags: new JsonText('{"a": 1}'),
      updated_at: 10,
    });
    expect(page.rows.every((r) => !('deleted' in r))).toBe(true);
    expect(page.cursor).toEqual({ c: '12', k: '3' });
    expect(JSON.parse(JSON.stringify(page.rows[1]))).toEqual({
      id: 2,
      name: '李四',
      birth: null,
      score: null,
      big: 42,
      tags: null,
      updated_at: 11,
    });

    expect(await src.lookup({ id: 3 })).toEqual({
      id: 3,
      name: '王五',
      birth: new Temporal('date', '2000-01-01'),
      score: new Decimal('0.00'),
      big: null,
      tags: null,
      updated_at: 12,
    });
    expect(await src.lookup({ id: '1' })).toMatchObject({ id: 1, name: '张三' });
    expect(await src.lookup({ id: 2 })).toBeUndefined();
    expect(await src.lookup({ id: 99 })).toBeUndefined();
    await expect(src.lookup({ name: '张三' })).rejects.toThrow(
      /binding src: cannot look up by "name" \(query keys: id\)/,
    );
    const byName = source({ table: 'people', key: 'id', deleted: 'deleted', queryKeys: ['id', 'name'] });
    expect(await byName.lookup({ name: '王五' })).toMatchObject({ id: 3, birth: new Temporal('date', '2000-01-01') });
    expect(await byName.lookup({ name: '李四' })).toBeUndefined();

    await server.query('UPDATE people SET deleted = true, updated_at = 13 WHERE id = 3');
    const next = await src.read(page.cursor, 10);
    expect(ids(next.rows)).toEqual([3]);
    expect(next.ops).toEqual(['d']);
  });

  it('postgres - a numeric or text deleted column holding 0 is not a tombstone; 1 is', async () => {
    await server.query('CREATE TABLE marks (id int PRIMARY KEY, n numeric(1), t text, updated_at int NOT NULL)');
    await server.query("INSERT INTO marks VALUES (1, 0, '0', 1), (2, 1, 'no', 2), (3, 0.0, 'true', 3)");
    expect(
      (await source({ table: 'marks', key: 'id', cursor: 'updated_at', deleted: 'n' }).read(null, 10)).ops,
    ).toEqual(['u', 'd', 'u']);
    expect(
      (await source({ table: 'marks', key: 'id', cursor: 'updated_at', deleted: 't' }).read(null, 10)).ops,
    ).toEqual(['u', 'u', 'd']);
  });

  it('postgres - bad config and an unreachable server are reported with the binding named', async () => {
    // Any name is quoted, so a hostile one is only a table that does not exist.
    await expect(source({ table: 'x"; drop table people; --', key: 'id' }).read(null, 10)).rejects.toThrow(
      /binding src: table public\.x"; drop table people; -- does not exist/,
    );
    expect(await server.query("SELECT to_regclass('public.people')::text AS t")).toEqual([{ t: 'people' }]);
    expect(() => new PostgresSource('src', { type: 'postgres', url: server.url, table: 't', key: '' })).toThrow(
      /binding src: an identifier is empty/,
    );
    expect(
      () => new PostgresSource('src', { type: 'postgres', url: server.url, table: '表'.repeat(22), key: 'id' }),
    ).toThrow(/longer than 63 bytes/);
    expect(
      () => new PostgresSource('src', { type: 'postgres', url: server.url, table: 'people', key: ['a', 'b'] }),
    ).toThrow(/exactly one key column/);
    await expect(source({ table: 'no_such_table', key: 'id' }).read(null, 10)).rejects.toThrow(
      /binding src: table public\.no_such_table does not exist/,
    );
    await server.query('CREATE TABLE cfgcheck (id int PRIMARY KEY)');
    await expect(source({ table: 'cfgcheck', key: 'id', cursor: 'nope' }).read(null, 10)).rejects.toThrow(
      /binding src: table public\.cfgcheck has no cursor column nope/,
    );
    await expect(source({ table: 'cfgcheck', key: 'code' }).read(null, 10)).rejects.toThrow(/has no key column code/);
    const port = await freePort();
    const down = new PostgresSource('src', {
      type: 'postgres',
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: 'secret',
      database: 'x',
      table: 't',
      key: 'id',
    });
    opened.push(down);
    const err = await down.read(null, 10).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(
      new RegExp(`^binding src: cannot connect to postgres at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
    expect(err?.message).not.toContain('secret');
  });
});

const HINT: SinkSchemaHint = {
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'name', type: 'string' },
    { name: 'score', type: 'number' },
    { name: 'active', type: 'boolean' },
    { name: 'birth', type: 'date' },
    { name: 'seen_at', type: 'datetime' },
    { name: 'extra' },
  ],
  keyColumns: [],
};
const COLS = HINT.columns.map((c) => c.name);

function batch(batchId: string, rows: unknown[][], ops?: ('u' | 'd')[], columns = COLS): SinkBatch {
  return { batchId, columns, rows, ops: ops ?? rows.map(() => 'u') };
}

async function ledger(schemaTable = '_xchg_ledger'): Promise<Record<string, unknown>[]> {
  return server.query(`SELECT stream, last_seq, last_batch FROM ${schemaTable} ORDER BY stream`);
}

describe('postgres - sink', () => {
  it('postgres - the sink creates its table from the hint with the mapped types and the key', async () => {
    const s = sink({ table: 'created', key: 'id' }, HINT);
    expect(await s.lastSequence('n/t/1')).toBe(0);
    const cols = await server.query<{ column_name: string; data_type: string }>(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'created' ORDER BY ordinal_position",
    );
    expect(cols.map((c) => [c.column_name, c.data_type])).toEqual([
      ['id', 'bigint'],
      ['name', 'text'],
      ['score', 'double precision'],
      ['active', 'boolean'],
      ['birth', 'date'],
      ['seen_at', 'timestamp without time zone'],
      ['extra', 'text'],
    ]);
    const pk = await server.query<{ attname: string }>(
      "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'created'::regclass AND i.indisprimary",
    );
    expect(pk.map((r) => r.attname)).toEqual(['id']);
    expect(await server.query("SELECT to_regclass('public._xchg_ledger')::text AS t")).toEqual([{ t: '_xchg_ledger' }]);

    const b1 = [
      [
        1,
        '张三',
        1.5,
        true,
        new Temporal('date', '1990-02-28'),
        new Temporal('timestamp', '2024-05-01T02:00:00.123456'),
        new JsonText('{"note": "x"}'),
      ],
    ];
    expect(await s.apply('n/t/1', 1, batch('b1', b1))).toBe('applied');
    const rows = await server.query(
      'SELECT id, name, score, active, birth::text AS birth, seen_at::text AS seen, extra FROM created',
    );
    expect(rows).toEqual([
      {
        id: 1,
        name: '张三',
        score: 1.5,
        active: true,
        birth: '1990-02-28',
        seen: '2024-05-01 02:00:00.123456',
        extra: '{"note": "x"}',
      },
    ]);

    const bare = sink({ table: 'never_described', key: 'id' });
    await expect(bare.lastSequence('s')).rejects.toThrow(
      /binding dst: table public\.never_described does not exist and the task names no fields/,
    );
  });

  it('postgres - the sink upserts rows and deletes tombstones in batch order, and records the sequence', async () => {
    const s = sink({ table: 'upserts', key: 'id' }, HINT);
    const row = (id: number, name: string): unknown[] => [id, name, id / 2, id % 2 === 0, null, null, null];
    expect(
      await s.apply('a/t/1', 1, batch('b-1', [row(1, 'one'), row(2, 'two'), row(3, 'three'), row(4, 'four')])),
    ).toBe('applied');
    // Update 1, delete 2, insert 5, delete 3 then bring it back, and key 4 twice in one run: the last wins.
    const b2 = batch(
      'b-2',
      [
        row(1, 'ONE'),
        row(2, ''),
        row(5, 'five'),
        row(4, 'four?'),
        row(4, 'FOUR'),
        row(3, ''),
        row(3, 'THREE'),
        row(6, 'gone'),
      ],
      ['u', 'd', 'u', 'u', 'u', 'd', 'u', 'd'],
    );
    expect(await s.apply('a/t/1', 2, b2)).toBe('applied');
    expect(await server.query('SELECT id, name, score, active FROM upserts ORDER BY id')).toEqual([
      { id: 1, name: 'ONE', score: 0.5, active: false },
      { id: 3, name: 'THREE', score: 1.5, active: false },
      { id: 4, name: 'FOUR', score: 2, active: true },
      { id: 5, name: 'five', score: 2.5, active: false },
    ]);
    expect(await s.lastSequence('a/t/1')).toBe(2);
    expect((await ledger()).find((l) => l['stream'] === 'a/t/1')).toEqual({
      stream: 'a/t/1',
      last_seq: 2,
      last_batch: 'b-2',
    });
    // An empty batch (all quarantined upstream) still moves the stream on.
    expect(await s.apply('a/t/1', 3, batch('b-3', []))).toBe('applied');
    expect(await s.lastSequence('a/t/1')).toBe(3);
  });

  it('postgres - duplicate and gap batches write nothing', async () => {
    const s = sink({ table: 'strict', key: 'id' }, HINT);
    expect(await s.apply('d/t/1', 1, batch('b-1', [[1, 'first', null, null, null, null, null]]))).toBe('applied');
    const before = await server.query('SELECT * FROM strict ORDER BY id');
    const ledgerBefore = await ledger();

    expect(
      await s.apply(
        'd/t/1',
        1,
        batch('b-1-again', [
          [1, 'changed', null, null, null, null, null],
          [2, 'new', null, null, null, null, null],
        ]),
      ),
    ).toBe('duplicate');
    expect(await s.apply('d/t/1', 0, batch('b-0', [[3, 'zero', null, null, null, null, null]]))).toBe('duplicate');
    expect(await s.apply('d/t/1', 3, batch('b-3', [[4, 'gap', null, null, null, null, null]], ['u']))).toBe('gap');
    expect(await s.apply('d/t/1', 5, batch('b-5', [[1, '']], ['d'], ['id', 'name']))).toBe('gap');
    expect(await s.apply('other/t/1', 2, batch('o-2', [[9, 'other', null, null, null, null, null]]))).toBe('gap');

    expect(await server.query('SELECT * FROM strict ORDER BY id')).toEqual(before);
    expect(await ledger()).toEqual(ledgerBefore);
    expect(ledgerBefore.some((l) => l['stream'] === 'other/t/1')).toBe(false);
    expect(await s.lastSequence('d/t/1')).toBe(1);
    expect(await s.lastSequence('other/t/1')).toBe(0);
  });

  it('postgres - two sinks applying the same batch at once write it once', async () => {
    const a = sink({ table: 'racing', key: 'id' }, HINT);
    const b = sink({ table: 'racing', key: 'id' }, HINT);
    await a.lastSequence('r'); // creates the table once, before the race
    for (let seq = 1; seq <= 10; seq++) {
      const rows = [[seq, `row ${seq}`, null, null, null, null, null]];
      const outcomes = await Promise.all([
        a.apply('r/t/1', seq, batch(`b-${seq}`, rows)),
        b.apply('r/t/1', seq, batch(`b-${seq}`, rows)),
      ]);
      expect(outcomes.sort()).toEqual(['applied', 'duplicate']);
    }
    expect(await server.query('SELECT count(*)::int AS n FROM racing')).toEqual([{ n: 10 }]);
    expect(await a.lastSequence('r/t/1')).toBe(10);
  });

  it('postgres - sinks of several flows preparing one new schema at once all start (ledger and table created once)', async () => {
    // Each flow's sink creates the shared ledger table, and here also the same table, in the same moment: the
    // sinks of a department's subscriptions start together when the agent does.
    for (let round = 0; round < 5; round++) {
      const schema = `ddl_race_${round}`;
      await server.query(`CREATE SCHEMA ${schema}`);
      const sinks = Array.from({ length: 8 }, () => sink({ schema, table: 'created_together', key: 'id' }, HINT));
      const outcomes = await Promise.allSettled(sinks.map((s) => s.lastSequence('r/t/1')));
      expect(
        outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
      ).toEqual([]);
      expect(await sinks[3]!.apply('r/t/1', 1, batch('b-1', [[1, 'one', null, null, null, null, null]]))).toBe(
        'applied',
      );
      expect(await server.query(`SELECT count(*)::int AS n FROM ${schema}.created_together`)).toEqual([{ n: 1 }]);
    }
  });

  it('postgres - a record the database refuses is handed back with its reason; the rest of the batch and the ledger commit', async () => {
    await server.query('CREATE TABLE strict_nn (id bigint PRIMARY KEY, name text NOT NULL, note text)');
    const s = sink({ table: 'strict_nn', key: 'id' }, HINT);
    const cols = ['id', 'name', 'note'];
    expect(
      await s.apply(
        'f/t/1',
        1,
        batch(
          'b-1',
          [
            [1, 'a', null],
            [2, 'b', null],
            [3, 'c', null],
          ],
          undefined,
          cols,
        ),
      ),
    ).toBe('applied');
    const before = await server.query('SELECT * FROM strict_nn ORDER BY id');
    const ledgerBefore = await ledger();
    // Statements that succeed (an upsert run, a delete) precede the one that violates NOT NULL.
    const bad = batch(
      'b-2',
      [
        [1, 'A', 'x'],
        [4, 'd', null],
        [2, '', null],
        [5, null, 'no name'],
      ],
      ['u', 'u', 'd', 'u'],
      cols,
    );
    const refused: RefusedRecord[] = [];
    expect(await s.apply('f/t/1', 2, bad, { onRefused: (r) => refused.push(...r) })).toBe('applied');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.index).toBe(3);
    expect(refused[0]!.reason).toMatch(/null value in column "name".*not-null.*\(23502\)/);
    expect(await server.query('SELECT id, name, note FROM strict_nn ORDER BY id')).toEqual([
      { id: 1, name: 'A', note: 'x' },
      { id: 3, name: 'c', note: null },
      { id: 4, name: 'd', note: null },
    ]);
    expect(before).toHaveLength(3);
    expect(ledgerBefore.filter((l) => l['stream'] === 'f/t/1')).toEqual([
      { stream: 'f/t/1', last_seq: 1, last_batch: 'b-1' },
    ]);
    expect(await s.lastSequence('f/t/1')).toBe(2);
    // NUL in text, an out-of-range integer, '' in a NOT NULL column: only the NUL and the range are refused.
    await server.query('CREATE TABLE poison (id bigint PRIMARY KEY, name text NOT NULL, n int)');
    const p = sink({ table: 'poison', key: 'id' }, HINT);
    const pr: RefusedRecord[] = [];
    const prow = [
      [1, 'a\u0000b', 1],
      [2, 'ok', 2],
      [3, '', 3],
      [4, 'big', 2 ** 40],
      [5, 'last', 5],
    ];
    expect(
      await p.apply('p/t/1', 1, batch('p-1', prow, undefined, ['id', 'name', 'n']), {
        onRefused: (r) => pr.push(...r),
      }),
    ).toBe('applied');
    expect(pr.map((r) => r.index)).toEqual([0, 3]);
    expect(pr[0]!.reason).toMatch(/0x00.*\(22021\)/);
    expect(pr[1]!.reason).toMatch(/out of range.*\(22003\)/);
    expect(await server.query('SELECT id, name, n FROM poison ORDER BY id')).toEqual([
      { id: 2, name: 'ok', n: 2 },
      { id: 3, name: '', n: 3 },
      { id: 5, name: 'last', n: 5 },
    ]);
  });

  it('postgres - a value of the wrong kind for bytea or text is refused, not converted; JSON arrays fill array columns exactly', async () => {
    await server.query('CREATE TABLE kinds (id bigint PRIMARY KEY, b bytea, t text, a int8[], s text[])');
    const s = sink({ table: 'kinds', key: 'id' });
    const refused: RefusedRecord[] = [];
    const rows = [
      [
        1,
        Buffer.from([0xc3, 0x28]),
        'ok',
        new JsonText('[1, null, 9007199254740993]'),
        new JsonText('["a,b", "NULL", null, ""]'),
      ],
      [2, 42, 'x', null, null],
      [3, null, Buffer.from('abc'), null, null],
    ];
    expect(
      await s.apply('k/t/1', 1, batch('k-1', rows, undefined, ['id', 'b', 't', 'a', 's']), {
        onRefused: (r) => refused.push(...r),
      }),
    ).toBe('applied');
    expect(refused).toEqual([
      { index: 1, reason: 'number 42 cannot go into a bytea column unchanged (expected binary)' },
      { index: 2, reason: '3 bytes of binary cannot go into a text column unchanged (expected text)' },
    ]);
    expect(
      await server.query("SELECT id::int AS id, encode(b, 'hex') AS b, t, a::text AS a, s::text AS s FROM kinds"),
    ).toEqual([{ id: 1, b: 'c328', t: 'ok', a: '{1,NULL,9007199254740993}', s: '{"a,b","NULL",NULL,""}' }]);
  });

  it('postgres - one batch with more values than the 65535 parameter limit is written whole', async () => {
    const hint: SinkSchemaHint = {
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'a', type: 'string' },
        { name: 'b', type: 'number' },
        { name: 'c', type: 'boolean' },
      ],
      keyColumns: [],
    };
    const s = sink({ table: 'big', key: 'id' }, hint);
    const n = 3 * Math.ceil(65_535 / 4) + 17; // four chunks of rows
    const rows = Array.from({ length: n }, (_, i) => [i + 1, `名字${i + 1}`, (i + 1) * 0.25, i % 3 === 0]);
    expect(
      await s.apply('big/t/1', 1, { batchId: 'big-1', columns: ['id', 'a', 'b', 'c'], rows, ops: rows.map(() => 'u') }),
    ).toBe('applied');
    expect(
      await server.query(
        'SELECT count(*)::int AS n, sum(b)::float8 AS s, count(*) FILTER (WHERE c)::int AS t FROM big',
      ),
    ).toEqual([{ n, s: (n * (n + 1)) / 2 / 4, t: Math.ceil(n / 3) }]);
    expect(await server.query('SELECT id, a, b, c FROM big WHERE id IN (1, $1) ORDER BY id', [n])).toEqual([
      { id: 1, a: '名字1', b: 0.25, c: true },
      { id: n, a: `名字${n}`, b: n * 0.25, c: (n - 1) % 3 === 0 },
    ]);
    // As many tombstones in the next batch.
    const dels = rows.map((r) => [r[0]]);
    expect(
      await s.apply('big/t/1', 2, { batchId: 'big-2', columns: ['id'], rows: dels, ops: dels.map(() => 'd') }),
    ).toBe('applied');
    expect(await server.query('SELECT count(*)::int AS n FROM big')).toEqual([{ n: 0 }]);
  });

  it('postgres - a sink that cannot reach its server says where on every call', async () => {
    const port = await freePort();
    const down = new PostgresSink(
      'dst',
      { type: 'postgres', host: '127.0.0.1', port, user: 'postgres', table: 't', key: 'id' },
      HINT,
    );
    opened.push(down);
    await expect(down.lastSequence('s')).rejects.toThrow(
      new RegExp(`^binding dst: cannot connect to postgres at 127\\.0\\.0\\.1:${port}: `),
    );
    await expect(down.apply('s', 1, batch('b', []))).rejects.toThrow(/cannot connect to postgres/);
    expect(
      () => new PostgresSink('dst', { type: 'postgres', url: server.url, table: 'ok', key: 'id\u0000' }, HINT),
    ).toThrow(/binding dst: identifier "id\\u0000" contains NUL/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Both directions through the real data plane: nats-server, central and two agents as processes.

const CITIZEN_FIELDS = [
  { name: 'id', type: 'integer', required: true },
  { name: 'name', type: 'string', required: true },
  { name: 'birth_date', type: 'date' },
  { name: 'score', type: 'number' },
  { name: 'active', type: 'boolean' },
  { name: 'registered_at', type: 'datetime' },
  { name: 'updated_at', type: 'string' },
] as const;

describe('postgres - end to end through the data plane', () => {
  const ROWS_PG = 700;
  const ROWS_SQLITE = 3_000;
  const dir = tmpDir('xchg-pg-e2e-');
  const populationPath = join(dir, 'population.db');
  const citizenSinkPath = join(dir, 'citizen.db');
  let nats: NatsServer;
  let central: CentralProcess;
  let provider: AgentProcess;
  let consumer: AgentProcess;

  beforeAll(async () => {
    // Provider's PostgreSQL table: microsecond cursors in tie groups of 10, read 7 rows a page.
    await server.query(`CREATE TABLE citizen (id bigint PRIMARY KEY, name text NOT NULL, birth_date date, score numeric(8, 2), active boolean NOT NULL,
      registered_at timestamptz(3), updated_at timestamp(6) NOT NULL, deleted boolean NOT NULL DEFAULT false)`);
    await server.query(`INSERT INTO citizen SELECT i, '居民' || i, CASE WHEN i % 9 = 0 THEN NULL ELSE date '1950-01-01' + i * 17 END,
      CASE WHEN i % 11 = 0 THEN NULL ELSE round((i * 1.37)::numeric, 2) END, i % 2 = 0,
      timestamptz '2024-01-01 08:00:00.000+08' + i * interval '1.001 second',
      timestamp '2024-05-01 08:00:00' + (i / 10) * interval '1 microsecond', false
      FROM generate_series(1, ${ROWS_PG}) AS i`);
    await server.query('CREATE SCHEMA mzj');
    seedPopulation(populationPath, ROWS_SQLITE);

    nats = await NatsServer.start();
    central = await CentralProcess.start({ natsUrls: [nats.url], heartbeatTtlMs: 3_000 });
    const api = new Api(central.url, central.adminToken);
    await api.seedDepartment('gat');
    await api.seedDepartment('mzj');
    const dataPlane = { receiptTimeoutMs: 2_000, runReportIntervalMs: 500, pollIntervalMs: 100 };
    provider = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('gat', 'gat-01'),
      config: {
        dataPlane,
        sources: {
          citizens: {
            type: 'postgres',
            url: server.url,
            table: 'citizen',
            key: 'id',
            cursor: 'updated_at',
            deleted: 'deleted',
          },
          population: {
            type: 'sqlite',
            path: populationPath,
            table: 'person',
            key: 'id',
            cursor: 'updated_at',
            deleted: 'deleted',
          },
        },
      },
    });
    consumer = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('mzj', 'mzj-01'),
      config: {
        dataPlane,
        sinks: {
          citizens_in: { type: 'sqlite', path: citizenSinkPath, table: 'citizen', key: 'id', synchronous: 'NORMAL' },
          people_in: { type: 'postgres', url: server.url, schema: 'mzj', table: 'person', key: 'id' },
        },
      },
    });
    const providerId = await provider.nodeId;
    const consumerId = await consumer.nodeId;
    const pair = async (sub: string, from: string, to: string, params: Record<string, unknown>): Promise<void> => {
      await api.ok('POST', '/tasks', {
        name: `${sub}-in`,
        kind: 'exchange',
        nodeId: consumerId,
        peerNodeId: providerId,
        subscriptionId: sub,
        binding: to,
        params,
      });
      await api.ok('POST', '/tasks', {
        name: `${sub}-out`,
        kind: 'sync',
        nodeId: providerId,
        peerNodeId: consumerId,
        subscriptionId: sub,
        binding: from,
        params,
      });
    };
    await pair('sub-citizens', 'citizens', 'citizens_in', { fields: CITIZEN_FIELDS, batchRecords: 7 });
    await pair('sub-population', 'population', 'people_in', { fields: PERSON_FIELDS });
  });

  afterAll(async () => {
    await Promise.all([provider?.stop('SIGKILL'), consumer?.stop('SIGKILL')]);
    await central?.stop();
    await nats?.stop();
  });

  /** PostgreSQL citizen rows (live ones) as the SQLite sink should hold them, against what it holds. */
  async function compareCitizens(): Promise<{ problems: string[]; rows: number }> {
    const want =
      await server.query(`SELECT id, name, birth_date, score::text AS score, CASE WHEN active THEN 1 ELSE 0 END AS active,
      to_json(registered_at AT TIME ZONE 'UTC') #>> '{}' || 'Z' AS registered_at, to_json(updated_at) #>> '{}' AS updated_at
      FROM citizen WHERE NOT deleted ORDER BY id`);
    let got: Record<string, unknown>[] = [];
    try {
      const db = new Database(citizenSinkPath, { readonly: true, fileMustExist: true });
      try {
        got = db
          .prepare('SELECT id, name, birth_date, score, active, registered_at, updated_at FROM citizen ORDER BY id')
          .all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    } catch {
      /* not created yet */
    }
    return diff(
      want.map((r) => ({ ...r, score: r['score'] === null ? null : Number(r['score']) })),
      got,
    );
  }

  /** The SQLite population (live, masked) as the PostgreSQL sink should hold it, against what it holds. */
  async function comparePopulation(): Promise<{ problems: string[]; rows: number }> {
    const src = new Database(populationPath, { readonly: true });
    const people = src.prepare('SELECT * FROM person WHERE deleted = 0 ORDER BY id').all() as Record<string, unknown>[];
    src.close();
    const want = people.map((p) =>
      Object.fromEntries(
        PERSON_FIELDS.map((f) => [
          'as' in f ? f.as : f.name,
          'mask' in f ? mask(p[f.name], f.mask as MaskRule) : p[f.name],
        ]),
      ),
    );
    const got = await server.query('SELECT * FROM mzj.person ORDER BY id').catch(() => []);
    return diff(want, got);
  }

  it('postgres - a PostgreSQL source reaches a SQLite sink and a SQLite source a PostgreSQL sink, row by row', async () => {
    await waitFor(
      async () => (await compareCitizens()).rows === ROWS_PG && (await comparePopulation()).rows === ROWS_SQLITE,
      90_000,
      300,
      'both sinks to fill',
    );
    const citizens = await compareCitizens();
    expect(citizens.problems).toEqual([]);
    expect(citizens.rows).toBe(ROWS_PG);
    const population = await comparePopulation();
    expect(population.problems).toEqual([]);
    expect(population.rows).toBe(ROWS_SQLITE);
    // Spot checks of the conversions, beyond "equal to the expectation computed above".
    const dst = new Database(citizenSinkPath, { readonly: true });
    expect(dst.prepare('SELECT * FROM citizen WHERE id = 10').get()).toEqual({
      // ISO 8601 text: the instant in UTC (PostgreSQL's own trailing-zero-free fraction), the wall clock unshifted.
      id: 10,
      name: '居民10',
      birth_date: '1950-06-20',
      score: 13.7,
      active: 1,
      registered_at: '2024-01-01T00:00:10.01Z',
      updated_at: '2024-05-01T08:00:00.000001',
    });
    dst.close();
    const ledgers = await server.query<{ stream: string; last_seq: number }>(
      'SELECT stream, last_seq FROM mzj._xchg_ledger',
    );
    expect(ledgers).toHaveLength(1);
    expect(ledgers[0]!.last_seq).toBeGreaterThan(0);
  });

  it('postgres - updates, deletes and inserts at either source follow to the other side', async () => {
    await server.query("UPDATE citizen SET name = '改名', updated_at = '2024-05-01 08:00:01.000001' WHERE id = 7");
    await server.query("UPDATE citizen SET deleted = true, updated_at = '2024-05-01 08:00:01.000002' WHERE id = 8");
    await server.query(
      `INSERT INTO citizen VALUES (${ROWS_PG + 1}, '新居民', '2001-02-03', 1.5, true, now(), '2024-05-01 08:00:01.000002', false)`,
    );
    const src = new Database(populationPath);
    const now = Date.now();
    src.prepare("UPDATE person SET name = '测试人', updated_at = ? WHERE id = 7").run(now);
    src.prepare('UPDATE person SET deleted = 1, updated_at = ? WHERE id = 8').run(now + 1);
    src.close();
    await waitFor(
      async () => {
        const [c, p] = [await compareCitizens(), await comparePopulation()];
        return c.problems.length === 0 && c.rows === ROWS_PG && p.problems.length === 0 && p.rows === ROWS_SQLITE - 1;
      },
      60_000,
      300,
      'both sinks to follow the changes',
    );
    expect(await server.query('SELECT xm FROM mzj.person WHERE id IN (7, 8)')).toEqual([{ xm: '测*人' }]);
    const dst = new Database(citizenSinkPath, { readonly: true });
    expect(dst.prepare('SELECT id, name FROM citizen WHERE id IN (7, 8) ORDER BY id').all()).toEqual([
      { id: 7, name: '改名' },
    ]);
    dst.close();
  });
});

/** Compares two id-ordered row lists field by field; lists at most 20 problems. */
function diff(want: Record<string, unknown>[], got: Record<string, unknown>[]): { problems: string[]; rows: number } {
  const problems: string[] = [];
  const byId = new Map(got.map((r) => [r['id'], r]));
  let rows = 0;
  for (const w of want) {
    const g = byId.get(w['id']);
    byId.delete(w['id']);
    if (!g) {
      problems.push(`missing row id ${String(w['id'])}`);
      continue;
    }
    rows++;
    for (const [k, v] of Object.entries(w))
      if (g[k] !== v)
        problems.push(`row ${String(w['id'])} field ${k}: want ${JSON.stringify(v)} got ${JSON.stringify(g[k])}`);
  }
  for (const id of byId.keys()) problems.push(`extra row id ${String(id)}`);
  return { problems: problems.slice(0, 20), rows };
}
