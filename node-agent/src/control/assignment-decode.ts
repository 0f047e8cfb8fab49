// Assignments as central sends them (proto Assignment) turned into the tasks the supervisor runs. Pure:
// no I/O; the assignment loop decides when.
import type { Assignment__Output } from '../../../proto/index.js';
import type { TaskAssignment } from '../tasks/supervisor.js';

/**
 * The tasks of an assignment set, in order. A verification run (对账) becomes a task of kind "verify"
 * (reconcile/consumer.ts); policies and routes are not tasks (later releases) and are left out.
 */
export function decodeAssignments(assignments: readonly Assignment__Output[]): TaskAssignment[] {
  const tasks: TaskAssignment[] = [];
  for (const a of assignments) {
    const task = a.spec === 'verify' ? verifyTask(a) : a.spec === 'task' ? specTask(a) : undefined;
    if (task) tasks.push(task);
  }
  return tasks;
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
    resourceCode: t.resourceCode,
    subscriptionId: t.subscriptionId,
    params: parseParams(t.paramsJson),
    intervalMs: t.intervalMs,
    name: t.name,
  };
}

/** A task's params from their JSON; JSON that does not parse is kept as `__invalid`. */
function parseParams(json: string): Record<string, unknown> {
  try {
    return json ? (JSON.parse(json) as Record<string, unknown>) : {};
  } catch {
    return { __invalid: json };
  }
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
