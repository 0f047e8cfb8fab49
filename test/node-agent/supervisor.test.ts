// TaskSupervisor converging to desired assignment sets, with task runners of the test's own (a RunnerFactory
// is the supervisor's extension point) that record what was started and stopped.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  TaskSupervisor,
  type RunnerContext,
  type RunnerFactory,
  type TaskAssignment,
} from '../../node-agent/src/tasks/supervisor.js';

const GRACE_MS = 1_234;

function task(id: string, over: Partial<TaskAssignment> = {}): TaskAssignment {
  return {
    id,
    generation: 1,
    kind: 'sync',
    enabled: true,
    binding: 'population',
    peerNodeId: '',
    resourceCode: 'R-001',
    subscriptionId: '',
    params: {},
    intervalMs: 60_000,
    name: `task ${id}`,
    ...over,
  };
}

/** A recording runner: what started (with which generation) and what stopped (with which grace). */
function recorder(): {
  factory: RunnerFactory;
  started: { id: string; generation: number }[];
  stopped: { id: string; generation: number; graceMs: number }[];
  contexts: RunnerContext[];
} {
  const started: { id: string; generation: number }[] = [];
  const stopped: { id: string; generation: number; graceMs: number }[] = [];
  const contexts: RunnerContext[] = [];
  const factory: RunnerFactory = (t, ctx) => {
    started.push({ id: t.id, generation: t.generation });
    contexts.push(ctx);
    return {
      stop: async (graceMs) => {
        stopped.push({ id: t.id, generation: t.generation, graceMs });
      },
      lag: () => ({ lagMs: t.generation * 100, pendingBatches: t.generation }),
    };
  };
  return { factory, started, stopped, contexts };
}

function supervisor(factories: Record<string, RunnerFactory>): {
  sup: TaskSupervisor;
  reports: { kind: string; body: Record<string, unknown> }[];
} {
  const reports: { kind: string; body: Record<string, unknown> }[] = [];
  const ctx: RunnerContext = {
    logger: pino({ level: 'silent' }),
    report: (kind, body) => reports.push({ kind, body }),
  };
  return { sup: new TaskSupervisor(factories, ctx, GRACE_MS), reports };
}

