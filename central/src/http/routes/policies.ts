// /api/v1/policies: scheduling policies (策略) with why they were chosen, where they are delivered and what
// each node made of them. Province admins and operators write; a city admin sees the policies of the flows
// with an end in its region subtree (a task's node or its peer there), an officer those with an end in its department.
import { Type } from 'typebox';
import { IdParams, NoContent } from '../../api/common.js';
import { PolicyInputBody, PolicyQuery, PolicyView } from '../../api/policies.js';
import { ErrorCode, XchgError } from '../../errors.js';
import { requireRole, WRITERS } from '../auth.js';
import { noContent } from '../reply.js';
import type { App, HttpDeps } from '../types.js';
import { scopeText, visibleNodeIds } from './scope.js';

const KNOBS_NOTE =
  'Knobs in force for a task at a time: the static policies valid then, then the dynamic ones (a surge overrides ' +
  'the tide), knob by knob; each gives the knobs of its first window holding the time, else its outside knobs ' +
  '(common/src/policy-knobs.ts). Windows are in local time at utcOffsetMinutes.';

export function registerPolicyRoutes(app: App, deps: HttpDeps): void {
  registerPolicyReads(app, deps);
  registerPolicyWrites(app, deps);
}

function registerPolicyReads(app: App, deps: HttpDeps): void {
  app.get(
    '/policies',
    {
      schema: {
        tags: ['policies'],
        summary: `List live policies (all=true: also expired ones), newest first. ${KNOBS_NOTE}`,
        querystring: PolicyQuery,
        response: { 200: Type.Array(PolicyView) },
      },
    },
    async (req) => {
      const visible = visibleNodeIds(req, deps);
      const { node, task, kind, all, limit } = req.query;
      return deps.policies
        .list({
          ...(node && { nodeIds: [node] }),
          ...(visible && { pairNodeIds: visible }),
          ...(task && { taskId: task }),
          ...(kind && { kind }),
          ...(limit !== undefined && { limit }),
          all: all ?? false,
        })
        .map((p) => deps.policies.view(p));
    },
  );

  app.get(
    '/policies/:id',
    {
      schema: {
        tags: ['policies'],
        summary: `One policy: its windows and knobs, why (reason, evidence), delivery per node, the knobs in force now. ${KNOBS_NOTE}`,
        params: IdParams,
        response: { 200: PolicyView },
      },
    },
    async (req) => {
      const p = deps.policies.get(req.params.id);
      const visible = visibleNodeIds(req, deps);
      if (visible && !deps.policies.endsOf(p).some((n) => visible.includes(n))) {
        const { who, where } = scopeText(req);
        throw new XchgError(
          ErrorCode.PERMISSION_DENIED,
          `${who} sees the policies of flows with an end in ${where} only, not ${p.id}`,
        );
      }
      return deps.policies.view(p);
    },
  );
}

function registerPolicyWrites(app: App, deps: HttpDeps): void {
  app.post(
    '/policies',
    {
      schema: {
        tags: ['policies'],
        summary: 'Create a policy; the nodes of its tasks receive it with their next poll (their long-polls are woken)',
        body: PolicyInputBody,
        response: { 201: PolicyView },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      const { generatedBy, ...body } = req.body;
      return reply.status(201).send(deps.policies.view(deps.policies.create(body, generatedBy, p)));
    },
  );

  app.put(
    '/policies/:id',
    {
      schema: {
        tags: ['policies'],
        summary: 'Replace a live policy (its generation goes up; the nodes it leaves and joins are told)',
        params: IdParams,
        body: PolicyInputBody,
        response: { 200: PolicyView },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      const { generatedBy, ...body } = req.body;
      return deps.policies.view(deps.policies.replace(req.params.id, body, generatedBy, p));
    },
  );

  app.delete(
    '/policies/:id',
    {
      schema: {
        tags: ['policies'],
        summary: 'Withdraw (expire) a policy: no longer delivered, kept for the record (GET /policies?all=true)',
        params: IdParams,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      const p = requireRole(req, ...WRITERS);
      deps.policies.expire(req.params.id, p);
      return noContent(reply);
    },
  );
}
