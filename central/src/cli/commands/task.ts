// xchg task: exchange tasks (交换任务) delivered to nodes as assignments — sync tasks on the provider's node,
// exchange tasks on the consumer's — and the runs the nodes report.
import { Option, type Command } from 'commander';
import {
  TASK_KINDS,
  type CreateTaskBody,
  type QuarantineView,
  type TaskKind,
  type TaskRefusal,
  type TaskRun,
  type TaskView as Task,
  type UpdateTaskBody,
} from '../../api/tasks.js';
import { action } from '../context.js';
import { usageError } from '../errors.js';
import { formatBytes, formatDuration, formatTime, yesNo } from '../format.js';
import { renderFields, writeNote, type Column } from '../output.js';
import { parseBoolean, parseDuration, parseJsonObject } from '../parse.js';
import type { Noun } from './noun.js';
import { taskAllocationCommands } from './task-allocation.js';
import { defaulted } from '../help.js';

const every = (ms: number): string => (ms > 0 ? formatDuration(ms) : '-');

/** "refused by node nd-… at generation 2: <reason>" (the whole reason: it is what the operator must fix). */
export const refusalText = (r: TaskRefusal): string =>
  `refused by node ${r.nodeId} at generation ${r.generation} (${formatTime(r.at)}): ${r.reason}`;

const COLUMNS: readonly Column<Task>[] = [
  { header: 'id', value: (t) => t.id },
  { header: 'name', value: (t) => t.name, maxWidth: 40 },
  { header: 'kind', value: (t) => t.kind },
  { header: 'node', value: (t) => t.nodeId },
  { header: 'peer', value: (t) => t.peerNodeId ?? '-' },
  { header: 'binding', value: (t) => t.binding },
  { header: 'every', value: (t) => every(t.intervalMs), align: 'right' },
  { header: 'enabled', value: (t) => yesNo(t.enabled) },
  { header: 'gen', value: (t) => t.generation, align: 'right' },
  { header: 'state', value: (t) => t.state },
  { header: 'updated', value: (t) => formatTime(t.updatedAt) },
  { header: 'refused because', value: (t) => t.refusal?.reason ?? '-', maxWidth: 60 },
];

const fields = (t: Task): string =>
  renderFields([
    ['ID', t.id],
    ['Name', t.name],
    ['Kind', t.kind],
    ['Node', t.nodeId],
    ['Peer', t.peerNodeId ?? '-'],
    ['Resource', t.resourceCode || '-'],
    ['Subscription', t.subscriptionId || '-'],
    ['Binding', t.binding],
    ['Params', JSON.stringify(t.params ?? {})],
    ['Every', every(t.intervalMs)],
    ['Enabled', yesNo(t.enabled)],
    ['Generation', t.generation],
    ['State', t.refusal ? `refused — ${refusalText(t.refusal)}` : t.state],
    ['Created', formatTime(t.createdAt)],
    ['Updated', formatTime(t.updatedAt)],
  ]);

const RUN_COLUMNS: readonly Column<TaskRun>[] = [
  { header: 'finished', value: (r) => formatTime(r.finishedAt) },
  { header: 'run', value: (r) => r.runId },
  { header: 'status', value: (r) => r.status },
  {
    header: 'took',
    value: (r) => (r.finishedAt && r.startedAt ? formatDuration(r.finishedAt - r.startedAt) : '-'),
    align: 'right',
  },
  { header: 'records', value: (r) => r.records, align: 'right' },
  { header: 'bytes', value: (r) => formatBytes(r.bytes), align: 'right' },
  { header: 'batches', value: (r) => r.batches, align: 'right' },
  { header: 'errors', value: (r) => r.errors, align: 'right' },
  { header: 'quarantined', value: (r) => r.quarantined, align: 'right' },
  { header: 'lag', value: (r) => formatDuration(r.lagMs), align: 'right' },
  { header: 'error', value: (r) => r.error || '-', maxWidth: 100 },
];

/** Flags task create and task update share, with the API field each one sets. */
interface ChangeFlags {
  name?: string;
  binding?: string;
  params?: Record<string, unknown>;
  interval?: number;
  enabled?: boolean;
}

