// Tasks (交换任务) as the API shows them — with what their node made of the current generation — their runs,
// and the records their nodes hold in quarantine, in the view the caller may see (/api/v1/tasks).
import { Type, type Static } from 'typebox';
import { Details, Id, Limit, Name, Nullable } from './common.js';

export const TASK_KINDS = ['sync', 'exchange'] as const;
export const TaskKind = Type.Enum([...TASK_KINDS]);
export type TaskKind = Static<typeof TaskKind>;

/** A task's parameters (a JSON object; the agent reads them). */
export const TaskParams = Details;
/** How often a task runs, in ms (0: continuously); at most 7 days. */
export const IntervalMs = Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600_000 });
const Binding = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: 'source/sink name in the agent config',
});

const taskProperties = {
  id: Id,
  name: Type.String(),
  kind: TaskKind,
  nodeId: Type.String(),
  peerNodeId: Nullable(Type.String()),
  resourceCode: Type.String(),
  subscriptionId: Type.String(),
  binding: Type.String(),
  params: TaskParams,
  intervalMs: Type.Integer(),
  enabled: Type.Boolean(),
  generation: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
};
/** A task as stored (what the node receives as an assignment). */
export const Task = Type.Object(taskProperties);
export type Task = Static<typeof Task>;

/**
 * What became of a task's current generation at its node (level-triggered: the latest acknowledgement):
 * pending (not acknowledged yet), applied, refused (the agent rejected it, with a reason), or disabled.
 */
export const TASK_STATES = ['pending', 'applied', 'refused', 'disabled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** A node's refusal of a task generation (its AckAssignment with outcome rejected). */
export const TaskRefusal = Type.Object({
  taskId: Type.String(),
  kind: TaskKind,
  nodeId: Type.String({ description: 'the node that refused' }),
  generation: Type.Integer(),
  reason: Type.String({ description: "the agent's reason" }),
  at: Type.Integer({ description: "ms since epoch, by central's clock" }),
});
export type TaskRefusal = Static<typeof TaskRefusal>;

/** GET /tasks, /tasks/:id: a task with what its node made of the current generation. */
export const TaskView = Type.Object({
  ...taskProperties,
  state: Type.Enum([...TASK_STATES], {
    description:
      'what the node made of the current generation: pending (not acknowledged yet), applied, refused (see refusal), disabled',
  }),
  refusal: Type.Union([TaskRefusal, Type.Null()], { description: 'set while the node refuses the current generation' }),
});
export type TaskView = Static<typeof TaskView>;

/** GET /tasks. */
export const TaskQuery = Type.Object(
  { node: Type.Optional(Type.String({ minLength: 1 })) },
  { additionalProperties: false },
);

/** POST /tasks. */
export const CreateTaskBody = Type.Object(
  {
    name: Name,
    kind: TaskKind,
    nodeId: Type.String({ minLength: 1 }),
    peerNodeId: Type.Optional(Type.String({ minLength: 1 })),
    resourceCode: Type.Optional(Type.String({ maxLength: 64 })),
    subscriptionId: Type.Optional(
      Type.String({
        maxLength: 64,
        pattern: '^[A-Za-z0-9_.-]*$',
        description: 'pairs a sync task with the exchange task that receives it',
      }),
    ),
    binding: Binding,
    params: Type.Optional(TaskParams),
    intervalMs: Type.Optional(IntervalMs),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateTaskBody = Static<typeof CreateTaskBody>;

/** PATCH /tasks/:id: what changes (bumps the generation). */
export const UpdateTaskBody = Type.Object(
  {
    name: Type.Optional(Name),
    binding: Type.Optional(Binding),
    params: Type.Optional(TaskParams),
    intervalMs: Type.Optional(IntervalMs),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateTaskBody = Static<typeof UpdateTaskBody>;

/** GET /tasks/:id/runs: one run of a task as its node reported it. */
export const TaskRun = Type.Object({
  runId: Type.String(),
  taskId: Type.String(),
  nodeId: Type.String(),
  startedAt: Type.Integer(),
  finishedAt: Type.Integer(),
  status: Type.String(),
  records: Type.Integer(),
  bytes: Type.Integer(),
  batches: Type.Integer(),
  errors: Type.Integer(),
  lagMs: Type.Integer(),
  quarantined: Type.Integer(),
  error: Type.String({ description: 'quoted values kept only for those who see raw values' }),
});
export type TaskRun = Static<typeof TaskRun>;

const quarantineHead = {
  nodeId: Type.String(),
  agentId: Type.Integer({ description: "the record's id in its node's spool" }),
  taskId: Type.String(),
  side: Type.String({ description: 'provider (read from the source) or consumer (as received)' }),
  origin: Type.String(),
  rowIndex: Type.Integer(),
  reason: Type.String({ description: 'verbatim in the raw view; quoted values taken out otherwise' }),
  field: Type.String(),
};
const quarantineTail = { createdAt: Type.Integer(), resentAt: Nullable(Type.Integer()) };

/** A record a node could not process or verify, with its original values (as stored). */
export const QuarantinedRecord = Type.Object({ ...quarantineHead, record: Details, ...quarantineTail });
export type QuarantinedRecord = Static<typeof QuarantinedRecord>;

/**
 * How much of a record's values a caller sees (central/src/domain/record-access.ts): raw (as the node
 * reported them), granted (only the fields of the caller's grant, masked as cataloged) or withheld (no
 * values: the reason without quoted values, the field and column names only).
 */
export const VALUE_VIEWS = ['raw', 'granted', 'withheld'] as const;
export type ValueView = (typeof VALUE_VIEWS)[number];

/** GET /tasks/:id/quarantine: a quarantined record as the caller may see it. */
export const QuarantineView = Type.Object({
  ...quarantineHead,
  view: Type.Enum([...VALUE_VIEWS], {
    description: 'raw, granted (the fields of your grant, masked) or withheld (no values)',
  }),
  columns: Type.Array(Type.String(), { description: 'the columns of the record you may know of' }),
  record: Type.Union([Details, Type.Null()], { description: 'the values in your view; null when withheld' }),
  ...quarantineTail,
});
export type QuarantineView = Static<typeof QuarantineView>;

/** GET /tasks/:id/quarantine. */
export const QuarantineQuery = Type.Object(
  { all: Type.Optional(Type.Boolean({ description: 'include records already re-sent' })), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
