// CSV and JSON-lines directory connectors on real files: paging and restarts of the source, bad lines
// reaching quarantine, the sink's atomic commits and ledger; then exchanges through the real data plane
// (nats-server, central and two agents as child processes).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RecordFileFormat } from '../../node-agent/src/connectors/files/reader.js';
import { FileRecordSink } from '../../node-agent/src/connectors/files/sink.js';
import { FileRecordSource } from '../../node-agent/src/connectors/files/source.js';
import { openSink, openSource } from '../../node-agent/src/connectors/index.js';
import type { Cursor, RecordSink, RecordSource, SinkBatch } from '../../node-agent/src/connectors/types.js';
import { compilePipeline } from '../../node-agent/src/pipeline/index.js';
import { mask, type MaskRule } from '../../node-agent/src/pipeline/mask.js';
import { Decimal, JsonText, Temporal } from '../../node-agent/src/values/value.js';
import { PERSON_FIELDS, seedPopulation } from '../../scripts/synthetic.js';
import { AgentProcess } from '../helpers/agent.js';
import { Api } from '../helpers/api.js';
import { CentralProcess } from '../helpers/central.js';
import { NatsServer } from '../helpers/nats-server.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait-for.js';

const FORMATS: RecordFileFormat[] = ['csv', 'jsonl'];

