// The MariaDB connector against a real mariadbd started by our helper: exact values of every common type
// read into the model (in the agent's zones Asia/Shanghai and America/New_York), zero dates refused per
// record, cursor paging with microsecond and 64-bit cursors through JSON, tombstones, lookups, identifiers
// MariaDB allows (人口信息, 姓名, digits first, spaces, backticks, reserved words); the sink's upserts,
// deletes, ledger, table creation, refusals and 16 MiB values; and MariaDB → MariaDB through real agents.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mariadbIdent } from '../../node-agent/src/connectors/mariadb/connection.js';
import { MariadbSink, type MariadbSinkConfig } from '../../node-agent/src/connectors/mariadb/dialect.js';
import { MariadbSource, type MariadbSourceConfig } from '../../node-agent/src/connectors/mariadb/source.js';
import { openSink, openSource } from '../../node-agent/src/connectors/index.js';
import type { Cursor, RefusedRecord, SinkBatch, SinkSchemaHint } from '../../node-agent/src/connectors/types.js';
import { Decimal, JsonText, Temporal } from '../../node-agent/src/values/value.js';
import { AgentProcess } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { MariadbServer } from '../helpers/mariadb.js';
import { NatsServer, freePort } from '../helpers/nats-server.js';
import { waitFor } from '../helpers/wait-for.js';

let server: MariadbServer;
beforeAll(async () => {
  server = await MariadbServer.start();
});
afterAll(async () => {
  await server?.stop();
});

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

function source(cfg: Omit<MariadbSourceConfig, 'type'>): MariadbSource {
  const s = new MariadbSource('src', { type: 'mariadb', ...server.connection, ...cfg });
  opened.push(s);
  return s;
}

function sink(cfg: Omit<MariadbSinkConfig, 'type'>, hint?: SinkSchemaHint): MariadbSink {
  const s = new MariadbSink('dst', { type: 'mariadb', ...server.connection, ...cfg }, hint);
  opened.push(s);
  return s;
}

/** Reads until exhausted, passing the cursor through JSON each time as the spool stores it; fails past `maxRows` (a cursor that repeats rows). */
async function drain(
  src: MariadbSource,
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

/** Runs fn with the process in time zone `tz` (Node applies a new TZ at once), checking the zone took effect. */
async function inZone<T>(tz: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env['TZ'];
  process.env['TZ'] = tz;
  try {
    // 2024-03-10 02:30 does not exist in New York (clocks jump to 03:30); it does in Shanghai.
    expect(new Date(2024, 2, 10, 2, 30).getHours(), `TZ=${tz} in effect`).toBe(tz === 'America/New_York' ? 3 : 2);
    return await fn();
  } finally {
    if (before === undefined) delete process.env['TZ'];
    else process.env['TZ'] = before;
  }
}

const ids = (rows: Record<string, unknown>[]): unknown[] => rows.map((r) => r['id']);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ts = (text: string): Temporal => new Temporal('timestamp', text);

// Every common type with its edge values, as MariaDB holds them and as the model must carry them (TIME
// beyond a day, or negative, is MariaDB's own text: it is not a time of day).
const EDGE_DDL = `(id INT PRIMARY KEY, i64 BIGINT, u64 BIGINT UNSIGNED, d DECIMAL(38, 10), f FLOAT, g DOUBLE, s VARCHAR(100), t TEXT,
  code VARCHAR(20), idno CHAR(18), dt DATE, ts DATETIME(6), tz TIMESTAMP(6) NULL DEFAULT NULL, tm TIME(6), bl LONGBLOB, vb VARBINARY(16),
  bn BINARY(3), j JSON, b1 BIT(1), ti TINYINT(1), b12 BIT(12), st SET('x', 'y'), en ENUM('a', 'b')) DEFAULT CHARSET = utf8mb4`;
const EDGE_COLS = [
  'id',
  'i64',
  'u64',
  'd',
  'f',
  'g',
  's',
  't',
  'code',
  'idno',
  'dt',
  'ts',
  'tz',
  'tm',
  'bl',
  'vb',
  'bn',
  'j',
  'b1',
  'ti',
  'b12',
  'st',
  'en',
];
const EDGE_ROWS: Record<string, unknown>[] = [
  {
    id: 1,
    i64: -(2n ** 63n),
    u64: 2n ** 64n - 1n,
    d: new Decimal('1234567890123456789012345678.0123456789'),
    f: 1.5,
    g: 0.1,
    s: '',
    t: null,
    code: '000123',
    idno: '11010519491231002X',
    dt: new Temporal('date', '1900-01-01'),
    ts: ts('1900-01-01T00:00:00.000001'),
    tz: new Temporal('timestamptz', '2024-05-01T10:00:00.123456Z'),
    tm: new Temporal('time', '23:59:59.999999'),
    bl: Buffer.alloc(0),
    vb: Buffer.from([0x00, 0xff]),
    bn: Buffer.from('ab\0'),
    j: new JsonText('{"a": 12345678901234567890, "b": "张"}'),
    b1: true,
    ti: 1,
    b12: 2730,
    st: 'x,y',
    en: 'b',
  },
  {
    id: 2,
    i64: 2n ** 63n - 1n,
    u64: 0,
    d: new Decimal('-0.0000000001'),
    f: -0.25,
    g: -1e308,
    s: null,
    t: 'NULL',
    code: '0',
    idno: '440301199001010011',
    dt: new Temporal('date', '2024-02-29'),
    ts: ts('2024-03-10T02:30:00.5'),
    tz: null,
    tm: '-838:59:59',
    bl: null,
    vb: Buffer.alloc(0),
    bn: Buffer.from([0, 0, 0]),
    j: new JsonText('[]'),
    b1: false,
    ti: 0,
    b12: 0,
    st: '',
    en: 'a',
  },
  {
    id: 3,
    i64: 2 ** 53 - 1,
    u64: 2n ** 53n,
    d: new Decimal('0.0000000000'),
    f: 0,
    g: 5e-324,
    s: ' ',
    t: '\t \n',
    code: '0012',
    idno: '11010519491231002x',
    dt: new Temporal('date', '9999-12-31'),
    ts: ts('1991-04-14T02:30:00'),
    tz: new Temporal('timestamptz', '1970-01-01T00:00:01Z'),
    tm: new Temporal('time', '00:00:00'),
    bl: Buffer.from([1, 2, 3]),
    vb: null,
    bn: null,
    j: new JsonText('{"n": 1.50}'),
    b1: null,
    ti: 2,
    b12: 4095,
    st: 'y',
    en: null,
  },
  {
    id: 4,
    i64: 2n ** 53n + 1n,
    u64: 2n ** 63n,
    d: new Decimal('-9999999999999999999999999999.9999999999'),
    f: null,
    g: 9007199254740992 /* 2^53 + 1 as a double reads it */,
    s: '😀𠮷',
    t: 'a\u0000b 😀',
    code: '00',
    idno: null,
    dt: null,
    ts: ts('2024-11-03T01:30:00.999999'),
    tz: new Temporal('timestamptz', '2038-01-19T03:14:07.999999Z'),
    tm: '100:00:00.5',
    bl: null,
    vb: null,
    bn: null,
    j: null,
    b1: null,
    ti: -128,
    b12: null,
    st: null,
    en: null,
  },
];

/** The edge rows as statement parameters (bigint as digits, Decimal/Temporal/JSON as text). */
function edgeParams(row: Record<string, unknown>): unknown[] {
  return EDGE_COLS.map((c) => {
    const v = row[c];
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Temporal) return v.text.replace('T', ' ').replace('Z', '');
    if (v instanceof Decimal || v instanceof JsonText) return v.text;
    if (typeof v === 'boolean') return v ? 1 : 0;
    return v;
  });
}

