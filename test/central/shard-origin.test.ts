// Who spread a flow is stored with its plan (origin: tide | surge | operator), not read from its reason: migration
// 18 derives it once for existing plans from the old prefixes; afterwards the brain merges only its own spreads —
// an operator's spread stays whatever its words — and a spread passes between surge and tide as they adopt it.
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ShardPlan } from '../../central/src/domain/shards.js';
import { openDatabase } from '../../central/src/store/db.js';
import { MIGRATIONS } from '../../central/src/store/migrations.js';
import { ShardStore } from '../../central/src/store/shards.js';
import type { CentralDeps } from '../helpers/central-deps.js';
import { TIDE_WHY, tideAt, tideWorld, type TideWorld } from '../helpers/tide-world.js';
import { removeTmpDirs, tmpDir } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

const world = (): TideWorld => {
  const w = tideWorld();
  opened.push(w.d);
  return w;
};

describe('shard origin', () => {
  it('shard origin - migration 18 gives existing plans their origin once from the old reason prefixes', () => {
    const file = join(tmpDir('xchg-shard-origin-'), 'central.db');
    const before = openDatabase(
      file,
      MIGRATIONS.filter((m) => m.version < 18),
    );
    before.pragma('foreign_keys = OFF'); // plans of tasks this test does not create
    const reasons: Record<string, string> = {
      t1: 'tide window 07:45-19:00 opens before the predicted peak; merged: the tide window closed',
      t2: 'surge nd-a → nd-b: 900 records per bucket against 100 expected',
      t3: 'spread by admin: surge expected at 14:00',
      t4: 'Tide window 07:45-19:00', // the old rule compared case-sensitively
      t5: 'surged at noon',
    };
    const insert = before.prepare(
      `INSERT INTO shard_plans (task_id, epoch, count, state, split_cursor_json, standbys_json, reason, updated_at)
       VALUES (?, 1, 2, 'split', NULL, '[]', ?, 1)`,
    );
    for (const [task, reason] of Object.entries(reasons)) insert.run(task, reason);
    expect(before.pragma('user_version', { simple: true })).toBeLessThan(18);
    before.close();

    const after = openDatabase(file);
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(18);
      const plans = new ShardStore(after);
      const origins = Object.keys(reasons).map((t) => [t, plans.get(t)!.origin]);
      expect(origins).toEqual([
        ['t1', 'tide'],
        ['t2', 'surge'],
        ['t3', 'operator'],
        ['t4', 'operator'],
        ['t5', 'operator'],
      ]);
      // From now on the column is what counts: a plan stored as the operator's stays it, whatever its words.
      after.pragma('foreign_keys = OFF');
      plans.put({ ...plans.get('t3')!, taskId: 't6', reason: reasons['t1']!, origin: 'operator' } as ShardPlan);
      expect(plans.get('t6')!.origin).toBe('operator');
      expect(() => after.prepare("UPDATE shard_plans SET origin = 'brain' WHERE task_id = 't6'").run()).toThrow(
        /CHECK constraint failed/,
      );
    } finally {
      after.close();
    }
  });

  it("shard origin - the tide never merges an operator's spread, even one with the tide's words", () => {
    const w = world();
    w.d.manual!.nowMs = tideAt('07:30');
    w.shards.spread(w.task, { agents: 1, reason: TIDE_WHY, origin: 'operator' }, 'admin');
    expect(w.tick('07:45')).toEqual([]);
    expect(w.tick('19:00')).toEqual([]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'splitting', origin: 'operator' });
  });

  it("shard origin - a surge's end merges only what it still owns: not an operator's spread of the same epoch", () => {
    const w = world();
    w.d.manual!.nowMs = tideAt('20:00'); // outside the tide window
    const why = `surge ${w.pair.fromNode} → ${w.pair.toNode}: 900 records per bucket`;
    const p = w.shards.spread(w.task, { agents: 2, reason: why, origin: 'operator' }, 'admin');
    const action = { action: 'spread', taskId: w.task, nodes: w.standbys, epoch: p.epoch };
    expect(w.shards.unspreadAll([action], 'the surge passed')).toEqual([]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'splitting', origin: 'operator' });
  });

  it('shard origin - a surge adopts the tide spread (surge), its end inside the window hands it back (tide)', () => {
    const w = world();
    expect(w.tick('07:45')).toMatchObject([{ action: 'spread' }]);
    expect(w.shards.plan(w.task)!.origin).toBe('tide');
    w.d.manual!.nowMs = tideAt('09:00');
    const actions = w.shards.spreadAll([w.task], 2, 'surge a → b: 900 records per bucket');
    expect(actions).toEqual([{ action: 'spread', taskId: w.task, nodes: w.standbys, epoch: 1 }]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, origin: 'surge', reason: TIDE_WHY });
    w.d.manual!.nowMs = tideAt('10:00');
    expect(w.shards.unspreadAll(actions, 'the surge passed')).toEqual([]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'splitting', origin: 'tide' });
    expect(w.tick('19:00')).toMatchObject([{ taskId: w.task, action: 'unspread' }]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'merging', origin: 'tide' });
    const audited = w.d.audit
      .list({ entityId: w.task })
      .filter((e) => e.action.startsWith('task.') && e.action !== 'task.create')
      .map((e) => [e.action, (e.details as { origin: string }).origin, (e.details as { note?: string }).note]);
    expect(audited).toEqual([
      ['task.spread', 'tide', undefined],
      ['task.allocation', 'surge', 'handed to the surge: surge a → b: 900 records per bucket'],
      ['task.allocation', 'tide', `handed to the tide: ${TIDE_WHY}`],
      ['task.unspread', 'tide', undefined],
    ]);
  });
});
