// /api/v1/tasks: tasks (交换任务) delivered to nodes as assignments, and their runs.
import { Type } from 'typebox';
import { TASK_STATES, VALUE_VIEWS } from '../../api-types.js';
import { principal, requireRole, WRITERS } from '../auth.js';
import { scopeOf } from './scope.js';
import type { App, HttpDeps } from '../types.js';
import { Name } from './registry.js';

const TaskId = Type.String({ minLength: 1, maxLength: 64 });
const Binding = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'source/sink name in the agent config' });
const Params = Type.Record(Type.String(), Type.Unknown());
/** A node's refusal of a task generation (its AckAssignment with outcome rejected). */
export const TaskRefusal = Type.Object({
  taskId: Type.String(),
  kind: Type.Enum(['sync', 'exchange']),
  nodeId: Type.String({ description: 'the node that refused' }),
  generation: Type.Integer(),
  reason: Type.String({ description: "the agent's reason" }),
  at: Type.Integer({ description: "ms since epoch, by central's clock" }),
});
const Task = Type.Object({
  id: TaskId,
  name: Type.String(),
  kind: Type.Enum(['sync', 'exchange']),
  nodeId: Type.String(),
  peerNodeId: Type.Union([Type.String(), Type.Null()]),
  resourceCode: Type.String(),
  subscriptionId: Type.String(),
  binding: Type.String(),
  params: Params,
  intervalMs: Type.Integer(),
  enabled: Type.Boolean(),
  generation: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  state: Type.Enum([...TASK_STATES], { description: 'what the node made of the current generation: pending (not acknowledged yet), applied, refused (see refusal), disabled' }),
  refusal: Type.Union([TaskRefusal, Type.Null()], { description: 'set while the node refuses the current generation' }),
});
const Quarantined = Type.Object({
  nodeId: Type.String(),
  agentId: Type.Integer({ description: "the record's id in its node's spool" }),
  taskId: Type.String(),
  side: Type.String({ description: 'provider (read from the source) or consumer (as received)' }),
  origin: Type.String(),
  rowIndex: Type.Integer(),
  reason: Type.String({ description: 'verbatim in the raw view; quoted values taken out otherwise' }),
  field: Type.String(),
  view: Type.Enum([...VALUE_VIEWS], { description: 'raw, granted (the fields of your grant, masked) or withheld (no values)' }),
  columns: Type.Array(Type.String(), { description: 'the columns of the record you may know of' }),
  record: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'the values in your view; null when withheld' }),
  createdAt: Type.Integer(),
  resentAt: Type.Union([Type.Integer(), Type.Null()]),
});
const IntervalMs = Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600_000 });

export function registerTaskRoutes(app: App, deps: HttpDeps): void {
  app.get(
    '/tasks',
    {
      schema: {
        tags: ['tasks'],
        querystring: Type.Object({ node: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
        response: { 200: Type.Array(Task) },
      },
    },
    async (req) => {
      // A city admin sees the tasks of the nodes in its region subtree only.
      const scope = scopeOf(req, deps);
      const visible = scope && deps.nodes.list({ regionCodes: scope }).map((n) => n.id);
      const nodeIds = req.query.node ? [req.query.node].filter((n) => !visible || visible.includes(n)) : visible;
      return deps.assignments.listTasks(nodeIds).map((t) => deps.assignments.view(t));
    },
  );

  app.post(
    '/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Create a task; it reaches the node with its next poll',
        body: Type.Object(
          {
            name: Name,
            kind: Type.Enum(['sync', 'exchange']),
            nodeId: Type.String({ minLength: 1 }),
            peerNodeId: Type.Optional(Type.String({ minLength: 1 })),
            resourceCode: Type.Optional(Type.String({ maxLength: 64 })),
            subscriptionId: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]*$', description: 'pairs a sync task with the exchange task that receives it' })),
            binding: Binding,
            params: Type.Optional(Params),
            intervalMs: Type.Optional(IntervalMs),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: Task },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(deps.assignments.view(deps.assignments.createTask(req.body, p)));
    },
  );

  app.get('/tasks/:id', { schema: { tags: ['tasks'], params: Type.Object({ id: TaskId }), response: { 200: Task } } }, async (req) =>
    deps.assignments.view(deps.assignments.getTask(req.params.id)),
  );

  app.patch(
    '/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Change a task (bumps its generation and the node assignment version)',
        params: Type.Object({ id: TaskId }),
        body: Type.Object(
          {
            name: Type.Optional(Name),
            binding: Type.Optional(Binding),
            params: Type.Optional(Params),
            intervalMs: Type.Optional(IntervalMs),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Task },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.assignments.view(deps.assignments.updateTask(req.params.id, req.body, p));
    },
  );

  app.delete('/tasks/:id', { schema: { tags: ['tasks'], params: Type.Object({ id: TaskId }) } }, async (req, reply) => {
    const p = requireRole(req, ...WRITERS);
    deps.assignments.deleteTask(req.params.id, p);
    return reply.status(204).send();
  });

  app.get(
    '/tasks/:id/quarantine',
    {
      schema: {
        tags: ['tasks'],
        summary:
          'Records of a task held in quarantine (the reason and the original values), as its node reported them and as you may see them. ' +
          "Raw values (view raw) of a provider-side (sync) task: the provider department's officers, province administrators and auditors; " +
          'a raw read of quarantined records is written to the audit log (quarantine.read). ' +
          "A consumer department's officer sees its own side (its exchange task) with the fields of its grant only, masked as cataloged (view granted). " +
          "Operators, a city admin whose region holds the task's node, and the provider's officer on the consumer side see the listing without values " +
          '(view withheld: reason without quoted values, field and column names). Anyone else (another department, a consumer asking for the provider side, ' +
          'a city admin outside its region) is refused with 403.',
        params: Type.Object({ id: TaskId }),
        querystring: Type.Object({ all: Type.Optional(Type.Boolean({ description: 'include records already re-sent' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }, { additionalProperties: false }),
        response: { 200: Type.Array(Quarantined) },
      },
    },
    async (req) => deps.records.quarantine(req.params.id, principal(req), { includeResent: req.query.all ?? false, limit: req.query.limit ?? 1000 }),
  );

  app.post(
    '/tasks/:id/quarantine/resend',
    {
      schema: {
        tags: ['tasks'],
        summary: "Re-send a task's quarantined records through its current pipeline (after a fix); those that still fail stay",
        params: Type.Object({ id: TaskId }),
        response: { 200: Task },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      const t = deps.assignments.getTask(req.params.id);
      return deps.assignments.view(deps.assignments.updateTask(t.id, { params: { ...t.params, _resendQuarantine: Date.now() } }, p));
    },
  );

  app.get(
    '/tasks/:id/runs',
    {
      schema: {
        tags: ['tasks'],
        summary:
          'Recent runs of a task as reported by its node. Who may list them as for the quarantine; the error text keeps quoted values only for those who see raw values. ' +
          'A task its node refuses has no runs: see its state and refusal (GET /tasks/:id).',
        params: Type.Object({ id: TaskId }),
      },
    },
    async (req) => deps.records.taskRuns(req.params.id, principal(req)),
  );
}
