// The SQLite source reads pages in cursor order with tombstones, and keeps naming the values right when
// the table is altered while the agent is reading it (rows are read as arrays and shaped per read).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteSource } from '../../node-agent/src/connectors/sqlite/source.js';
import { tmpDir } from '../helpers/tmp.js';

describe('sqlite source - pages, tombstones, schema changes', () => {
  it('sqlite source - pages follow the cursor, deleted rows are tombstones, an added column appears under its name', async () => {
    const path = join(tmpDir('xchg-sqlite-src-'), 'src.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, deleted INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)',
    );
    const ins = db.prepare('INSERT INTO person (id, name, deleted, updated_at) VALUES (?, ?, ?, ?)');
    ins.run(1, '张三', 0, 100);
    ins.run(2, '李四', 1, 100); // same cursor value as id 1: the key breaks the tie
    ins.run(3, '王五', 0, 90);
    const src = new SqliteSource('people', {
      type: 'sqlite',
      path,
      table: 'person',
      key: 'id',
      cursor: 'updated_at',
      deleted: 'deleted',
    });
    try {
      const p1 = await src.read(null, 2);
      expect(p1.rows).toEqual([
        { id: 3, name: '王五', updated_at: 90 },
        { id: 1, name: '张三', updated_at: 100 },
      ]);
      expect(p1.ops).toEqual(['u', 'u']);
      expect(p1.exhausted).toBe(false);
      const p2 = await src.read(p1.cursor, 2);
      expect(p2.rows).toEqual([{ id: 2, name: '李四', updated_at: 100 }]);
      expect(p2.ops).toEqual(['d']);
      expect(p2.exhausted).toBe(true);

      // The department adds a column while the agent runs: new rows carry it, under its own name.
      db.exec("ALTER TABLE person ADD COLUMN phone TEXT NOT NULL DEFAULT ''");
      db.prepare('INSERT INTO person (id, name, deleted, updated_at, phone) VALUES (?, ?, ?, ?, ?)').run(
        4,
        '赵六',
        0,
        110,
        '13800000000',
      );
      const p3 = await src.read(p2.cursor, 10);
      expect(p3.rows).toEqual([{ id: 4, name: '赵六', updated_at: 110, phone: '13800000000' }]);
    } finally {
      await src.close();
      db.close();
    }
  });

  it('sqlite source - a page after a cursor seeks the index, sharded reads too: no read scans the table from its start', async () => {
    const path = join(tmpDir('xchg-sqlite-plan-'), 'src.db');
    const db = new Database(path);
    db.exec('CREATE TABLE rec (id INTEGER PRIMARY KEY, payload TEXT, updated_at INTEGER NOT NULL)');
    db.exec('CREATE INDEX rec_updated ON rec (updated_at)');
    const ins = db.prepare('INSERT INTO rec VALUES (?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 300; i++) ins.run(i, `row ${i}`, 1000 + Math.floor(i / 7));
    })();
    // The SQL the source prepares, as it prepares it (better-sqlite3's prepare, passed through unchanged).
    const prepared: string[] = [];
    const prepare = Database.prototype.prepare;
    Database.prototype.prepare = function (this: Database.Database, sql: string) {
      prepared.push(sql);
      return prepare.call(this, sql);
    } as typeof prepare;
    const sources = [
      new SqliteSource('inc', { type: 'sqlite', path, table: 'rec', key: 'id', cursor: 'updated_at' }),
      new SqliteSource('keyed', { type: 'sqlite', path, table: 'rec', key: 'id' }),
    ];
    try {
      for (const src of sources) {
        let cursor = null as Awaited<ReturnType<typeof src.read>>['cursor'];
        let rows = 0;
        for (let page = 0; page < 10 && rows < 300; page++) {
          const p = await src.read(cursor, 64);
          rows += p.rows.length;
          cursor = p.cursor;
        }
        expect(rows).toBe(300);
      }
      // A spread flow's read (dynamic node allocation): every part has a position, so the read is bounded by
      // the lowest of them (c >= min(...)) and seeks the index there too.
      const plain = await sources[0]!.read(null, 100);
      const at = plain.cursor as { c: unknown; k: unknown };
      const sharded = await sources[0]!.read(
        {
          n: 2,
          parts: [
            { s: [0], c: at.c, k: at.k },
            { s: [1], c: at.c, k: at.k },
          ],
        },
        64,
      );
      expect(sharded.rows.length).toBe(64);
      expect(sharded.rows.every((r) => Number(r['id']) > 100)).toBe(true);
    } finally {
      Database.prototype.prepare = prepare;
      for (const src of sources) await src.close();
    }
    const reads = prepared.filter((sql) => /ORDER BY/.test(sql) && /WHERE .*[>]/.test(sql));
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(
      reads.some((sql) => /xchg_bucket/.test(sql) && /min\(/.test(sql)),
      'a sharded read was planned',
    ).toBe(true);
    // The key's bucket function the source registers on its own connection (its value does not matter to a plan).
    db.function('xchg_bucket', { deterministic: true }, (_key: unknown) => 0);
    for (const sql of reads) {
      const params = (sql.match(/\?/g) ?? []).map(() => 1);
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((r) => (r as { detail: string }).detail);
      // A SEARCH starts at the cursor; a SCAN of the table (or of the whole index) starts at its first row.
      expect({ sql, plan: plan.filter((d) => /^SCAN rec\b/.test(d)) }).toEqual({ sql, plan: [] });
    }
    db.close();
  });
});
