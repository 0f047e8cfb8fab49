// Key-hash shards of a source (connectors/shards.ts) on real SQLite, PostgreSQL and MariaDB: each database puts
// a key in the shard the agent computes (the same for integer and text keys everywhere), and a sharded cursor
// read through a split and a merge (one primary, two standbys handing their shards back) reads every row
// version at most once and every key's latest version, each by the reader that held its shard at the time.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MariadbSource } from '../../node-agent/src/connectors/mariadb/source.js';
import { PostgresSource } from '../../node-agent/src/connectors/postgres/source.js';
import {
  addShard,
  advance,
  isSharded,
  positionOf,
  restrictTo,
  shardOf,
  shardsHeld,
} from '../../node-agent/src/connectors/shards.js';
import { SqliteSource } from '../../node-agent/src/connectors/sqlite/source.js';
import type { Cursor, RecordSource } from '../../node-agent/src/connectors/types.js';
import { MariadbServer } from '../helpers/mariadb.js';
import { PostgresServer } from '../helpers/postgres.js';
import { tmpDir } from '../helpers/tmp.js';

/** One database under test: runs statements and opens the table as a source. */
interface Db {
  name: string;
  exec(sql: string): Promise<void>;
  source(table: string, key: string): RecordSource;
}

const INT_KEYS = [...Array.from({ length: 60 }, (_, i) => i), -7, 12_345_678_901];
const TEXT_KEYS = ['abc', '人口-001', 'A', 'zzz-999', '身份证 110101', 'x'.repeat(40), '0', '-1'];

/** Every row of `table` read through one shard set at a time must hash to that shard in the agent too. */
async function checkBuckets(db: Db, table: string, keys: readonly (number | string)[], n: number): Promise<void> {
  const src = db.source(table, 'id');
  try {
    const seen: string[] = [];
    for (let s = 0; s < n; s++) {
      const page = await src.read(restrictTo(null, n, [s]), 1000);
      for (const r of page.rows) {
        const key = String(r['id']);
        expect(shardOf(key, n), `${db.name}: key ${key} read in shard ${s}`).toBe(s);
        seen.push(key);
      }
    }
    expect(seen.sort()).toEqual(keys.map(String).sort());
  } finally {
    await src.close();
  }
}

/** A split of one flow over three readers and its merge while rows are inserted and updated, then the checks. */
async function splitAndMerge(db: Db): Promise<void> {
  await db.exec('CREATE TABLE flow (id INTEGER PRIMARY KEY, v TEXT NOT NULL, ver INTEGER NOT NULL)');
  let ver = 0;
  const latest = new Map<number, number>();
  const insert = async (from: number, to: number): Promise<void> => {
    for (let id = from; id < to; id++) {
      latest.set(id, ++ver);
      await db.exec(`INSERT INTO flow (id, v, ver) VALUES (${id}, 'v${ver}', ${ver})`);
    }
  };
  const update = async (ids: number[]): Promise<void> => {
    for (const id of ids) {
      latest.set(id, ++ver);
      await db.exec(`UPDATE flow SET v = 'v${ver}', ver = ${ver} WHERE id = ${id}`);
    }
  };

  const src = db.source('flow', 'id');
  const reads: { who: string; id: number; ver: number; shards: number[] }[] = [];
  const readers: Record<string, Cursor> = { P: null };
  const step = async (who: string, limit: number): Promise<boolean> => {
    const cur = JSON.parse(JSON.stringify(readers[who])) as Cursor; // through JSON, as the spool keeps it
    const page = await src.read(cur, limit);
    const shards = shardsHeld(cur, 3);
    for (const r of page.rows) reads.push({ who, id: Number(r['id']), ver: Number(r['ver']), shards });
    readers[who] = page.cursor;
    return page.exhausted;
  };
  try {
    await insert(1, 121);
    await step('P', 40);
    // Split: P keeps shard 0 from its cursor, the standbys start from the same cursor with shards 1 and 2.
    const c = readers['P']!;
    readers['P'] = restrictTo(c, 3, [0]);
    readers['S1'] = restrictTo(c, 3, [1]);
    readers['S2'] = restrictTo(c, 3, [2]);
    for (let round = 0; round < 6; round++) {
      await step('P', 7);
      await step('S1', 5);
      await step('S2', 11);
      await update([3, 50, 77, 90 + round, 118]);
      await insert(121 + round * 10, 131 + round * 10);
    }
    // S1 hands its shard back: P reads shard 1 again from where S1 stood (a second part of P's cursor).
    readers['P'] = addShard(readers['P'], 3, 1, positionOf(readers['S1']!)!);
    delete readers['S1'];
    expect((readers['P'] as { parts: unknown[] }).parts.length).toBeGreaterThanOrEqual(2);
    for (let round = 0; round < 4; round++) {
      await step('P', 9);
      await step('S2', 6);
      await update([5, 60, 119, 125]);
      await insert(181 + round * 5, 186 + round * 5);
    }
    readers['P'] = addShard(readers['P'], 3, 2, positionOf(readers['S2']!)!);
    delete readers['S2'];
    await update([1, 2, 3, 4]);
    for (let i = 0; i < 200 && !(await step('P', 13)); i++);
    // Every part passed the last row: the cursor is one plain position again.
    expect(isSharded(readers['P']!)).toBe(false);
  } finally {
    await src.close();
  }
  // No row version read twice, the latest version of every key read, each by a reader holding its shard.
  const versions = reads.map((r) => `${r.id}@${r.ver}`);
  expect(new Set(versions).size).toBe(versions.length);
  const lastRead = new Map<number, number>();
  for (const r of reads) {
    expect(r.shards, `${r.who} read ${r.id}`).toContain(shardOf(String(r.id), 3));
    expect(r.ver, `versions of ${r.id} read in order`).toBeGreaterThan(lastRead.get(r.id) ?? 0);
    lastRead.set(r.id, r.ver);
  }
  expect(lastRead).toEqual(latest);
  // The standbys did carry rows.
  expect(reads.filter((r) => r.who === 'S1').length).toBeGreaterThan(10);
  expect(reads.filter((r) => r.who === 'S2').length).toBeGreaterThan(10);
}

