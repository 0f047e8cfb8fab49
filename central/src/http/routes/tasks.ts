// /api/v1/tasks: tasks (交换任务) delivered to nodes as assignments, their runs and their quarantined records.
import { Type } from 'typebox';
import { IdParams, NoContent } from '../../api/common.js';
import {
  CreateTaskBody,
  QuarantineQuery,
  QuarantineView,
  TaskQuery,
  TaskRun,
  TaskView,
  UpdateTaskBody,
} from '../../api/tasks.js';
import { principal, requireRole, Role, WRITERS } from '../auth.js';
import { noContent } from '../reply.js';
import type { App, HttpDeps } from '../types.js';
import { requireTaskInScope, visibleNodeIds } from './scope.js';
import { registerTaskAllocation } from './task-allocation.js';

export function registerTaskRoutes(app: App, deps: HttpDeps): void {
  registerTaskReads(app, deps);
  registerTaskWrites(app, deps);
  registerTaskRecords(app, deps);
  registerTaskAllocation(app, deps);
}

function registerTaskReads(app: App, deps: HttpDeps): void {
  app.get(
    '/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'List tasks',
        querystring: TaskQuery,
        response: { 200: Type.Array(TaskView) },
      },
    },
    async (req) => {
      // A city admin sees the tasks of the nodes in its region subtree only; an officer the flows with an end
      // (the task's node or its peer) in its department.
      const visible = visibleNodeIds(req, deps);
      if (req.principal?.role === Role.OFFICER)
        return deps.assignments
          .listTasks(req.query.node ? [req.query.node] : undefined)
          .filter((t) => visible!.includes(t.nodeId) || (t.peerNodeId !== null && visible!.includes(t.peerNodeId)))
          .map((t) => deps.assignments.view(t));
      const nodeIds = req.query.node ? [req.query.node].filter((n) => !visible || visible.includes(n)) : visible;
      return deps.assignments.listTasks(nodeIds).map((t) => deps.assignments.view(t));
    },
  );

  app.get(
    '/tasks/:id',
    { schema: { tags: ['tasks'], summary: 'One task', params: IdParams, response: { 200: TaskView } } },
    async (req) => {
      requireTaskInScope(req, deps, req.params.id); // another city's task is 404 for a city admin
      return deps.assignments.view(deps.assignments.getTask(req.params.id));
    },
  );
}

function registerTaskWrites(app: App, deps: HttpDeps): void {
  app.post(
    '/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Create a task; it reaches the node with its next poll',
        body: CreateTaskBody,
        response: { 201: TaskView },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      return reply.status(201).send(deps.assignments.view(deps.assignments.createTask(req.body, p)));
    },
  );

  app.patch(
    '/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Change a task (bumps its generation and the node assignment version)',
        params: IdParams,
        body: UpdateTaskBody,
        response: { 200: TaskView },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      return deps.assignments.view(deps.assignments.updateTask(req.params.id, req.body, p));
    },
  );

  app.delete(
    '/tasks/:id',
    { schema: { tags: ['tasks'], summary: 'Delete a task', params: IdParams, response: { 204: NoContent } } },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      deps.assignments.deleteTask(req.params.id, p);
      return noContent(reply);
    },
  );
}

const QUARANTINE_SUMMARY =
  'Records of a task held in quarantine (the reason and the original values), as its node reported them and as ' +
  'you may see them. ' +
  "Raw values (view raw) of a provider-side (sync) task: the provider department's officers, province " +
  'administrators and auditors; a raw read of quarantined records is written to the audit log (quarantine.read). ' +
  "A consumer department's officer sees its own side (its exchange task) with the fields of its grant only, " +
  'masked as cataloged (view granted). ' +
  "Operators, a city admin whose region holds the task's node, and the provider's officer on the consumer side " +
  'see the listing without values (view withheld: reason without quoted values, field and column names). ' +
  'Anyone else (another department, a consumer asking for the provider side, a city admin outside its region) ' +
  'is refused with 403.';

const RUNS_SUMMARY =
  'Recent runs of a task as reported by its node. Who may list them as for the quarantine; the error text keeps ' +
  'quoted values only for those who see raw values. ' +
  'A task its node refuses has no runs: see its state and refusal (GET /tasks/:id).';

function registerTaskRecords(app: App, deps: HttpDeps): void {
  app.get(
    '/tasks/:id/quarantine',
    {
      schema: {
        tags: ['tasks'],
        summary: QUARANTINE_SUMMARY,
        params: IdParams,
        querystring: QuarantineQuery,
        response: { 200: Type.Array(QuarantineView) },
      },
    },
    async (req) =>
      deps.records.quarantine(req.params.id, principal(req), {
        includeResent: req.query.all ?? false,
        limit: req.query.limit ?? 1000,
      }),
  );

  app.post(
    '/tasks/:id/quarantine/resend',
    {
      schema: {
        tags: ['tasks'],
        summary:
          "Re-send a task's quarantined records through its current pipeline (after a fix); those that still fail stay",
        params: IdParams,
        response: { 200: TaskView },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      const t = deps.assignments.getTask(req.params.id);
      const params = { ...t.params, _resendQuarantine: Date.now() };
      return deps.assignments.view(deps.assignments.updateTask(t.id, { params }, p));
    },
  );

  app.get(
    '/tasks/:id/runs',
    { schema: { tags: ['tasks'], summary: RUNS_SUMMARY, params: IdParams, response: { 200: Type.Array(TaskRun) } } },
    async (req) => deps.records.taskRuns(req.params.id, principal(req)),
  );
}
