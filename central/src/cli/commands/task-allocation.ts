// xchg task show / spread / unspread: a task with its allocation (动态节点分配) — its flow spread by key-hash
// shard over standby agents of the provider department, and merged back (the brain does the same on a surge).
import type { Command } from 'commander';
import type { AllocationView } from '../../api/task-allocation.js';
import type { TaskView as Task } from '../../api/tasks.js';
import { action } from '../context.js';
import { formatTime } from '../format.js';
import { renderFields } from '../output.js';

/**
 * "split over 3 shards: nd-b#1 active, nd-c#2 active" or "single", and when an operator's merge holds against the
 * tide, until when.
 */
export function allocationText(a: AllocationView): string {
  const hold = a.heldUntil
    ? `; merged by an operator in a tide window: the tide does not spread it again before ${formatTime(a.heldUntil)}`
    : '';
  if (a.state === 'single')
    return (a.epoch ? `single (plan ${a.epoch} merged ${formatTime(a.updatedAt)})` : 'single') + hold;
  const shards = a.standbys.map((s) => `${s.nodeId}#${s.index} ${s.state}`).join(', ');
  return `${a.state} over ${a.count} shards (plan ${a.epoch}): ${a.primaryNodeId}#0, ${shards} — ${a.reason}${hold}`;
}

const render = (a: AllocationView): string =>
  renderFields([
    ['Task', a.taskId],
    ['Allocation', allocationText(a)],
    ['Candidates', a.candidates.join(', ') || '-'],
  ]);

export function taskAllocationCommands(cmd: Command): void {
  cmd
    .command('show')
    .description('Show one task with its allocation (spread over standby agents or single)')
    .argument('<id>', 'task id')
    .action(
      action(async (ctx, _o, id) => {
        const path = `/tasks/${encodeURIComponent(id)}`;
        const t = await ctx.api.get<Task>(path);
        const allocation = await ctx.api.get<AllocationView>(`${path}/allocation`);
        ctx.show({ ...t, allocation }, () =>
          renderFields([
            ['ID', t.id],
            ['Name', t.name],
            ['Kind', t.kind],
            ['Node', t.nodeId],
            ['Peer', t.peerNodeId ?? '-'],
            ['Binding', t.binding],
            ['State', t.state],
            ['Allocation', allocationText(allocation)],
          ]),
        );
      }),
    );
  cmd
    .command('spread')
    .description(
      "Spread a sync task's flow by key-hash shard over up to N other online agents of its department that declare its binding (动态节点分配)",
    )
    .argument('<id>', 'task id')
    .requiredOption('--agents <n>', 'standby agents, 1..8', (v) => Number(v))
    .option('--reason <text>', 'why (kept in the plan and the audit log as "spread by <you>: <text>")')
    .action(
      action<{ agents: number; reason?: string }>(async (ctx, o, id) => {
        const a = await ctx.api.post<AllocationView>(`/tasks/${encodeURIComponent(id)}/spread`, {
          agents: o.agents,
          ...(o.reason && { reason: o.reason }),
        });
        ctx.show(a, () => render(a));
      }),
    );
  cmd
    .command('unspread')
    .description(
      "Merge a spread flow back onto its task's node: the standbys hand their shards back; inside a tide window the tide does not spread it again before the window's end",
    )
    .argument('<id>', 'task id')
    .option('--reason <text>', 'why')
    .action(
      action<{ reason?: string }>(async (ctx, o, id) => {
        const a = await ctx.api.post<AllocationView>(`/tasks/${encodeURIComponent(id)}/unspread`, {
          ...(o.reason && { reason: o.reason }),
        });
        ctx.show(a, () => render(a));
      }),
    );
}