function changes(o: ChangeFlags): UpdateTaskBody {
  return {
    ...(o.name !== undefined && { name: o.name }),
    ...(o.binding !== undefined && { binding: o.binding }),
    ...(o.params !== undefined && { params: o.params }),
    ...(o.interval !== undefined && { intervalMs: o.interval }),
    ...(o.enabled !== undefined && { enabled: o.enabled }),
  };
}

const TASK_FLAGS = {
  name: '--name',
  kind: '--kind',
  nodeId: '--node',
  peerNodeId: '--peer',
  resourceCode: '--resource',
  binding: '--binding',
  params: '--params',
  intervalMs: '--interval',
  enabled: '--enabled',
} as const;

const PARAMS_HELP = 'parameters for the agent, a JSON object, e.g. \'{"table":"people"}\'';
const INTERVAL_HELP = 'run every, e.g. 30s or 5m (0: run continuously)';

export const task: Noun = {
  name: 'task',
  summary: 'exchange tasks 交换任务',
  description:
    "Exchange tasks (交换任务): sync tasks (同步任务) run on the provider's node, exchange tasks on the consumer's. " +
    'A change reaches the node with its next poll.',
  register(cmd: Command): void {
    taskList(cmd);
    taskCreate(cmd);
    taskGet(cmd);
    taskUpdate(cmd);
    taskDelete(cmd);
    taskRuns(cmd);
    taskQuarantine(cmd);
    taskResendQuarantine(cmd);
    taskAllocationCommands(cmd);
  },
};

const QUARANTINE_COLUMNS: readonly Column<QuarantineView>[] = [
  { header: 'when', value: (q) => formatTime(q.createdAt) },
  { header: 'node', value: (q) => q.nodeId },
  { header: 'side', value: (q) => q.side },
  { header: 'reason', value: (q) => q.reason, maxWidth: 120 },
  { header: 'view', value: (q) => q.view },
  {
    header: 'record',
    value: (q) => (q.record ? JSON.stringify(plainRecord(q.record)) : `withheld (${q.columns.join(', ')})`),
    maxWidth: 80,
  },
  { header: 'resent', value: (q) => (q.resentAt ? formatTime(q.resentAt) : '-') },
];

/**
 * A quarantined record for the table: values the agents carry tagged ({"$": "i", "v": "9007199254740993"},
 * see the README on values) shown as their text; `-o json` keeps the exact tagged form.
 */
function plainRecord(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    const t = v as { $?: unknown; v?: unknown } | null;
    out[k] =
      t !== null && typeof t === 'object' && typeof t.$ === 'string' && typeof t.v === 'string'
        ? t.$ === 'b'
          ? `base64:${t.v}`
          : t.v
        : v;
  }
  return out;
}

