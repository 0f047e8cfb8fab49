// xchg sub: subscriptions (订阅) — a resource flowing to a consumer node: on an unconditional resource
// directly, on a conditional one through its agreement. Each creates a sync task at the provider and an
// exchange task at the consumer carrying only the granted fields.
import { Option, type Command } from 'commander';
import type { SubscriptionView as Subscription } from '../../api-types.js';
import { action } from '../context.js';
import { formatTime } from '../format.js';
import { renderFields, type Column } from '../output.js';
import { parseDuration } from '../parse.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';
import { refusalText } from './task.js';

const columns = (dir: Directory): readonly Column<Subscription>[] => [
  { header: 'id', value: (s) => s.id },
  { header: 'resource', value: (s) => s.resourceCode },
  { header: 'consumer', value: (s) => dir.department(s.consumerDepartmentCode) },
  { header: 'node', value: (s) => s.consumerNodeId },
  { header: 'sink', value: (s) => s.sinkBinding },
  { header: 'agreement', value: (s) => s.agreementId ?? '-' },
  { header: 'status', value: (s) => s.status },
  { header: 'state', value: (s) => s.state },
  { header: 'created', value: (s) => formatTime(s.createdAt) },
  { header: 'stopped or refused because', value: (s) => s.stopReason || s.refusals.map((r) => `${r.nodeId}: ${r.reason}`).join('; ') || '-', maxWidth: 60 },
];

const fields = (s: Subscription, dir: Directory): string =>
  renderFields([
    ['ID', s.id],
    ['Resource', s.resourceCode],
    ['Agreement', s.agreementId ?? '- (unconditional)'],
    ['Provider', `${dir.department(s.providerDepartmentCode)}, node ${s.providerNodeId}`],
    ['Consumer', `${dir.department(s.consumerDepartmentCode)}, node ${s.consumerNodeId}`],
    ['Sink', s.sinkBinding],
    ['Method', s.method],
    ['Fields', s.fields.join(', ')],
    ['Tasks', `sync ${s.syncTaskId}, exchange ${s.exchangeTaskId}`],
    ['Status', s.status],
    ['State', s.state],
    ...s.refusals.map((r): [string, string] => ['Refused', `${r.kind} task ${r.taskId} ${refusalText(r)}`]),
    ['Created', `${formatTime(s.createdAt)} by ${s.createdBy}`],
    ['Stopped', s.stoppedAt ? `${formatTime(s.stoppedAt)}: ${s.stopReason}` : '-'],
  ]);

export const sub: Noun = {
  name: 'sub',
  summary: 'subscriptions 订阅',
  description:
    'Subscriptions (订阅): a resource flowing to a consumer node. Unconditional resources are subscribed directly; ' +
    'conditional ones on the agreement of an approved application (xchg share).',
  register(cmd: Command): void {
    cmd
      .command('create')
      .description('Subscribe a consumer node to a resource; its tasks reach both nodes with their next poll')
      .option('--resource <code>', 'resource code (may be left out with --agreement)')
      .option('--agreement <id>', 'the agreement granting a conditional resource')
      .requiredOption('--node <id>', 'consumer node that receives the data')
      .requiredOption('--sink <name>', "sink name in the consumer agent's config")
      .addOption(new Option('--method <method>', 'share method (default: the resource\'s first)').choices(['database_sync', 'file_transfer', 'online_query']))
      .option('--interval <duration>', 'read the source every, e.g. 30s or 5m', parseDuration)
      .action(
        action<{ resource?: string; agreement?: string; node: string; sink: string; method?: string; interval?: number }>(async (ctx, o) => {
          const s = await ctx.api.post<Subscription>(
            '/subscriptions',
            {
              ...(o.resource && { resourceCode: o.resource }),
              ...(o.agreement && { agreementId: o.agreement }),
              consumerNodeId: o.node,
              sinkBinding: o.sink,
              ...(o.method && { method: o.method }),
              ...(o.interval !== undefined && { intervalMs: o.interval }),
            },
            { resourceCode: '--resource', agreementId: '--agreement', consumerNodeId: '--node', sinkBinding: '--sink', method: '--method', intervalMs: '--interval' },
          );
          const dir = await Directory.load(ctx, { departments: true });
          ctx.show(s, () => fields(s, dir));
        }),
      );

    cmd
      .command('list')
      .description('List subscriptions')
      .addOption(new Option('--status <status>', 'only active or stopped ones').choices(['active', 'stopped']))
      .option('--resource <code>', 'only subscriptions of this resource')
      .option('--dept <code>', 'only subscriptions of this department (either side)')
      .option('--agreement <id>', 'only subscriptions on this agreement')
      .action(
        action<{ status?: string; resource?: string; dept?: string; agreement?: string }>(async (ctx, o) => {
          const [rows, dir] = await Promise.all([
            ctx.api.get<Subscription[]>('/subscriptions', { status: o.status, resource: o.resource, department: o.dept, agreement: o.agreement }),
            Directory.load(ctx, { departments: true }),
          ]);
          ctx.list(rows, columns(dir), 'subscriptions');
        }),
      );

    cmd
      .command('get')
      .description('Show one subscription and its tasks')
      .argument('<id>', 'subscription id')
      .action(
        action(async (ctx, _o, id) => {
          const [s, dir] = await Promise.all([ctx.api.get<Subscription>(`/subscriptions/${encodeURIComponent(id)}`), Directory.load(ctx, { departments: true })]);
          ctx.show(s, () => fields(s, dir));
        }),
      );

    cmd
      .command('delete')
      .description('End a subscription: its tasks are deleted and the nodes stop with their next poll')
      .argument('<id>', 'subscription id')
      .action(
        action(async (ctx, _o, id) => {
          const s = await ctx.api.delete<Subscription>(`/subscriptions/${encodeURIComponent(id)}`);
          ctx.show(s, () => `deleted subscription ${s.id} (${s.stopReason})`);
        }),
      );
  },
};
