// central.db on real SQLite files: migrations and schema version, foreign keys, and the store's own rules
// (token use at most once, report dedup, assignment versions, soft delete, region subtree).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, afterEach, describe, it, expect } from 'vitest';
import { openDatabase, type Db } from '../../central/src/store/db.js';
import { MIGRATIONS, type Migration } from '../../central/src/store/migrations.js';
import { Store } from '../../central/src/store/index.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const opened: { close(): void }[] = [];
const track = <T extends { close(): void }>(x: T): T => (opened.push(x), x);
afterEach(() => {
  for (const x of opened.splice(0)) {
    try {
      x.close();
    } catch {
      /* already closed */
    }
  }
});
afterAll(removeTmpDirs);

const LATEST = MIGRATIONS.at(-1)!.version;
const dbPath = (): string => join(tmpDir('xchg-store-'), 'central.db');

function seed(store: Store): void {
  store.regions.insert({ code: '360000', name: '江西省', level: 'province', parentCode: null, createdAt: 1 });
  store.regions.insertDepartment({ code: 'gat', name: '公安厅', regionCode: '360000', createdAt: 1 });
}
function addNode(store: Store, id: string, name = id): void {
  store.nodes.insert({
    id,
    name,
    departmentCode: 'gat',
    hostname: 'h',
    agentVersion: '0.1.0',
    labels: { role: 'main' },
    secretHash: 'x',
    enrolledAt: 10,
  });
}

