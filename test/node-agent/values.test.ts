// The value model (values/value.ts, values/wire.ts) and the pipeline's typed coercion: every right value
// exact, every impossible one refused with its reason; SQLite source and sink with the values that used
// to be rounded, merged or shifted.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteSink } from '../../node-agent/src/connectors/sqlite/dialect.js';
import { SqliteSource } from '../../node-agent/src/connectors/sqlite/source.js';
import type { RefusedRecord } from '../../node-agent/src/connectors/types.js';
import { coerce, compilePipeline } from '../../node-agent/src/pipeline/index.js';
import {
  canonical,
  canonicalDecimal,
  Decimal,
  doubleHolds,
  JsonText,
  parseDateTime,
  Temporal,
} from '../../node-agent/src/values/value.js';
import { fromWire, rowFromWire, rowToWire, toWire } from '../../node-agent/src/values/wire.js';
import { futureRow } from '../../node-agent/src/exchange/sync-runner.js';
import { tmpDir } from '../helpers/tmp.js';

const dir = tmpDir('xchg-values-');
const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const c of opened) await c.close();
});

const ok = (v: unknown): unknown => ({ ok: true, value: v });

describe('values - dates and times without any time zone', () => {
  it('values - impossible dates and times are refused with the reason', () => {
    expect(parseDateTime('2026-11-31 09:00:00')).toEqual({
      ok: false,
      reason: 'no day 31 in 2026-11 (2026-11-31 09:00:00)',
    });
    expect(parseDateTime('2023-02-29')).toEqual({ ok: false, reason: 'no day 29 in 2023-02 (2023-02-29)' });
    expect(parseDateTime('2024-13-01')).toEqual({ ok: false, reason: 'no month 13 in 2024-13-01' });
    expect(parseDateTime('2024-05-01 24:00:00')).toEqual({
      ok: false,
      reason: 'impossible time of day in 2024-05-01 24:00:00',
    });
    expect(parseDateTime('2024-05-01 10:00:00.1234567')).toEqual({
      ok: false,
      reason: '2024-05-01 10:00:00.1234567 is finer than a microsecond',
    });
    expect(parseDateTime('0000-01-01')).toEqual({ ok: false, reason: 'year 0000 is outside 0001–9999' });
    expect(parseDateTime('yesterday').ok).toBe(false);
  });

  it('values - wall-clock values stay as written (1900, a DST gap, microseconds); zoned ones become the same instant in UTC', () => {
    expect(parseDateTime('2024-02-29')).toEqual(ok(new Temporal('date', '2024-02-29')));
    expect(parseDateTime('1900-01-01 00:00:00')).toEqual(ok(new Temporal('timestamp', '1900-01-01T00:00:00')));
    // 02:30 on 2024-03-10 does not exist in America/New_York; as wall-clock text it is kept, never "corrected".
    expect(parseDateTime('2024-03-10 02:30:00')).toEqual(ok(new Temporal('timestamp', '2024-03-10T02:30:00')));
    expect(parseDateTime('2024-05-01T10:00:00.123456')).toEqual(
      ok(new Temporal('timestamp', '2024-05-01T10:00:00.123456')),
    );
    expect(parseDateTime('2024-05-01 10:00:00.123456+00')).toEqual(
      ok(new Temporal('timestamptz', '2024-05-01T10:00:00.123456Z')),
    );
    expect(parseDateTime('2024-05-01 08:00:00.000001+08:00')).toEqual(
      ok(new Temporal('timestamptz', '2024-05-01T00:00:00.000001Z')),
    );
    expect(parseDateTime('1900-01-01 00:00:00+08:05:43')).toEqual(
      ok(new Temporal('timestamptz', '1899-12-31T15:54:17Z')),
    );
    expect(parseDateTime('2024-12-31T23:30:00-01:00')).toEqual(ok(new Temporal('timestamptz', '2025-01-01T00:30:00Z')));
  });

  it('values - the machine time zone plays no part', () => {
    // Parsing is arithmetic on the text; run under two zones, the results are the same.
    for (const tz of ['Asia/Shanghai', 'America/New_York']) {
      process.env.TZ = tz;
      expect(coerce('2024-05-01 10:00:00', 'datetime')).toEqual(ok(new Temporal('timestamp', '2024-05-01T10:00:00')));
      expect(coerce('2024-05-01 10:00:00+08', 'timestamptz')).toEqual(
        ok(new Temporal('timestamptz', '2024-05-01T02:00:00Z')),
      );
    }
    delete process.env.TZ;
  });
});

