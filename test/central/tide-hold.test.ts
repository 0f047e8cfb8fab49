// An operator's merge inside a tide window holds for the rest of that window: POST /tasks/:id/unspread (what
// `xchg task unspread` calls) on a flow the tide spread records the window's end on the plan, the tide's ticks do
// not spread it again before it, the API and `xchg task show`'s text say until when, and the next window spreads
// it again. Real services over a temp central.db, the fastify app by inject(), time set by the manual clock.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AllocationView } from '../../central/src/api/task-allocation.js';
import { allocationText } from '../../central/src/cli/commands/task-allocation.js';
import { formatTime } from '../../central/src/cli/format.js';
import { buildApp } from '../../central/src/http/app.js';
import { TEST_ADMIN_TOKEN, type CentralDeps } from '../helpers/central-deps.js';
import { TIDE_WHY, tideAt, tideWorld, type TideWorld } from '../helpers/tide-world.js';
import { removeTmpDirs } from '../helpers/tmp.js';

const opened: CentralDeps[] = [];
afterEach(() => opened.splice(0).forEach((d) => d.close()));
afterAll(removeTmpDirs);

const world = (): TideWorld => {
  const w = tideWorld();
  opened.push(w.d);
  return w;
};

/** The agents' reports that finish a merge: each standby hands its shard back, then the primary merges. */
function agentsMerge(w: TideWorld): void {
  const epoch = w.shards.plan(w.task)!.epoch;
  const report = (node: string, kind: string, index: number): void =>
    w.shards.onReport(node, { taskId: w.task, epoch, kind, index, cursorJson: '{"c":"9"}' });
  report(w.pair.fromNode, 'split-ready', 0);
  w.standbys.forEach((n, i) => report(n, 'shard-done', i + 1));
  report(w.pair.fromNode, 'merged', 0);
}

describe('tide hold', () => {
  it("tide hold - an operator's unspread in a tide window holds until its end; the next window spreads again", async () => {
    const w = world();
    const app = await buildApp(w.d.http);
    try {
      const api = async (method: 'GET' | 'POST', url: string, body?: unknown): Promise<AllocationView> => {
        const r = await app.inject({
          method,
          url: `/api/v1/tasks/${w.task}${url}`,
          headers: {
            authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { payload: JSON.stringify(body) }),
        });
        expect(r.statusCode, r.body).toBe(200);
        return JSON.parse(r.body) as AllocationView;
      };
      expect(w.tick('07:45')).toEqual([{ taskId: w.task, action: 'spread', reason: TIDE_WHY }]);
      w.d.manual!.nowMs = tideAt('09:30');
      const merged = await api('POST', '/unspread', { reason: 'the standbys are needed for a migration' });
      expect(merged).toMatchObject({ state: 'merging', origin: 'tide', heldUntil: tideAt('19:00') });
      expect(allocationText(merged)).toContain(
        `the tide does not spread it again before ${formatTime(tideAt('19:00'))}`,
      );

      // The tide's ticks through the rest of the window change nothing, before and after the merge completes.
      expect(w.tick('09:31')).toEqual([]);
      agentsMerge(w);
      expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'single' });
      for (const t of ['09:35', '12:00', '18:59', '19:00', '23:00']) expect(w.tick(t)).toEqual([]);
      expect(w.shards.plan(w.task)).toMatchObject({ epoch: 1, state: 'single' });
      const after = await api('GET', '/allocation');
      expect(after.heldUntil).toBe(0); // past its end
      expect(allocationText(after)).not.toContain('does not spread it again');

      // Tuesday's window is a new one: the tide spreads again.
      expect(w.tick('07:44', '2025-09-02')).toEqual([]);
      expect(w.tick('07:45', '2025-09-02')).toEqual([{ taskId: w.task, action: 'spread', reason: TIDE_WHY }]);
      expect(w.shards.plan(w.task)).toMatchObject({ epoch: 2, state: 'splitting', origin: 'tide', heldUntilMs: null });
    } finally {
      await app.close();
    }
  });

  it("tide hold - the brain's merge sets no hold, and an operator's merge outside a window holds nothing", () => {
    const w = world();
    w.tick('07:45');
    w.d.manual!.nowMs = tideAt('20:00');
    w.shards.unspread(w.task, 'not needed tonight', 'tide', 'brain');
    expect(w.shards.plan(w.task)!.heldUntilMs).toBeNull();
    agentsMerge(w);
    w.shards.spread(w.task, { agents: 1, reason: 'spread by admin', origin: 'operator' }, 'admin');
    w.shards.unspread(w.task, 'unspread by admin', 'operator', 'admin');
    expect(w.shards.plan(w.task)!.heldUntilMs).toBeNull();
    expect(w.shards.heldUntil(w.task)).toBe(0);
  });

  it('tide hold - a surge in the held window may spread, and its end merges it instead of handing it to the tide', () => {
    const w = world();
    w.tick('07:45');
    w.d.manual!.nowMs = tideAt('08:00');
    w.shards.unspread(w.task, 'unspread by admin', 'operator', 'admin');
    agentsMerge(w);
    w.d.manual!.nowMs = tideAt('10:00');
    const actions = w.shards.spreadAll([w.task], 2, 'surge a → b: 900 records per bucket');
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 2, origin: 'surge', heldUntilMs: tideAt('19:00') });
    w.d.manual!.nowMs = tideAt('11:00');
    expect(w.shards.unspreadAll(actions, 'the surge passed')).toMatchObject([{ action: 'unspread', epoch: 2 }]);
    expect(w.shards.plan(w.task)).toMatchObject({ epoch: 2, state: 'merging', origin: 'surge' });
    agentsMerge(w);
    expect(w.tick('11:05')).toEqual([]);
  });
});