describe('store migrations', () => {
  it('migrations - a new database gets every table and user_version set to the latest migration', () => {
    const db = track(openDatabase(dbPath()));
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST);
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    ).map((r) => r.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'regions',
        'departments',
        'nodes',
        'node_events',
        'enrollment_tokens',
        'tasks',
        'assignment_acks',
        'reports',
        'task_runs',
        'quarantine_records',
        'users',
        'resources',
        'resource_versions',
        'notifications',
        'applications',
        'agreements',
        'subscriptions',
        'alerts',
        'objections',
        'audit_log',
        'audit_head',
      ]),
    );
    expect(String(db.pragma('journal_mode', { simple: true }))).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
  });

  it('migrations - reopening a migrated database keeps its data and version (no migration re-runs)', () => {
    const file = dbPath();
    const s1 = Store.open(file);
    seed(s1);
    s1.close();
    const s2 = track(Store.open(file));
    expect(s2.db.pragma('user_version', { simple: true })).toBe(LATEST);
    expect(s2.regions.list().map((r) => r.code)).toEqual(['360000']);
    expect(s2.regions.getDepartment('gat')?.name).toBe('公安厅');
  });

  it('migrations - only migrations above the stored version are applied, in order', () => {
    const file = dbPath();
    const m1: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER) STRICT;' };
    const m2: Migration = {
      version: 2,
      name: 'two',
      sql: 'CREATE TABLE b (y INTEGER) STRICT; INSERT INTO a VALUES (42);',
    };
    openDatabase(file, [m1]).close();
    const db = track(openDatabase(file, [m1, m2]));
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare('SELECT x FROM a').all()).toEqual([{ x: 42 }]);
    db.close();
    // Opening again with the same list changes nothing: still one row.
    const again = track(openDatabase(file, [m1, m2]));
    expect(again.prepare('SELECT count(*) AS n FROM a').get()).toEqual({ n: 1 });
  });

  it('migrations - a failing migration leaves neither its tables nor a bumped version', () => {
    const file = dbPath();
    const m1: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER) STRICT;' };
    const bad: Migration = {
      version: 2,
      name: 'bad',
      sql: 'CREATE TABLE half (z INTEGER); INSERT INTO nowhere VALUES (1);',
    };
    openDatabase(file, [m1]).close();
    expect(() => openDatabase(file, [m1, bad])).toThrow(/nowhere/);
    const raw = track(new Database(file));
    expect(raw.pragma('user_version', { simple: true })).toBe(1);
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
  });

  it('migrations - a database from a newer build is refused with a message naming both versions', () => {
    const file = dbPath();
    const raw = new Database(file);
    raw.pragma(`user_version = ${LATEST + 5}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(
      `central.db schema version ${LATEST + 5} is newer than this build knows (${LATEST}); upgrade xchg-central`,
    );
    // And the refused open did not touch the schema.
    const check = track(new Database(file));
    expect(check.pragma('user_version', { simple: true })).toBe(LATEST + 5);
    expect(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({ n: 0 });
  });
});

describe('store constraints', () => {
  let store: Store;
  const open = (): Store => (store = track(Store.open(dbPath())));

  it('constraints - foreign keys are enforced: a department in an unknown region is refused', () => {
    open();
    expect(() => store.regions.insertDepartment({ code: 'x', name: 'x', regionCode: 'nowhere', createdAt: 1 })).toThrow(
      /FOREIGN KEY/,
    );
    expect(store.regions.listDepartments()).toEqual([]);
  });

  it('constraints - foreign keys are enforced: a node of an unknown department and a task of an unknown node are refused', () => {
    open();
    seed(store);
    expect(() =>
      store.nodes.insert({
        id: 'n1',
        name: 'n1',
        departmentCode: 'nope',
        hostname: '',
        agentVersion: '',
        labels: {},
        secretHash: 'x',
        enrolledAt: 1,
      }),
    ).toThrow(/FOREIGN KEY/);
    expect(() =>
      store.tasks.insert({
        id: 't1',
        name: 't',
        kind: 'sync',
        nodeId: 'ghost',
        peerNodeId: null,
        resourceCode: '',
        subscriptionId: '',
        binding: 'b',
        params: {},
        intervalMs: 0,
        enabled: true,
        generation: 1,
        createdAt: 1,
        updatedAt: 1,
      }),
    ).toThrow(/FOREIGN KEY/);
    expect(store.nodes.list()).toEqual([]);
    expect(store.tasks.list()).toEqual([]);
  });

  it('constraints - a region with a child cannot be deleted out from under it', () => {
    open();
    seed(store);
    expect(store.regions.hasChildren('360000')).toBe(true);
    expect(() => store.regions.delete('360000')).toThrow(/FOREIGN KEY/);
    expect(store.regions.get('360000')?.code).toBe('360000');
  });

  it('constraints - STRICT tables reject a status outside the CHECK list', () => {
    open();
    seed(store);
    addNode(store, 'n1');
    expect(() => store.nodes.setStatus('n1', 'sleeping' as 'online')).toThrow(/CHECK/);
    expect(store.nodes.get('n1')?.status).toBe('offline');
  });

  it('constraints - two nodes of one department cannot share a name', () => {
    open();
    seed(store);
    addNode(store, 'n1', 'fe-01');
    expect(() => addNode(store, 'n2', 'fe-01')).toThrow(/UNIQUE/);
    expect(store.nodes.list().map((n) => n.id)).toEqual(['n1']);
  });
});

describe('store rows', () => {
  let store: Store;
  const open = (): Store => {
    store = track(Store.open(dbPath()));
    seed(store);
    return store;
  };

  it('rows - a node reads back with its region, labels, offline status and assignment version 1', () => {
    open();
    addNode(store, 'n1');
    expect(store.nodes.get('n1')).toEqual({
      id: 'n1',
      name: 'n1',
      departmentCode: 'gat',
      regionCode: '360000',
      hostname: 'h',
      agentVersion: '0.1.0',
      labels: { role: 'main' },
      status: 'offline',
      enabled: true,
      enrolledAt: 10,
      lastHeartbeatAt: null,
      health: null,
      assignmentVersion: 1,
      homeCenter: null, // no center given: central's start attaches it to the default one
    });
  });

  it('rows - bumpAssignmentVersion returns the new version and 0 for an unknown node', () => {
    open();
    addNode(store, 'n1');
    expect(store.nodes.bumpAssignmentVersion('n1')).toBe(2);
    expect(store.nodes.bumpAssignmentVersion('n1')).toBe(3);
    expect(store.nodes.get('n1')?.assignmentVersion).toBe(3);
    expect(store.nodes.bumpAssignmentVersion('ghost')).toBe(0);
  });

  it('rows - a token is used at most once and a revoked token cannot be used', () => {
    open();
    addNode(store, 'n1');
    addNode(store, 'n2');
    store.nodes.insertToken({
      id: 'tk1',
      tokenHash: 'h1',
      departmentCode: 'gat',
      nodeName: 'a',
      createdAt: 1,
      expiresAt: 100,
      usedAt: null,
      usedByNodeId: null,
      revokedAt: null,
    });
    store.nodes.insertToken({
      id: 'tk2',
      tokenHash: 'h2',
      departmentCode: 'gat',
      nodeName: 'b',
      createdAt: 1,
      expiresAt: 100,
      usedAt: null,
      usedByNodeId: null,
      revokedAt: null,
    });
    expect(store.nodes.useToken('tk1', 'n1', 5)).toBe(true);
    expect(store.nodes.useToken('tk1', 'n2', 6)).toBe(false);
    expect(store.nodes.token('tk1')).toMatchObject({ usedAt: 5, usedByNodeId: 'n1' });
    store.nodes.revokeToken('tk2', 7);
    expect(store.nodes.useToken('tk2', 'n2', 8)).toBe(false);
    expect(store.nodes.tokenByHash('h2')).toMatchObject({ id: 'tk2', revokedAt: 7, usedAt: null });
  });

  it('rows - a report id is stored once; the second insert reports it as not new', () => {
    open();
    addNode(store, 'n1');
    const r = {
      reportId: 'r-1',
      nodeId: 'n1',
      seq: 1,
      kind: 'event',
      observedAt: 5,
      receivedAt: 6,
      body: { code: 'x' },
    };
    expect(store.reports.insertIfNew(r)).toBe(true);
    expect(store.reports.insertIfNew({ ...r, body: { code: 'changed' } })).toBe(false);
    expect(store.reports.list({ nodeId: 'n1' })).toEqual([r]);
  });

  it('rows - the reports listing reads an index in its order (no sort of the table), by node, cursor, both or neither', () => {
    open();
    addNode(store, 'n1');
    addNode(store, 'n2');
    for (const seq of [1, 2, 3])
      for (const nodeId of ['n1', 'n2'])
        store.reports.insertIfNew({
          reportId: `${nodeId}-${seq}`,
          nodeId,
          seq,
          kind: 'event',
          observedAt: seq,
          receivedAt: seq * 10,
          body: {},
        });
    // Record the listing's SQL and arguments as the store runs them, then ask SQLite for the plan of each.
    const raw = store.db.prepare.bind(store.db);
    const listed: { sql: string; args: unknown[] }[] = [];
    store.db.prepare = ((sql: string) => {
      const st = raw(sql);
      return /FROM reports\b.*ORDER BY/s.test(sql)
        ? { all: (...args: unknown[]) => (listed.push({ sql, args }), st.all(...args)) }
        : st;
    }) as typeof store.db.prepare;
    const before = { reportId: 'n2-2', seq: 2, receivedAt: 20 };
    const pages = [
      store.reports.list({}),
      store.reports.list({ nodeId: 'n1' }),
      store.reports.list({ before }),
      store.reports.list({ nodeId: 'n1', before, limit: 1 }),
    ];
    expect(pages.map((p) => p.map((r) => r.reportId))).toEqual([
      ['n2-3', 'n1-3', 'n2-2', 'n1-2', 'n2-1', 'n1-1'],
      ['n1-3', 'n1-2', 'n1-1'],
      ['n1-2', 'n2-1', 'n1-1'],
      ['n1-2'],
    ]);
    expect(listed).toHaveLength(4);
    for (const { sql, args } of listed) {
      const plan = (raw(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
        .map((p) => p.detail)
        .join('; ');
      expect(plan, sql).toMatch(/USING (COVERING )?INDEX reports_(node_)?received/);
      expect(plan, sql).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('rows - a soft-deleted task disappears from get, list and forNode', () => {
    open();
    addNode(store, 'n1');
    const t = {
      id: 't1',
      name: 't',
      kind: 'sync' as const,
      nodeId: 'n1',
      peerNodeId: null,
      resourceCode: '',
      subscriptionId: '',
      binding: 'b',
      params: { a: 1 },
      intervalMs: 0,
      enabled: true,
      generation: 1,
      createdAt: 1,
      updatedAt: 1,
    };
    store.tasks.insert(t);
    expect(store.tasks.get('t1')).toEqual(t);
    store.tasks.softDelete('t1', 9);
    expect(store.tasks.get('t1')).toBeUndefined();
    expect(store.tasks.list()).toEqual([]);
    expect(store.tasks.forNode('n1')).toEqual([]);
  });

  it('rows - a region subtree holds the region and everything below it, not its siblings', () => {
    open();
    store.regions.insert({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000', createdAt: 1 });
    store.regions.insert({ code: '360102', name: '东湖区', level: 'county', parentCode: '360100', createdAt: 1 });
    store.regions.insert({ code: '360200', name: '景德镇市', level: 'city', parentCode: '360000', createdAt: 1 });
    expect(store.regions.subtree('360100').sort()).toEqual(['360100', '360102']);
    expect(store.regions.subtree('360000').sort()).toEqual(['360000', '360100', '360102', '360200']);
  });

  it('rows - tx rolls back everything when its function throws', () => {
    open();
    expect(() =>
      store.tx(() => {
        store.regions.insert({ code: '360100', name: '南昌市', level: 'city', parentCode: '360000', createdAt: 1 });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.regions.get('360100')).toBeUndefined();
  });

  it('rows - ping answers true while open and close is idempotent', () => {
    const s = open();
    expect(s.ping()).toBe(true);
    s.close();
    s.close();
    expect((s.db as Db).open).toBe(false);
  });
});