describe('shards - cursor parts', () => {
  it('shards - parts that pass the same row collapse, and one part with every shard is a plain cursor', () => {
    const c = { n: 3, parts: [{ s: [0], c: '5', k: '5' }, { s: [1], c: '9', k: '2' }, { s: [2] }] };
    const a = advance(c, { c: '7', k: '1' }, [1, 0, 1]);
    expect(a).toEqual({
      n: 3,
      parts: [
        { s: [1], c: '9', k: '2' },
        { s: [0, 2], c: '7', k: '1' },
      ],
    });
    expect(advance(c, { c: '10', k: '1' }, [1, 1, 1])).toEqual({ c: '10', k: '1' });
    expect(advance(c, null, [])).toBe(c);
    expect(addShard({ c: '3', k: '3' }, 3, 1, { c: '1', k: '1' })).toEqual({
      n: 3,
      parts: [{ s: [0, 1, 2], c: '3', k: '3' }],
    });
    expect(addShard(restrictTo({ c: '3', k: '3' }, 3, [0]), 3, 1, { c: '1', k: '1' })).toEqual({
      n: 3,
      parts: [
        { s: [0], c: '3', k: '3' },
        { s: [1], c: '1', k: '1' },
      ],
    });
  });
});

describe('shards - sqlite', () => {
  let file: string;
  let db: Database.Database;
  const sqlite: Db = {
    name: 'sqlite',
    exec: async (sql) => void db.exec(sql),
    source: (table, key) => new SqliteSource('src', { type: 'sqlite', path: file, table, key, cursor: 'ver' }),
  };
  beforeAll(() => {
    file = join(tmpDir('xchg-shards-'), 'src.db');
    db = new Database(file);
    db.exec(
      'CREATE TABLE ik (id INTEGER PRIMARY KEY, ver INTEGER); CREATE TABLE tk (id TEXT PRIMARY KEY, ver INTEGER)',
    );
    INT_KEYS.forEach((k, i) => db.prepare('INSERT INTO ik VALUES (?, ?)').run(k, i + 1));
    TEXT_KEYS.forEach((k, i) => db.prepare('INSERT INTO tk VALUES (?, ?)').run(k, i + 1));
  });
  afterAll(() => db?.close());

  it('shards - sqlite - each key is read in the shard the agent computes (integer and text keys)', async () => {
    await checkBuckets(sqlite, 'ik', INT_KEYS, 7);
    await checkBuckets(sqlite, 'tk', TEXT_KEYS, 3);
  });
  it('shards - sqlite - split and merge read every latest version once', async () => {
    await splitAndMerge(sqlite);
  });
});

describe('shards - postgresql', () => {
  let server: PostgresServer;
  const pg: Db = {
    name: 'postgresql',
    exec: async (sql) => void (await server.query(sql)),
    source: (table, key) => new PostgresSource('src', { type: 'postgres', url: server.url, table, key, cursor: 'ver' }),
  };
  beforeAll(async () => {
    server = await PostgresServer.start();
    await server.query(
      'CREATE TABLE ik (id BIGINT PRIMARY KEY, ver INTEGER); CREATE TABLE tk (id TEXT PRIMARY KEY, ver INTEGER)',
    );
    for (const [i, k] of INT_KEYS.entries()) await server.query(`INSERT INTO ik VALUES (${k}, ${i + 1})`);
    for (const [i, k] of TEXT_KEYS.entries()) await server.query('INSERT INTO tk VALUES ($1, $2)', [k, i + 1]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('shards - postgresql - each key is read in the shard the agent computes (integer and text keys)', async () => {
    await checkBuckets(pg, 'ik', INT_KEYS, 7);
    await checkBuckets(pg, 'tk', TEXT_KEYS, 3);
  });
  it('shards - postgresql - split and merge read every latest version once', async () => {
    await splitAndMerge(pg);
  });
});

describe('shards - mariadb', () => {
  let server: MariadbServer;
  const maria: Db = {
    name: 'mariadb',
    exec: async (sql) => void (await server.query(sql)),
    source: (table, key) =>
      new MariadbSource('src', { type: 'mariadb', ...server.connection, table, key, cursor: 'ver' }),
  };
  beforeAll(async () => {
    server = await MariadbServer.start();
    await server.query('CREATE TABLE ik (id BIGINT PRIMARY KEY, ver INTEGER)');
    await server.query('CREATE TABLE tk (id VARCHAR(64) CHARACTER SET utf8mb4 PRIMARY KEY, ver INTEGER)');
    for (const [i, k] of INT_KEYS.entries()) await server.query(`INSERT INTO ik VALUES (${k}, ${i + 1})`);
    for (const [i, k] of TEXT_KEYS.entries()) await server.query('INSERT INTO tk VALUES (?, ?)', [k, i + 1]);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('shards - mariadb - each key is read in the shard the agent computes (integer and text keys)', async () => {
    await checkBuckets(maria, 'ik', INT_KEYS, 7);
    await checkBuckets(maria, 'tk', TEXT_KEYS, 3);
  });
  it('shards - mariadb - split and merge read every latest version once', async () => {
    await splitAndMerge(maria);
  });
});
