// xchg sub: subscriptions (订阅) — a resource flowing to a consumer node: on an unconditional resource
// directly, on a conditional one through its agreement. Each creates a sync task at the provider and an
// exchange task at the consumer carrying only the granted fields.
import { Option, type Command } from 'commander';
import { SHARE_METHODS, type ShareMethod } from '../../api/catalog.js';
import { SUBSCRIPTION_STATES, type SubscribeBody, type SubscriptionView as Subscription } from '../../api/sharing.js';
import { action, type Context } from '../context.js';
import { CliError } from '../errors.js';
import { formatDuration, formatTime } from '../format.js';
import type { Verification, VerifySchedule, VerifyScheduleBody } from '../../api/reconcile.js';
import { renderFields, type Column } from '../output.js';
import { parseDuration } from '../parse.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';
import { refusalText } from './task.js';
import { defaulted } from '../help.js';

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
  {
    header: 'stopped or refused because',
    value: (s) => s.stopReason || s.refusals.map((r) => `${r.nodeId}: ${r.reason}`).join('; ') || '-',
    maxWidth: 60,
  },
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

const keyText = (k: Record<string, unknown>): string =>
  Object.values(k)
    .map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)))
    .join('/');

const runColumns: readonly Column<Verification>[] = [
  { header: 'run', value: (v) => v.id },
  { header: 'subscription', value: (v) => v.subscriptionId },
  { header: 'trigger', value: (v) => v.trigger },
  { header: 'repair', value: (v) => (v.repair ? 'yes' : 'no') },
  { header: 'state', value: (v) => v.state },
  { header: 'requested', value: (v) => formatTime(v.requestedAt) },
  { header: 'rows', value: (v) => v.result?.rowsCompared ?? '-' },
  { header: 'missing', value: (v) => v.result?.missing ?? '-' },
  { header: 'extra', value: (v) => v.result?.extra ?? '-' },
  { header: 'different', value: (v) => v.result?.different ?? '-' },
  { header: 'error', value: (v) => v.error || '-', maxWidth: 50 },
];

const runFields = (v: Verification): string => {
  const r = v.result;
  const sample = (keys: Record<string, unknown>[], n: number): string =>
    n === 0 ? '0' : `${n}: ${keys.map(keyText).join(', ')}${n > keys.length ? ', …' : ''}`;
  const rows: [string, string][] = [
    ['Run', v.id],
    ['Subscription', v.subscriptionId],
    ['Nodes', `provider ${v.providerNodeId} → consumer ${v.consumerNodeId}`],
    ['Trigger', `${v.trigger}${v.repair ? ', with repair' : ''} (by ${v.requestedBy})`],
    ['State', v.state],
    ['Requested', formatTime(v.requestedAt)],
    ['Finished', v.finishedAt ? formatTime(v.finishedAt) : '-'],
  ];
  if (v.error) rows.push(['Error', v.error]);
  if (r) {
    rows.push(
      [
        'Rows',
        `source ${r.rowsSource}, sink ${r.rowsSink}${r.sourceRejected ? `, ${r.sourceRejected} refused by the pipeline (in quarantine)` : ''}`,
      ],
      ['Missing', sample(r.samples.missing, r.missing)],
      ['Extra', sample(r.samples.extra, r.extra)],
      ['Different', sample(r.samples.different, r.different)],
      ['Took', `${formatDuration(r.durationMs)} (${r.rowsPerSecond} rows/s)`],
    );
    if (r.repair)
      rows.push([
        'Repair',
        `${r.repair.upserts} re-sent, ${r.repair.tombstones} deleted${r.repair.rejected ? `, ${r.repair.rejected} refused by the pipeline` : ''}`,
      ]);
  }
  return renderFields(rows);
};