function taskList(cmd: Command): void {
  cmd
    .command('list')
    .description('List tasks')
    .option('--node <id>', 'only tasks of this node')
    .action(
      action<{ node?: string }>(async (ctx, o) => {
        ctx.list(await ctx.api.get<Task[]>('/tasks', { node: o.node }), COLUMNS, 'tasks');
      }),
    );
}
function taskCreate(cmd: Command): void {
  cmd
    .command('create')
    .description('Create a task; it reaches the node with its next poll')
    .requiredOption('--name <name>', 'name, e.g. 人口基础信息同步')
    .addOption(
      new Option('--kind <kind>', 'sync (provider side) or exchange (consumer side)')
        .choices(TASK_KINDS)
        .makeOptionMandatory(),
    )
    .requiredOption('--node <id>', 'node that runs the task')
    .requiredOption('--binding <name>', "source or sink name in the agent's config")
    .option('--peer <id>', 'the node at the other end')
    .option('--resource <code>', 'catalog resource the task moves')
    .option('--subscription <id>', 'subscription pairing a sync task with the exchange task that receives it')
    .option('--params <json>', PARAMS_HELP, parseJsonObject)
    .addOption(defaulted('--interval <duration>', INTERVAL_HELP, '0').argParser(parseDuration))
    .addOption(defaulted('--enabled <bool>', 'true or false', 'true').argParser(parseBoolean))
    .action(
      action<
        ChangeFlags & {
          name: string;
          binding: string;
          kind: TaskKind;
          node: string;
          peer?: string;
          resource?: string;
          subscription?: string;
        }
      >(async (ctx, o) => {
        const t = await ctx.api.post<Task>(
          '/tasks',
          {
            ...changes(o),
            name: o.name,
            binding: o.binding,
            kind: o.kind,
            nodeId: o.node,
            ...(o.peer !== undefined && { peerNodeId: o.peer }),
            ...(o.resource !== undefined && { resourceCode: o.resource }),
            ...(o.subscription !== undefined && { subscriptionId: o.subscription }),
          } satisfies CreateTaskBody,
          TASK_FLAGS,
        );
        ctx.show(t, () => fields(t));
      }),
    );
}
function taskGet(cmd: Command): void {
  cmd
    .command('get')
    .description('Show one task')
    .argument('<id>', 'task id')
    .action(
      action(async (ctx, _o, id) => {
        const t = await ctx.api.get<Task>(`/tasks/${encodeURIComponent(id)}`);
        ctx.show(t, () => fields(t));
      }),
    );
}
function taskUpdate(cmd: Command): void {
  cmd
    .command('update')
    .description('Change a task (its generation goes up and the node picks the change up)')
    .argument('<id>', 'task id')
    .option('--name <name>', 'new name')
    .option('--binding <name>', "source or sink name in the agent's config")
    .option('--params <json>', `${PARAMS_HELP}; replaces all parameters`, parseJsonObject)
    .option('--interval <duration>', INTERVAL_HELP, parseDuration)
    .option('--enabled <bool>', 'true or false', parseBoolean)
    .action(
      action<ChangeFlags>(async (ctx, o, id) => {
        const patch = changes(o);
        if (Object.keys(patch).length === 0)
          throw usageError('task update: nothing to change; give --name, --binding, --params, --interval or --enabled');
        const t = await ctx.api.patch<Task>(`/tasks/${encodeURIComponent(id)}`, patch, TASK_FLAGS);
        ctx.show(t, () => fields(t));
      }),
    );
}
function taskDelete(cmd: Command): void {
  cmd
    .command('delete')
    .description('Delete a task; the node stops it with its next poll')
    .argument('<id>', 'task id')
    .action(
      action(async (ctx, _o, id) => {
        await ctx.api.delete(`/tasks/${encodeURIComponent(id)}`);
        ctx.done(`deleted task ${id}`);
      }),
    );
}
function taskRuns(cmd: Command): void {
  cmd
    .command('runs')
    .description('Recent runs of a task as its node reported them, newest first')
    .argument('<id>', 'task id')
    .action(
      action(async (ctx, _o, id) => {
        const runs = await ctx.api.get<TaskRun[]>(`/tasks/${encodeURIComponent(id)}/runs`);
        // No runs of a task its node refuses is not "nothing happened yet": say why, beside the data.
        if (runs.length === 0 && ctx.output === 'table') {
          const t = await ctx.api.get<Task>(`/tasks/${encodeURIComponent(id)}`);
          if (t.refusal) writeNote(`task ${t.id} does not run: ${refusalText(t.refusal)}`);
        }
        ctx.list(runs, RUN_COLUMNS, 'runs');
      }),
    );
}
function taskQuarantine(cmd: Command): void {
  cmd
    .command('quarantine')
    .description(
      "Records of a task held in quarantine (隔离): the reason and the values you may see — raw for the provider's officers, province admins and auditors " +
        "(audited), your grant's fields masked on your own consumer side, none (withheld) for operators and city admins",
    )
    .argument('<id>', 'task id')
    .option('--all', 'include records already re-sent')
    .action(
      action<{ all?: boolean }>(async (ctx, o, id) => {
        const rows = await ctx.api.get<QuarantineView[]>(`/tasks/${encodeURIComponent(id)}/quarantine`, {
          all: o.all ? 'true' : undefined,
        });
        ctx.list(rows, QUARANTINE_COLUMNS, 'quarantined records');
      }),
    );
}
function taskResendQuarantine(cmd: Command): void {
  cmd
    .command('resend-quarantine')
    .description("Re-send a task's quarantined records through its current pipeline, after a fix")
    .argument('<id>', 'task id')
    .action(
      action(async (ctx, _o, id) => {
        const t = await ctx.api.post<Task>(`/tasks/${encodeURIComponent(id)}/quarantine/resend`);
        ctx.show(
          t,
          () =>
            `re-send requested: task ${t.id} is now at generation ${t.generation}; its node re-sends with its next poll`,
        );
      }),
    );
}
