// Assignments as the agent decodes them (control/assignment-decode.ts) and their params checked against the
// one contract (common/src/task-params.ts) through a real TaskSupervisor: a task whose params break it is
// rejected with every bad field named, and its runner is never created.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { checkingParams, decodeAssignments, paramsProblem } from '../../node-agent/src/control/assignment-decode.js';
import { TaskSupervisor, type RunnerFactory, type TaskAssignment } from '../../node-agent/src/tasks/supervisor.js';
import type { Assignment__Output } from '../../proto/index.js';

function taskAssignment(id: string, paramsJson: string, generation = 1): Assignment__Output {
  return {
    id,
    generation,
    spec: 'task',
    task: {
      taskId: id,
      name: `task ${id}`,
      kind: 'sync',
      enabled: true,
      resourceCode: 'R-001',
      subscriptionId: 'sub-1',
      binding: 'population',
      peerNodeId: 'node-b',
      paramsJson,
      schemaVersion: 1,
      intervalMs: 60_000,
      peerCenter: '',
      shard: null,
      sourceNodes: [],
    },
  };
}

function verifyAssignment(id: string, paramsJson: string): Assignment__Output {
  return {
    id,
    generation: 4,
    spec: 'verify',
    verify: {
      runId: 'run-9',
      subscriptionId: 'sub-1',
      taskId: 'task-x',
      repair: true,
      binding: 'people_copy',
      peerNodeId: 'node-a',
      paramsJson,
      resourceCode: 'R-001',
    },
  };
}

/** A supervisor whose runners record the tasks they were created for. */
function checkedSupervisor(): { sup: TaskSupervisor; started: TaskAssignment[] } {
  const started: TaskAssignment[] = [];
  const record: RunnerFactory = (task) => {
    started.push(task);
    return { stop: async () => undefined };
  };
  const ctx = { logger: pino({ level: 'silent' }), report: () => undefined };
  return { sup: new TaskSupervisor(checkingParams({ sync: record, verify: record }), ctx, 1_000), started };
}

const GOOD = JSON.stringify({
  fields: [
    { name: 'id', type: 'integer' },
    { name: 'name', as: '姓名', mask: 'name' },
  ],
});
const BAD = JSON.stringify({
  fields: [
    { name: 'id', type: 'int64' },
    { name: 'phone', mask: 'scramble' },
  ],
  maxRecordBytes: -1,
});

describe('assignment params - checked against the one contract before a runner exists', () => {
  it('assignment params - a task with bad params is rejected naming every bad field; its runner is never created', async () => {
    const { sup, started } = checkedSupervisor();
    const tasks = decodeAssignments([
      taskAssignment('good', GOOD),
      taskAssignment('bad', BAD),
      taskAssignment('garbled', '{"fields": ['),
    ]);
    const outcomes = await sup.apply(tasks);

    expect(started.map((t) => t.id)).toEqual(['good']);
    expect(started[0]!.params).toEqual(JSON.parse(GOOD));
    expect(outcomes.map((o) => [o.assignmentId, o.applied])).toEqual([
      ['good', true],
      ['bad', false],
      ['garbled', false],
    ]);
    const bad = outcomes[1]!.reason;
    expect(bad.startsWith('invalid task params: ')).toBe(true);
    expect(bad).toContain('params.fields[0].type: must be one of string, integer,');
    expect(bad).toContain('params.fields[1].mask: unknown masking rule');
    expect(bad).toContain('params.maxRecordBytes: ');
    expect(bad.split('; ')).toHaveLength(3);
    expect(outcomes[2]!.reason).toMatch(/^invalid task params: params: not JSON: /);

    // The refused generation is remembered (no outcome again); a new generation with fixed params runs.
    expect(await sup.apply(tasks)).toEqual([]);
    const fixed = decodeAssignments([
      taskAssignment('good', GOOD),
      taskAssignment('bad', GOOD, 2),
      taskAssignment('garbled', '', 2),
    ]);
    const again = await sup.apply(fixed);
    expect(again.map((o) => [o.assignmentId, o.generation, o.applied, o.reason])).toEqual([
      ['bad', 2, true, ''],
      ['garbled', 2, true, ''],
    ]);
    expect(started.map((t) => t.id)).toEqual(['good', 'bad', 'garbled']);
  });

  it('assignment params - a verification run carries its run and is checked like a task; policies and routes are not tasks', async () => {
    const tasks = decodeAssignments([
      verifyAssignment('v-good', GOOD),
      verifyAssignment('v-bad', BAD),
      { id: 'p', generation: 1, spec: 'policy', policy: null },
      { id: 'v-empty', generation: 1, spec: 'verify', verify: null },
    ]);
    expect(tasks.map((t) => t.id)).toEqual(['v-good', 'v-bad']);
    expect(tasks[0]).toEqual({
      id: 'v-good',
      generation: 4,
      kind: 'verify',
      enabled: true,
      binding: 'people_copy',
      peerNodeId: 'node-a',
      resourceCode: 'R-001',
      subscriptionId: 'sub-1',
      params: { ...(JSON.parse(GOOD) as object), _verify: { runId: 'run-9', repair: true } },
      intervalMs: 0,
      name: 'verify sub-1',
    });
    const { sup, started } = checkedSupervisor();
    const outcomes = await sup.apply(tasks);
    expect(started.map((t) => t.id)).toEqual(['v-good']);
    expect(outcomes[1]).toMatchObject({ assignmentId: 'v-bad', applied: false });
    expect(outcomes[1]!.reason).toContain('params.fields[0].type');
  });

  it('assignment params - empty params and keys outside the contract pass; what a task carried before stays as it was', () => {
    expect(paramsProblem({})).toBeUndefined();
    expect(decodeAssignments([taskAssignment('t', '')])[0]!.params).toEqual({});
    expect(paramsProblem({ table: 'people', batch: 50 })).toBeUndefined();
    expect(paramsProblem({ fields: 'id' })).toMatch(/^params\.fields: /);
  });
});
