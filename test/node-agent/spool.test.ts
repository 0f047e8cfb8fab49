// SqliteSpool on real SQLite files: pragmas, the report outbox (seq, peek/delete, durability, thinning),
// the assignment state, schema versions and a process crash in the middle of writing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DataSpool } from '../../node-agent/src/spool/data-spool.js';
import { SqliteSpool, type SpoolOptions } from '../../node-agent/src/spool/sqlite-spool.js';
import { ROOT } from '../helpers/proc.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const OPTS: SpoolOptions = { synchronous: 'FULL', maxReports: 100_000 };

const opened: SqliteSpool[] = [];
function openSpool(file: string, opts: Partial<SpoolOptions> = {}): SqliteSpool {
  const s = new SqliteSpool(file, { ...OPTS, ...opts });
  opened.push(s);
  return s;
}
const spoolFile = (): string => join(tmpDir('xchg-spool-'), 'spool.db');

/** The schema version this agent's migrations bring a new spool to (grows as migrations are added). */
function knownSchemaVersion(): number {
  const s = new SqliteSpool(spoolFile(), OPTS);
  try {
    return s.db.pragma('user_version', { simple: true }) as number;
  } finally {
    s.close();
  }
}

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});
afterAll(removeTmpDirs);

describe('spool - pragmas', () => {
  it('spool - synchronous is what the options say and the journal is WAL', () => {
    const full = openSpool(spoolFile(), { synchronous: 'FULL' });
    expect(full.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(full.db.pragma('journal_mode', { simple: true })).toBe('wal');

    const normal = openSpool(spoolFile(), { synchronous: 'NORMAL' });
    expect(normal.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(normal.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('spool - WAL mode is in the file itself (another connection sees it)', () => {
    const file = spoolFile();
    openSpool(file).close();
    const other = new Database(file, { readonly: true });
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(other.pragma('user_version', { simple: true })).toBe(knownSchemaVersion());
      expect(knownSchemaVersion()).toBeGreaterThanOrEqual(1);
    } finally {
      other.close();
    }
  });
});

describe('spool - report outbox', () => {
  it('spool - seq strictly increases and is not reused after deleting rows and reopening', () => {
    const file = spoolFile();
    let s = openSpool(file);
    const first = [1, 2, 3].map((i) => s.enqueueReport('event', { i }, 1_000 + i));
    expect(first.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(new Set(first.map((r) => r.reportId)).size).toBe(3);
    s.deleteReports(first.map((r) => r.reportId));
    expect(s.reportDepth).toBe(0);
    // Same connection, empty table: AUTOINCREMENT still does not hand out 1 again.
    const fourth = s.enqueueReport('event', { i: 4 }, 1_004);
    expect(fourth.seq).toBe(4);
    s.deleteReports([fourth.reportId]);
    s.close();

    s = openSpool(file);
    const after = [s.enqueueReport('metrics', {}, 2_000), s.enqueueReport('event', {}, 2_001)];
    expect(after.map((r) => r.seq)).toEqual([5, 6]);
  });

  it('spool - peek returns the oldest reports in seq order without removing them', () => {
    const s = openSpool(spoolFile());
    const made = ['event', 'metrics', 'task_run', 'event'].map((kind, i) =>
      s.enqueueReport(kind, { n: i, nested: { k: [i] } }, 500 + i),
    );
    const two = s.peekReports(2);
    expect(two).toEqual(made.slice(0, 2));
    const all = s.peekReports(10);
    expect(all).toEqual(made);
    expect(s.peekReports(10)).toEqual(made); // peeking again gives the same
    expect(s.reportDepth).toBe(4);
  });

  it('spool - deleteReports removes only the given ids and ignores unknown ones', () => {
    const s = openSpool(spoolFile());
    const made = Array.from({ length: 5 }, (_, i) => s.enqueueReport('event', { i }, i));
    s.deleteReports([made[1]!.reportId, made[3]!.reportId, 'not-a-report-id']);
    expect(s.peekReports(10).map((r) => r.seq)).toEqual([made[0]!.seq, made[2]!.seq, made[4]!.seq]);
    expect(s.reportDepth).toBe(3);
    s.deleteReports([]);
    expect(s.reportDepth).toBe(3);
  });

  it('spool - the outbox survives close and reopen', () => {
    const file = spoolFile();
    let s = openSpool(file);
    const made = [
      s.enqueueReport('task_run', { taskId: 't-1', records: 42 }, 10),
      s.enqueueReport('event', { severity: 'warn', code: 'X', message: '数据', taskId: '' }, 11),
      s.enqueueReport('metrics', { health: { cpuPercent: 1.5 } }, 12),
    ];
    s.close();
    s = openSpool(file);
    expect(s.reportDepth).toBe(3);
    expect(s.peekReports(10)).toEqual(made);
  });

  it('spool - at maxReports the oldest metrics are thinned and task runs and events are kept', () => {
    const s = openSpool(spoolFile(), { maxReports: 100 });
    const keep: number[] = [];
    for (let i = 0; i < 10; i++) keep.push(s.enqueueReport('task_run', { i }, i).seq);
    const metrics: number[] = [];
    for (let i = 0; i < 40; i++) metrics.push(s.enqueueReport('metrics', { i }, 100 + i).seq);
    for (let i = 0; i < 10; i++) keep.push(s.enqueueReport('event', { i }, 200 + i).seq);
    for (let i = 0; i < 40; i++) metrics.push(s.enqueueReport('metrics', { i }, 300 + i).seq);
    expect(s.reportDepth).toBe(100);

    // 25 more metrics: each one thins the oldest metrics sample, the depth stays at the limit.
    for (let i = 0; i < 25; i++) metrics.push(s.enqueueReport('metrics', { i }, 400 + i).seq);
    expect(s.reportDepth).toBe(100);
    const left = s.peekReports(1_000);
    const byKind = (k: string): number[] => left.filter((r) => r.kind === k).map((r) => r.seq);
    expect([...byKind('task_run'), ...byKind('event')].sort((a, b) => a - b)).toEqual(keep);
    expect(byKind('metrics')).toEqual(metrics.slice(25)); // the 25 oldest samples went

    // Events past the limit are not dropped either: they thin metrics too.
    for (let i = 0; i < 5; i++) keep.push(s.enqueueReport('event', { late: i }, 500 + i).seq);
    expect(s.reportDepth).toBe(100);
    const after = s.peekReports(1_000);
    expect(after.filter((r) => r.kind !== 'metrics').map((r) => r.seq)).toEqual(keep);
    expect(after.filter((r) => r.kind === 'metrics').map((r) => r.seq)).toEqual(metrics.slice(30));
  });

  it('spool - with no metrics left to thin, task runs and events are kept past maxReports', () => {
    const s = openSpool(spoolFile(), { maxReports: 100 });
    const made: string[] = [];
    for (let i = 0; i < 100; i++) made.push(s.enqueueReport(i % 2 ? 'event' : 'task_run', { i }, i).reportId);
    for (let i = 0; i < 3; i++) made.push(s.enqueueReport('task_run', { extra: i }, 1_000 + i).reportId);
    expect(s.reportDepth).toBe(103);
    expect(s.peekReports(1_000).map((r) => r.reportId)).toEqual(made);
  });
});

describe('spool - assignment state', () => {
  interface Held {
    id: string;
    generation: number;
    params: Record<string, unknown>;
  }

  it('spool - assignments save and load round-trip, one set at a time, across reopen', () => {
    const file = spoolFile();
    let s = openSpool(file);
    expect(s.loadAssignments<Held>()).toBeUndefined();
    const v3: Held[] = [
      { id: 'task-a', generation: 1, params: { table: '人口', limit: 10 } },
      { id: 'task-b', generation: 4, params: {} },
    ];
    s.saveAssignments(3, v3, 1_000);
    expect(s.loadAssignments<Held>()).toEqual({ version: 3, assignments: v3 });

    const v4: Held[] = [{ id: 'task-b', generation: 5, params: { x: [1, 2] } }];
    s.saveAssignments(4, v4, 2_000);
    expect(s.loadAssignments<Held>()).toEqual({ version: 4, assignments: v4 });
    expect((s.db.prepare('SELECT count(*) AS n FROM assignment_state').get() as { n: number }).n).toBe(1);
    s.close();

    s = openSpool(file);
    expect(s.loadAssignments<Held>()).toEqual({ version: 4, assignments: v4 });
    s.saveAssignments(5, [], 3_000);
    expect(s.loadAssignments<Held>()).toEqual({ version: 5, assignments: [] });
  });

  it('spool - meta values round-trip and overwrite', () => {
    const s = openSpool(spoolFile());
    expect(s.getMeta('k')).toBeUndefined();
    s.setMeta('k', 'one');
    s.setMeta('k', 'two');
    expect(s.getMeta('k')).toBe('two');
  });
});

describe('spool - schema and crashes', () => {
  it('spool - a spool file with a newer schema version is refused with a clear message', () => {
    const known = knownSchemaVersion();
    const newer = known + 5;
    const file = spoolFile();
    const s = openSpool(file);
    s.enqueueReport('event', { keep: true }, 1);
    s.close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${newer}`);
    raw.close();

    expect(() => new SqliteSpool(file, OPTS)).toThrow(
      `spool ${file} has schema version ${newer}, newer than this agent knows (${known})`,
    );
    // Refusing did not touch the file: its version and rows are still there for the newer agent.
    const check = new Database(file, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(newer);
      expect((check.prepare('SELECT count(*) AS n FROM report_outbox').get() as { n: number }).n).toBe(1);
    } finally {
      check.close();
    }
  });

  it('spool - a process killed in the middle of writing leaves a spool that opens with every committed row', () => {
    const file = spoolFile();
    const s = openSpool(file, { synchronous: 'NORMAL' });
    const before = s.enqueueReport('event', { before: true }, 1);
    s.close();

    // The child writes like the spool does (WAL, synchronous NORMAL, one transaction per report), then opens
    // a large transaction — a tiny page cache makes SQLite spill its uncommitted pages into the WAL — and
    // SIGKILLs itself before committing it.
    const child = `
      import Database from 'better-sqlite3';
      const db = new Database(process.argv[1]);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('cache_size = 2');
      const insert = db.prepare('INSERT INTO report_outbox (report_id, kind, body_json, observed_at) VALUES (?, ?, ?, ?)');
      for (let i = 0; i < 200; i++) db.transaction(() => insert.run('committed-' + i, 'task_run', JSON.stringify({ i }), 1000 + i))();
      process.stdout.write('committed 200\\n');
      db.exec('BEGIN');
      for (let i = 0; i < 2000; i++) insert.run('uncommitted-' + i, 'metrics', JSON.stringify({ pad: 'x'.repeat(500) }), 5000 + i);
      process.stdout.write('killing mid-transaction\\n');
      process.kill(process.pid, 'SIGKILL');
    `;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', child, file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.stderr).toBe('');
    expect(res.signal).toBe('SIGKILL');
    expect(res.stdout).toContain('committed 200');
    expect(res.stdout).toContain('killing mid-transaction');
    // The kill left a WAL behind (no clean close checkpointed it away): recovery really has work to do.
    expect(existsSync(`${file}-wal`)).toBe(true);

    const after = openSpool(file, { synchronous: 'NORMAL' });
    expect(after.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = after.peekReports(10_000);
    expect(rows[0]).toEqual(before);
    const committed = rows.slice(1);
    expect(committed.map((r) => r.reportId)).toEqual(Array.from({ length: 200 }, (_, i) => `committed-${i}`));
    expect(committed.map((r) => r.body)).toEqual(Array.from({ length: 200 }, (_, i) => ({ i })));
    expect(committed.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => before.seq + 1 + i));
    expect(rows.some((r) => r.reportId.startsWith('uncommitted-'))).toBe(false);
    // The spool goes on from there: the next seq follows the last committed one.
    expect(after.enqueueReport('event', {}, 9_999).seq).toBe(committed.at(-1)!.seq + 1);
  });
});

describe('spool - outbox reads within a byte budget', () => {
  it('spool - unpublished returns the rows that fit the budget in order, the first one anyway when asked', () => {
    const s = openSpool(spoolFile());
    const data = new DataSpool(s.db, s.hintDb);
    const sizes = [300, 500, 200, 900, 100];
    const state = data.taskState('t-1', 1);
    data.commitStep(
      state,
      {
        cursor: null,
        quarantine: [],
        batches: sizes.map((n) => ({
          records: 1,
          seal: (epoch: string, sequence: number) => ({
            batchId: `b-${sequence}`,
            subject: 'x.n.node.d.t-1',
            envelope: new Uint8Array(n).fill(sequence),
          }),
        })),
      },
      2,
    );
    const seqs = (rows: { sequence: number }[]): number[] => rows.map((r) => r.sequence);
    expect(seqs(data.unpublished(0, 10))).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(data.unpublished(0, 10, [], 1000))).toEqual([1, 2, 3]);
    expect(seqs(data.unpublished(0, 2, [], 10_000))).toEqual([1, 2]);
    // After row 3 (id order): 900 alone is over a 500-byte budget; it goes only when nothing is in flight.
    const third = data.unpublished(0, 10)[2]!.id;
    expect(seqs(data.unpublished(third, 10, [], 500, false))).toEqual([]);
    expect(seqs(data.unpublished(third, 10, [], 500, true))).toEqual([4]);
    expect(seqs(data.unpublished(third, 10, [], 1000, false))).toEqual([4, 5]);
    const rows = data.unpublished(0, 10, [], 800);
    expect(rows.map((r) => r.envelope.length)).toEqual([300, 500]);
    expect(data.unpublished(0, 10, ['t-1'])).toEqual([]);
  });
});