/** Polls a run until it ends (the consumer's agent reports it) or `timeoutMs` passes. */
async function waitForRun(ctx: Context, id: string, timeoutMs: number): Promise<Verification> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await ctx.api.get<Verification>(`/verifications/${encodeURIComponent(id)}`);
    if (v.state === 'done' || v.state === 'failed') return v;
    if (Date.now() > deadline)
      throw new CliError(
        `verification ${id} is still ${v.state} after ${formatDuration(timeoutMs)} (is the consumer node ${v.consumerNodeId} online?); follow it with xchg sub verify-status ${id}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const sub: Noun = {
  name: 'sub',
  summary: 'subscriptions 订阅',
  description:
    'Subscriptions (订阅): a resource flowing to a consumer node. Unconditional resources are subscribed directly; ' +
    'conditional ones on the agreement of an approved application (xchg share).',
  register(cmd: Command): void {
    subCreate(cmd);
    subList(cmd);
    subGet(cmd);
    subVerify(cmd);
    subVerifyStatus(cmd);
    subVerifications(cmd);
    subVerifySchedule(cmd);
    subDelete(cmd);
  },
};

function subCreate(cmd: Command): void {
  cmd
    .command('create')
    .description('Subscribe a consumer node to a resource; its tasks reach both nodes with their next poll')
    .option('--resource <code>', 'resource code (may be left out with --agreement)')
    .option('--agreement <id>', 'the agreement granting a conditional resource')
    .requiredOption('--node <id>', 'consumer node that receives the data')
    .requiredOption('--sink <name>', "sink name in the consumer agent's config")
    .addOption(defaulted('--method <method>', 'share method', "the resource's first").choices(SHARE_METHODS))
    .addOption(
      defaulted('--interval <duration>', 'read the source every, e.g. 30s or 5m; 0 reads continuously', '0').argParser(
        parseDuration,
      ),
    )
    .action(
      action<{
        resource?: string;
        agreement?: string;
        node: string;
        sink: string;
        method?: ShareMethod;
        interval?: number;
      }>(async (ctx, o) => {
        const s = await ctx.api.post<Subscription>(
          '/subscriptions',
          {
            ...(o.resource && { resourceCode: o.resource }),
            ...(o.agreement && { agreementId: o.agreement }),
            consumerNodeId: o.node,
            sinkBinding: o.sink,
            ...(o.method && { method: o.method }),
            ...(o.interval !== undefined && { intervalMs: o.interval }),
          } satisfies SubscribeBody,
          {
            resourceCode: '--resource',
            agreementId: '--agreement',
            consumerNodeId: '--node',
            sinkBinding: '--sink',
            method: '--method',
            intervalMs: '--interval',
          },
        );
        const dir = await Directory.load(ctx, { departments: true });
        ctx.show(s, () => fields(s, dir));
      }),
    );
}
function subList(cmd: Command): void {
  cmd
    .command('list')
    .description('List subscriptions')
    .addOption(new Option('--status <status>', 'only active or stopped ones').choices(SUBSCRIPTION_STATES))
    .option('--resource <code>', 'only subscriptions of this resource')
    .option('--dept <code>', 'only subscriptions of this department (either side)')
    .option('--agreement <id>', 'only subscriptions on this agreement')
    .action(
      action<{ status?: string; resource?: string; dept?: string; agreement?: string }>(async (ctx, o) => {
        const [rows, dir] = await Promise.all([
          ctx.api.get<Subscription[]>('/subscriptions', {
            status: o.status,
            resource: o.resource,
            department: o.dept,
            agreement: o.agreement,
          }),
          Directory.load(ctx, { departments: true }),
        ]);
        ctx.list(rows, columns(dir), 'subscriptions');
      }),
    );
}
function subGet(cmd: Command): void {
  cmd
    .command('get')
    .description('Show one subscription and its tasks')
    .argument('<id>', 'subscription id')
    .action(
      action(async (ctx, _o, id) => {
        const [s, dir] = await Promise.all([
          ctx.api.get<Subscription>(`/subscriptions/${encodeURIComponent(id)}`),
          Directory.load(ctx, { departments: true }),
        ]);
        ctx.show(s, () => fields(s, dir));
      }),
    );
}
function subVerify(cmd: Command): void {
  cmd
    .command('verify')
    .description(
      "Reconcile (对账): compare the consumer's sink with the provider's source by digests and list missing, extra and different rows by key",
    )
    .argument('<id>', 'subscription id')
    .option('--repair', 'also make the sink equal to the source: re-send missing and different rows, delete extra ones')
    .option('--no-wait', 'print the run id and return at once (xchg sub verify-status <run>)')
    .addOption(
      new Option('--timeout <duration>', 'how long to wait for the result')
        .argParser(parseDuration)
        .default(30 * 60_000, '30m'),
    )
    .action(
      action<{ repair?: boolean; wait: boolean; timeout: number }>(async (ctx, o, id) => {
        const run = await ctx.api.post<Verification>(`/subscriptions/${encodeURIComponent(id)}/verify`, {
          repair: o.repair ?? false,
        });
        const v = o.wait ? await waitForRun(ctx, run.id, o.timeout) : run;
        ctx.show(v, () => runFields(v));
        if (v.state === 'failed') throw new CliError(`verification ${v.id} failed: ${v.error}`);
      }),
    );
}
function subVerifyStatus(cmd: Command): void {
  cmd
    .command('verify-status')
    .description('Show one verification run')
    .argument('<run>', 'run id')
    .action(
      action(async (ctx, _o, id) => {
        const v = await ctx.api.get<Verification>(`/verifications/${encodeURIComponent(id)}`);
        ctx.show(v, () => runFields(v));
      }),
    );
}
function subVerifications(cmd: Command): void {
  cmd
    .command('verifications')
    .description('List the verification runs of a subscription, newest first')
    .argument('<id>', 'subscription id')
    .option('--limit <n>', 'at most this many', (s) => Number(s), 100)
    .action(
      action<{ limit: number }>(async (ctx, o, id) => {
        ctx.list(
          await ctx.api.get<Verification[]>(`/subscriptions/${encodeURIComponent(id)}/verifications`, {
            limit: o.limit,
          }),
          runColumns,
          'verification runs',
        );
      }),
    );
}
function subVerifySchedule(cmd: Command): void {
  cmd
    .command('verify-schedule')
    .description("Show or set how often a subscription is verified (central's default unless set)")
    .argument('<id>', 'subscription id')
    .option('--every <duration>', 'verify this often, e.g. 1d or 6h; 0 turns scheduled verification off', parseDuration)
    .option('--default', "use central's default again")
    .action(
      action<{ every?: number; default?: boolean }>(async (ctx, o, id) => {
        const path = `/subscriptions/${encodeURIComponent(id)}/verify-schedule`;
        if (o.every !== undefined && o.default) throw new CliError('give --every or --default, not both', 2);
        const s =
          o.every !== undefined || o.default
            ? await ctx.api.put<VerifySchedule>(
                path,
                { intervalMs: o.default ? null : (o.every ?? null) } satisfies VerifyScheduleBody,
                { intervalMs: '--every' },
              )
            : await ctx.api.get<VerifySchedule>(path);
        ctx.show(s, () =>
          renderFields([
            ['Subscription', s.subscriptionId],
            ['Verified every', s.intervalMs ? formatDuration(s.intervalMs) : 'never (on demand only)'],
            ['Set by', s.source === 'default' ? "central's default" : 'this subscription'],
          ]),
        );
      }),
    );
}
function subDelete(cmd: Command): void {
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
}