const opened: (RecordSource | RecordSink)[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

function source(fmt: RecordFileFormat, dir: string, extra: Record<string, unknown> = {}): FileRecordSource {
  const s = new FileRecordSource('files', { type: fmt, dir, key: 'id', ...extra });
  opened.push(s);
  return s;
}

function sink(fmt: RecordFileFormat, dir: string, extra: Record<string, unknown> = {}): FileRecordSink {
  const s = new FileRecordSink('out', { type: fmt, dir, key: 'id', ...extra });
  opened.push(s);
  return s;
}

interface Person {
  id: number;
  name: string;
  note: string;
  score: number;
}

/** Deterministic people whose notes hold commas, quotes, line breaks and Chinese text now and then. */
function people(from: number, count: number): Person[] {
  const notes = ['普通', '南昌市, 东湖区', '他说"你好"', '第一行\n第二行', '', 'a,"b",c\r\nd', '  spaced  '];
  return Array.from({ length: count }, (_, i) => ({
    id: from + i,
    name: `张${from + i}`,
    note: notes[(from + i) % notes.length]!,
    score: (from + i) * 1.5,
  }));
}

/** A CSV field for text (never NULL): '' is written "" (PostgreSQL COPY's convention: an unquoted empty field is NULL). */
function csvQuote(s: string): string {
  return s === '' || /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Writes people as the given format; CSV with `eol` line ends; extra raw lines appended as they are. */
function writePeople(
  fmt: RecordFileFormat,
  path: string,
  ps: Person[],
  opts: { eol?: string; blankLines?: boolean } = {},
): void {
  const eol = opts.eol ?? '\n';
  const lines =
    fmt === 'csv'
      ? [
          'id,name,note,score',
          ...ps.map((p) => [String(p.id), p.name, p.note, String(p.score)].map(csvQuote).join(',')),
        ]
      : ps.map((p) => JSON.stringify(p));
  if (opts.blankLines) lines.splice(2, 0, '', '');
  writeFileSync(path, lines.join(eol) + eol);
}

/** What the source returns for a person: CSV gives text, JSON its own types. */
function asRow(fmt: RecordFileFormat, p: Person): Record<string, unknown> {
  return fmt === 'csv' ? { id: String(p.id), name: p.name, note: p.note, score: String(p.score) } : { ...p };
}

/** Reads page after page (cursor through JSON, as the spool keeps it) until the source is exhausted. */
async function readAll(src: RecordSource, limit: number, from: Cursor = null) {
  let cursor: Cursor = from;
  const rows: Record<string, unknown>[] = [];
  const ops: ('u' | 'd')[] = [];
  const errors: (string | undefined)[] = [];
  let pages = 0;
  for (;;) {
    const page = await src.read(cursor, limit);
    pages++;
    expect(page.rows.length).toBeLessThanOrEqual(limit);
    expect(page.ops.length).toBe(page.rows.length);
    if (page.errors) expect(page.errors.length).toBe(page.rows.length);
    if (page.rows.length === 0) expect(page.cursor).toEqual(cursor);
    rows.push(...page.rows);
    ops.push(...page.ops);
    errors.push(...(page.errors ?? page.rows.map(() => undefined)));
    cursor = JSON.parse(JSON.stringify(page.cursor)) as Cursor;
    if (page.exhausted) break;
    if (pages > 10_000) throw new Error('source never exhausted');
  }
  return { rows, ops, errors, cursor, pages };
}

/** Three files of people (CRLF, LF, blank lines) and an empty one between them; returns the expected rows. */
function threeFiles(fmt: RecordFileFormat, dir: string): Record<string, unknown>[] {
  const a = people(1, 23);
  const b = people(24, 3);
  const c = people(27, 31);
  writePeople(fmt, join(dir, `a.${fmt}`), a, { eol: '\r\n' });
  writePeople(fmt, join(dir, `b.${fmt}`), b, { blankLines: true });
  writeFileSync(join(dir, `b2.${fmt}`), fmt === 'csv' ? 'id,name,note,score\n' : '');
  writePeople(fmt, join(dir, `c.${fmt}`), c);
  return [...a, ...b, ...c].map((p) => asRow(fmt, p));
}

for (const fmt of FORMATS) {
  describe(`${fmt} - directory source`, () => {
    it(`${fmt} - paging across files with small limits equals reading all (no record skipped or repeated)`, async () => {
      const dir = tmpDir('xchg-files-');
      const want = threeFiles(fmt, dir);
      const all = await readAll(source(fmt, dir), 10_000);
      expect(all.rows).toEqual(want);
      expect(all.errors.every((e) => e === undefined)).toBe(true);
      expect(all.ops.every((o) => o === 'u')).toBe(true);
      for (const limit of [1, 2, 3, 7, 23, 24]) {
        const paged = await readAll(source(fmt, dir), limit);
        expect(paged.rows, `limit ${limit}`).toEqual(want);
        expect(paged.pages).toBeGreaterThanOrEqual(Math.ceil(want.length / limit));
      }
      // Once exhausted, reading again gives nothing and keeps the cursor.
      const src = source(fmt, dir);
      const done = await readAll(src, 5);
      const again = await src.read(done.cursor, 5);
      expect(again).toEqual({ rows: [], ops: [], cursor: done.cursor, exhausted: true });
    });

    it(`${fmt} - a restart from a saved cursor mid-file goes on with the next record, also without or with a wrong byte offset`, async () => {
      const dir = tmpDir('xchg-files-');
      const want = threeFiles(fmt, dir);
      const first = source(fmt, dir);
      const page = await first.read(null, 10);
      expect(page.rows).toEqual(want.slice(0, 10));
      const saved = JSON.parse(JSON.stringify(page.cursor)) as { k: [string, number, number] };
      expect(saved.k[0]).toBe(`a.${fmt}`);
      await first.close();

      const resumed = await readAll(source(fmt, dir), 4, saved);
      expect(resumed.rows).toEqual(want.slice(10));
      // Without the offset, and with one that is not a line start, the file is rescanned by line number.
      const noOffset = await readAll(source(fmt, dir), 1000, { k: [saved.k[0], saved.k[1]] });
      expect(noOffset.rows).toEqual(want.slice(10));
      const badOffset = await readAll(source(fmt, dir), 1000, { k: [saved.k[0], saved.k[1], saved.k[2] + 3] });
      expect(badOffset.rows).toEqual(want.slice(10));
      // A cursor at the end of one file resumes with the next file.
      const sameSource = source(fmt, dir);
      const p23 = await sameSource.read(null, 23);
      expect((p23.cursor as { k: unknown[] }).k[0]).toBe(`a.${fmt}`);
      const rest = await readAll(source(fmt, dir), 1000, JSON.parse(JSON.stringify(p23.cursor)) as Cursor);
      expect(rest.rows).toEqual(want.slice(23));
      // The same source asked again from an older cursor (a step whose commit failed) re-reads from there.
      const again = await sameSource.read(saved, 3);
      expect(again.rows).toEqual(want.slice(10, 13));
      // A file removed behind the cursor (archived by the operator): reading goes on with the next one.
      await sameSource.close();
      rmSync(join(dir, `a.${fmt}`));
      expect((await readAll(source(fmt, dir), 1000, saved)).rows).toEqual(want.slice(23));
      await expect(source(fmt, dir).read({ k: ['../etc/passwd', 1] }, 1)).rejects.toThrow(/is not a file position/);
    });

    it(`${fmt} - new files are picked up; hidden, temporary, partial and non-matching files are not`, async () => {
      const dir = tmpDir('xchg-files-');
      const want = threeFiles(fmt, dir);
      const src = source(fmt, dir);
      const all = await readAll(src, 10);
      expect(all.rows).toEqual(want);

      writePeople(fmt, join(dir, `.hidden.${fmt}`), people(900, 2));
      writePeople(fmt, join(dir, `d.${fmt}.tmp`), people(910, 2));
      writePeople(fmt, join(dir, `d.${fmt}.part`), people(920, 2));
      writePeople(fmt, join(dir, 'notes.txt'), people(930, 2));
      const none = await src.read(all.cursor, 10);
      expect(none.rows).toEqual([]);
      expect(none.exhausted).toBe(true);

      // A producer writes under a temporary name and renames when complete.
      writePeople(fmt, join(dir, `.d.${fmt}.tmp`), people(58, 5));
      expect((await src.read(all.cursor, 10)).rows).toEqual([]);
      renameSync(join(dir, `.d.${fmt}.tmp`), join(dir, `d.${fmt}`));
      const more = await readAll(src, 2, all.cursor);
      expect(more.rows).toEqual(people(58, 5).map((p) => asRow(fmt, p)));
      // A restarted source from the saved cursor sees the same.
      expect((await readAll(source(fmt, dir), 100, all.cursor)).rows).toEqual(more.rows);

      // A file that sorts before the read position cannot be read in order: it is reported, not skipped silently.
      writePeople(fmt, join(dir, `a0.${fmt}`), people(990, 1));
      writePeople(fmt, join(dir, `e.${fmt}`), people(63, 1));
      const late = await readAll(src, 100, more.cursor);
      expect(late.rows).toEqual([{ _file: `a0.${fmt}` }, asRow(fmt, people(63, 1)[0]!)]);
      expect(late.errors[0]).toMatch(
        new RegExp(`^file a0\\.${fmt} arrived after the source had read past its place in name order`),
      );
    });

    it(`${fmt} - lookup returns the latest record with the key and nothing after a tombstone`, async () => {
      const dir = tmpDir('xchg-files-');
      threeFiles(fmt, dir);
      const upd = { id: 5, name: '改名', note: 'x', score: 1 };
      if (fmt === 'csv') writeFileSync(join(dir, 'd.csv'), 'id,name,note,score,_op\n5,改名,x,1,u\n7,张7,,,d\n');
      else writeFileSync(join(dir, 'd.jsonl'), `${JSON.stringify(upd)}\n${JSON.stringify({ id: 7, _op: 'd' })}\n`);
      const src = source(fmt, dir);
      expect(await src.lookup({ id: 5 })).toEqual(asRow(fmt, upd));
      expect(await src.lookup({ id: 6 })).toEqual(asRow(fmt, people(6, 1)[0]!));
      expect(await src.lookup({ id: 7 })).toBeUndefined();
      expect(await src.lookup({ id: 12345 })).toBeUndefined();
      await expect(src.lookup({ name: '张6' })).rejects.toThrow(/cannot look up by "name"/);
      // Tombstones come through read() as "d" ops without the marker field.
      const all = await readAll(src, 1000);
      expect(all.ops.at(-1)).toBe('d');
      expect(all.rows.at(-1)).not.toHaveProperty('_op');
    });
  });
}

describe('csv - parsing', () => {
  it('csv - quoted fields with commas, line breaks, quotes and Chinese text parse exactly (BOM, CRLF and LF)', async () => {
    const dir = tmpDir('xchg-files-');
    const text =
      '\uFEFFid,姓名,地址,备注\r\n' +
      '1,张三,"南昌市, 东湖区","他说""你好"""\r\n' +
      '2,李四,"第一行\r\n第二行",\r\n' +
      '3,"王五","","a ""quoted"" word, and more"\n' +
      '4,赵六,"line1\nline2\n\nline4","x"\n' +
      '5,5\'11",plain "inner" quotes,  spaced  \n';
    writeFileSync(join(dir, 'people.csv'), text);
    const src = source('csv', dir);
    const all = await readAll(src, 1000);
    expect(all.errors).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(all.rows).toEqual([
      { id: '1', 姓名: '张三', 地址: '南昌市, 东湖区', 备注: '他说"你好"' },
      { id: '2', 姓名: '李四', 地址: '第一行\r\n第二行', 备注: null },
      { id: '3', 姓名: '王五', 地址: '', 备注: 'a "quoted" word, and more' },
      { id: '4', 姓名: '赵六', 地址: 'line1\nline2\n\nline4', 备注: 'x' },
      { id: '5', 姓名: '5\'11"', 地址: 'plain "inner" quotes', 备注: '  spaced  ' },
    ]);
    // Cursors count physical lines: record 2 ends on line 4, record 4 on line 9.
    const p2 = await source('csv', dir).read(null, 2);
    expect((p2.cursor as { k: unknown[] }).k.slice(0, 2)).toEqual(['people.csv', 4]);
    const p4 = await source('csv', dir).read(null, 4);
    expect((p4.cursor as { k: unknown[] }).k.slice(0, 2)).toEqual(['people.csv', 9]);
    expect((await readAll(source('csv', dir), 1, { k: ['people.csv', 4] })).rows).toEqual(all.rows.slice(2));
    expect((await readAll(source('csv', dir), 1, p4.cursor)).rows).toEqual(all.rows.slice(4));
  });

  it('csv - settings are checked, with the binding named', () => {
    const dir = tmpDir('xchg-files-');
    expect(() => new FileRecordSource('people', { type: 'csv', dir, key: 'id', delimiter: ';' } as never)).toThrow(
      /binding people: csv source: unknown setting delimiter/,
    );
    expect(() => new FileRecordSource('people', { type: 'csv', dir: join(dir, 'missing'), key: 'id' })).toThrow(
      /binding people: cannot read directory/,
    );
    expect(() => new FileRecordSource('people', { type: 'csv', dir, key: [] } as never)).toThrow(/key is required/);
    expect(() => new FileRecordSource('people', { type: 'csv', dir, key: 'id', encoding: 'ebcdic' })).toThrow(
      'binding people: csv source: encoding "ebcdic" is not supported (use one of utf-8, gbk, gb18030, big5, utf-16le, utf-16be, utf-16)',
    );
    expect(() => new FileRecordSink('out', { type: 'jsonl', dir, key: 'id', encoding: 'latin1' })).toThrow(
      'binding out: jsonl sink: encoding "latin1" is not supported (use one of utf-8, gbk, gb18030, big5, utf-16le, utf-16be, utf-16)',
    );
    expect(() => new FileRecordSource('people', { type: 'jsonl', dir, key: 'id', nullString: '\\N' })).toThrow(
      'binding people: jsonl source: nullString applies to csv only (JSON has null)',
    );
    expect(() => new FileRecordSink('out', { type: 'csv', dir, key: 'id', nullString: 'a,b' })).toThrow(
      /binding out: csv sink: nullString must be text of at most 64 characters without/,
    );
    expect(() => new FileRecordSink('out', { type: 'jsonl', dir: '', key: 'id' })).toThrow(
      /binding out: jsonl sink: dir is required/,
    );
    // A setting spread in as undefined is absent (reconciliation opens the binding with cursor: undefined).
    opened.push(openSource('people', { type: 'csv', dir, key: 'id', cursor: undefined }));
    const s = openSource('people', { type: 'csv', dir, key: 'id' });
    const k = openSink('out', { type: 'jsonl', dir, key: 'id' }, { columns: [], keyColumns: [] });
    opened.push(s, k);
    expect(s).toBeInstanceOf(FileRecordSource);
    expect(k).toBeInstanceOf(FileRecordSink);
  });
});

describe('files - bad input reaches quarantine', () => {
  const PIPE = compilePipeline({
    fields: [
      { name: 'id', type: 'integer', required: true },
      { name: 'name', type: 'string', required: true },
    ],
  });

  it('jsonl - malformed JSON, a non-object, invalid UTF-8 and a truncated last line come back with reasons; good lines around them do too', async () => {
    const dir = tmpDir('xchg-files-');
    const bad = Buffer.concat([Buffer.from('{"id": 4, "name": "坏'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const badOther = Buffer.concat([
      Buffer.from('{"id": 5, "name": "好", "extra": "'),
      Buffer.from([0xc3]),
      Buffer.from('"}\n'),
    ]);
    writeFileSync(
      join(dir, 'a.jsonl'),
      Buffer.concat([
        Buffer.from('{"id": 1, "name": "甲"}\n{"id": 2, "name": \n[1, 2]\n'),
        bad,
        badOther,
        Buffer.from('{"id": 6, "name": "乙"}'),
      ]),
    );
    writeFileSync(join(dir, 'b.jsonl'), '{"id": 7, "name": "丙"}\n{"id": 8, "na');
    writeFileSync(join(dir, 'c.jsonl'), '{"id": 9, "name": "丁", "_op": "x"}\n{"id": 10, "name": "戊"}\n');
    const all = await readAll(source('jsonl', dir), 3);
    expect(all.rows.map((r) => r['id'] ?? r['_line'])).toEqual([1, 2, 3, 4, 5, 6, 7, 2, 1, 10]);
    expect(all.errors[0]).toBeUndefined();
    expect(all.errors[1]).toMatch(/^malformed JSON at a\.jsonl:2: /);
    expect(all.rows[1]).toEqual({ _file: 'a.jsonl', _line: 2, _text: '{"id": 2, "name": ' });
    expect(all.errors[2]).toBe('not a JSON object at a.jsonl:3');
    expect(all.errors[3]).toBe('invalid UTF-8 at a.jsonl:4');
    expect(all.errors[4]).toBe('invalid UTF-8 at a.jsonl:5');
    expect(all.errors[5]).toBeUndefined(); // a truncated last line that parses is a record
    expect(all.rows[5]).toEqual({ id: 6, name: '乙' });
    expect(all.errors[6]).toBeUndefined();
    expect(all.errors[7]).toMatch(/^truncated line at b\.jsonl:2/);
    expect(all.errors[8]).toMatch(/^bad _op value at c\.jsonl:1/);
    expect(all.errors[9]).toBeUndefined();
    // The fallback for readers that ignore `errors`: U+FFFD stays in the values and the pipeline rejects it.
    expect(all.rows[3]!['name']).toContain('\uFFFD');
    expect(PIPE.process(all.rows[3]!)).toEqual({ ok: false, reason: 'field name: invalid UTF-8 text', field: 'name' });
    // Good rows pass the pipeline.
    expect(PIPE.process(all.rows[0]!)).toEqual({ ok: true, values: [1, '甲'] });
  });

  it('csv - wrong column counts, a stray quote, invalid UTF-8, a bad header and truncated last lines come back with reasons', async () => {
    const dir = tmpDir('xchg-files-');
    const bad = Buffer.concat([Buffer.from('4,'), Buffer.from([0xe5, 0xbc]), Buffer.from(',x\n')]);
    writeFileSync(
      join(dir, 'a.csv'),
      Buffer.concat([Buffer.from('id,name,extra\n1,甲,x\n2,乙\n3,"丙"z,x\n'), bad, Buffer.from('5,戊,x,y\n6,"己\n')]),
    );
    writeFileSync(join(dir, 'b.csv'), 'id,name,extra\n7,庚,x\n8,"辛, 壬",x');
    writeFileSync(join(dir, 'c.csv'), 'id,name,extra\n9,癸,x\n10,"子');
    writeFileSync(join(dir, 'd.csv'), 'id,name,id\n11,丑,x\n');
    writeFileSync(join(dir, 'e.csv'), 'id,name\n12,寅\n13');
    const all = await readAll(source('csv', dir), 2);
    const errors = all.errors;
    expect(all.rows[0]).toEqual({ id: '1', name: '甲', extra: 'x' });
    expect(errors[0]).toBeUndefined();
    expect(errors[1]).toBe('wrong number of columns at a.csv:3: 2 fields, the header has 3');
    expect(all.rows[1]).toEqual({ _file: 'a.csv', _line: 3, _text: '2,乙' });
    expect(errors[2]).toBe('text after the closing quote of field 2 at a.csv:4');
    expect(errors[3]).toBe('invalid UTF-8 at a.csv:5');
    expect(all.rows[3]).toEqual({ id: '4', name: '\uFFFD', extra: 'x' });
    expect(PIPE.process(all.rows[3]!)).toMatchObject({ ok: false, reason: 'field name: invalid UTF-8 text' });
    expect(errors[4]).toBe('wrong number of columns at a.csv:6: 4 fields, the header has 3');
    expect(errors[5]).toBe('unterminated quoted field at a.csv:7');
    expect(all.rows[6]).toEqual({ id: '7', name: '庚', extra: 'x' });
    expect(all.rows[7]).toEqual({ id: '8', name: '辛, 壬', extra: 'x' }); // truncated last line that parses
    expect(errors[7]).toBeUndefined();
    expect(all.rows[8]).toEqual({ id: '9', name: '癸', extra: 'x' });
    expect(errors[9]).toBe('truncated line at c.csv:3');
    expect(errors[10]).toBe('bad header in d.csv (line 1): duplicate column name "id"');
    expect(all.rows[11]).toEqual({ id: '12', name: '寅' });
    expect(errors[12]).toBe('truncated line at e.csv:3: 1 field, the header has 2');
    expect(all.rows).toHaveLength(13);
    expect(errors.filter((e) => e === undefined)).toHaveLength(5);
  });

  it('jsonl - a line longer than maxLineBytes is quarantined without holding it in memory, and reading goes on', async () => {
    const dir = tmpDir('xchg-files-');
    const long = JSON.stringify({ id: 2, name: 'x'.repeat(300_000) });
    writeFileSync(join(dir, 'a.jsonl'), `{"id":1,"name":"a"}\n${long}\n{"id":3,"name":"c"}\n`);
    const all = await readAll(source('jsonl', dir, { maxLineBytes: 100_000 }), 10);
    expect(all.rows.map((r) => r['id'] ?? r['_line'])).toEqual([1, 2, 3]);
    expect(all.errors[1]).toBe('line longer than 100000 bytes at a.jsonl:2');
  });
});

function batch(columns: string[], rows: unknown[][], ops?: ('u' | 'd')[]): SinkBatch {
  return { batchId: `b-${Math.random()}`, columns, rows, ops: ops ?? rows.map(() => 'u') };
}

const STREAM = 'node-gat-01/tsk_abc/e1f2';

for (const fmt of FORMATS) {
  describe(`${fmt} - directory sink`, () => {
    it(`${fmt} - sink: each batch is one file committed by rename; a duplicate or a gap writes nothing; the ledger survives reopening`, async () => {
      const dir = tmpDir('xchg-files-out-');
      const out = sink(fmt, dir);
      expect(await out.lastSequence(STREAM)).toBe(0);
      const b1 = batch(
        ['id', 'name'],
        [
          [1, '甲'],
          [2, '乙'],
        ],
      );
      expect(await out.apply(STREAM, 1, b1)).toBe('applied');
      const name1 = `node-gat-01.tsk_abc.e1f2.000000000001.${fmt}`;
      expect(readdirSync(dir)).toEqual([name1]);
      const content1 = readFileSync(join(dir, name1), 'utf8');

      expect(await out.apply(STREAM, 1, batch(['id', 'name'], [[1, 'changed']]))).toBe('duplicate');
      expect(await out.apply(STREAM, 3, batch(['id', 'name'], [[3, '丙']]))).toBe('gap');
      expect(readdirSync(dir)).toEqual([name1]);
      expect(readFileSync(join(dir, name1), 'utf8')).toBe(content1);

      expect(await out.apply(STREAM, 2, batch(['id', 'name'], [[3, '丙']]))).toBe('applied');
      // An empty batch (all its records quarantined at the consumer) still takes its place in the ledger.
      expect(await out.apply(STREAM, 3, batch([], []))).toBe('applied');
      expect(await out.apply('other/stream/x', 1, batch(['id', 'name'], [[9, '壬']]))).toBe('applied');
      expect(await out.lastSequence(STREAM)).toBe(3);
      // A crash between write and rename leaves a hidden temp file: not committed, not counted.
      writeFileSync(join(dir, `.node-gat-01.tsk_abc.e1f2.000000000004.${fmt}.tmp`), 'partial');
      await out.close();

      const again = sink(fmt, dir);
      expect(await again.lastSequence(STREAM)).toBe(3);
      expect(await again.lastSequence('other/stream/x')).toBe(1);
      expect(await again.lastSequence('node-gat-01/tsk_abc/other')).toBe(0);
      expect(await again.apply(STREAM, 3, batch(['id', 'name'], [[1, 'x']]))).toBe('duplicate');
      expect(await again.apply(STREAM, 4, batch(['id', 'name'], [[4, '丁']]))).toBe('applied');
      expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
      expect(readdirSync(dir).sort()).toEqual([
        `node-gat-01.tsk_abc.e1f2.000000000001.${fmt}`,
        `node-gat-01.tsk_abc.e1f2.000000000002.${fmt}`,
        `node-gat-01.tsk_abc.e1f2.000000000003.${fmt}`,
        `node-gat-01.tsk_abc.e1f2.000000000004.${fmt}`,
        `other.stream.x.000000000001.${fmt}`,
      ]);
      await expect(again.apply(STREAM, 5, batch(['name'], [['no key']]))).rejects.toThrow(/batch lacks key column id/);
      expect(await again.lastSequence(STREAM)).toBe(4);
    });

    it(`${fmt} - sink: concurrent applies of one stream commit each sequence once`, async () => {
      const dir = tmpDir('xchg-files-out-');
      const out = sink(fmt, dir);
      const outcomes = await Promise.all(
        [1, 2, 2, 3, 1, 4].map((seq) => out.apply(STREAM, seq, batch(['id'], [[seq]]))),
      );
      expect(outcomes).toEqual(['applied', 'applied', 'duplicate', 'applied', 'duplicate', 'applied']);
      expect(readdirSync(dir)).toHaveLength(4);
    });

    it(`${fmt} - sink: what it writes reads back through the source, tombstones included`, async () => {
      const dir = tmpDir('xchg-files-out-');
      const out = sink(fmt, dir);
      const rows: unknown[][] = [
        [1, '张三', '南昌市, 东湖区', 1.5, true],
        [2, '他说"你好"', '第一行\r\n第二行', null, false],
        [3, 'a', 'line\nbreak', 0, null],
      ];
      await out.apply(STREAM, 1, batch(['id', 'name', 'addr', 'score', 'ok'], rows));
      await out.apply(
        STREAM,
        2,
        batch(['id', 'name', 'addr', 'score', 'ok'], [[2, '他说"你好"', '', null, false]], ['d']),
      );
      const back = await readAll(source(fmt, dir), 2);
      expect(back.ops).toEqual(['u', 'u', 'u', 'd']);
      const text = (v: unknown): unknown => (v === null ? null : String(v));
      const want = [...rows, [2, '他说"你好"', '', null, false]].map((r) => {
        const values = fmt === 'csv' ? r.map(text) : r;
        return Object.fromEntries(['id', 'name', 'addr', 'score', 'ok'].map((c, i) => [c, values[i]]));
      });
      expect(back.rows).toEqual(want);
      expect(back.errors.every((e) => e === undefined)).toBe(true);
    });
  });
}

describe('files - sink formats', () => {
  it('csv - sink output is a header row and RFC 4180 records with CRLF, in UTF-8, with an _op column when the batch deletes; NULL unquoted empty, \'\' as ""', async () => {
    const dir = tmpDir('xchg-files-out-');
    const out = sink('csv', dir);
    await out.apply(
      's/t/e',
      1,
      batch(
        ['id', '姓名', 'note'],
        [
          [1, '张三', 'a,b'],
          [2, '李"四"', 'x\ny'],
          [3, null, { k: 1 }],
        ],
      ),
    );
    await out.apply(
      's/t/e',
      2,
      batch(
        ['id', '姓名', 'note'],
        [
          [4, '赵', ''],
          [2, '李"四"', 'x\ny'],
        ],
        ['u', 'd'],
      ),
    );
    expect(readFileSync(join(dir, 's.t.e.000000000001.csv'), 'utf8')).toBe(
      'id,姓名,note\r\n1,张三,"a,b"\r\n2,"李""四""","x\ny"\r\n3,,"{""k"":1}"\r\n',
    );
    expect(readFileSync(join(dir, 's.t.e.000000000002.csv'), 'utf8')).toBe(
      'id,姓名,note,_op\r\n4,赵,"",u\r\n2,"李""四""","x\ny",d\r\n',
    );
  });

  it('jsonl - sink writes one object per line, with _op "d" on tombstones; stream names are encoded injectively', async () => {
    const dir = tmpDir('xchg-files-out-');
    const out = sink('jsonl', dir);
    await out.apply(
      'n.1/t 2/e',
      1,
      batch(
        ['id', 'name'],
        [
          [1, '张三'],
          [2, null],
        ],
        ['u', 'd'],
      ),
    );
    expect(readdirSync(dir)).toEqual(['n%2E1.t%202.e.000000000001.jsonl']);
    expect(readFileSync(join(dir, 'n%2E1.t%202.e.000000000001.jsonl'), 'utf8')).toBe(
      '{"id":1,"name":"张三"}\n{"id":2,"name":null,"_op":"d"}\n',
    );
    expect(await out.lastSequence('n_1/t 2/e')).toBe(0);
    expect(await out.lastSequence('n.1/t 2/e')).toBe(1);
  });
});

describe('csv - NULL convention (PostgreSQL COPY CSV)', () => {
  it("csv - an unquoted empty field is NULL, \"\" is '', and 'NULL' and whitespace stay text, through the source", async () => {
    const dir = tmpDir('xchg-files-');
    writeFileSync(join(dir, 'a.csv'), 'id,a,b,c,d,e,f\n1,,"",NULL,"  ",  ,"NULL"\n2,"",,"",x,\\N,"\\N"\n3,,,,,,\n');
    const all = await readAll(source('csv', dir), 10);
    expect(all.errors).toEqual([undefined, undefined, undefined]);
    expect(all.rows).toEqual([
      { id: '1', a: null, b: '', c: 'NULL', d: '  ', e: '  ', f: 'NULL' },
      { id: '2', a: '', b: null, c: '', d: 'x', e: '\\N', f: '\\N' },
      { id: '3', a: null, b: null, c: null, d: null, e: null, f: null },
    ]);
    // nullString \N (COPY's NULL '\N'): that unquoted text is NULL, an unquoted empty field is ''.
    const marked = await readAll(source('csv', dir, { nullString: '\\N' }), 10);
    expect(marked.rows).toEqual([
      { id: '1', a: '', b: '', c: 'NULL', d: '  ', e: '  ', f: 'NULL' },
      { id: '2', a: '', b: '', c: '', d: 'x', e: null, f: '\\N' },
      { id: '3', a: '', b: '', c: '', d: '', e: '', f: '' },
    ]);
  });

  for (const nullString of [undefined, '\\N']) {
    it(`csv - NULL, '', 'NULL', whitespace and the marker text round-trip sink → source exactly (nullString ${JSON.stringify(nullString ?? '')})`, async () => {
      const dir = tmpDir('xchg-files-out-');
      const extra = nullString === undefined ? {} : { nullString };
      const cols = ['id', 'a', 'b', 'c', 'd', 'e', 'f'];
      const rows = [
        ['1', null, '', 'NULL', '  ', ' x ', '\\N'],
        ['2', '', null, 'null', '\t', '""', ','],
      ];
      await sink('csv', dir, extra).apply(STREAM, 1, batch(cols, rows));
      const text = readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8');
      expect(text).toBe(
        nullString === undefined
          ? 'id,a,b,c,d,e,f\r\n1,,"",NULL,  , x ,\\N\r\n2,"",,null,\t,"""""",","\r\n'
          : 'id,a,b,c,d,e,f\r\n1,\\N,"",NULL,  , x ,"\\N"\r\n2,"",\\N,null,\t,"""""",","\r\n',
      );
      const back = await readAll(source('csv', dir, { pattern: '*.csv', ...extra }), 10);
      expect(back.rows).toEqual(rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]]))));
    });
  }
});

