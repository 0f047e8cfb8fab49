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
});
