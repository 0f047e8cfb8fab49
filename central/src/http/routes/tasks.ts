// /api/v1/tasks: tasks (交换任务) delivered to nodes as assignments, and their runs.
import { Type } from 'typebox';
import { requireRole, WRITERS } from '../auth.js';
import { scopeOf } from './scope.js';
import type { App, HttpDeps } from '../types.js';
import { Name } from './registry.js';

const TaskId = Type.String({ minLength: 1, maxLength: 64 });
const Binding = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'source/sink name in the agent config' });
const Params = Type.Record(Type.String(), Type.Unknown());
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
      return deps.assignments.listTasks(nodeIds);
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
      return reply.status(201).send(deps.assignments.createTask(req.body, p));
    },
  );

  app.get('/tasks/:id', { schema: { tags: ['tasks'], params: Type.Object({ id: TaskId }), response: { 200: Task } } }, async (req) =>
    deps.assignments.getTask(req.params.id),
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
      return deps.assignments.updateTask(req.params.id, req.body, p);
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
        summary: 'Records of a task held in quarantine (the reason and the original values), as its node reported them',
        params: Type.Object({ id: TaskId }),
        querystring: Type.Object({ all: Type.Optional(Type.Boolean({ description: 'include records already re-sent' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }, { additionalProperties: false }),
      },
    },
    async (req) => deps.reports.quarantined(deps.assignments.getTask(req.params.id).id, { includeResent: req.query.all ?? false, limit: req.query.limit ?? 1000 }),
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
      return deps.assignments.updateTask(t.id, { params: { ...t.params, _resendQuarantine: Date.now() } }, p);
    },
  );

  app.get(
    '/tasks/:id/runs',
    { schema: { tags: ['tasks'], summary: 'Recent runs of a task as reported by its node', params: Type.Object({ id: TaskId }) } },
    async (req) => deps.reports.taskRuns({ taskId: deps.assignments.getTask(req.params.id).id }),
  );
}
