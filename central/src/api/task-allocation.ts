// A sync task's allocation (动态节点分配): its shard plan over standby agents of the provider department, as the
// API shows it (/api/v1/tasks/:id/allocation, spread, unspread). The plan's meaning: domain/shards.ts.
import { Type, type Static } from 'typebox';
import { SPREAD_ORIGINS } from '../domain/shards.js';

export const PLAN_STATES = ['single', 'splitting', 'split', 'merging'] as const;
export const SHARD_STATES = ['pending', 'active', 'withdrawn', 'done'] as const;

export const StandbyShardView = Type.Object({
  index: Type.Integer({ description: 'shard index, 1..count-1 (the primary holds 0)' }),
  nodeId: Type.String(),
  state: Type.Enum([...SHARD_STATES], {
    description: 'pending (waiting for the split) | active (reading) | withdrawn (handing back) | done',
  }),
  cursorJson: Type.Union([Type.String(), Type.Null()], { description: 'where it handed its shard back' }),
});

export const AllocationView = Type.Object({
  taskId: Type.String(),
  /** The task's own node: shard 0. */
  primaryNodeId: Type.String(),
  epoch: Type.Integer({ description: 'plan number, one per spread (0: never spread)' }),
  count: Type.Integer({ description: 'shards: the primary and one per standby (1 when single)' }),
  state: Type.Enum([...PLAN_STATES], {
    description: 'single | splitting (waiting for the primary) | split | merging (standbys handing back)',
  }),
  splitCursorJson: Type.Union([Type.String(), Type.Null()]),
  standbys: Type.Array(StandbyShardView),
  reason: Type.String(),
  origin: Type.Union([Type.Enum([...SPREAD_ORIGINS]), Type.Null()], {
    description:
      'who spread it: tide (a pre-warm window) | surge | operator (by hand; the brain never merges it); null: never spread',
  }),
  heldUntil: Type.Integer({
    description:
      "ms since epoch: an operator merged it while the tide's pre-warm window held, and the tide does not spread it " +
      'again before this instant (the end of that window); 0: no hold in force',
  }),
  updatedAt: Type.Integer({ description: 'ms since epoch (0: never spread)' }),
  /** Online agents of the department declaring the task's binding (whom a spread would take). */
  candidates: Type.Array(Type.String()),
});
export type AllocationView = Static<typeof AllocationView>;

export const SpreadBody = Type.Object(
  {
    agents: Type.Integer({ minimum: 1, maximum: 8, description: 'standby agents to spread over, at most (1..8)' }),
    reason: Type.Optional(
      Type.String({
        maxLength: 500,
        description: 'why (the plan and the audit log keep "spread by <caller>: <reason>")',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SpreadBody = Static<typeof SpreadBody>;

export const UnspreadBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);
export type UnspreadBody = Static<typeof UnspreadBody>;
