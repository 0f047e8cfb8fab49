// /api/v1/tasks/:id/allocation, /spread, /unspread: dynamic node allocation (动态节点分配) of a sync task's flow
// by hand (the brain does the same on a surge: services/shards.ts).
import { IdParams } from '../../api/common.js';
import { AllocationView, SpreadBody, UnspreadBody } from '../../api/task-allocation.js';
import { requireRole, WRITERS } from '../auth.js';
import type { App, HttpDeps } from '../types.js';
import { requireTaskInScope } from './scope.js';
import type { ShardService } from '../../services/shards.js';

/** The task's plan as the API shows it (a task never spread: single, epoch 0). */
export function allocationOf(shards: ShardService, deps: HttpDeps, taskId: string): AllocationView {
  const t = deps.assignments.getTask(taskId);
  const p = shards.plan(t.id);
  const single = !p || p.state === 'single';
  return {
    taskId: t.id,
    primaryNodeId: t.nodeId,
    epoch: p?.epoch ?? 0,
    count: single ? 1 : p.count,
    state: p?.state ?? 'single',
    splitCursorJson: p?.splitCursorJson ?? null,
    standbys: p?.standbys ?? [],
    reason: p?.reason ?? '',
    origin: p?.origin ?? null,
    heldUntil: shards.heldUntil(t.id),
    updatedAt: p?.updatedAt ?? 0,
    candidates: t.kind === 'sync' ? shards.candidates(t) : [],
  };
}

export function registerTaskAllocation(app: App, deps: HttpDeps): void {
  const shards = deps.shards;
  if (!shards) return;
  app.get(
    '/tasks/:id/allocation',
    {
      schema: {
        tags: ['tasks'],
        summary: "A sync task's allocation: its shard plan over standby agents (动态节点分配)",
        params: IdParams,
        response: { 200: AllocationView },
      },
    },
    async (req) => {
      requireTaskInScope(req, deps, req.params.id); // another city's task is 404 for a city admin
      return allocationOf(shards, deps, req.params.id);
    },
  );
  app.post(
    '/tasks/:id/spread',
    {
      schema: {
        tags: ['tasks'],
        summary:
          "Spread a sync task's flow by key-hash shard over up to N other online agents of its department that " +
          'declare its binding; 409 when it is spread already or none declares it',
        params: IdParams,
        body: SpreadBody,
        response: { 200: AllocationView },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      // Origin 'operator': the tide and the surge never merge a spread made by hand.
      const reason = `spread by ${p.name}${req.body.reason ? `: ${req.body.reason}` : ''}`;
      shards.spread(req.params.id, { agents: req.body.agents, reason, origin: 'operator' }, p);
      return allocationOf(shards, deps, req.params.id);
    },
  );
  app.post(
    '/tasks/:id/unspread',
    {
      schema: {
        tags: ['tasks'],
        summary: "Merge a spread flow back onto the task's node (standbys hand their shards back); 409 when not spread",
        params: IdParams,
        body: UnspreadBody,
        response: { 200: AllocationView },
      },
    },
    async (req) => {
      const p = requireRole(req, ...WRITERS);
      // An operator's merge: inside a tide window it holds until the window's end (the tide does not spread again).
      shards.unspread(req.params.id, req.body.reason || `unspread by ${p.name}`, 'operator', p);
      return allocationOf(shards, deps, req.params.id);
    },
  );
}