describe('values - numbers', () => {
  it('values - decimals are compared and canonicalised as text; a double holds a decimal only when it prints back the same', () => {
    expect(canonicalDecimal('1.50')).toBe('1.5');
    expect(canonicalDecimal('-0001e3')).toBe('-1000');
    expect(canonicalDecimal('12345678901234567890123456789012345678.9')).toBe(
      '12345678901234567890123456789012345678.9',
    );
    expect(doubleHolds('0.1')).toBe(0.1);
    expect(doubleHolds('9007199254740993')).toBeUndefined();
    expect(doubleHolds('0.10000000000000000555')).toBeUndefined();
  });

  it('values - integer, number and decimal fields refuse what they cannot hold exactly', () => {
    expect(coerce('9007199254740993', 'integer')).toEqual(ok(9007199254740993n));
    expect(coerce('-9223372036854775808', 'integer')).toEqual(ok(-9223372036854775808n));
    expect(coerce('9223372036854775808', 'integer')).toEqual({
      ok: false,
      reason: 'integer 9223372036854775808 is outside the 64-bit range',
    });
    expect(coerce(9007199254740992, 'integer')).toEqual({
      ok: false,
      reason: 'integer 9007199254740992 was already rounded by a double (beyond 2^53)',
    });
    expect(coerce('0042', 'integer')).toEqual(ok(42));
    expect(coerce(new Decimal('12.00'), 'integer')).toEqual(ok(12));
    expect(coerce('12.5', 'integer')).toEqual({ ok: false, reason: 'expected an integer, got string "12.5"' });
    expect(coerce('9007199254740993', 'number')).toEqual({
      ok: false,
      reason: '9007199254740993 cannot be held exactly by a double (use decimal)',
    });
    expect(coerce(9007199254740993n, 'number')).toEqual({
      ok: false,
      reason: '9007199254740993 cannot be held exactly by a double (use decimal or integer)',
    });
    expect(coerce('0.1', 'number')).toEqual(ok(0.1));
    expect(coerce('NaN', 'number')).toEqual(ok(NaN));
    expect(coerce('12345678901234567890123456789012345678.123', 'decimal')).toEqual(
      ok(new Decimal('12345678901234567890123456789012345678.123')),
    );
    expect(coerce('1.50', 'decimal')).toEqual(ok(new Decimal('1.50')));
    expect(coerce('abc', 'decimal')).toEqual({ ok: false, reason: 'expected a decimal number, got string "abc"' });
    expect(Object.is((coerce('-0', 'number') as { value: unknown }).value, -0)).toBe(true);
    expect(Object.is((coerce('-0.000', 'number') as { value: unknown }).value, -0)).toBe(true);
  });

  it('values - binary from text: megabytes of hex or base64 decode without exhausting the regex stack; a quoted empty cell is zero bytes', () => {
    const bytes = Buffer.alloc(12 * 1024 * 1024, 0xab);
    expect((coerce(bytes.toString('base64'), 'binary') as { value: Buffer }).value.equals(bytes)).toBe(true);
    expect((coerce('\\x' + bytes.toString('hex'), 'binary') as { value: Buffer }).value.equals(bytes)).toBe(true);
    expect(coerce('not base64!', 'binary')).toEqual({
      ok: false,
      reason: 'expected binary (bytes, or text as \\x-hex or base64), got string "not base64!"',
    });
    const p = compilePipeline({ fields: [{ name: 'b', type: 'binary' }] });
    expect(p.process({ b: '' })).toEqual({ ok: true, values: [Buffer.alloc(0)] });
    expect(p.process({ b: null })).toEqual({ ok: true, values: [null] });
  });
});

