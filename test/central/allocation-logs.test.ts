// The allocation's services log to central's root logger as children with their component (shards, tide, surges):
// every spread and merge decision is one line with a fixed phrase and its data in fields, whoever decided it (the
// tide, a surge, an operator), and the tide says once per window that an operator holds a flow merged.
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CentralDeps } from '../helpers/central-deps.js';
import { TIDE_WHY, tideAt, tideWorld } from '../helpers/tide-world.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

type Line = Record<string, unknown> & { msg: string; component?: string; level: number };

describe('allocation logs', () => {
  it('allocation logs - each spread and merge decision is a line of its component with its data in fields', () => {
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
    const w = tideWorld({ logger });
    opened.push(w.d);
    const mine = (): Line[] => lines.splice(0).filter((l) => ['shards', 'tide', 'surges'].includes(l.component ?? ''));

    w.tick('07:45');
    expect(mine()).toEqual([
      expect.objectContaining({
        component: 'shards',
        level: 30,
        msg: 'flow spread',
        taskId: w.task,
        epoch: 1,
        state: 'splitting',
        origin: 'tide',
        standbys: w.standbys,
        reason: TIDE_WHY,
        actor: 'brain',
      }),
    ]);

    w.d.manual!.nowMs = tideAt('09:00');
    w.shards.unspread(w.task, 'unspread by admin', 'operator', 'admin');
    expect(mine()).toEqual([
      expect.objectContaining({
        component: 'shards',
        msg: 'flow merge ordered',
        taskId: w.task,
        state: 'merging',
        origin: 'tide',
        by: 'operator',
        actor: 'admin',
        heldUntilMs: tideAt('19:00'),
      }),
    ]);
    w.tick('09:05');
    w.tick('09:10');
    expect(mine()).toEqual([
      expect.objectContaining({
        component: 'tide',
        msg: 'tide spread held off by an operator',
        taskId: w.task,
        window: TIDE_WHY,
        heldUntilMs: tideAt('19:00'),
      }),
    ]);

    // The agents finish the merge (the standbys never started: their shards are done at the split), then a surge
    // spreads the held task (a new plan) and its end merges it.
    const epoch = 1;
    w.shards.onReport(w.pair.fromNode, { taskId: w.task, epoch, kind: 'split-ready', index: 0, cursorJson: 'null' });
    w.standbys.forEach((n, i) =>
      w.shards.onReport(n, { taskId: w.task, epoch, kind: 'shard-done', index: i + 1, cursorJson: 'null' }),
    );
    w.shards.onReport(w.pair.fromNode, { taskId: w.task, epoch, kind: 'merged', index: 0, cursorJson: 'null' });
    expect(mine().map((l) => [l.component, l.msg])).toEqual(Array(2).fill(['shards', 'shard plan moved on']));
    const actions = w.shards.spreadAll([w.task], 2, 'surge a → b: 900 records per bucket');
    w.shards.unspreadAll(actions, 'the surge passed');
    expect(mine()).toEqual([
      expect.objectContaining({ component: 'shards', msg: 'flow spread', epoch: 2, origin: 'surge', actor: 'brain' }),
      expect.objectContaining({
        component: 'shards',
        msg: 'flow merge ordered',
        epoch: 2,
        origin: 'surge',
        by: 'surge',
        reason: 'surge a → b: 900 records per bucket; merged: the surge passed',
      }),
    ]);

    // The surge watch logs as 'surges' (a replay of an empty import).
    w.d.surges.replayImported({ pair: w.pair, sinceMs: tideAt('00:00'), untilMs: tideAt('01:00') });
    expect(mine()).toEqual([
      expect.objectContaining({ component: 'surges', msg: 'imported history replayed', surges: 0 }),
    ]);
  });
});