describe('files - records are matched by column name', () => {
  it('jsonl - keys in another order arrive under their names; the pipeline selects by name', async () => {
    const dir = tmpDir('xchg-files-');
    writeFileSync(join(dir, 'a.jsonl'), '{"id":1,"name":"a"}\n{"name":"b","id":2}\n');
    const all = await readAll(source('jsonl', dir), 10);
    expect(all.rows).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    const pipe = compilePipeline({
      fields: [
        { name: 'id', type: 'integer' },
        { name: 'name', type: 'string' },
      ],
    });
    expect(all.rows.map((r) => pipe.process(r))).toEqual([
      { ok: true, values: [1, 'a'] },
      { ok: true, values: [2, 'b'] },
    ]);
  });

  it('csv - two files whose headers differ in order give rows keyed by name; headers may be any text', async () => {
    const dir = tmpDir('xchg-files-');
    writeFileSync(join(dir, 'a.csv'), 'id,姓名,2024 人口,"first name"\n1,张三,5,Ann\n');
    writeFileSync(join(dir, 'b.csv'), '"first name",2024 人口,姓名,id\nBob,6,李四,2\n');
    const all = await readAll(source('csv', dir), 10);
    expect(all.errors).toEqual([undefined, undefined]);
    expect(all.rows).toEqual([
      { id: '1', 姓名: '张三', '2024 人口': '5', 'first name': 'Ann' },
      { id: '2', 姓名: '李四', '2024 人口': '6', 'first name': 'Bob' },
    ]);
    // The sink writes such names as they are (quoted only when CSV needs it).
    const out = tmpDir('xchg-files-out-');
    await sink('csv', out).apply(STREAM, 1, batch(['id', '姓名', '2024 人口', 'a,b'], [[1, '张三', 5, 'x']]));
    expect(readFileSync(join(out, readdirSync(out)[0]!), 'utf8')).toBe('id,姓名,2024 人口,"a,b"\r\n1,张三,5,x\r\n');
  });
});

