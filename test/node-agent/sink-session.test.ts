// Group commit in the SQL sink (RecordSink.begin): a session applies consecutive batches of one stream in one
// transaction and commits them with the ledger at the last one; duplicates and gaps inside it write nothing; a
// failure or an abort leaves nothing of it; reads of the ledger and scans wait for an open session (on SQLite's
// one connection they would see what it has not committed); sinks of one SQLite file take turns. Against a
// real SQLite file and a real PostgreSQL server.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresSink } from '../../node-agent/src/connectors/postgres/dialect.js';
import { SqliteSink } from '../../node-agent/src/connectors/sqlite/dialect.js';
import type { RecordSink, SinkBatch, SinkSchemaHint, SinkSession } from '../../node-agent/src/connectors/types.js';
import { PostgresServer } from '../helpers/postgres.js';
import { tmpDir } from '../helpers/tmp.js';

const HINT: SinkSchemaHint = {
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'name', type: 'string' },
  ],
  keyColumns: ['id'],
};

/** Batch `seq` of a stream: rows seq*10 .. seq*10+2. */
const batch = (seq: number): SinkBatch => ({
  batchId: `b-${seq}`,
  columns: ['id', 'name'],
  rows: [0, 1, 2].map((i) => [seq * 10 + i, `行 ${seq}.${i}`]),
  ops: ['u', 'u', 'u'],
});

interface Target {
  sink(table: string): RecordSink;
  ids(table: string): Promise<number[]>;
}

let pg: PostgresServer;
const dir = tmpDir('xchg-sink-session-');
const opened: RecordSink[] = [];
beforeAll(async () => {
  pg = await PostgresServer.start();
});
// A failed test must not leave a session open: it would hold its sink's turn (and a PostgreSQL row lock).
const sessions: SinkSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.abort()));
});
/** Begins a session that is aborted after the test if still open. */
async function begin(sink: RecordSink, stream: string): Promise<SinkSession> {
  const s = await sink.begin(stream);
  sessions.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await pg?.stop();
});

const sqlite: Target = {
  sink: (table) => {
    const s = new SqliteSink('dst', { type: 'sqlite', path: join(dir, 'sink.db'), table, key: 'id' }, HINT);
    opened.push(s);
    return s;
  },
  ids: (table) => {
    const db = new Database(join(dir, 'sink.db'), { readonly: true });
    try {
      return Promise.resolve(
        (db.prepare(`SELECT id FROM "${table}" ORDER BY id`).all() as { id: number }[]).map((r) => r.id),
      );
    } finally {
      db.close();
    }
  },
};

const postgres: Target = {
  sink: (table) => {
    const s = new PostgresSink('dst', { type: 'postgres', url: pg.url, table, key: 'id' }, HINT);
    opened.push(s);
    return s;
  },
  ids: async (table) =>
    (await pg.query<{ id: number }>(`SELECT id::int AS id FROM ${table} ORDER BY id`)).map((r) => r.id),
};

describe.each([
  ['sqlite', sqlite],
  ['postgres', postgres],
])('sink sessions - %s', (name, target) => {
  it(`sink sessions - ${name}: consecutive batches commit together; duplicates and gaps inside write nothing`, async () => {
    const sink = target.sink('grouped');
    expect(await sink.apply('stream-grouped', 1, batch(1))).toBe('applied');
    const s = await begin(sink, 'stream-grouped');
    const outcomes = [];
    for (const seq of [1, 2, 3, 3, 5, 4]) outcomes.push(await s.apply(seq, batch(seq)));
    expect(outcomes).toEqual(['duplicate', 'applied', 'applied', 'duplicate', 'gap', 'applied']);
    await s.commit();
    expect(await sink.lastSequence('stream-grouped')).toBe(4);
    expect(await target.ids('grouped')).toEqual([10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42]);
    await expect(s.apply(5, batch(5)), 'a committed session takes no more').rejects.toThrow(/session is over/);
  });

  it(`sink sessions - ${name}: an aborted session or one whose batch fails leaves nothing of it`, async () => {
    const sink = target.sink('undone');
    const a = await begin(sink, 'stream-undone');
    expect(await a.apply(1, batch(1))).toBe('applied');
    await a.abort();
    expect(await sink.lastSequence('stream-undone')).toBe(0);
    const b = await begin(sink, 'stream-undone');
    expect(await b.apply(1, batch(1))).toBe('applied');
    // A key column missing from the batch refuses all its records; without onRefused the batch fails.
    const bad: SinkBatch = { batchId: 'b-2', columns: ['name'], rows: [['x']], ops: ['u'] };
    await expect(b.apply(2, bad)).rejects.toThrow(/refused 1 record\(s\) of batch b-2/);
    await expect(b.commit()).rejects.toThrow(/session is over/);
    expect(await sink.lastSequence('stream-undone')).toBe(0);
    expect(await target.ids('undone')).toEqual([]);
    // The sink goes on: the next session writes.
    expect(await sink.apply('stream-undone', 1, batch(1))).toBe('applied');
    expect(await target.ids('undone')).toEqual([10, 11, 12]);
  });

  it(`sink sessions - ${name}: the ledger and scans are read only after an open session ends`, async () => {
    const sink = target.sink('waiting');
    await sink.lastSequence('stream-waiting'); // the table exists before the session
    const s = await begin(sink, 'stream-waiting');
    expect(await s.apply(1, batch(1))).toBe('applied');
    const order: string[] = [];
    const last = sink.lastSequence('stream-waiting').then((n) => (order.push('read'), n));
    const page = sink.scan!(null, 10).then((p) => (order.push('scan'), p));
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('commit');
    await s.commit();
    expect(await last).toBe(1);
    expect((await page).rows.map((r) => Number(r[0]))).toEqual([10, 11, 12]);
    expect(order).toEqual(['commit', 'read', 'scan']);
  });
});

describe('sink sessions - sqlite file shared by two bindings', () => {
  it('sink sessions - sinks of one SQLite file take turns: the second begins once the first committed', async () => {
    const a = sqlite.sink('shared_a');
    const b = sqlite.sink('shared_b');
    await Promise.all([a.lastSequence('stream-shared_a'), b.lastSequence('s-b')]);
    const first = await begin(a, 'stream-shared_a');
    expect(await first.apply(1, batch(1))).toBe('applied');
    let began = false;
    const second = begin(b, 's-b').then((s) => ((began = true), s));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(began, 'the second session waits: a write of its own would wait for the lock and block the event loop').toBe(
      false,
    );
    await first.commit();
    const s = await second;
    expect(await s.apply(1, batch(7))).toBe('applied');
    await s.commit();
    expect(await sqlite.ids('shared_a')).toEqual([10, 11, 12]);
    expect(await sqlite.ids('shared_b')).toEqual([70, 71, 72]);
  });
});