describe('values - pipeline', () => {
  it("values - '' stays '' in a text field and is a value for required; NULL is missing; codes keep their zeros", () => {
    const p = compilePipeline({
      fields: [
        { name: 'id', type: 'integer', required: true },
        { name: 'a', type: 'string', required: true },
        { name: 'code', type: 'string' },
        { name: 'n', type: 'integer' },
      ],
    });
    expect(p.process({ id: 1, a: '', code: '007', n: '' })).toEqual({ ok: true, values: [1, '', '007', null] });
    expect(p.process({ id: 1, a: 'NULL', code: '  ', n: null })).toEqual({ ok: true, values: [1, 'NULL', '  ', null] });
    expect(p.process({ id: 1, a: null, code: 'x', n: 1 })).toEqual({
      ok: false,
      reason: 'missing required field a',
      field: 'a',
    });
  });

  it('values - untyped rows keep their own columns by name, and their values exactly', () => {
    const p = compilePipeline({});
    expect(p.process({ id: 1, name: 'a' })).toEqual({ ok: true, values: [1, 'a'], columns: ['id', 'name'] });
    expect(p.process({ name: 'b', id: 9007199254740993n })).toEqual({
      ok: true,
      values: ['b', 9007199254740993n],
      columns: ['name', 'id'],
    });
    expect(p.process({ id: 1, d: new Date('2024-05-01T02:00:00.120Z') })).toEqual({
      ok: true,
      values: [1, new Temporal('timestamptz', '2024-05-01T02:00:00.12Z')],
      columns: ['id', 'd'],
    });
  });

  it('values - typed datetime: an impossible value is refused; a wall-clock value is never shifted', () => {
    const p = compilePipeline({ fields: [{ name: 't', type: 'datetime' }] });
    expect(p.process({ t: '2026-11-31 09:00:00' })).toEqual({
      ok: false,
      reason:
        'field t: expected a date-time, got string "2026-11-31 09:00:00": no day 31 in 2026-11 (2026-11-31 09:00:00)',
      field: 't',
    });
    expect(p.process({ t: '2024-05-01 10:00:00' })).toEqual({
      ok: true,
      values: [new Temporal('timestamp', '2024-05-01T10:00:00')],
    });
  });

  it('values - maxLength counts characters, not UTF-16 units; verify checks types and lengths, never masks', () => {
    const p = compilePipeline({
      fields: [
        { name: 'id', type: 'integer', required: true },
        { name: 'name', type: 'string', maxLength: 3, mask: 'name' },
      ],
    });
    // Three characters, five UTF-16 units (two astral emoji): within maxLength 3.
    expect(p.process({ id: 1, name: '😀a😀' })).toMatchObject({ ok: true });
    expect(p.process({ id: 1, name: '😀ab😀' })).toEqual({
      ok: false,
      reason: 'field name: longer than 3 characters',
      field: 'name',
    });
    const columns = ['id', 'name'];
    const same = [7, '张三丰'];
    const v = p.verify(columns, same);
    // Unchanged values come back as they are, unmasked.
    expect(v).toEqual({ ok: true, values: [7, '张三丰'] });
    // A numeric string of an integer field is converted, in a copy: the input row stays as it arrived.
    const text = ['8', 'ab'];
    expect(p.verify(columns, text)).toEqual({ ok: true, values: [8, 'ab'] });
    expect(text).toEqual(['8', 'ab']);
    expect(p.verify(['name', 'id'], ['abcd', 9])).toEqual({
      ok: false,
      reason: 'field name: longer than 3 characters',
      field: 'name',
    });
    expect(p.verify(['name'], ['ab'])).toEqual({ ok: false, reason: 'missing required field id', field: 'id' });
    expect(p.verify(columns, [2 ** 53, 'a'])).toMatchObject({ ok: false, field: 'id' });
    expect(p.verify(columns, [1, 'a\uFFFD'])).toEqual({
      ok: false,
      reason: 'field name: invalid UTF-8 text',
      field: 'name',
    });
  });

  it('values - future cursors: the first row later than the limit, in the agent zone for wall-clock values', () => {
    const limit = Date.UTC(2024, 4, 1, 12, 0, 0);
    process.env.TZ = 'UTC';
    const rows = [
      { c: '2024-05-01 11:00:00' },
      { c: '2024-05-01 11:59:59' },
      { c: '2024-05-01 12:00:01' },
      { c: '2099-01-01 00:00:00' },
    ];
    expect(futureRow(rows, 'c', limit)).toBe(2);
    expect(futureRow(rows.slice(0, 2), 'c', limit)).toBeUndefined();
    expect(futureRow([{ c: new Temporal('timestamptz', '2024-05-01T12:00:01Z') }], 'c', limit)).toBe(0);
    expect(futureRow([{ c: 99999999999999 }], 'c', limit)).toBeUndefined();
    delete process.env.TZ;
  });
});