describe('supervisor - converging to the desired set', () => {
  it('supervisor - apply() starts new tasks and reports them applied', async () => {
    const r = recorder();
    const { sup } = supervisor({ sync: r.factory });
    const outcomes = await sup.apply([task('a'), task('b', { generation: 3 })]);
    expect(outcomes).toEqual([
      { assignmentId: 'a', generation: 1, applied: true, reason: '' },
      { assignmentId: 'b', generation: 3, applied: true, reason: '' },
    ]);
    expect(r.started).toEqual([
      { id: 'a', generation: 1 },
      { id: 'b', generation: 3 },
    ]);
    expect(sup.size).toBe(2);
    expect(r.stopped).toEqual([]);
  });

  it('supervisor - a runner gets a context whose report() reaches the outbox callback', async () => {
    const r = recorder();
    const { sup, reports } = supervisor({ sync: r.factory });
    await sup.apply([task('a')]);
    r.contexts[0]!.report('task_run', { taskId: 'a', records: 5 });
    expect(reports).toEqual([{ kind: 'task_run', body: { taskId: 'a', records: 5 } }]);
  });

  it('supervisor - a kind without a runner is rejected with a reason naming the kind', async () => {
    const r = recorder();
    const { sup } = supervisor({ sync: r.factory });
    const outcomes = await sup.apply([task('x', { kind: 'exchange', generation: 2 })]);
    expect(outcomes).toEqual([
      { assignmentId: 'x', generation: 2, applied: false, reason: 'this agent has no runner for task kind "exchange"' },
    ]);
    expect(r.started).toEqual([]);
    expect(sup.size).toBe(0);
  });

  it("supervisor - a factory's thrown error message is the rejection reason", async () => {
    const { sup } = supervisor({
      sync: (t) => {
        throw new Error(`unknown binding ${t.binding}: not in this agent's sources`);
      },
    });
    const outcomes = await sup.apply([task('a', { binding: 'nowhere' })]);
    expect(outcomes).toEqual([
      {
        assignmentId: 'a',
        generation: 1,
        applied: false,
        reason: "unknown binding nowhere: not in this agent's sources",
      },
    ]);
    expect(sup.size).toBe(0);
  });

  it('supervisor - a rejected generation is not retried on the next apply; a new generation is', async () => {
    let calls = 0;
    const { sup } = supervisor({
      sync: (t) => {
        calls++;
        if (t.generation === 1) throw new Error('bad params');
        return { stop: async () => undefined };
      },
    });
    expect((await sup.apply([task('a')])).map((o) => o.applied)).toEqual([false]);
    expect(await sup.apply([task('a')])).toEqual([]);
    expect(calls).toBe(1);
    expect(await sup.apply([task('a', { generation: 2 })])).toEqual([
      { assignmentId: 'a', generation: 2, applied: true, reason: '' },
    ]);
    expect(calls).toBe(2);
    expect(sup.size).toBe(1);
  });

  it('supervisor - a task whose generation changed is restarted, the old runner stopped with the grace', async () => {
    const r = recorder();
    const { sup } = supervisor({ sync: r.factory });
    await sup.apply([task('a'), task('b')]);
    const outcomes = await sup.apply([task('a', { generation: 2, params: { table: 'new' } }), task('b')]);
    expect(outcomes).toEqual([{ assignmentId: 'a', generation: 2, applied: true, reason: '' }]);
    expect(r.stopped).toEqual([{ id: 'a', generation: 1, graceMs: GRACE_MS }]);
    expect(r.started).toEqual([
      { id: 'a', generation: 1 },
      { id: 'b', generation: 1 },
      { id: 'a', generation: 2 },
    ]);
    expect(sup.size).toBe(2);
    expect(sup.lags().sort((x, y) => x.taskId.localeCompare(y.taskId))).toEqual([
      { taskId: 'a', lagMs: 200, pendingBatches: 2 },
      { taskId: 'b', lagMs: 100, pendingBatches: 1 },
    ]);
  });

  it('supervisor - tasks that left the set are stopped and yield no outcome', async () => {
    const r = recorder();
    const { sup } = supervisor({ sync: r.factory });
    await sup.apply([task('a'), task('b'), task('c')]);
    expect(await sup.apply([task('b')])).toEqual([]);
    expect(r.stopped.map((s) => s.id).sort()).toEqual(['a', 'c']);
    expect(r.stopped.every((s) => s.graceMs === GRACE_MS)).toBe(true);
    expect(sup.size).toBe(1);
    expect(sup.lags().map((l) => l.taskId)).toEqual(['b']);
    expect(await sup.apply([])).toEqual([]);
    expect(r.stopped.map((s) => s.id).sort()).toEqual(['a', 'b', 'c']);
    expect(sup.size).toBe(0);
  });

  it('supervisor - a disabled task is applied without starting a runner', async () => {
    const r = recorder();
    const { sup } = supervisor({ sync: r.factory });
    const outcomes = await sup.apply([task('a', { enabled: false })]);
    expect(outcomes).toEqual([{ assignmentId: 'a', generation: 1, applied: true, reason: 'disabled' }]);
    expect(r.started).toEqual([]);
    expect(sup.size).toBe(0);
  });

  it('supervisor - disabling a running task (new generation) stops its runner', async () => {
    const r = recorder();
    const { sup } = supervisor({ sync: r.factory });
    await sup.apply([task('a')]);
    const outcomes = await sup.apply([task('a', { generation: 2, enabled: false })]);
    expect(outcomes).toEqual([{ assignmentId: 'a', generation: 2, applied: true, reason: 'disabled' }]);
    expect(r.stopped).toEqual([{ id: 'a', generation: 1, graceMs: GRACE_MS }]);
    expect(r.started).toEqual([{ id: 'a', generation: 1 }]);
    expect(sup.size).toBe(0);
  });

  it('supervisor - applying the same set twice yields no outcomes the second time', async () => {
    const r = recorder();
    const { sup } = supervisor({ sync: r.factory });
    const set = [task('a'), task('b', { enabled: false }), task('c', { kind: 'exchange' })];
    expect((await sup.apply(set)).map((o) => [o.assignmentId, o.applied])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
    ]);
    // A fresh copy of the same set (as decoded from the next poll) is still "the same".
    expect(await sup.apply(set.map((t) => ({ ...t })))).toEqual([]);
    expect(r.started).toEqual([{ id: 'a', generation: 1 }]);
    expect(r.stopped).toEqual([]);
  });

  it('supervisor - stopAll stops every runner with the grace and forgets the set', async () => {
    const r = recorder();
    const { sup } = supervisor({ sync: r.factory });
    await sup.apply([task('a'), task('b'), task('c', { enabled: false })]);
    await sup.stopAll();
    expect(r.stopped.map((s) => [s.id, s.graceMs]).sort()).toEqual([
      ['a', GRACE_MS],
      ['b', GRACE_MS],
    ]);
    expect(sup.size).toBe(0);
    // Forgotten: applying the set again starts the tasks again.
    expect((await sup.apply([task('a')])).map((o) => o.applied)).toEqual([true]);
    expect(r.started.map((s) => s.id)).toEqual(['a', 'b', 'a']);
  });

  it('supervisor - a runner whose stop() fails is still removed and the set still converges', async () => {
    const r = recorder();
    const failing: RunnerFactory = (t, ctx) => {
      const inner = r.factory(t, ctx);
      return {
        stop: async (graceMs) => {
          await inner.stop(graceMs);
          throw new Error(`runner ${t.id} stop failed`);
        },
      };
    };
    const { sup } = supervisor({ sync: failing });
    await sup.apply([task('a'), task('b')]);
    // a changes generation, b leaves: both old runners fail to stop; the new set is applied anyway.
    expect(await sup.apply([task('a', { generation: 2 })])).toEqual([
      { assignmentId: 'a', generation: 2, applied: true, reason: '' },
    ]);
    expect(r.stopped.map((s) => `${s.id}@${s.generation}`).sort()).toEqual(['a@1', 'b@1']);
    expect(sup.size).toBe(1);
    // stopAll still stops every runner and forgets them even when one fails.
    await sup.apply([task('a', { generation: 2 }), task('c')]);
    await sup.stopAll();
    expect(r.stopped.map((s) => `${s.id}@${s.generation}`).sort()).toEqual(['a@1', 'a@2', 'b@1', 'c@1']);
    expect(sup.size).toBe(0);
  });
});