describe('mariadb - source values', () => {
  beforeAll(async () => {
    await server.query(`CREATE TABLE edge ${EDGE_DDL}`);
    for (const r of EDGE_ROWS)
      await server.query(`INSERT INTO edge VALUES (${EDGE_COLS.map(() => '?').join(', ')})`, edgeParams(r));
  });

  for (const zone of ['Asia/Shanghai', 'America/New_York']) {
    it(`mariadb - every type arrives as the exact model value with the agent in ${zone}`, async () => {
      const page = await inZone(zone, () => source({ table: 'edge', key: 'id' }).read(null, 10));
      expect(page.errors).toBeUndefined();
      expect(page.rows).toHaveLength(EDGE_ROWS.length);
      for (const [i, want] of EDGE_ROWS.entries()) expect(page.rows[i], `row ${i + 1}`).toStrictEqual(want);
      // The model's integer rule: number when safe, bigint otherwise.
      expect(typeof page.rows[2]!['i64']).toBe('number');
      expect(typeof page.rows[3]!['i64']).toBe('bigint');
      expect(page.cursor).toEqual({ k: '4' });
    });
  }

  it('mariadb - a zero date is refused for its row alone, with the reason and the original text', async () => {
    await server.query('CREATE TABLE zeros (id INT PRIMARY KEY, dt DATE, at DATETIME(6), seq INT NOT NULL)');
    // Only a permissive sql_mode lets them in (strict mode refuses), as old applications had.
    await server.query(
      "SET STATEMENT sql_mode = '' FOR INSERT INTO zeros VALUES (1, '2024-01-02', '2024-01-02 03:04:05', 1), (2, '0000-00-00', '2024-01-02 03:04:05', 2), (3, '2024-01-03', '2024-00-10 00:00:00', 3), (4, NULL, NULL, 4)",
    );
    const page = await source({ table: 'zeros', key: 'id', cursor: 'seq' }).read(null, 10);
    expect(ids(page.rows)).toEqual([1, 2, 3, 4]);
    expect(page.errors).toEqual([
      undefined,
      'column dt: zero date "0000-00-00" (MariaDB\'s placeholder for "no date") is not a date',
      'column at: zero date "2024-00-10 00:00:00.000000" (MariaDB\'s placeholder for "no date") is not a date',
      undefined,
    ]);
    expect(page.rows[0]).toStrictEqual({
      id: 1,
      dt: new Temporal('date', '2024-01-02'),
      at: ts('2024-01-02T03:04:05'),
      seq: 1,
    });
    expect(page.rows[1]!['dt']).toBe('0000-00-00');
    expect(page.rows[3]).toStrictEqual({ id: 4, dt: null, at: null, seq: 4 });
    expect(page.cursor).toEqual({ c: '4', k: '4' });
  });

  it('mariadb - a zero date as the cursor is read once and paging goes on past it', async () => {
    await server.query('CREATE TABLE zero_cursor (id INT PRIMARY KEY, at DATETIME NOT NULL)');
    await server.query(
      "SET STATEMENT sql_mode = '' FOR INSERT INTO zero_cursor VALUES (1, '0000-00-00 00:00:00'), (2, '0000-00-00 00:00:00'), (3, '2024-01-01 00:00:00')",
    );
    const all = await drain(source({ table: 'zero_cursor', key: 'id', cursor: 'at' }), null, 1);
    expect(ids(all.rows)).toEqual([1, 2, 3]);
    expect(all.cursor).toEqual({ c: '2024-01-01 00:00:00', k: '3' });
  });
});