describe('jsonl - exact numbers and nested JSON', () => {
  it('jsonl - integers beyond 2^53 and int64 min/max arrive as bigint, 38-digit decimals as Decimal, nested objects as JsonText', async () => {
    const dir = tmpDir('xchg-files-');
    const lines = [
      '{"id":9007199254740992,"v":"a"}',
      '{"id":9007199254740993,"v":"b"}',
      '{"id":1,"max":9223372036854775807,"min":-9223372036854775808,"safe":9007199254740991,"unsafe":-9007199254740992}',
      '{"id":2,"d38":12345678901234567890.123456789012345678,"i38":99999999999999999999999999999999999999,"frac":0.12345678901234567890123456789012345678}',
      '{"id":3,"f":0.1,"g":1.5e-7,"h":123456789012345,"neg0":-0,"huge":1e400,"tiny":5e-324,"t":true,"n":null}',
      '{"id":4,"o":{"a":9007199254740993,"b":[1.50,{"c":null}],"s":"x\\"y"},"arr":[1, 2],"empty":{}}',
      '{"id":5,"s":"12345678901234567890","x":123456789012345}',
    ];
    writeFileSync(join(dir, 'a.jsonl'), lines.join('\n') + '\n');
    const all = await readAll(source('jsonl', dir), 100);
    expect(all.errors.every((e) => e === undefined)).toBe(true);
    expect(all.rows).toEqual([
      { id: 9007199254740992n, v: 'a' },
      { id: 9007199254740993n, v: 'b' },
      {
        id: 1,
        max: 9223372036854775807n,
        min: -9223372036854775808n,
        safe: 9007199254740991,
        unsafe: -9007199254740992n,
      },
      {
        id: 2,
        d38: new Decimal('12345678901234567890.123456789012345678'),
        i38: new Decimal('99999999999999999999999999999999999999'),
        frac: new Decimal('0.12345678901234567890123456789012345678'),
      },
      {
        id: 3,
        f: 0.1,
        g: 1.5e-7,
        h: 123456789012345,
        neg0: -0,
        huge: new Decimal('1' + '0'.repeat(400)),
        tiny: 5e-324,
        t: true,
        n: null,
      },
      {
        id: 4,
        o: new JsonText('{"a":9007199254740993,"b":[1.50,{"c":null}],"s":"x\\"y"}'),
        arr: new JsonText('[1,2]'),
        empty: new JsonText('{}'),
      },
      { id: 5, s: '12345678901234567890', x: 123456789012345 },
    ]);
    expect(Object.is(all.rows[4]!['neg0'], -0)).toBe(true);
    // Both rows stay two (the old JSON.parse path merged them into one id).
    expect(new Set(all.rows.slice(0, 2).map((r) => r['id'])).size).toBe(2);
    // A number no decimal can hold without an absurd exponent is a bad line, not a wrong value.
    writeFileSync(join(dir, 'b.jsonl'), '{"id":6,"x":1e99999}\n{"id":7}\n');
    const more = await readAll(source('jsonl', dir), 100, all.cursor);
    expect(more.errors).toEqual(['malformed JSON at b.jsonl:1: number 1e99999 is out of range', undefined]);
    expect(more.rows[1]).toEqual({ id: 7 });
  });

  it('jsonl - the sink writes model values exactly: bigint and Decimal as number literals, Temporal as text, binary as base64, JSON embedded', async () => {
    const dir = tmpDir('xchg-files-out-');
    const cols = [
      'id',
      'big',
      'min',
      'dec',
      'ts',
      'tz',
      'd',
      'bin',
      'doc',
      'f',
      'nan',
      'inf',
      'neg0',
      'dnan',
      'nul',
      'empty',
      's',
    ];
    const row = [
      9007199254740993n,
      9223372036854775807n,
      -9223372036854775808n,
      new Decimal('12345678901234567890.123456789012345678'),
      new Temporal('timestamp', '2024-05-01T10:00:00.123456'),
      new Temporal('timestamptz', '1900-01-01T00:00:00Z'),
      new Temporal('date', '0001-01-01'),
      Buffer.from([0, 255, 16, 10]),
      new JsonText('{"a": 9007199254740993,\n "b": [1.50]}'),
      0.1,
      NaN,
      -Infinity,
      -0,
      new Decimal('NaN'),
      null,
      '',
      '𠀀 "q"\n',
    ];
    await sink('jsonl', dir).apply(STREAM, 1, batch(cols, [row]));
    const text = readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8');
    expect(text).toBe(
      '{"id":9007199254740993,"big":9223372036854775807,"min":-9223372036854775808,"dec":12345678901234567890.123456789012345678,' +
        '"ts":"2024-05-01T10:00:00.123456","tz":"1900-01-01T00:00:00Z","d":"0001-01-01","bin":"AP8QCg==","doc":{"a": 9007199254740993,  "b": [1.50]},' +
        '"f":0.1,"nan":"NaN","inf":"-Infinity","neg0":-0,"dnan":"NaN","nul":null,"empty":"","s":"𠀀 \\"q\\"\\n"}\n',
    );
    // Read back: numbers exact; temporal and binary as the text they were written as (typed fields coerce them).
    const back = await readAll(source('jsonl', dir), 10);
    expect(back.rows).toEqual([
      {
        id: 9007199254740993n,
        big: 9223372036854775807n,
        min: -9223372036854775808n,
        dec: new Decimal('12345678901234567890.123456789012345678'),
        ts: '2024-05-01T10:00:00.123456',
        tz: '1900-01-01T00:00:00Z',
        d: '0001-01-01',
        bin: 'AP8QCg==',
        doc: new JsonText('{"a":9007199254740993,"b":[1.50]}'),
        f: 0.1,
        nan: 'NaN',
        inf: '-Infinity',
        neg0: -0,
        dnan: 'NaN',
        nul: null,
        empty: '',
        s: '𠀀 "q"\n',
      },
    ]);
  });

  it('csv - the sink writes model values exactly: digits of bigint and Decimal, ISO text of Temporal, bytea hex of binary, JSON text', async () => {
    const dir = tmpDir('xchg-files-out-');
    const cols = ['id', 'dec', 'ts', 'tz', 'bin', 'empty_bin', 'doc', 'b', 'neg0', 'nan'];
    const row = [
      -9223372036854775808n,
      new Decimal('-0.000000000000000000000000000000000001'),
      new Temporal('timestamp', '1900-12-31T23:59:59.999999'),
      new Temporal('timestamptz', '2024-05-01T10:00:00.123456Z'),
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      Buffer.alloc(0),
      new JsonText('{"k":[1,"a,b"]}'),
      true,
      -0,
      NaN,
    ];
    await sink('csv', dir).apply(STREAM, 1, batch(cols, [row]));
    expect(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')).toBe(
      'id,dec,ts,tz,bin,empty_bin,doc,b,neg0,nan\r\n-9223372036854775808,-0.000000000000000000000000000000000001,1900-12-31T23:59:59.999999,2024-05-01T10:00:00.123456Z,\\xdeadbeef,\\x,"{""k"":[1,""a,b""]}",true,-0,NaN\r\n',
    );
  });
});

