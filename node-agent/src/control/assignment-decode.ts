// Assignments as central sends them (proto Assignment) turned into the tasks the supervisor runs and the
// routing assignments (routes, relay) the agent applies, and the check of task params against the one
// contract (common/src/task-params.ts). Pure: no I/O.
//
// Invariants
//  - A runner is only ever created for params that meet the contract: checkingParams() refuses the rest
//    before the runner's factory runs, so the supervisor rejects the assignment with the reason (each bad
//    field named, as central names them) and remembers the generation, as for any refused task.
//  - Params that are not JSON are kept as they came (under UNPARSABLE_PARAMS_KEY), so a saved set resumed
//    after a restart is refused the same way.
import { parseTaskParams } from '../../../common/src/task-params.js';
import type { Assignment__Output } from '../../../proto/index.js';
import { shardAssignmentOf } from '../exchange/shard-role.js';
import { relaySpecOf, type RoutingAssignment } from '../relay/spec.js';
import type { TaskAssignment, TaskRunner } from '../tasks/supervisor.js';

/** Where params that are not JSON are kept, as received. */
export const UNPARSABLE_PARAMS_KEY = '__invalid';

/**
 * The tasks of an assignment set, in order. A verification run (对账) becomes a task of kind "verify"
 * (reconcile/consumer.ts); routes and the relay are decoded by decodeRouting(), policies by decodePolicies()
 * (policy/book.ts).
 */
export function decodeAssignments(assignments: readonly Assignment__Output[]): TaskAssignment[] {
  const tasks: TaskAssignment[] = [];
  for (const a of assignments) {
    const task = a.spec === 'verify' ? verifyTask(a) : a.spec === 'task' ? specTask(a) : undefined;
    if (task) tasks.push(task);
  }
  return tasks;
}

/** The routing assignments of a set (routes and relay), in order (relay/host.ts applies them). */
export function decodeRouting(assignments: readonly Assignment__Output[]): RoutingAssignment[] {
  const out: RoutingAssignment[] = [];
  for (const a of assignments) {
    const generation = Number(a.generation);
    if (a.spec === 'route' && a.route)
      out.push({
        kind: 'route',
        id: a.id,
        generation,
        route: { destinationCenter: a.route.destinationCenter, hops: [...a.route.hops], reason: a.route.reason },
      });
    else if (a.spec === 'relay' && a.relay)
      out.push({ kind: 'relay', id: a.id, generation, relay: relaySpecOf(a.relay) });
  }
  return out;
}

/** Whether an entry of a saved set is a routing assignment (the rest are tasks). */
export const isRouting = (a: { kind: string }): a is RoutingAssignment =>
  (a.kind === 'route' && 'route' in a) || (a.kind === 'relay' && 'relay' in a);

/** Home center of each peer node of a set of tasks (node → center; tasks without one are left out). */
export function peerCenters(tasks: readonly TaskAssignment[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tasks) if (t.peerNodeId && t.peerCenter) out.set(t.peerNodeId, t.peerCenter);
  return out;
}

/** The supervisor starts a verification run once, keeps it in the saved set, and stops it when withdrawn. */
function verifyTask(a: Assignment__Output): TaskAssignment | undefined {
  const v = a.verify;
  if (!v) return undefined;
  return {
    id: a.id,
    generation: Number(a.generation),
    kind: 'verify',
    enabled: true,
    binding: v.binding,
    peerNodeId: v.peerNodeId,
    resourceCode: v.resourceCode,
    subscriptionId: v.subscriptionId,
    params: { ...parseParams(v.paramsJson), _verify: { runId: v.runId, repair: v.repair } },
    intervalMs: 0,
    name: `verify ${v.subscriptionId}`,
  };
}

function specTask(a: Assignment__Output): TaskAssignment | undefined {
  const t = a.task;
  if (!t) return undefined;
  return {
    id: a.id,
    generation: Number(a.generation),
    kind: t.kind,
    enabled: t.enabled,
    binding: t.binding,
    peerNodeId: t.peerNodeId,
    peerCenter: t.peerCenter,
    resourceCode: t.resourceCode,
    subscriptionId: t.subscriptionId,
    params: parseParams(t.paramsJson),
    intervalMs: t.intervalMs,
    name: t.name,
    ...(t.shard?.epoch && { shard: shardAssignmentOf(t.shard) }),
    ...(t.sourceNodes?.length && { sourceNodes: [...t.sourceNodes] }),
  };
}

/** A task's params from their JSON; JSON that does not parse is kept under UNPARSABLE_PARAMS_KEY. */
function parseParams(json: string): Record<string, unknown> {
  try {
    return json ? (JSON.parse(json) as Record<string, unknown>) : {};
  } catch {
    return { [UNPARSABLE_PARAMS_KEY]: json };
  }
}

/**
 * What is wrong with a task's params (every problem, each naming its field: `params.fields[0].type: must be
 * one of ...`), or undefined when they meet the contract.
 */
export function paramsProblem(params: Readonly<Record<string, unknown>>): string | undefined {
  const raw = params[UNPARSABLE_PARAMS_KEY];
  const r = parseTaskParams(typeof raw === 'string' ? raw : params);
  if (r.ok) return undefined;
  return r.errors
    .map((e) => (e.startsWith('(params)') ? `params${e.slice('(params)'.length)}` : `params.${e}`))
    .join('; ');
}

/** Runner factories that throw (the supervisor's rejection) for a task whose params break the contract. */
export function checkingParams<F extends (task: TaskAssignment, ctx: never) => TaskRunner>(
  factories: Readonly<Record<string, F>>,
): Record<string, F> {
  const out: Record<string, F> = {};
  for (const [kind, factory] of Object.entries(factories)) {
    const checked = (task: TaskAssignment, ctx: Parameters<F>[1]): TaskRunner => {
      const problem = paramsProblem(task.params);
      if (problem) throw new Error(`invalid task params: ${problem}`);
      return factory(task, ctx);
    };
    out[kind] = checked as F;
  }
  return out;
}

/** Key columns of each task's binding (sources for sync tasks, sinks for the others), by task id. */
export function keyColumnsOf(
  tasks: readonly TaskAssignment[],
  bindings: { sources: Readonly<Record<string, unknown>>; sinks: Readonly<Record<string, unknown>> },
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of tasks) {
    const binding = (t.kind === 'sync' ? bindings.sources : bindings.sinks)[t.binding] as { key?: unknown } | undefined;
    const key = binding?.key;
    const cols =
      typeof key === 'string' ? [key] : Array.isArray(key) ? key.filter((k): k is string => typeof k === 'string') : [];
    if (cols.length) out.set(t.id, cols);
  }
  return out;
}
