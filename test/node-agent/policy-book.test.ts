// The agent's policies (node-agent/src/policy/book.ts): PolicySpecs as central encodes them
// (central/src/services/policies.ts toPolicySpec) decoded, checked, applied once per generation, refused with
// the bad field named, and asked for the knobs in force at an injected time.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { toPolicySpec } from '../../central/src/services/policies.js';
import type { PolicyRecord } from '../../central/src/store/policies.js';
import { policyOf, type PolicyBody } from '../../common/src/policy.js';
import { decodePolicies, PolicyBook } from '../../node-agent/src/policy/book.js';
import type { Assignment__Output } from '../../proto/index.js';

const cst = (date: string, hh: number): number =>
  Date.parse(`${date}T${String(hh).padStart(2, '0')}:00:00Z`) - 8 * 3_600_000;

/** A policy assignment as a node receives it (spec built by central's encoder; unset fields as proto defaults). */
function wire(id: string, generation: number, body: Partial<PolicyBody>, nodeIds = ['n1']): Assignment__Output {
  const def = policyOf(id, { kind: 'static', taskIds: ['t1'], windows: [], reason: 'test', ...body });
  const rec: PolicyRecord = {
    ...def,
    generation,
    generatedBy: 'brain',
    createdBy: 'brain',
    createdAt: 0,
    updatedAt: 0,
    expiredAt: null,
    nodeIds,
  };
  return { id, generation, spec: 'policy', policy: toPolicySpec(rec, 'n1') } as unknown as Assignment__Output;
}

describe('policy book - the agent side', () => {
  it('policy book - decodes, applies once per generation, refuses a bad policy naming the field, wakes listeners', () => {
    const book = new PolicyBook(pino({ level: 'silent' }));
    let changes = 0;
    book.onChange(() => changes++);
    const night = wire('p1', 1, {
      windows: [{ startMinute: 1320, endMinute: 1800, knobs: { transfer: 'open', batchRecords: 5000 } }],
      outside: { transfer: 'closed' },
    });
    const decoded = decodePolicies([night]);
    expect(decoded[0]!.policy).toMatchObject({
      id: 'p1',
      kind: 'static',
      taskIds: ['t1'],
      utcOffsetMinutes: 480,
      windows: [
        {
          dayType: '',
          weekdays: [],
          startMinute: 1320,
          endMinute: 1800,
          knobs: { transfer: 'open', batchRecords: 5000 },
        },
      ],
      outside: { transfer: 'closed' },
    });
    expect(book.apply(decoded)).toEqual([{ assignmentId: 'p1', generation: 1, applied: true, reason: '' }]);
    expect(changes).toBe(1);
    expect(book.apply(decoded)).toEqual([]); // same generation: nothing new
    expect(changes).toBe(1);
    expect(book.knobs('t1', cst('2026-11-03', 23)).knobs).toEqual({ transfer: 'open', batchRecords: 5000 });
    expect(book.knobs('t1', cst('2026-11-03', 12)).knobs).toEqual({ transfer: 'closed' });

    // A policy whose window a newer central might allow but this contract does not: refused, sets nothing.
    const bad = decodePolicies([
      night,
      wire('p2', 3, {
        kind: 'dynamic',
        outside: { concurrency: 1 },
        windows: [{ startMinute: 900, endMinute: 600, knobs: {} }],
      }),
    ]);
    const out = book.apply(bad);
    expect(out).toEqual([
      {
        assignmentId: 'p2',
        generation: 3,
        applied: false,
        reason: 'invalid policy: windows[0].endMinute: 600 is not after startMinute 900',
      },
    ]);
    expect(book.apply(bad)).toEqual([]); // the refused generation is remembered
    expect(book.knobs('t1', cst('2026-11-03', 12)).sources.map((s) => s.policyId)).toEqual(['p1']);
    // Withdrawn: gone, listeners told.
    expect(book.apply([])).toEqual([]);
    expect(changes).toBe(3);
    expect(book.knobs('t1', cst('2026-11-03', 12)).knobs).toEqual({});
  });
});
