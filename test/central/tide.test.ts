// Tide allocation over a real central.db with the real services: a pair whose brain static policy pre-warms
// standbys has its sync task spread over the department's two standbys from the window's opening (already
// leadMinutes before the predicted peak) and merged at its end, unless a live surge wants it spread; a surge's end
// does not merge it while the window is open. Time is an argument (the tick's nowMs, the manual clock for plans).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CentralDeps } from '../helpers/central-deps.js';
import { tideAt, TIDE_WHY, tideWorld, type TideWorld } from '../helpers/tide-world.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

const at = (hhmm: string): number => tideAt(hhmm);
const WHY = TIDE_WHY;
type World = TideWorld;

function world(): World {
  const w = tideWorld();
  opened.push(w.d);
  return w;
}

/** Stores the pair's live surge as SurgeService.open does (open until `endMs` is set). */
function surge(w: World, actions: unknown[], endMs: number | null): void {
  w.d.store.brain.upsertSurge({
    surgeId: 'srg-1',
    ...w.pair,
    origin: 'live',
    startMs: at('07:00'),
    endMs,
    detectedAtMs: at('07:00'),
    peak: 900,
    expected: 100,
    evidence: {},
    actions,
  });
}

const surgeWhy = (w: World): string => `surge ${w.pair.fromNode} → ${w.pair.toNode}: 900 records per bucket`;

describe('tide allocation', () => {
  it('tide - nothing spread before the lead, spread over two standbys at it, idempotent, merged at the window end', () => {
    const w = world();
    expect(w.tick('07:44')).toEqual([]);
    expect(w.shards.plan(w.task)).toBeUndefined();
    expect(w.tick('07:45')).toEqual([{ taskId: w.task, action: 'spread', reason: WHY }]);
    const plan = w.shards.plan(w.task)!;
    expect(plan).toMatchObject({ epoch: 1, count: 3, state: 'splitting', reason: WHY });
    expect(plan.standbys.map((s) => s.nodeId)).toEqual(w.standbys);
    expect(w.tick('07:46')).toEqual([]);
    w.shards.onReport(w.pair.fromNode, { taskId: w.task, epoch: 1, kind: 'split-ready', index: 0, cursorJson: 'null' });
    expect(w.tick('18:59')).toEqual([]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'split' });
    expect(w.tick('19:00')).toMatchObject([{ taskId: w.task, action: 'unspread' }]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'merging' });
    expect(w.tick('19:01')).toEqual([]);
    const audited = w.d.audit
      .list({ entityId: w.task })
      .filter((e) => e.action === 'task.spread' || e.action === 'task.unspread')
      .map((e) => [e.action, (e.details as { reason: string }).reason]);
    expect(audited).toEqual([
      ['task.spread', WHY],
      ['task.unspread', `${WHY}; merged: the tide window closed`],
    ]);
  });

  it('tide - a surge live at the window end keeps the flow spread, and its own end merges it', () => {
    const w = world();
    w.tick('07:45');
    w.d.manual!.nowMs = at('18:30');
    const actions = w.shards.spreadAll([w.task], 2, surgeWhy(w)); // the surge adopts the tide's spread
    expect(actions).toEqual([{ action: 'spread', taskId: w.task, nodes: w.standbys, epoch: 1 }]);
    surge(w, actions, null);
    expect(w.tick('19:00')).toEqual([]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'splitting' });
    w.d.manual!.nowMs = at('19:20');
    expect(w.shards.unspreadAll(actions, 'the surge passed')).toMatchObject([{ action: 'unspread', epoch: 1 }]);
    surge(w, actions, at('19:20'));
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'merging' });
    expect(w.tick('19:21')).toEqual([]);
  });

  it("tide - a surge's end does not merge a flow while its tide window is open; the window's end does", () => {
    const w = world();
    w.d.manual!.nowMs = at('07:30');
    const actions = w.shards.spreadAll([w.task], 2, surgeWhy(w));
    expect(actions).toMatchObject([{ action: 'spread', epoch: 1 }]);
    surge(w, actions, null);
    expect(w.tick('07:45')).toEqual([]); // spread already: the tide wants what is there
    w.d.manual!.nowMs = at('08:10');
    expect(w.tide.windowOf(w.task)).toBe(WHY);
    expect(w.shards.unspreadAll(actions, 'the surge passed')).toEqual([]);
    surge(w, actions, at('08:10'));
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'splitting' });
    expect(w.tick('12:00')).toEqual([]);
    expect(w.tick('19:00')).toMatchObject([{ taskId: w.task, action: 'unspread' }]);
    expect(w.shards.plan(w.task)!.reason).toBe(`${surgeWhy(w)}; merged: the tide window closed`);
  });

  it('tide - a window with no standby online spreads nothing and raises no error, each tick', () => {
    const w = world();
    for (const id of w.standbys) w.d.nodes.heartbeat(w.d.store.nodes.get(id)!, { bindings: ['other'] }, '0.1.0');
    expect(w.tick('07:45')).toEqual([]);
    expect(w.tick('07:46')).toEqual([]);
    expect(w.shards.plan(w.task)).toBeUndefined();
  });
});