describe('mariadb - source paging', () => {
  it('mariadb - microsecond DATETIME cursors in tie groups round-trip through JSON: nothing skipped, nothing repeated', async () => {
    await server.query(
      'CREATE TABLE micro (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(20) NOT NULL, at DATETIME(6) NOT NULL, KEY (at, id))',
    );
    // 90 rows in one millisecond, cursors differing only in microseconds, groups of 3 equal; pages of 4.
    const values = range(0, 89).map(
      (i) => `(${i}, 'v${i}', '2024-05-01 10:00:00.123' + INTERVAL ${Math.floor(i / 3)} MICROSECOND)`,
    );
    await server.query(`INSERT INTO micro VALUES ${values.join(', ')}`);
    const src = source({ table: 'micro', key: 'id', cursor: 'at' });
    expect(src.mode).toBe('incremental');
    const all = await drain(src, null, 4);
    expect(ids(all.rows)).toEqual(range(0, 89));
    expect(all.pages).toBeGreaterThan(90 / 4);
    expect(all.cursor).toEqual({ c: '2024-05-01 10:00:00.123029', k: '89' });
    expect(all.rows[89]).toStrictEqual({ id: 89, v: 'v89', at: ts('2024-05-01T10:00:00.123029') });

    await server.query(
      "INSERT INTO micro VALUES (1000, 'later', '2024-05-01 10:00:00.123030'), (999, 'tie', '2024-05-01 10:00:00.123029')",
    );
    await server.query("UPDATE micro SET v = 'moved', at = '2024-05-01 10:00:00.123031' WHERE id = 5");
    const more = await drain(src, all.cursor, 4);
    expect(ids(more.rows)).toEqual([999, 1000, 5]);
    const idle = await src.read(more.cursor, 4);
    expect(idle).toEqual({ rows: [], ops: [], cursor: more.cursor, exhausted: true });
  });

  it('mariadb - a page after a cursor, sharded reads too, is an index range read: none scans the table or its whole index', async () => {
    await server.query(
      'CREATE TABLE plan_rec (id BIGINT PRIMARY KEY, payload VARCHAR(40) NOT NULL, updated_at BIGINT NOT NULL, KEY (updated_at, id))',
    );
    const values = range(1, 3000).map((i) => `(${i}, 'row ${i}', ${1000 + Math.floor(i / 7)})`);
    await server.query(`INSERT INTO plan_rec VALUES ${values.join(', ')}`);
    await server.query('ANALYZE TABLE plan_rec');
    // The server's general log holds each read as the server ran it (the driver puts the values in).
    await server.query("SET GLOBAL log_output = 'TABLE'");
    await server.query('TRUNCATE mysql.general_log');
    await server.query('SET GLOBAL general_log = 1');
    try {
      const src = source({ table: 'plan_rec', key: 'id', cursor: 'updated_at' });
      const first = await src.read(null, 2000);
      const after = await drain(src, first.cursor, 250);
      expect(after.rows.length).toBe(1000);
      const at = first.cursor as { c: unknown; k: unknown };
      const sharded = await src.read(
        {
          n: 2,
          parts: [
            { s: [0], ...at },
            { s: [1], ...at },
          ],
        },
        64,
      );
      expect(sharded.rows.length).toBe(64);
    } finally {
      await server.query('SET GLOBAL general_log = 0');
    }
    const logged = await server.query<{ argument: Buffer | string }>(
      "SELECT argument FROM mysql.general_log WHERE command_type = 'Query' AND argument LIKE 'SELECT%plan_rec%ORDER BY%'",
    );
    const reads = logged.map((r) => String(r.argument)).filter((sql) => /WHERE .*>/.test(sql));
    expect(reads.length).toBeGreaterThanOrEqual(5);
    expect(
      reads.some((sql) => /LEAST\(/.test(sql)),
      'a sharded read was planned',
    ).toBe(true);
    for (const sql of reads) {
      const plan = await server.query<{ table: string; type: string; key: string | null }>(`EXPLAIN ${sql}`);
      // 'range' starts at the cursor in the index; 'ALL' (the table) and 'index' (the whole index) start at its first row.
      expect({ sql, plan: plan.map((p) => [p.type, p.key]) }).toEqual({ sql, plan: [['range', 'updated_at']] });
    }
  });

  it('mariadb - BIGINT UNSIGNED cursors above 2^63 and TIMESTAMP cursors page exactly', async () => {
    await server.query(
      'CREATE TABLE seqs (code VARCHAR(10) PRIMARY KEY, seq BIGINT UNSIGNED NOT NULL, at TIMESTAMP(6) NOT NULL)',
    );
    const rows = range(0, 29).map(
      (i) =>
        `('c${String(i).padStart(3, '0')}', ${2n ** 63n + BigInt(Math.floor(i / 4))}, '2024-05-01 10:00:00.000001' + INTERVAL ${Math.floor(i / 4)} MICROSECOND)`,
    );
    await server.query(`INSERT INTO seqs VALUES ${rows.join(', ')}`);
    const bySeq = await drain(source({ table: 'seqs', key: 'code', cursor: 'seq' }), null, 3);
    expect(bySeq.rows.map((r) => r['code'])).toEqual(range(0, 29).map((i) => `c${String(i).padStart(3, '0')}`));
    expect(bySeq.rows[0]!['seq']).toBe(2n ** 63n);
    expect(bySeq.cursor).toEqual({ c: String(2n ** 63n + 7n), k: 'c029' });
    const byAt = await drain(source({ table: 'seqs', key: 'code', cursor: 'at' }), null, 3);
    expect(byAt.rows).toHaveLength(30);
    expect(byAt.rows[29]!['at']).toStrictEqual(new Temporal('timestamptz', '2024-05-01T10:00:00.000008Z'));
    expect(byAt.cursor).toEqual({ c: '2024-05-01 10:00:00.000008', k: 'c029' });
    await server.query(
      `INSERT INTO seqs VALUES ('b000', ${2n ** 63n + 7n}, '2024-05-01 10:00:00.000008'), ('d000', ${2n ** 63n + 7n}, '2024-05-01 10:00:00.000008')`,
    );
    expect(
      (await drain(source({ table: 'seqs', key: 'code', cursor: 'seq' }), bySeq.cursor, 3)).rows.map((r) => r['code']),
    ).toEqual(['d000']);
  });

  it('mariadb - Chinese and awkward identifiers: incremental with tombstones, full by key order, lookups by query keys', async () => {
    await server.query(`CREATE TABLE \`人口信息\` (\`身份证号\` CHAR(18) PRIMARY KEY, \`姓名\` VARCHAR(50) NOT NULL, \`1st col\` INT, \`select\` VARCHAR(10),
      \`back\`\`tick\` VARCHAR(10), \`更新时间\` DATETIME(6) NOT NULL, \`已删除\` TINYINT NOT NULL DEFAULT 0, KEY (\`姓名\`)) DEFAULT CHARSET = utf8mb4`);
    await server.query(`INSERT INTO \`人口信息\` VALUES
      ('11010519491231002X', '张三', 1, 'from', 'a\`b', '2024-05-01 08:00:00.000001', 0),
      ('000000000000000001', '李四', 2, NULL, '', '2024-05-01 08:00:00.000001', 1),
      ('440301199001010011', '王五', 3, 'where', NULL, '2024-05-01 08:00:00.000002', 0)`);
    const cfg = {
      table: '人口信息',
      key: '身份证号',
      cursor: '更新时间',
      deleted: '已删除',
      queryKeys: ['身份证号', '姓名'],
    };
    const src = source(cfg);
    const page = await src.read(null, 10);
    expect(page.rows.map((r) => r['身份证号'])).toEqual([
      '000000000000000001',
      '11010519491231002X',
      '440301199001010011',
    ]);
    expect(page.ops).toEqual(['d', 'u', 'u']);
    expect(page.rows[1]).toStrictEqual({
      身份证号: '11010519491231002X',
      姓名: '张三',
      '1st col': 1,
      select: 'from',
      'back`tick': 'a`b',
      更新时间: ts('2024-05-01T08:00:00.000001'),
    });
    expect(page.cursor).toEqual({ c: '2024-05-01 08:00:00.000002', k: '440301199001010011' });

    expect(await src.lookup({ 身份证号: '11010519491231002X' })).toMatchObject({ 姓名: '张三', 'back`tick': 'a`b' });
    expect(await src.lookup({ 姓名: '王五' })).toMatchObject({ 身份证号: '440301199001010011' });
    expect(await src.lookup({ 身份证号: '000000000000000001' })).toBeUndefined(); // a tombstone
    expect(await src.lookup({ 姓名: '无此人' })).toBeUndefined();
    await expect(src.lookup({ select: 'from' })).rejects.toThrow(
      /binding src: cannot look up by "select" \(query keys: 身份证号, 姓名\)/,
    );

    await server.query(
      "UPDATE `人口信息` SET `已删除` = 1, `更新时间` = '2024-05-01 08:00:00.000003' WHERE `姓名` = '王五'",
    );
    const next = await src.read(page.cursor, 10);
    expect(next.rows.map((r) => r['姓名'])).toEqual(['王五']);
    expect(next.ops).toEqual(['d']);

    const full = source({ table: '人口信息', key: '身份证号' });
    expect(full.mode).toBe('full');
    const pass = await drain(full, null, 2);
    expect(pass.rows.map((r) => r['身份证号'])).toEqual([
      '000000000000000001',
      '11010519491231002X',
      '440301199001010011',
    ]);
    expect(pass.rows[0]!['已删除']).toBe(1); // no deleted column configured: a plain value
  });

  it('mariadb - identifiers are quoted with backticks and refused only where MariaDB refuses them', () => {
    expect(mariadbIdent('人口信息', 'b')).toBe('`人口信息`');
    expect(mariadbIdent('back`tick', 'b')).toBe('`back``tick`');
    expect(mariadbIdent('1st col', 'b')).toBe('`1st col`');
    expect(mariadbIdent('select', 'b')).toBe('`select`');
    expect(() => mariadbIdent('', 'b')).toThrow(/binding b: invalid MariaDB identifier "": empty/);
    expect(() => mariadbIdent('a\u0000b', 'b')).toThrow(/contains NUL/);
    expect(() => mariadbIdent('表😀', 'b')).toThrow(/outside the Basic Multilingual Plane/);
    expect(() => mariadbIdent('x'.repeat(65), 'b')).toThrow(/longer than 64 characters/);
    expect(() => mariadbIdent('trailing ', 'b')).toThrow(/ends with a space/);
    expect(mariadbIdent('字'.repeat(64), 'b')).toBe('`' + '字'.repeat(64) + '`');
  });

  it('mariadb - bindings of type mariadb and mysql open the connector, by url or by fields', async () => {
    await server.query('CREATE TABLE opened (id INT PRIMARY KEY, v VARCHAR(5))');
    await server.query("INSERT INTO opened VALUES (1, 'a'), (2, '')");
    const byUrl = openSource('by-url', {
      type: 'mysql',
      url: `mysql://root@127.0.0.1:${server.port}/${server.database}`,
      table: 'opened',
      key: 'id',
    });
    opened.push(byUrl);
    expect((await byUrl.read(null, 10)).rows).toStrictEqual([
      { id: 1, v: 'a' },
      { id: 2, v: '' },
    ]);
    const sinkByFields = openSink(
      'by-fields',
      { type: 'mariadb', ...server.connection, table: 'opened', key: 'id' },
      { columns: [], keyColumns: [] },
    );
    opened.push(sinkByFields);
    expect(await sinkByFields.apply('o/t/1', 1, batch('o-1', ['id', 'v'], [[3, null]]))).toBe('applied');
    expect(await server.query('SELECT id, v FROM opened ORDER BY id')).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: '' },
      { id: 3, v: null },
    ]);
    expect(() =>
      openSource('bad-url', { type: 'mariadb', url: `postgres://root@127.0.0.1/x`, table: 'opened', key: 'id' }),
    ).toThrow('binding bad-url: url must start with mariadb:// or mysql://, not postgres://');
  });

  it('mariadb - bad config and an unreachable server are reported with the binding named', async () => {
    expect(
      () => new MariadbSource('src', { type: 'mariadb', ...server.connection, table: 'people', key: ['a', 'b'] }),
    ).toThrow(/exactly one key column/);
    expect(() => new MariadbSource('src', { type: 'mariadb', host: '127.0.0.1', table: 't', key: 'id' })).toThrow(
      /binding src: mariadb needs database/,
    );
    await expect(source({ table: 'no_such_table', key: 'id' }).read(null, 10)).rejects.toThrow(
      /binding src: table xchg_test\.no_such_table does not exist/,
    );
    await server.query('CREATE TABLE cfgcheck (id INT PRIMARY KEY, f DOUBLE, e ENUM("x"))');
    await expect(source({ table: 'cfgcheck', key: 'id', cursor: 'nope' }).read(null, 10)).rejects.toThrow(
      /binding src: table xchg_test\.cfgcheck has no cursor column nope/,
    );
    await expect(source({ table: 'cfgcheck', key: 'id', cursor: 'f' }).read(null, 10)).rejects.toThrow(
      /column f \(double\) cannot be the cursor/,
    );
    await expect(source({ table: 'cfgcheck', key: 'e' }).read(null, 10)).rejects.toThrow(
      /column e \(enum\('x'\)\) cannot be the key/,
    );
    const port = await freePort();
    const down = new MariadbSource('src', {
      type: 'mariadb',
      host: '127.0.0.1',
      port,
      user: 'root',
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
      new RegExp(`^binding src: cannot connect to mariadb at 127\\.0\\.0\\.1:${port}: .*(ECONNREFUSED|refused)`, 's'),
    );
    expect(err?.message).not.toContain('secret');
  });
});