describe('files - encodings', () => {
  const people = [
    ['1', '张三', '南昌市东湖区'],
    ['2', '欧阳娜娜', '赣州市, 章贡区'],
    ['3', '', '"引号"'],
  ];
  const csvText = (rows: string[][], header = '编号,姓名,地址'): string =>
    header + '\r\n' + rows.map((r) => r.map(csvQuote).join(',')).join('\r\n') + '\r\n';
  const asRows = (rows: string[][]): Record<string, unknown>[] =>
    rows.map((r) => ({ 编号: r[0], 姓名: r[1], 地址: r[2] }));

  it('csv - a GBK file (as a Chinese spreadsheet saves it) reads exactly with encoding gbk; an invalid byte sequence quarantines that row only', async () => {
    const dir = tmpDir('xchg-files-');
    const bytes = iconv.encode(csvText(people), 'gbk');
    expect(bytes.includes(Buffer.from('张三', 'utf8'))).toBe(false);
    const broken = Buffer.concat([
      iconv.encode('4,', 'gbk'),
      Buffer.from([0x81, 0x20]),
      iconv.encode('王,x\r\n5,赵六,九江\r\n', 'gbk'),
    ]);
    writeFileSync(join(dir, 'a.csv'), Buffer.concat([bytes, broken]));
    const all = await readAll(source('csv', dir, { encoding: 'GBK' }), 2);
    expect(all.rows.slice(0, 3)).toEqual(asRows(people));
    expect(all.errors).toEqual([undefined, undefined, undefined, 'invalid GBK at a.csv:5', undefined]);
    expect(all.rows[3]).toEqual({ 编号: '4', 姓名: '\uFFFD 王', 地址: 'x' });
    expect(all.rows[4]).toEqual({ 编号: '5', 姓名: '赵六', 地址: '九江' });
    // The same file read as UTF-8 (the default) is every row invalid, as before: the option is what fixes it.
    const asUtf8 = await readAll(source('csv', dir), 10);
    expect(asUtf8.errors.every((e) => e !== undefined)).toBe(true);
  });

  it('csv - a GB18030 file with four-byte characters (𠀀, 㐀) reads exactly, also when one straddles a 64 KiB read boundary, and resumes from a cursor', async () => {
    const dir = tmpDir('xchg-files-');
    const header = iconv.encode('id,name,note\n', 'gb18030');
    const before = iconv.encode('1,𠀀㐀€,', 'gb18030');
    // Pad so that the four bytes of 𠀀 in the long note start at 65534: two bytes in each read chunk.
    const pad = 65534 - header.length - before.length;
    const note = 'a'.repeat(pad) + '𠀀尾';
    const rest = iconv.encode(`2,"多行\n𠀀",x\n3,林,${'𠀀'.repeat(20000)}\n`, 'gb18030');
    const body = Buffer.concat([header, before, iconv.encode(note + '\n', 'gb18030'), rest]);
    expect(body.subarray(65534, 65538)).toEqual(Buffer.from([0x95, 0x32, 0x82, 0x36]));
    writeFileSync(join(dir, 'a.csv'), body);
    const want = [
      { id: '1', name: '𠀀㐀€', note },
      { id: '2', name: '多行\n𠀀', note: 'x' },
      { id: '3', name: '林', note: '𠀀'.repeat(20000) },
    ];
    const all = await readAll(source('csv', dir, { encoding: 'gb18030' }), 1);
    expect(all.errors).toEqual([undefined, undefined, undefined]);
    expect(all.rows).toEqual(want);
    const first = await source('csv', dir, { encoding: 'gb18030' }).read(null, 1);
    expect((await readAll(source('csv', dir, { encoding: 'gb18030' }), 5, first.cursor)).rows).toEqual(want.slice(1));
  });

  it('files - UTF-16 with a BOM (LE and BE) reads exactly, code units holding 0x0A bytes included; the BOM decides the byte order; restarts seek by offset', async () => {
    const dir = tmpDir('xchg-files-');
    // In UTF-16LE U+0A0A (ਊ) is 0A 0A, U+010A (Ċ) 0A 01, U+0D0A 0A 0D, and U+0A41 U+4E00 (ੁ一) 41 0A 00 4E (a
    // 0A 00 at an odd offset): none of them ends a line.
    const names = ['ਊĊ\u0a41一', '𠀀張', 'ഊ\u0a0d'];
    const csv = 'id,name\r\n' + names.map((n, i) => `${i + 1},${n}`).join('\r\n') + '\r\n';
    writeFileSync(join(dir, 'a.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]));
    const be = Buffer.from('id,name\n4,大\n', 'utf16le').swap16();
    writeFileSync(join(dir, 'b.csv'), Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
    const want = [...names.map((n, i) => ({ id: String(i + 1), name: n })), { id: '4', name: '大' }];
    for (const encoding of ['utf-16', 'utf-16le', 'utf-8']) {
      const all = await readAll(source('csv', dir, { encoding }), 1);
      expect(all.rows, encoding).toEqual(want);
      expect(all.errors.every((e) => e === undefined)).toBe(true);
    }
    const page = await source('csv', dir, { encoding: 'utf-16' }).read(null, 2);
    const k = (page.cursor as { k: [string, number, number] }).k;
    expect(k[2] % 2).toBe(0);
    expect((await readAll(source('csv', dir, { encoding: 'utf-16' }), 10, page.cursor)).rows).toEqual(want.slice(2));
    // JSON-lines in UTF-16LE with a BOM, and a lone last byte (a cut file): that line is quarantined.
    writeFileSync(
      join(dir, 'c.jsonl'),
      Buffer.concat([
        Buffer.from([0xff, 0xfe]),
        Buffer.from('{"id":9007199254740993,"name":"ਊ"}\n{"id":2}\n', 'utf16le'),
        Buffer.from([0x7b]),
      ]),
    );
    const j = await readAll(source('jsonl', dir, { encoding: 'utf-16le' }), 10);
    expect(j.rows.slice(0, 2)).toEqual([{ id: 9007199254740993n, name: 'ਊ' }, { id: 2 }]);
    expect(j.errors[2]).toMatch(/^truncated line at c\.jsonl:3: .* \(and invalid UTF-16LE\)$/);
  });

  it('jsonl - a UTF-8 BOM is skipped and a GBK JSON-lines file reads with encoding gbk', async () => {
    const dir = tmpDir('xchg-files-');
    writeFileSync(join(dir, 'a.jsonl'), '\uFEFF{"id":1,"姓名":"张三"}\n');
    writeFileSync(join(dir, 'b.jsonl'), iconv.encode('{"id":2,"姓名":"李四"}\n', 'gbk'));
    const all = await readAll(source('jsonl', dir, { encoding: 'gbk', pattern: 'b.jsonl' }), 10);
    expect(all.rows).toEqual([{ id: 2, 姓名: '李四' }]);
    expect((await readAll(source('jsonl', dir, { pattern: 'a.jsonl' }), 10)).rows).toEqual([{ id: 1, 姓名: '张三' }]);
  });

  it('csv - a Big5 file reads exactly with encoding big5, and a Big5 sink writes it back byte for byte', async () => {
    const dir = tmpDir('xchg-files-');
    const bytes = iconv.encode('編號,姓名,地址\r\n1,張三,臺北市\r\n', 'big5');
    writeFileSync(join(dir, 'a.csv'), bytes);
    const all = await readAll(source('csv', dir, { encoding: 'big5' }), 10);
    expect(all.rows).toEqual([{ 編號: '1', 姓名: '張三', 地址: '臺北市' }]);
    const out = tmpDir('xchg-files-out-');
    const big5 = new FileRecordSink('out', { type: 'csv', dir: out, key: '編號', encoding: 'big5' });
    opened.push(big5);
    await big5.apply(STREAM, 1, batch(['編號', '姓名', '地址'], [['1', '張三', '臺北市']]));
    expect(readFileSync(join(out, readdirSync(out)[0]!))).toEqual(bytes);
  });

  it('files - sinks write GBK, GB18030 and UTF-16 (with BOM) bytes exactly, and what they write reads back', async () => {
    const rows = [
      [1, '张三', null],
      [2, '𠀀㐀', ''],
    ];
    const cases: [string, string, Buffer][] = [
      ['gb18030', 'csv', iconv.encode('id,姓名,备注\r\n1,张三,\r\n2,𠀀㐀,""\r\n', 'gb18030')],
      [
        'utf-16',
        'csv',
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,姓名,备注\r\n1,张三,\r\n2,𠀀㐀,""\r\n', 'utf16le')]),
      ],
      [
        'utf-16be',
        'jsonl',
        Buffer.concat([
          Buffer.from([0xfe, 0xff]),
          Buffer.from('{"id":1,"姓名":"张三","备注":null}\n{"id":2,"姓名":"𠀀㐀","备注":""}\n', 'utf16le').swap16(),
        ]),
      ],
    ];
    for (const [encoding, fmt, bytes] of cases) {
      const dir = tmpDir('xchg-files-out-');
      await sink(fmt as RecordFileFormat, dir, { encoding }).apply(STREAM, 1, batch(['id', '姓名', '备注'], rows));
      expect(readFileSync(join(dir, readdirSync(dir)[0]!)), encoding).toEqual(bytes);
      const back = await readAll(source(fmt as RecordFileFormat, dir, { encoding }), 10);
      expect(back.rows, encoding).toEqual(
        rows.map((r) => ({ id: fmt === 'csv' ? String(r[0]) : r[0], 姓名: r[1], 备注: r[2] })),
      );
    }
  });

  it('files - a GBK sink refuses only the record with a character GBK lacks (never writes "?"); without a refusal callback the batch fails', async () => {
    const dir = tmpDir('xchg-files-out-');
    const out = sink('csv', dir, { encoding: 'gbk' });
    const refused: unknown[] = [];
    const rows = [
      [1, '张三?'],
      [2, '𠀀'],
      [3, '李四'],
    ];
    expect(await out.apply(STREAM, 1, batch(['id', 'name'], rows), { onRefused: (r) => refused.push(...r) })).toBe(
      'applied',
    );
    expect(refused).toEqual([
      { index: 1, reason: 'a value: character U+20000 "𠀀" cannot be written in GBK (encoding gb18030 or utf-8 can)' },
    ]);
    expect(readFileSync(join(dir, readdirSync(dir)[0]!))).toEqual(
      iconv.encode('id,name\r\n1,张三?\r\n3,李四\r\n', 'gbk'),
    );
    await expect(out.apply(STREAM, 2, batch(['id', 'name'], rows))).rejects.toThrow(
      'binding out: csv sink: row 2: a value: character U+20000 "𠀀" cannot be written in GBK',
    );
    expect(await out.lastSequence(STREAM)).toBe(1);
    await expect(out.apply(STREAM, 2, batch(['id', '名字𠀀'], [[4, 'x']]))).rejects.toThrow(
      'binding out: csv sink: a column name: character U+20000',
    );
    // JSON text that is not JSON is refused alone too.
    const jdir = tmpDir('xchg-files-out-');
    const jrefused: unknown[] = [];
    await sink('jsonl', jdir).apply(
      STREAM,
      1,
      batch(
        ['id', 'doc'],
        [
          [1, new JsonText('{"a":1}')],
          [2, new JsonText('{oops')],
        ],
      ),
      { onRefused: (r) => jrefused.push(...r) },
    );
    expect(jrefused).toEqual([{ index: 1, reason: 'column doc: a JSON value that is not JSON: "{oops"' }]);
    expect(readFileSync(join(jdir, readdirSync(jdir)[0]!), 'utf8')).toBe('{"id":1,"doc":{"a":1}}\n');
  });
});

// ---------------------------------------------------------------------------------------------------
// End to end: nats-server, central and two agents; three subscriptions between them.

const JSONL_FIELDS = [
  { name: 'id', type: 'integer', required: true },
  { name: 'name', as: 'xm', type: 'string', required: true },
  { name: 'city', type: 'string' },
  { name: 'score', type: 'number' },
  { name: 'born', type: 'date' },
];

interface Resident {
  id: number;
  name: string;
  city: string | null;
  score: number;
  born: string;
}

function residents(from: number, count: number): Resident[] {
  const cities = ['南昌市', '赣州市', null, '九江市, 濂溪区', '上饶"市"'];
  return Array.from({ length: count }, (_, i) => {
    const id = from + i;
    return {
      id,
      name: `居民${id}`,
      city: cities[id % cities.length]!,
      score: id / 4,
      born: `19${String(50 + (id % 50))}-0${1 + (id % 9)}-1${id % 10}`,
    };
  });
}

/** Writes a file as a producer should: a temp name first, then a rename. */
function publish(dir: string, name: string, content: Buffer | string): void {
  writeFileSync(join(dir, `.${name}.tmp`), content);
  renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

function csvResident(r: Resident, extra = 'x'): string {
  // A NULL city is an unquoted empty field.
  return [String(r.id), r.name, r.city, String(r.score), r.born, extra]
    .map((v) => (v === null ? '' : csvQuote(v)))
    .join(',');
}

describe('files - exchanges through the real data plane', () => {
  const dir = tmpDir('xchg-files-e2e-');
  const jsonlIn = join(dir, 'jsonl-in');
  const csvIn = join(dir, 'csv-in');
  const csvOut = join(dir, 'csv-out');
  const populationDb = join(dir, 'population.db');
  const receivedDb = join(dir, 'received.db');
  const exactIn = join(dir, 'exact-in');
  const exactOut = join(dir, 'exact-out');
  const gbkIn = join(dir, 'gbk-in');
  const gbkOut = join(dir, 'gbk-out');
  let nats: NatsServer | undefined;
  let central: CentralProcess | undefined;
  let provider: AgentProcess | undefined;
  let consumer: AgentProcess | undefined;
  let api: Api;
  const taskIds: Record<string, string> = {};
  /** Good records of the JSONL and CSV sources, by id. */
  const jsonlWant = new Map<number, Resident>();
  const csvWant = new Map<number, Resident>();
  const POPULATION = 300;

  beforeAll(async () => {
    mkdirSync(jsonlIn);
    mkdirSync(csvIn);
    mkdirSync(exactIn);
    mkdirSync(gbkIn);
    // Big integers, int64 bounds, a 38-digit decimal, nested JSON and keys in another order; no field list.
    publish(
      exactIn,
      'a.jsonl',
      '{"id":9007199254740992,"v":"a"}\n{"id":9007199254740993,"v":"b"}\n{"v":"c","id":9223372036854775807}\n' +
        '{"id":-9223372036854775808,"v":null,"d":12345678901234567890.123456789012345678,"o":{"x":[1.50,9007199254740993]}}\n',
    );
    // A GBK spreadsheet export with NULL, '', 'NULL' and whitespace.
    publish(gbkIn, 'a.csv', iconv.encode('编号,姓名,备注\r\n1,张三,\r\n2,"",欧阳\r\n3,NULL,"  "\r\n', 'gbk'));
    // JSONL: 90 good records in three files, with bad lines among them.
    const j = residents(1, 90);
    for (const r of j) jsonlWant.set(r.id, r);
    const lines = (rs: Resident[]) => rs.map((r) => JSON.stringify(r) + '\n').join('');
    publish(
      jsonlIn,
      'residents-0001.jsonl',
      lines(j.slice(0, 30)) + '{"id": 1000, "name": \n' + '[1000]\n' + lines(j.slice(30, 40)),
    );
    publish(
      jsonlIn,
      'residents-0002.jsonl',
      Buffer.concat([
        Buffer.from(lines(j.slice(40, 70))),
        // Invalid UTF-8 in a selected field, and in a field the subscription does not select: both quarantined.
        Buffer.from('{"id": 1001, "name": "坏", "city": "'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n'),
        Buffer.from('{"id": 1002, "name": "坏", "extra": "'),
        Buffer.from([0xc3]),
        Buffer.from('"}\n'),
      ]),
    );
    publish(jsonlIn, 'residents-0003.jsonl', lines(j.slice(70, 90)) + '{"id": 1003, "na');
    // CSV: 60 good records in two files, with bad lines among them.
    const c = residents(1, 60);
    for (const r of c) csvWant.set(r.id, r);
    const header = 'id,name,city,score,born,extra\r\n';
    publish(
      csvIn,
      'residents-0001.csv',
      header +
        c
          .slice(0, 30)
          .map((r) => csvResident(r) + '\r\n')
          .join('') +
        '2000,少一列,南昌市,1\r\n' +
        '2001,"多""一列",南昌市,1,1990-01-01,x,y\r\n',
    );
    publish(
      csvIn,
      'residents-0002.csv',
      Buffer.concat([
        Buffer.from(
          header +
            c
              .slice(30, 59)
              .map((r) => csvResident(r, '多行\r\n备注, 带逗号') + '\r\n')
              .join(''),
        ),
        Buffer.from('2002,坏,南昌市,1,1990-01-01,'),
        Buffer.from([0xe5, 0xbc]),
        Buffer.from('\r\n'),
        Buffer.from(csvResident(c[59]!) + '\r\n2003,"截断'),
      ]),
    );
    seedPopulation(populationDb, POPULATION);

    nats = await NatsServer.start();
    central = await CentralProcess.start({ natsUrls: [nats.url], heartbeatTtlMs: 3_000 });
    api = new Api(central.url, central.adminToken);
    await api.seedDepartment('gat');
    await api.seedDepartment('mzj');
    const dataPlane = { receiptTimeoutMs: 2_000, runReportIntervalMs: 500, pollIntervalMs: 100, batchRecords: 25 };
    provider = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('gat', 'gat-01'),
      config: {
        dataPlane,
        sources: {
          residents_jsonl: { type: 'jsonl', dir: jsonlIn, key: 'id' },
          residents_csv: { type: 'csv', dir: csvIn, key: 'id' },
          population: {
            type: 'sqlite',
            path: populationDb,
            table: 'person',
            key: 'id',
            cursor: 'updated_at',
            deleted: 'deleted',
          },
          exact_jsonl: { type: 'jsonl', dir: exactIn, key: 'id' },
          gbk_csv: { type: 'csv', dir: gbkIn, key: '编号', encoding: 'gbk' },
        },
      },
    });
    consumer = await AgentProcess.start({
      central: central.grpcAddress,
      token: await api.enrollToken('mzj', 'mzj-01'),
      config: {
        dataPlane,
        sinks: {
          from_jsonl: { type: 'sqlite', path: receivedDb, table: 'from_jsonl', key: 'id', synchronous: 'NORMAL' },
          from_csv: { type: 'sqlite', path: receivedDb, table: 'from_csv', key: 'id', synchronous: 'NORMAL' },
          population_csv: { type: 'csv', dir: csvOut, key: 'id' },
          exact_out: { type: 'jsonl', dir: exactOut, key: 'id' },
          gbk_out: { type: 'csv', dir: gbkOut, key: '编号', encoding: 'gb18030', nullString: '\\N' },
        },
      },
    });
    const providerId = await provider.nodeId;
    const consumerId = await consumer.nodeId;
    const pair = async (sub: string, sourceBinding: string, sinkBinding: string, fields: unknown): Promise<void> => {
      const params = { fields };
      await api.ok('POST', '/tasks', {
        name: `${sub}-in`,
        kind: 'exchange',
        nodeId: consumerId,
        peerNodeId: providerId,
        subscriptionId: sub,
        binding: sinkBinding,
        params,
      });
      const t = await api.ok<{ id: string }>('POST', '/tasks', {
        name: `${sub}-out`,
        kind: 'sync',
        nodeId: providerId,
        peerNodeId: consumerId,
        subscriptionId: sub,
        binding: sourceBinding,
        params,
      });
      taskIds[sub] = t.id;
    };
    await pair('sub-jsonl', 'residents_jsonl', 'from_jsonl', JSONL_FIELDS);
    await pair('sub-csv', 'residents_csv', 'from_csv', JSONL_FIELDS);
    await pair('sub-population', 'population', 'population_csv', PERSON_FIELDS);
    await pair('sub-exact', 'exact_jsonl', 'exact_out', undefined);
    await pair('sub-gbk', 'gbk_csv', 'gbk_out', undefined);
  });

  afterAll(async () => {
    await Promise.all([provider?.stop('SIGKILL'), consumer?.stop('SIGKILL')]);
    await central?.stop();
    await nats?.stop();
  });

  /** Rows of a sink table by id, or undefined while the table does not exist yet. */
  function sinkRows(table: string): Map<number, Record<string, unknown>> | undefined {
    let db: Database.Database;
    try {
      db = new Database(receivedDb, { readonly: true, fileMustExist: true });
    } catch {
      return undefined;
    }
    try {
      const rows = db.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Record<string, unknown>[];
      return new Map(rows.map((r) => [r['id'] as number, r]));
    } catch {
      return undefined;
    } finally {
      db.close();
    }
  }

  function asSinkRow(r: Resident): Record<string, unknown> {
    return { id: r.id, xm: r.name, city: r.city, score: r.score, born: r.born };
  }

  /** Problems between a sink table and the expected records (empty when equal record by record). */
  function diff(table: string, want: Map<number, Resident>): string[] {
    const got = sinkRows(table);
    if (!got) return [`table ${table} not there yet`];
    const problems: string[] = [];
    for (const [id, r] of want)
      if (JSON.stringify(got.get(id)) !== JSON.stringify(asSinkRow(r)))
        problems.push(`id ${id}: want ${JSON.stringify(asSinkRow(r))} got ${JSON.stringify(got.get(id))}`);
    for (const id of got.keys()) if (!want.has(id)) problems.push(`extra id ${id}`);
    return problems.slice(0, 10);
  }

  function quarantine(sub: string): { reason: string; record: Record<string, unknown> }[] {
    const db = new Database(join(provider!.dataDir, 'spool.db'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT reason, record FROM quarantine WHERE task_id = ? AND side = 'provider' ORDER BY id")
        .all(taskIds[sub]) as { reason: string; record: string }[];
      return rows.map((r) => ({ reason: r.reason, record: JSON.parse(r.record) as Record<string, unknown> }));
    } finally {
      db.close();
    }
  }

  it('jsonl - a JSONL directory reaches a SQLite sink record by record; its bad lines are in the provider quarantine with their reasons', async () => {
    await waitFor(
      () => diff('from_jsonl', jsonlWant).length === 0,
      60_000,
      200,
      'JSONL records at the SQLite sink',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${diff('from_jsonl', jsonlWant).join('\n')}`);
    });
    const q = await waitFor(
      () => quarantine('sub-jsonl').length >= 5 && quarantine('sub-jsonl'),
      10_000,
      100,
      'quarantined lines',
    );
    expect(q.map((e) => e.reason.replace(/: .*$/, ''))).toEqual([
      'malformed JSON at residents-0001.jsonl:31',
      'not a JSON object at residents-0001.jsonl:32',
      'invalid UTF-8 at residents-0002.jsonl:31',
      'invalid UTF-8 at residents-0002.jsonl:32',
      'truncated line at residents-0003.jsonl:21',
    ]);
    expect(q[0]!.record).toEqual({ _file: 'residents-0001.jsonl', _line: 31, _text: '{"id": 1000, "name": ' });
    expect(q[3]!.record['id']).toBe(1002);

    // Incremental: a new file with an update and a tombstone (carrying the fields the subscription requires).
    const upd = { ...jsonlWant.get(5)!, name: '改名' };
    publish(
      jsonlIn,
      'residents-0004.jsonl',
      `${JSON.stringify(upd)}\n${JSON.stringify({ ...jsonlWant.get(6)!, _op: 'd' })}\n`,
    );
    jsonlWant.set(5, upd);
    jsonlWant.delete(6);
    await waitFor(
      () => diff('from_jsonl', jsonlWant).length === 0,
      30_000,
      200,
      'the update and the deletion at the sink',
    );
    expect(quarantine('sub-jsonl')).toHaveLength(5);
  });

  it('csv - a CSV directory reaches a SQLite sink record by record; wrong column counts, invalid UTF-8 and a truncated line are quarantined', async () => {
    await waitFor(() => diff('from_csv', csvWant).length === 0, 60_000, 200, 'CSV records at the SQLite sink').catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${diff('from_csv', csvWant).join('\n')}`);
      },
    );
    const q = await waitFor(
      () => quarantine('sub-csv').length >= 4 && quarantine('sub-csv'),
      10_000,
      100,
      'quarantined lines',
    );
    expect(q.map((e) => e.reason)).toEqual([
      'wrong number of columns at residents-0001.csv:32: 4 fields, the header has 6',
      'wrong number of columns at residents-0001.csv:33: 7 fields, the header has 6',
      'invalid UTF-8 at residents-0002.csv:60',
      'truncated line at residents-0002.csv:62',
    ]);
    expect(q[2]!.record).toMatchObject({ id: '2002', name: '坏' });
  });

  it('csv - a SQLite source reaches a CSV directory sink record by record, deletions as _op "d" rows', async () => {
    const src = new Database(populationDb, { readonly: true });
    const people = src.prepare('SELECT * FROM person ORDER BY id').all() as Record<string, unknown>[];
    src.close();
    const expected = (rows: Record<string, unknown>[]): Map<string, Record<string, unknown>> =>
      new Map(
        rows
          .filter((p) => !p['deleted'])
          .map((p) => {
            const out: Record<string, unknown> = {};
            for (const f of PERSON_FIELDS) {
              const v = 'mask' in f ? mask(p[f.name], f.mask as MaskRule) : p[f.name];
              out['as' in f ? f.as : f.name] = v === null || v === undefined ? null : String(v);
            }
            return [String(p['id']), out];
          }),
      );
    /** The CSV directory folded in file order: upserts replace, tombstones remove. */
    const folded = async (): Promise<{ state: Map<string, Record<string, unknown>>; tombstones: number }> => {
      const reader = new FileRecordSource('check', { type: 'csv', dir: csvOut, key: 'id' });
      try {
        const all = await readAll(reader, 10_000);
        expect(all.errors.every((e) => e === undefined)).toBe(true);
        const state = new Map<string, Record<string, unknown>>();
        all.rows.forEach((r, i) =>
          all.ops[i] === 'd' ? state.delete(String(r['id'])) : state.set(String(r['id']), r),
        );
        return { state, tombstones: all.ops.filter((o) => o === 'd').length };
      } finally {
        await reader.close();
      }
    };
    const want = expected(people);
    expect(want.size).toBe(POPULATION);
    await waitFor(
      async () => JSON.stringify([...(await folded()).state]) === JSON.stringify([...want]),
      60_000,
      200,
      'population at the CSV sink',
    );
    const files = readdirSync(csvOut);
    expect(files.length).toBeGreaterThanOrEqual(POPULATION / 25);
    for (const f of files) expect(f).toMatch(/^[A-Za-z0-9_%-]+\.[A-Za-z0-9_%-]+\.[A-Za-z0-9_%-]+\.\d{12}\.csv$/);

    // A deletion at the source arrives as a tombstone row.
    const rw = new Database(populationDb);
    rw.prepare('UPDATE person SET deleted = 1, updated_at = ? WHERE id = 8').run(Date.now());
    const after = rw.prepare('SELECT * FROM person ORDER BY id').all() as Record<string, unknown>[];
    rw.close();
    const want2 = expected(after);
    expect(want2.has('8')).toBe(false);
    await waitFor(
      async () => JSON.stringify([...(await folded()).state]) === JSON.stringify([...want2]),
      30_000,
      200,
      'the deletion at the CSV sink',
    );
    expect((await folded()).tombstones).toBe(1);
    expect(readdirSync(csvOut).filter((n) => n.startsWith('.'))).toEqual([]);
    const last = readdirSync(csvOut).sort().at(-1)!;
    expect(readFileSync(join(csvOut, last), 'utf8').split('\r\n')[0]).toBe('id,sfzh,xm,xb,csrq,lxdh,xzqh,dz,gxsj,_op');
  });

  it('jsonl - big integers, int64 bounds, a 38-digit decimal, nested JSON and reordered keys arrive exactly at a JSON-lines sink (no field list)', async () => {
    const want = [
      { id: 9007199254740992n, v: 'a' },
      { id: 9007199254740993n, v: 'b' },
      { id: 9223372036854775807n, v: 'c' },
      {
        id: -9223372036854775808n,
        v: null,
        d: new Decimal('12345678901234567890.123456789012345678'),
        o: new JsonText('{"x":[1.50,9007199254740993]}'),
      },
    ];
    const got = async (): Promise<Record<string, unknown>[]> => {
      const reader = new FileRecordSource('check', { type: 'jsonl', dir: exactOut, key: 'id' });
      try {
        return (await readAll(reader, 100)).rows;
      } finally {
        await reader.close();
      }
    };
    await waitFor(
      async () => existsSync(exactOut) && (await got()).length >= want.length,
      60_000,
      200,
      'the exact records at the JSON-lines sink',
    );
    expect(await got()).toEqual(want);
  });

  it("csv - a GBK CSV reaches a GB18030 CSV sink with NULL, '', 'NULL' and whitespace as they were (nullString \\N at the sink)", async () => {
    const files = async (): Promise<string[]> =>
      existsSync(gbkOut) ? readdirSync(gbkOut).filter((n) => !n.startsWith('.')) : [];
    await waitFor(async () => (await files()).length > 0, 60_000, 200, 'the GBK records at the CSV sink');
    const reader = new FileRecordSource('check', {
      type: 'csv',
      dir: gbkOut,
      key: '编号',
      encoding: 'gb18030',
      nullString: '\\N',
    });
    try {
      await waitFor(async () => (await readAll(reader, 100)).rows.length >= 3, 30_000, 200, 'all three rows');
      expect((await readAll(reader, 100)).rows).toEqual([
        { 编号: '1', 姓名: '张三', 备注: null },
        { 编号: '2', 姓名: '', 备注: '欧阳' },
        { 编号: '3', 姓名: 'NULL', 备注: '  ' },
      ]);
    } finally {
      await reader.close();
    }
    const bytes = readFileSync(join(gbkOut, (await files()).sort()[0]!));
    expect(iconv.decode(bytes, 'gb18030')).toBe('编号,姓名,备注\r\n1,张三,\\N\r\n2,"",欧阳\r\n3,NULL,  \r\n');
  });
});