describe('values - wire form', () => {
  it('values - every value round-trips through JSON exactly and equal values have equal canonical text', () => {
    const row = [
      null,
      '',
      'NULL',
      'a\u0000b',
      '𠀀😀',
      9007199254740993n,
      -9223372036854775808n,
      1.5,
      NaN,
      -Infinity,
      -0,
      new Decimal('-0.00012300'),
      Buffer.from([0, 255, 1]),
      Buffer.alloc(0),
      new Temporal('date', '1900-01-01'),
      new Temporal('time', '23:59:59.999999'),
      new Temporal('timestamp', '2024-03-10T02:30:00'),
      new Temporal('timestamptz', '2024-05-01T10:00:00.123456Z'),
      new JsonText('{"n": 12345678901234567890}'),
      true,
    ];
    const back = rowFromWire(JSON.parse(JSON.stringify(rowToWire(row))) as unknown[]);
    expect(back.map(canonical)).toEqual(row.map(canonical));
    expect(Object.is(back[10], -0)).toBe(true);
    expect(back[5]).toBe(9007199254740993n);
    expect(toWire(42n)).toBe(42);
    expect(fromWire({ $: 'i', v: '42' })).toBe(42);
    expect(() => fromWire({ $: 'x', v: '1' })).toThrow('unknown value tag "x"');
    const plain = ['a', 1, null];
    expect(rowToWire(plain)).toBe(plain); // nothing to tag: no copy
    expect(canonical('1')).not.toBe(canonical(1));
    expect(canonical(new Decimal('1.50'))).toBe(canonical(1.5));
    // JSON documents compare by meaning with every digit kept: key order and spacing do not matter, digits do.
    expect(canonical(new JsonText('{"b": 1, "a": 12345678901234567890123}'))).toBe(
      canonical(new JsonText('{"a":12345678901234567890123,"b":1}')),
    );
    expect(canonical(new JsonText('{"a": 12345678901234567890123}'))).not.toBe(
      canonical(new JsonText('{"a": 12345678901234567890124}')),
    );
  });
});