// ---------------------------------------------------------------------------------------------------

function batch(batchId: string, columns: string[], rows: unknown[][], ops?: ('u' | 'd')[]): SinkBatch {
  return { batchId, columns, rows, ops: ops ?? rows.map(() => 'u') };
}

const PEOPLE_HINT: SinkSchemaHint = {
  columns: [
    { name: '身份证号', type: 'string' },
    { name: '姓名', type: 'string' },
    { name: 'n', type: 'integer' },
    { name: 'x', type: 'number' },
    { name: 'amount', type: 'decimal' },
    { name: 'ok', type: 'boolean' },
    { name: 'born', type: 'date' },
    { name: 'at', type: 'datetime' },
    { name: 'instant', type: 'timestamptz' },
    { name: 'clock', type: 'time' },
    { name: 'photo', type: 'binary' },
    { name: 'doc', type: 'json' },
    { name: 'note' },
  ],
  keyColumns: ['身份证号'],
};
const PEOPLE_COLS = PEOPLE_HINT.columns.map((c) => c.name);

describe('mariadb - sink', () => {
  it('mariadb - the sink creates its table from the hint with exact types and writes every model value exactly', async () => {
    const s = sink({ table: '人员 表', key: '身份证号' }, PEOPLE_HINT);
    expect(await s.lastSequence('n/t/1')).toBe(0);
    const cols = await server.query<{ COLUMN_NAME: string; COLUMN_TYPE: string; COLLATION_NAME: string | null }>(
      "SELECT COLUMN_NAME, COLUMN_TYPE, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'xchg_test' AND TABLE_NAME = '人员 表' ORDER BY ORDINAL_POSITION",
    );
    expect(cols.map((c) => [c.COLUMN_NAME, c.COLUMN_TYPE])).toEqual([
      ['身份证号', 'varchar(768)'],
      ['姓名', 'longtext'],
      ['n', 'bigint(20)'],
      ['x', 'double'],
      ['amount', 'decimal(65,30)'],
      ['ok', 'tinyint(1)'],
      ['born', 'date'],
      ['at', 'datetime(6)'],
      ['instant', 'timestamp(6)'],
      ['clock', 'time(6)'],
      ['photo', 'longblob'],
      ['doc', 'longtext'],
      ['note', 'longtext'],
    ]);
    expect(cols[0]!.COLLATION_NAME).toBe('utf8mb4_nopad_bin');

    const rows: unknown[][] = [
      [
        '11010519491231002X',
        '张三😀',
        -(2n ** 63n),
        0.1,
        new Decimal('12345678901234567890123456789012345.123456789012345678901234567891'),
        true,
        new Temporal('date', '1900-01-01'),
        ts('1900-01-01T00:00:00.000001'),
        new Temporal('timestamptz', '2024-05-01T10:00:00.123456Z'),
        new Temporal('time', '23:59:59.999999'),
        Buffer.from([0, 1, 2, 255]),
        new JsonText('{"big": 12345678901234567890}'),
        '',
      ],
      [
        '11010519491231002x',
        '',
        2n ** 63n - 1n,
        -0.5,
        new Decimal('-0.000000000000000000000000000001'),
        false,
        new Temporal('date', '2024-02-29'),
        ts('2024-03-10T02:30:00'),
        new Temporal('timestamptz', '1970-01-01T00:00:01Z'),
        new Temporal('time', '00:00:00'),
        Buffer.alloc(0),
        new JsonText('[]'),
        'NULL',
      ],
      ['000123', null, 2 ** 53 - 1, null, null, null, null, null, null, null, null, null, null],
      [
        '000123 ',
        ' ',
        9007199254740993n,
        1e300,
        new Decimal('0'),
        null,
        null,
        ts('1991-04-14T02:30:00.5'),
        null,
        null,
        null,
        null,
        '\t',
      ],
    ];
    const refused: RefusedRecord[] = [];
    expect(await s.apply('n/t/1', 1, batch('b1', PEOPLE_COLS, rows), { onRefused: (r) => refused.push(...r) })).toBe(
      'applied',
    );
    expect(refused).toEqual([]);
    // Read back through the source: the same values, bar what MariaDB has no exact twin for (a decimal
    // comes back at scale 30, a boolean as BOOLEAN's TINYINT 1/0).
    const back = await drain(source({ table: '人员 表', key: '身份证号' }), null, 10);
    expect(back.rows.map((r) => r['身份证号'])).toEqual([
      '000123',
      '000123 ',
      '11010519491231002X',
      '11010519491231002x',
    ]);
    const byKey = new Map(back.rows.map((r) => [r['身份证号'], r]));
    const want = (row: unknown[]): Record<string, unknown> =>
      Object.fromEntries(PEOPLE_COLS.map((c, i) => [c, row[i]]));
    expect(byKey.get('11010519491231002X')).toStrictEqual({ ...want(rows[0]!), ok: 1 });
    expect(byKey.get('11010519491231002x')).toStrictEqual({ ...want(rows[1]!), ok: 0 });
    expect(byKey.get('000123')).toStrictEqual(want(rows[2]!));
    expect(byKey.get('000123 ')).toStrictEqual({
      ...want(rows[3]!),
      amount: new Decimal('0.000000000000000000000000000000'),
    });
    // The instant was written in UTC: MariaDB's own UNIX_TIMESTAMP agrees.
    expect(
      await server.query(
        "SELECT CAST(UNIX_TIMESTAMP(instant) AS CHAR) AS u FROM `人员 表` WHERE `身份证号` = '11010519491231002X'",
      ),
    ).toEqual([{ u: '1714557600.123456' }]);

    const bare = sink({ table: 'never_described', key: 'id' });
    await expect(bare.lastSequence('s')).rejects.toThrow(
      /binding dst: table xchg_test\.never_described does not exist and the task names no fields/,
    );
  });

  it('mariadb - values into an existing table keep their exact text: int64 edges, unsigned max, DECIMAL(38,10), times to the microsecond', async () => {
    await server.query(`CREATE TABLE exact ${EDGE_DDL}`);
    const s = sink({ table: 'exact', key: 'id' });
    const rows = EDGE_ROWS.map((r) => EDGE_COLS.map((c) => r[c]));
    expect(await s.apply('e/t/1', 1, batch('e1', EDGE_COLS, rows))).toBe('applied');
    const back = await inZone('America/New_York', () => drain(source({ table: 'exact', key: 'id' }), null, 10));
    expect(back.rows).toStrictEqual(EDGE_ROWS);
  });

  it('mariadb - the sink upserts rows and deletes tombstones in batch order, and records the sequence', async () => {
    await server.query('CREATE TABLE upserts (id BIGINT PRIMARY KEY, name VARCHAR(20), score DOUBLE)');
    const s = sink({ table: 'upserts', key: 'id' });
    const cols = ['id', 'name', 'score'];
    const row = (id: number, name: string): unknown[] => [id, name, id / 2];
    expect(
      await s.apply('a/t/1', 1, batch('b-1', cols, [row(1, 'one'), row(2, 'two'), row(3, 'three'), row(4, 'four')])),
    ).toBe('applied');
    const b2 = batch(
      'b-2',
      cols,
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
    expect(await server.query('SELECT id, name, score FROM upserts ORDER BY id')).toEqual([
      { id: 1n, name: 'ONE', score: 0.5 },
      { id: 3n, name: 'THREE', score: 1.5 },
      { id: 4n, name: 'FOUR', score: 2 },
      { id: 5n, name: 'five', score: 2.5 },
    ]);
    expect(
      await server.query('SELECT stream, last_seq, last_batch FROM _xchg_ledger WHERE stream = ?', ['a/t/1']),
    ).toEqual([{ stream: 'a/t/1', last_seq: 2n, last_batch: 'b-2' }]);
    // An empty batch (all quarantined upstream) still moves the stream on.
    expect(await s.apply('a/t/1', 3, batch('b-3', cols, []))).toBe('applied');
    expect(await s.lastSequence('a/t/1')).toBe(3);
    // 2,500 tombstones in one batch (several DELETE statements) after as many upserts.
    const many = range(100, 2_599).map((i) => row(i, `n${i}`));
    expect(await s.apply('a/t/1', 4, batch('b-4', cols, many))).toBe('applied');
    expect(
      await s.apply(
        'a/t/1',
        5,
        batch(
          'b-5',
          ['id'],
          many.map((r) => [r[0]]),
          many.map(() => 'd'),
        ),
      ),
    ).toBe('applied');
    expect(await server.query('SELECT COUNT(*) AS n FROM upserts')).toEqual([{ n: 4n }]);
  });

  it('mariadb - duplicate and gap batches write nothing; two sinks racing on one stream write each batch once', async () => {
    await server.query('CREATE TABLE strict_t (id INT PRIMARY KEY, name VARCHAR(20))');
    const s = sink({ table: 'strict_t', key: 'id' });
    const cols = ['id', 'name'];
    expect(await s.apply('d/t/1', 1, batch('b-1', cols, [[1, 'first']]))).toBe('applied');
    const ledgerBefore = await server.query('SELECT * FROM _xchg_ledger ORDER BY stream');
    expect(
      await s.apply(
        'd/t/1',
        1,
        batch('b-1-again', cols, [
          [1, 'changed'],
          [2, 'new'],
        ]),
      ),
    ).toBe('duplicate');
    expect(await s.apply('d/t/1', 0, batch('b-0', cols, [[3, 'zero']]))).toBe('duplicate');
    expect(await s.apply('d/t/1', 3, batch('b-3', cols, [[4, 'gap']]))).toBe('gap');
    expect(await s.apply('other/t/1', 2, batch('o-2', cols, [[9, 'other']]))).toBe('gap');
    expect(await server.query('SELECT id, name FROM strict_t')).toEqual([{ id: 1, name: 'first' }]);
    expect(await server.query('SELECT * FROM _xchg_ledger ORDER BY stream')).toEqual(ledgerBefore);
    expect(await s.lastSequence('other/t/1')).toBe(0);

    const a = sink({ table: 'strict_t', key: 'id' });
    const b = sink({ table: 'strict_t', key: 'id' });
    for (let seq = 1; seq <= 10; seq++) {
      const rows = [[100 + seq, `row ${seq}`]];
      const outcomes = await Promise.all([
        a.apply('r/t/1', seq, batch(`r-${seq}`, cols, rows)),
        b.apply('r/t/1', seq, batch(`r-${seq}`, cols, rows)),
      ]);
      expect(outcomes.sort()).toEqual(['applied', 'duplicate']);
    }
    expect(await server.query('SELECT COUNT(*) AS n FROM strict_t WHERE id > 100')).toEqual([{ n: 10n }]);
    expect(await a.lastSequence('r/t/1')).toBe(10);
  });

  it('mariadb - records the table refuses or would round are refused alone with the reason; the rest commits with the ledger', async () => {
    await server.query(
      'CREATE TABLE picky (id INT PRIMARY KEY, name VARCHAR(5) NOT NULL, amount DECIMAL(10, 2), at DATETIME(3), n TINYINT, s3 VARCHAR(10) CHARACTER SET utf8mb3)',
    );
    const s = sink({ table: 'picky', key: 'id' });
    const cols = ['id', 'name', 'amount', 'at', 'n', 's3'];
    const good = (id: number): unknown[] => [id, `r${id}`, new Decimal('1.50'), ts('2024-01-01T00:00:00.123'), 1, '中'];
    const rows = [
      good(1),
      [2, null, null, null, null, null],
      good(3),
      [4, 'toolong', null, null, null, null],
      [5, 'x', new Decimal('1.005'), null, null, null],
      [6, 'x', null, ts('2024-01-01T00:00:00.1234'), null, null],
      [7, 'x', null, null, 300, null],
      [8, 'x', null, null, null, '😀'],
      good(9),
    ];
    const refused: RefusedRecord[] = [];
    expect(await s.apply('p/t/1', 1, batch('p-1', cols, rows), { onRefused: (r) => refused.push(...r) })).toBe(
      'applied',
    );
    expect(
      await server.query('SELECT id, name, CAST(amount AS CHAR) AS amount, at, n, s3 FROM picky ORDER BY id'),
    ).toEqual(
      [1, 3, 9].map((id) => ({ id, name: `r${id}`, amount: '1.50', at: '2024-01-01 00:00:00.123', n: 1, s3: '中' })),
    );
    expect(refused.map((r) => r.index)).toEqual([1, 3, 4, 5, 6, 7]);
    const reasons = refused.map((r) => r.reason);
    expect(reasons[0]).toMatch(/Column 'name' cannot be null/);
    expect(reasons[1]).toBe("Data too long for column 'name' at row 1 (ER_DATA_TOO_LONG 1406)");
    expect(reasons[2]).toMatch(
      /binding dst: column amount \(decimal\(10,2\)\): decimal 1\.005 has more than 2 fractional digits: the column would round it/,
    );
    expect(reasons[3]).toMatch(
      /column at \(datetime\(3\)\): timestamp 2024-01-01T00:00:00\.1234 is finer than the column's 3 fractional digits/,
    );
    expect(reasons[4]).toMatch(/Out of range value for column 'n'/);
    expect(reasons[5]).toMatch(/Incorrect string value/);
    expect(await s.lastSequence('p/t/1')).toBe(1);

    // A column the table lacks refuses every record of the batch, naming it; the stream still moves on.
    refused.length = 0;
    expect(
      await s.apply(
        'p/t/1',
        2,
        batch(
          'p-2',
          ['id', 'nope'],
          [
            [10, 'a'],
            [11, 'b'],
          ],
        ),
        { onRefused: (r) => refused.push(...r) },
      ),
    ).toBe('applied');
    expect(refused).toEqual([0, 1].map((index) => ({ index, reason: 'table xchg_test.picky has no column "nope"' })));
  });

  it('mariadb - empty and 16 MiB binary values are written and read back byte for byte', async () => {
    const s = sink(
      { table: 'blobs', key: 'id' },
      {
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'data', type: 'binary' },
        ],
        keyColumns: ['id'],
      },
    );
    const big = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    expect(
      await s.apply(
        'bl/t/1',
        1,
        batch(
          'bl-1',
          ['id', 'data'],
          [
            [1, Buffer.alloc(0)],
            [2, big],
            [3, null],
          ],
        ),
      ),
    ).toBe('applied');
    const back = await drain(source({ table: 'blobs', key: 'id' }), null, 2);
    expect(back.rows.map((r) => r['id'])).toEqual([1, 2, 3]);
    expect(back.rows[0]!['data']).toStrictEqual(Buffer.alloc(0));
    expect(Buffer.isBuffer(back.rows[1]!['data'])).toBe(true);
    expect((back.rows[1]!['data'] as Buffer).equals(big)).toBe(true);
    expect(back.rows[2]!['data']).toBeNull();
  });

  it('mariadb - a sink refuses a table without transactions, and one that cannot reach its server says where', async () => {
    await server.query('CREATE TABLE myisam_t (id INT PRIMARY KEY) ENGINE = MyISAM');
    await expect(sink({ table: 'myisam_t', key: 'id' }).lastSequence('s')).rejects.toThrow(
      /binding dst: table xchg_test\.myisam_t uses the MyISAM engine, which has no transactions/,
    );
    const port = await freePort();
    const down = new MariadbSink(
      'dst',
      {
        type: 'mysql',
        host: '127.0.0.1',
        port,
        user: 'root',
        password: 'pw-secret',
        database: 'x',
        table: 't',
        key: 'id',
      },
      PEOPLE_HINT,
    );
    opened.push(down);
    const err = await down.lastSequence('s').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(new RegExp(`^binding dst: cannot connect to mariadb at 127\\.0\\.0\\.1:${port}: `));
    expect(err?.message).not.toContain('pw-secret');
    expect(
      () => new MariadbSink('dst', { type: 'mariadb', ...server.connection, table: 'ok', key: 'a\u0000' }),
    ).toThrow(/contains NUL/);
  });

  it('mariadb - scan pages a sink in key order for reconciliation, composite keys included', async () => {
    await server.query(
      'CREATE TABLE scanned (region CHAR(6), id BIGINT UNSIGNED, v DECIMAL(5, 1), PRIMARY KEY (region, id)) COLLATE utf8mb4_nopad_bin',
    );
    await server.query(
      `INSERT INTO scanned VALUES ('360100', 18446744073709551615, 1.5), ('360100', 2, NULL), ('000001', 7, 0.0), ('360200', 1, -2.0)`,
    );
    const s = sink({ table: 'scanned', key: ['region', 'id'] });
    const p1 = await s.scan(null, 2);
    expect(p1).toStrictEqual({
      columns: ['region', 'id', 'v'],
      keyColumns: ['region', 'id'],
      rows: [
        ['000001', 7, new Decimal('0.0')],
        ['360100', 2, null],
      ],
      lastKey: ['360100', '2'],
      exhausted: false,
    });
    const p2 = await s.scan(JSON.parse(JSON.stringify(p1.lastKey)) as unknown[], 2);
    expect(p2.rows).toStrictEqual([
      ['360100', 2n ** 64n - 1n, new Decimal('1.5')],
      ['360200', 1, new Decimal('-2.0')],
    ]);
    const p3 = await s.scan(p2.lastKey, 2);
    expect(p3).toStrictEqual({
      columns: ['region', 'id', 'v'],
      keyColumns: ['region', 'id'],
      rows: [],
      lastKey: null,
      exhausted: true,
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// MariaDB → MariaDB through the real data plane: nats-server, central and two agents as processes, the
// provider in America/New_York and the consumer in Asia/Shanghai. Every value is compared as MariaDB's
// own text of it (HEX for binary), so nothing about the connector's decoding is taken on trust.

/** The exchanged fields: typed where a field type holds every value exactly, untyped (as read) otherwise. */
const EXCHANGE_FIELDS = [
  { name: 'id', type: 'integer', required: true },
  { name: 'i64', type: 'integer' },
  { name: 'u64' }, // up to 2^64 − 1: wider than the integer field type
  { name: 'd', type: 'decimal' },
  { name: 'f', type: 'number' },
  { name: 'g', type: 'number' },
  { name: 's', type: 'string' },
  { name: 't', type: 'string' },
  { name: 'code', type: 'string' },
  { name: 'idno', type: 'string' },
  { name: 'dt', type: 'date' },
  { name: 'ts', type: 'datetime' },
  { name: 'tz', type: 'timestamptz' },
  { name: 'tm' }, // TIME may exceed a day
  { name: 'bl', type: 'binary' },
  { name: 'vb', type: 'binary' },
  { name: 'bn', type: 'binary' },
  { name: 'j', type: 'json' },
  { name: 'b1', type: 'boolean' },
  { name: 'ti', type: 'integer' },
  { name: 'b12', type: 'integer' },
  { name: 'st', type: 'string' },
  { name: 'en', type: 'string' },
  { name: 'updated_at', type: 'datetime' },
];

/** Each column as MariaDB prints it (HEX for binary, BIT as its number), NULL as null. */
const TEXT_PROJECTION = [...EDGE_COLS, 'updated_at']
  .map(
    (c) =>
      (['bl', 'vb', 'bn'].includes(c)
        ? `HEX(\`${c}\`)`
        : ['b1', 'b12'].includes(c)
          ? `CAST(\`${c}\` + 0 AS CHAR)`
          : `CAST(\`${c}\` AS CHAR)`) + ` AS \`${c}\``,
  )
  .join(', ');

describe('mariadb - end to end through the data plane', () => {
  const GENERATED = 400;
  let nats: NatsServer;
  let central: CentralProcess;
  let provider: AgentProcess;
  let consumer: AgentProcess;

  beforeAll(async () => {
    await server.query('CREATE DATABASE gat CHARACTER SET utf8mb4');
    await server.query('CREATE DATABASE mzj CHARACTER SET utf8mb4');
    const ddl = EDGE_DDL.replace(
      ') DEFAULT CHARSET',
      ', updated_at DATETIME(6) NOT NULL, deleted TINYINT NOT NULL DEFAULT 0, KEY (updated_at, id)) DEFAULT CHARSET',
    );
    await server.query(`CREATE TABLE gat.citizen ${ddl}`);
    await server.query(
      `CREATE TABLE mzj.citizen ${EDGE_DDL.replace(') DEFAULT CHARSET', ', updated_at DATETIME(6) NOT NULL) DEFAULT CHARSET')}`,
    );
    for (const [i, r] of EDGE_ROWS.entries())
      await server.query(
        `INSERT INTO gat.citizen VALUES (${EDGE_COLS.map(() => '?').join(', ')}, '2024-05-01 08:00:00.000001' + INTERVAL ? MICROSECOND, 0)`,
        [...edgeParams(r), Math.floor(i / 2)],
      );
    // Generated residents: tie groups of 10 microsecond cursors, every tenth with NULLs, one in 13 deleted.
    await server.query(`INSERT INTO gat.citizen (id, i64, u64, d, f, g, s, t, code, idno, dt, ts, tz, tm, bl, vb, bn, j, b1, ti, b12, st, en, updated_at, deleted)
      SELECT seq, CAST(seq AS SIGNED) * 1000003 - 9007199254740993, 18446744073709551615 - seq, seq * 1.0000000001, seq / 4, seq / 3, CONCAT('居民', seq), IF(seq % 10 = 0, NULL, REPEAT('文', seq % 50)),
        LPAD(seq, 6, '0'), CONCAT('3601021990', LPAD(seq, 7, '0'), 'X'), '1950-01-01' + INTERVAL seq DAY, '1900-01-01 00:00:00.000001' + INTERVAL seq HOUR,
        '2000-01-01 00:00:00.5' + INTERVAL seq MINUTE, SEC_TO_TIME(seq * 7), UNHEX(REPEAT(LPAD(HEX(seq % 256), 2, '0'), seq % 40)), IF(seq % 10 = 0, NULL, UNHEX(HEX(seq))), 'abc',
        JSON_OBJECT('seq', seq, 'big', 12345678901234567890), seq % 2, seq % 100, seq % 4096, IF(seq % 2, 'x', 'x,y'), IF(seq % 2, 'a', 'b'),
        '2024-05-02 00:00:00' + INTERVAL (seq DIV 10) MICROSECOND, seq % 13 = 0
      FROM seq_100_to_${99 + GENERATED}`);

    nats = await NatsServer.start();
    central = await CentralProcess.start({ natsUrls: [nats.url], heartbeatTtlMs: 3_000 });
    const api = new Api(central.url, central.adminToken);
    await api.seedDepartment('gat');
    await api.seedDepartment('mzj');
    const dataPlane = { receiptTimeoutMs: 2_000, runReportIntervalMs: 500, pollIntervalMs: 100 };
    const conn = { host: '127.0.0.1', port: server.port, user: 'root' };
    provider = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('gat', 'gat-01'),
      env: { TZ: 'America/New_York' },
      config: {
        dataPlane,
        sources: {
          citizens: {
            type: 'mariadb',
            ...conn,
            database: 'gat',
            table: 'citizen',
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
      env: { TZ: 'Asia/Shanghai' },
      config: {
        dataPlane,
        sinks: { citizens_in: { type: 'mysql', ...conn, database: 'mzj', table: 'citizen', key: 'id' } },
      },
    });
    const providerId = await provider.nodeId;
    const consumerId = await consumer.nodeId;
    const params = { fields: EXCHANGE_FIELDS, batchRecords: 7 };
    await api.ok('POST', '/tasks', {
      name: 'sub-citizens-in',
      kind: 'exchange',
      nodeId: consumerId,
      peerNodeId: providerId,
      subscriptionId: 'sub-citizens',
      binding: 'citizens_in',
      params,
    });
    await api.ok('POST', '/tasks', {
      name: 'sub-citizens-out',
      kind: 'sync',
      nodeId: providerId,
      peerNodeId: consumerId,
      subscriptionId: 'sub-citizens',
      binding: 'citizens',
      params,
    });
  });

  afterAll(async () => {
    await Promise.all([provider?.stop('SIGKILL'), consumer?.stop('SIGKILL')]);
    await central?.stop();
    await nats?.stop();
  });

  /** Live source rows and sink rows, each value as MariaDB's text; the problems (at most 20) and how many rows match. */
  async function compare(): Promise<{ problems: string[]; rows: number; want: number }> {
    const want = await server.query<Record<string, unknown>>(
      `SELECT ${TEXT_PROJECTION} FROM gat.citizen WHERE deleted = 0 ORDER BY id`,
    );
    const got = await server.query<Record<string, unknown>>(`SELECT ${TEXT_PROJECTION} FROM mzj.citizen ORDER BY id`);
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
      const bad = Object.keys(w).filter((k) => g[k] !== w[k]);
      if (bad.length === 0) rows++;
      for (const k of bad)
        problems.push(`row ${String(w['id'])} ${k}: want ${JSON.stringify(w[k])} got ${JSON.stringify(g[k])}`);
    }
    for (const id of byId.keys()) problems.push(`extra row id ${String(id)}`);
    return { problems: problems.slice(0, 20), rows, want: want.length };
  }

  it('mariadb - every value of every row reaches the MariaDB sink exactly, tombstoned rows excepted', async () => {
    const live = EDGE_ROWS.length + GENERATED - Math.floor((99 + GENERATED) / 13) + Math.floor(99 / 13);
    await waitFor(async () => (await compare()).rows === live, 120_000, 300, `${live} rows at the sink`).catch(
      async (err: unknown) => {
        throw new Error(
          `${(err as Error).message}\n${(await compare()).problems.join('\n')}\nprovider:\n${provider.proc.output().slice(-3000)}\nconsumer:\n${consumer.proc.output().slice(-3000)}`,
        );
      },
    );
    const c = await compare();
    expect(c.problems).toEqual([]);
    expect(c.rows).toBe(c.want);
    // Spot checks against literals, beyond "equal to the source".
    expect(await server.query(`SELECT ${TEXT_PROJECTION} FROM mzj.citizen WHERE id = 1`)).toEqual([
      {
        id: '1',
        i64: '-9223372036854775808',
        u64: '18446744073709551615',
        d: '1234567890123456789012345678.0123456789',
        f: '1.5',
        g: '0.1',
        s: '',
        t: null,
        code: '000123',
        idno: '11010519491231002X',
        dt: '1900-01-01',
        ts: '1900-01-01 00:00:00.000001',
        tz: '2024-05-01 10:00:00.123456',
        tm: '23:59:59.999999',
        bl: '',
        vb: '00FF',
        bn: '616200',
        j: '{"a": 12345678901234567890, "b": "张"}',
        b1: '1',
        ti: '1',
        b12: '2730',
        st: 'x,y',
        en: 'b',
        updated_at: '2024-05-01 08:00:00.000001',
      },
    ]);
    expect(
      await server.query(
        'SELECT CAST(u64 AS CHAR) AS u, CAST(tm AS CHAR) AS tm, CAST(ts AS CHAR) AS ts FROM mzj.citizen WHERE id IN (2, 4) ORDER BY id',
      ),
    ).toEqual([
      { u: '0', tm: '-838:59:59.000000', ts: '2024-03-10 02:30:00.500000' },
      { u: '9223372036854775808', tm: '100:00:00.500000', ts: '2024-11-03 01:30:00.999999' },
    ]);
  });

  it('mariadb - updates, tombstones and inserts at the source follow to the sink', async () => {
    await server.query(
      "UPDATE gat.citizen SET s = '改名 😀', d = -0.5, updated_at = '2024-06-01 00:00:00.000001' WHERE id = 3",
    );
    await server.query(
      "UPDATE gat.citizen SET deleted = 1, updated_at = '2024-06-01 00:00:00.000001' WHERE id IN (2, 150)",
    );
    await server.query(
      "INSERT INTO gat.citizen (id, s, t, updated_at) VALUES (5000, '', 'NULL', '2024-06-01 00:00:00.000002')",
    );
    await waitFor(
      async () => {
        const c = await compare();
        return c.problems.length === 0 && c.rows === c.want;
      },
      60_000,
      300,
      'the sink to follow the changes',
    );
    expect(
      await server.query(
        'SELECT id, s, t, CAST(d AS CHAR) AS d FROM mzj.citizen WHERE id IN (2, 3, 150, 5000) ORDER BY id',
      ),
    ).toEqual([
      { id: 3, s: '改名 😀', t: '\t \n', d: '-0.5000000000' },
      { id: 5000, s: '', t: 'NULL', d: null },
    ]);
  });
});

describe('mariadb - sink tables the department made', () => {
  it('mariadb - a unique index besides the key: a clash is refused (1062) instead of overwriting the other row; a truncating value is refused alone', async () => {
    await server.query(
      "CREATE TABLE pu (id BIGINT PRIMARY KEY, email VARCHAR(50) UNIQUE, n INT, e ENUM('a','b')) COLLATE utf8mb4_nopad_bin",
    );
    const s = sink({ table: 'pu', key: 'id' });
    const refused: RefusedRecord[] = [];
    const rows = [
      [1, 'e1@x', 10, 'a'],
      [2, 'e2@x', 20, 'b'],
      [3, 'e1@x', 30, 'a'],
      [4, 'e4@x', 40, ''],
      [1, 'e1@x', 11, 'b'],
    ];
    expect(
      await s.apply(
        'u/t/1',
        1,
        { batchId: 'u-1', columns: ['id', 'email', 'n', 'e'], rows, ops: rows.map(() => 'u' as const) },
        { onRefused: (r) => refused.push(...r) },
      ),
    ).toBe('applied');
    expect(refused.map((r) => r.index)).toEqual([2, 3]);
    expect(refused[0]!.reason).toMatch(/Duplicate entry 'e1@x' for key 'email'.*1062/);
    expect(refused[1]!.reason).toMatch(/Data truncated for column 'e'.*1265/);
    expect(await server.query('SELECT id, email, n, e FROM pu ORDER BY id')).toEqual([
      { id: 1n, email: 'e1@x', n: 11, e: 'b' },
      { id: 2n, email: 'e2@x', n: 20, e: 'b' },
    ]);
  });

  it('mariadb - a case-insensitive key column is refused when the task starts, naming the fix', async () => {
    await server.query('CREATE TABLE kt (k VARCHAR(20) PRIMARY KEY, v TEXT) COLLATE utf8mb4_general_ci');
    const s = sink({ table: 'kt', key: 'k' });
    await expect(s.lastSequence('k/t/1')).rejects.toThrow(
      /binding dst: key column k of table \S+kt has the case-insensitive collation utf8mb4_general_ci: keys that differ only in case would merge/,
    );
  });
});
