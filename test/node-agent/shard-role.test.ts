// A sync task's part in a spread flow (exchange/shard-role.ts) over a real spool: the primary's split is one
// transaction (cursor restricted to shard 0, split sequence and cursor remembered, also across a restart), its
// split-ready waits until every batch up to the split is receipted, handed-back shards join its cursor from the
// standby's position and it reports merged once it holds every shard; a standby starts from the split cursor
// and, withdrawn, reads no more and reports shard-done only once its outbox is receipted.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DataSpool, type TaskState } from '../../node-agent/src/spool/data-spool.js';
import { ShardRole, type ShardAssignment, type ShardReportBody } from '../../node-agent/src/exchange/shard-role.js';
import { SqliteSpool } from '../../node-agent/src/spool/sqlite-spool.js';
import { tmpDir } from '../helpers/tmp.js';

const opened: SqliteSpool[] = [];
afterEach(() => opened.splice(0).forEach((s) => s.close()));

function spool(file = join(tmpDir('xchg-shard-role-'), 'spool.db')): { data: DataSpool; file: string } {
  const s = new SqliteSpool(file, { synchronous: 'NORMAL', maxReports: 1000 });
  opened.push(s);
  return { data: new DataSpool(s.db, s.hintDb), file };
}

/** Commits `n` batches at `cursor` (a read step). */
function step(data: DataSpool, state: TaskState, n: number, cursor: TaskState['cursor']): TaskState {
  const batches = Array.from({ length: n }, () => ({
    records: 10,
    seal: (epoch: string, sequence: number) => ({
      batchId: `b-${epoch}-${sequence}`,
      subject: 'x.n.c.d.t1',
      envelope: new Uint8Array(8),
    }),
  }));
  return data.commitStep(state, { cursor, batches, quarantine: [] }, 1).state;
}

const plan = (over: Partial<ShardAssignment>): ShardAssignment => ({
  epoch: 1,
  count: 3,
  role: 'primary',
  index: 0,
  state: 'splitting',
  startCursor: undefined,
  withdrawn: false,
  returned: [],
  ...over,
});

describe('shard role', () => {
  it('shard role - the primary restarted between its split and the receipts still reports the split cursor', () => {
    const { data, file } = spool();
    let state = step(data, data.taskState('t1', 1), 3, { c: '30', k: '30' });
    state = new ShardRole('t1', plan({}), data, () => {}).tick(state, 10_000).state;
    state = step(data, state, 2, { n: 3, parts: [{ s: [0], c: '40', k: '40' }] }); // shard 0 went on
    // Restart: a new role over the reopened spool, the plan still splitting (central has no split cursor yet).
    const reopened = spool(file).data;
    const reports: ShardReportBody[] = [];
    const again = new ShardRole('t1', plan({}), reopened, (b) => reports.push(b));
    expect(again.tick(state, 20_000).state.cursor).toEqual(state.cursor); // not split a second time
    expect(reports).toEqual([]);
    reopened.acknowledge('t1', state.epoch, 3);
    again.tick(state, 30_000);
    // The split's cursor (30), not the cursor the task holds now (shard 0 at 40): only the spool knew it.
    expect(reports).toEqual([
      { taskId: 't1', epoch: 1, kind: 'split-ready', index: 0, cursorJson: '{"c":"30","k":"30"}' },
    ]);
  });

  it('shard role - the primary splits at once, reports split-ready only after the receipts, takes shards back, merges', () => {
    const { data, file } = spool();
    const reports: ShardReportBody[] = [];
    let state = step(data, data.taskState('t1', 1), 3, { c: '30', k: '30' });
    const role = new ShardRole('t1', plan({}), data, (b) => reports.push(b));
    let now = 10_000;
    const r = role.tick(state, now);
    state = r.state;
    expect(r.read).toBe(true);
    expect(state.cursor).toEqual({ n: 3, parts: [{ s: [0], c: '30', k: '30' }] });
    expect(data.taskState('t1', 2).cursor).toEqual(state.cursor); // committed
    expect(reports).toEqual([]); // batches 1..3 are not receipted yet
    state = step(data, state, 2, { n: 3, parts: [{ s: [0], c: '40', k: '40' }] }); // shard 0 goes on meanwhile
    data.acknowledge('t1', state.epoch, 2);
    role.tick(state, (now += 10_000));
    expect(reports).toEqual([]);
    data.acknowledge('t1', state.epoch, 3); // the last batch before the split: ready, with the split cursor
    role.tick(state, (now += 10_000));
    expect(reports).toEqual([
      { taskId: 't1', epoch: 1, kind: 'split-ready', index: 0, cursorJson: '{"c":"30","k":"30"}' },
    ]);
    // A restart after split-ready (the same spool) does not split again (before it: the test above).
    const again = new ShardRole(
      't1',
      plan({ state: 'split', startCursor: { c: '30', k: '30' } }),
      spool(file).data,
      () => {},
    );
    expect(again.tick(state, now).state.cursor).toEqual(state.cursor);

    // Merging: shard 2 handed back at 35, shard 1 at 50: each joins the cursor as its own part.
    const merging = plan({
      state: 'merging',
      startCursor: { c: '30', k: '30' },
      returned: [
        { index: 2, cursor: { c: '35', k: '35' } },
        { index: 1, cursor: { c: '50', k: '50' } },
      ],
    });
    const reports2: ShardReportBody[] = [];
    const p2 = new ShardRole('t1', merging, data, (b) => reports2.push(b));
    state = p2.tick(state, (now += 10_000)).state;
    expect(state.cursor).toEqual({
      n: 3,
      parts: [
        { s: [0], c: '40', k: '40' },
        { s: [2], c: '35', k: '35' },
        { s: [1], c: '50', k: '50' },
      ],
    });
    expect(reports2.map((b) => b.kind)).toEqual(['merged']);
  });

  it('shard role - a standby starts from the split cursor and hands back only once its outbox is receipted', () => {
    const { data } = spool();
    const reports: ShardReportBody[] = [];
    const waiting = new ShardRole('t1', plan({ role: 'standby', index: 2, state: 'splitting' }), data, () => {});
    expect(waiting.tick(data.taskState('t1', 1), 1).read).toBe(false); // no start cursor yet: no reading
    const active = plan({ role: 'standby', index: 2, state: 'split', startCursor: { c: '30', k: '30' } });
    let state = new ShardRole('t1', active, data, () => {}).tick(data.taskState('t1', 1), 1).state;
    expect(state.cursor).toEqual({ n: 3, parts: [{ s: [2], c: '30', k: '30' }] });
    state = step(data, state, 2, { n: 3, parts: [{ s: [2], c: '45', k: '45' }] });
    const withdrawn = new ShardRole('t1', { ...active, state: 'merging', withdrawn: true }, data, (b) =>
      reports.push(b),
    );
    expect(withdrawn.tick(state, 10_000)).toMatchObject({ read: false });
    expect(reports).toEqual([]); // two batches still wait for their receipts
    data.acknowledge('t1', state.epoch, 2);
    withdrawn.tick(state, 20_000);
    expect(reports).toEqual([
      { taskId: 't1', epoch: 1, kind: 'shard-done', index: 2, cursorJson: '{"c":"45","k":"45"}' },
    ]);
  });
});