describe('values - SQLite source and sink', () => {
  it('values - integers past 2^53 stay distinct rows and exact from SQLite to SQLite', async () => {
    const src = join(dir, 'big.db');
    const db = new Database(src);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const ins = db.prepare('INSERT INTO t VALUES (?, ?)');
    for (const [id, v] of [
      [9007199254740992n, 'a'],
      [9007199254740993n, 'b'],
      [9223372036854775807n, 'max'],
      [-9223372036854775808n, 'min'],
    ] as const)
      ins.run(id, v);
    db.close();
    const source = new SqliteSource('s', { type: 'sqlite', path: src, table: 't', key: 'id', cursor: 'id' });
    opened.push(source);
    const page = await source.read(null, 10);
    expect(page.rows).toEqual([
      { id: -9223372036854775808n, v: 'min' },
      { id: 9007199254740992n, v: 'a' },
      { id: 9007199254740993n, v: 'b' },
      { id: 9223372036854775807n, v: 'max' },
    ]);
    // The cursor is JSON-safe and exact: nothing is read again.
    const cursor = JSON.parse(JSON.stringify(page.cursor)) as typeof page.cursor;
    expect((await source.read(cursor, 10)).rows).toEqual([]);
    const sink = new SqliteSink(
      'd',
      { type: 'sqlite', path: join(dir, 'big-out.db'), table: 't', key: 'id' },
      {
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'v', type: 'string' },
        ],
        keyColumns: ['id'],
      },
    );
    opened.push(sink);
    expect(
      await sink.apply('s/t/1', 1, {
        batchId: 'b1',
        columns: ['id', 'v'],
        rows: page.rows.map((r) => [r['id'], r['v']]),
        ops: page.rows.map(() => 'u' as const),
      }),
    ).toBe('applied');
    const out = new Database(join(dir, 'big-out.db'), { readonly: true });
    expect(out.prepare('SELECT CAST(id AS TEXT) AS id, v FROM t ORDER BY id').all()).toEqual([
      { id: '-9223372036854775808', v: 'min' },
      { id: '9007199254740992', v: 'a' },
      { id: '9007199254740993', v: 'b' },
      { id: '9223372036854775807', v: 'max' },
    ]);
    out.close();
  });

  it('values - integers and booleans land in SQLite as INTEGER, never as 7.0 (TEXT or untyped columns too); NULL cursors are not read', async () => {
    const path = join(dir, 'ints.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b, c REAL)');
    raw.close();
    const sink = new SqliteSink('d', { type: 'sqlite', path, table: 't', key: 'id' });
    opened.push(sink);
    expect(
      await sink.apply(
        's/t/1',
        1,
        {
          batchId: 'b1',
          columns: ['id', 'a', 'b', 'c'],
          rows: [
            [1, 7, true, 7],
            [2, -3, 70000, 0.5],
          ],
          ops: ['u', 'u'],
        },
        { onRefused: () => undefined },
      ),
    ).toBe('applied');
    const db = new Database(path);
    expect(db.prepare('SELECT id, a, typeof(b) AS tb, b, c, typeof(c) AS tc FROM t ORDER BY id').all()).toEqual([
      { id: 1, a: '7', tb: 'integer', b: 1, c: 7, tc: 'real' },
      { id: 2, a: '-3', tb: 'integer', b: 70000, c: 0.5, tc: 'real' },
    ]);
    db.exec('CREATE TABLE cn (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT)');
    db.exec("INSERT INTO cn VALUES (1, 'a', '2024-05-01'), (2, 'null cursor', NULL), (3, 'b', '2024-05-02')");
    db.close();
    const src = new SqliteSource('s', { type: 'sqlite', path, table: 'cn', key: 'id', cursor: 'updated_at' });
    opened.push(src);
    expect((await src.read(null, 10)).rows.map((r) => r['id'])).toEqual([1, 3]);
  });

  it('values - the SQLite sink writes every model value and hands back the records SQLite refuses', async () => {
    const path = join(dir, 'typed.db');
    const hint = {
      columns: [
        { name: 'id', type: 'integer' as const },
        { name: 'd', type: 'decimal' as const },
        { name: 'b', type: 'binary' as const },
        { name: 't', type: 'datetime' as const },
        { name: 'x', type: 'number' as const },
        { name: 'n', type: 'string' as const },
      ],
      keyColumns: ['id'],
    };
    const sink = new SqliteSink('d', { type: 'sqlite', path, table: '人口 信息', key: 'id' }, hint);
    opened.push(sink);
    const raw = new Database(path);
    raw.exec(`CREATE TABLE strict_n ("id" INTEGER PRIMARY KEY, "姓名" TEXT NOT NULL)`);
    raw.close();
    const refused: RefusedRecord[] = [];
    const rows = [
      [
        1,
        new Decimal('12345678901234567890.120'),
        Buffer.from([0, 1, 2]),
        new Temporal('timestamp', '1900-01-01T00:00:00.000001'),
        0.1,
        '',
      ],
      [2, new Decimal('1'), Buffer.alloc(0), new Temporal('timestamptz', '2024-05-01T10:00:00Z'), NaN, 'NaN row'],
      [3, null, null, null, -1e308, null],
    ];
    expect(
      await sink.apply(
        's/t/1',
        1,
        { batchId: 'b1', columns: ['id', 'd', 'b', 't', 'x', 'n'], rows, ops: ['u', 'u', 'u'] },
        { onRefused: (r) => refused.push(...r) },
      ),
    ).toBe('applied');
    expect(refused).toEqual([{ index: 1, reason: 'SQLite cannot store NaN' }]);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT * FROM "人口 信息" ORDER BY id').all()).toEqual([
      {
        id: 1,
        d: '12345678901234567890.120',
        b: Buffer.from([0, 1, 2]),
        t: '1900-01-01T00:00:00.000001',
        x: 0.1,
        n: '',
      },
      { id: 3, d: null, b: null, t: null, x: -1e308, n: null },
    ]);
    db.close();
    const strict = new SqliteSink('d', { type: 'sqlite', path, table: 'strict_n', key: 'id' });
    opened.push(strict);
    const r2: RefusedRecord[] = [];
    expect(
      await strict.apply(
        's/t/2',
        1,
        {
          batchId: 'b2',
          columns: ['id', '姓名'],
          rows: [
            [1, '张三'],
            [2, null],
            [3, ''],
          ],
          ops: ['u', 'u', 'u'],
        },
        { onRefused: (r) => r2.push(...r) },
      ),
    ).toBe('applied');
    expect(r2).toEqual([{ index: 1, reason: 'NOT NULL constraint failed: strict_n.姓名 (SQLITE_CONSTRAINT_NOTNULL)' }]);
    expect(await strict.lastSequence('s/t/2')).toBe(1);
  });
});
