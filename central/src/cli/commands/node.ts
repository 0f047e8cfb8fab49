// xchg node: nodes (前置节点), the agents at departments' front-end machines: liveness, health, the
// operator's switch (disable/enable) and the reports each node delivered.
import { Option, type Command } from 'commander';
import { NODE_STATUSES, REPORT_KINDS, type Node, type NodeDetail, type Report } from '../../api/nodes.js';
import type { MoveNodeBody } from '../../api/centers.js';
import { action } from '../context.js';
import { formatAge, formatBytes, formatDuration, formatTime, formatTimeAndAge, yesNo } from '../format.js';
import { renderFields, renderSection, renderTable, writeNote, type Column, type Field } from '../output.js';
import { integerAtLeast } from '../parse.js';
import { Directory } from './directory.js';
import type { Noun } from './noun.js';

/** `node reports` shows this many unless --limit says otherwise (central's own default is larger). */
const REPORTS_DEFAULT_LIMIT = 50;

const status = (n: Node): string => (n.enabled ? n.status : `${n.status}, disabled`);

const listColumns = (dir: Directory, nowMs: number): readonly Column<Node>[] => [
  { header: 'id', value: (n) => n.id },
  { header: 'name', value: (n) => n.name },
  { header: 'department', value: (n) => dir.department(n.departmentCode) },
  { header: 'region', value: (n) => dir.region(n.regionCode) },
  { header: 'status', value: status },
  { header: 'center', value: (n) => n.homeCenter ?? '-' },
  { header: 'heartbeat', value: (n) => formatAge(n.lastHeartbeatAt, nowMs) },
  { header: 'version', value: (n) => n.agentVersion || '-' },
  { header: 'outbox', value: (n) => n.health?.outboxDepth ?? '-', align: 'right' },
];

function nodeFields(n: Node, dir: Directory, nowMs: number): Field[] {
  const labels = Object.entries(n.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return [
    ['ID', n.id],
    ['Name', n.name],
    ['Department', dir.department(n.departmentCode)],
    ['Region', dir.region(n.regionCode)],
    ['Hostname', n.hostname || '-'],
    ['Version', n.agentVersion || '-'],
    ['Status', n.status],
    ['Enabled', yesNo(n.enabled)],
    ['Center', n.homeCenter ?? '-'],
    ['Enrolled', formatTime(n.enrolledAt)],
    ['Heartbeat', formatTimeAndAge(n.lastHeartbeatAt, nowMs)],
    ['Assignments', `version ${n.assignmentVersion}`],
    ['Labels', labels.length ? labels.join(', ') : '-'],
  ];
}

const num = (v: number | undefined, render: (v: number) => string = String): string =>
  v === undefined ? '-' : render(v);

function healthFields(n: Node): Field[] | undefined {
  const h = n.health;
  if (!h) return undefined;
  return [
    ['State', h.state || '-'],
    ['Uptime', num(h.uptimeS, (s) => formatDuration(s * 1000))],
    ['CPU', num(h.cpuPercent, (p) => `${p.toFixed(1)} %`)],
    ['Memory', num(h.memRssBytes, formatBytes)],
    ['Disk free', num(h.diskFreeBytes, formatBytes)],
    ['Spool', `${num(h.spoolDepth)} batches, ${num(h.spoolBytes, formatBytes)}`],
    ['Outbox', `${num(h.outboxDepth)} reports`],
    ['Applied', h.assignmentVersion === undefined ? '-' : `assignment version ${h.assignmentVersion}`],
  ];
}

function renderNode(n: NodeDetail, dir: Directory, nowMs: number): string {
  const parts = [renderFields(nodeFields(n, dir, nowMs))];
  const health = healthFields(n);
  if (health) parts.push(renderSection('Health', renderFields(health)));
  const lags = n.health?.taskLags ?? [];
  if (lags.length)
    parts.push(
      renderSection(
        'Task lag',
        renderTable(lags, [
          { header: 'task', value: (l) => l.taskId },
          { header: 'lag', value: (l) => formatDuration(l.lagMs), align: 'right' },
          { header: 'pending', value: (l) => l.pendingBatches, align: 'right' },
        ]),
      ),
    );
  if (n.acks?.length)
    parts.push(
      renderSection(
        'Assignments',
        renderTable(n.acks, [
          { header: 'assignment', value: (a) => a.assignmentId },
          { header: 'gen', value: (a) => a.generation, align: 'right' },
          { header: 'outcome', value: (a) => a.outcome },
          { header: 'at', value: (a) => formatTime(a.at) },
          { header: 'reason', value: (a) => a.reason || '-' },
        ]),
      ),
    );
  if (n.events?.length)
    parts.push(
      renderSection(
        'Events',
        renderTable(n.events, [
          { header: 'at', value: (e) => formatTime(e.at) },
          { header: 'event', value: (e) => e.kind },
          { header: 'reason', value: (e) => e.reason || '-', maxWidth: 70 },
        ]),
      ),
    );
  return parts.join('\n\n');
}

/** One line on what a report says; kinds this CLI does not know yet show their JSON. */
function reportSummary(r: Report): string {
  const b = (r.body ?? {}) as Record<string, unknown>;
  const s = (k: string): string => String(b[k] ?? '');
  const n = (k: string): number => Number(b[k] ?? 0) || 0;
  switch (r.kind) {
    case 'task_run':
      return (
        `${s('taskId')} ${s('status') || 'ok'}: ${n('records')} records, ${n('batches')} batches, ${formatBytes(n('bytes'))}` +
        (s('error') ? ` - ${s('error')}` : '')
      );
    case 'event':
      return `${s('severity')} ${s('code')}: ${s('message')}` + (s('taskId') ? ` (${s('taskId')})` : '');
    case 'traffic':
      return `${s('sourceNodeId')} -> ${s('destinationNodeId')}: ${n('records')} records, ${formatBytes(n('bytes'))}`;
    case 'quarantine':
      return `${s('taskId')}: ${n('count')} records quarantined`;
    default:
      return JSON.stringify(b);
  }
}

const REPORT_COLUMNS: readonly Column<Report>[] = [
  { header: 'seq', value: (r) => r.seq, align: 'right' },
  { header: 'kind', value: (r) => r.kind },
  { header: 'observed', value: (r) => formatTime(r.observedAt) },
  { header: 'received', value: (r) => formatTime(r.receivedAt) },
  { header: 'summary', value: reportSummary, maxWidth: 80 },
];

export const node: Noun = {
  name: 'node',
  summary: 'nodes 前置节点',
  description:
    "Nodes (前置节点): xchg-agent instances on departments' front-end machines. A node enrolls with a token (see xchg token).",
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('List nodes with liveness, last heartbeat and outbox depth')
      .option('--region <code>', 'only nodes in this region and the regions under it')
      .option('--dept <code>', 'only nodes of this department')
      .addOption(new Option('--status <status>', 'only online or offline nodes').choices(NODE_STATUSES))
      .action(
        action<{ region?: string; dept?: string; status?: string }>(async (ctx, o) => {
          const [nodes, dir] = await Promise.all([
            ctx.api.get<Node[]>('/nodes', { region: o.region, department: o.dept, status: o.status }),
            Directory.load(ctx, { regions: true, departments: true }),
          ]);
          ctx.list(nodes, listColumns(dir, ctx.nowMs), 'nodes');
        }),
      );

    cmd
      .command('get')
      .description('Show one node: health, assignments acknowledged, recent events')
      .argument('<id>', 'node id')
      .action(
        action(async (ctx, _o, id) => {
          const [n, dir] = await Promise.all([
            ctx.api.get<NodeDetail>(`/nodes/${encodeURIComponent(id)}`),
            Directory.load(ctx, { regions: true, departments: true }),
          ]);
          ctx.show(n, () => renderNode(n, dir, ctx.nowMs));
        }),
      );

    for (const verb of ['disable', 'enable'] as const) {
      cmd
        .command(verb)
        .description(
          verb === 'disable'
            ? 'Disable a node: central refuses its calls until enabled again'
            : 'Enable a disabled node',
        )
        .argument('<id>', 'node id')
        .option('--reason <text>', "why (kept in the node's events)")
        .action(
          action<{ reason?: string }>(async (ctx, o, id) => {
            const [n, dir] = await Promise.all([
              ctx.api.post<Node>(`/nodes/${encodeURIComponent(id)}/${verb}`, o.reason ? { reason: o.reason } : {}),
              Directory.load(ctx, { regions: true, departments: true }),
            ]);
            ctx.show(n, () => renderFields(nodeFields(n, dir, ctx.nowMs)));
          }),
        );
    }

    cmd
      .command('reports')
      .description('List the reports a node delivered, newest first')
      .argument('<id>', 'node id')
      .addOption(new Option('--kind <kind>', 'only reports of this kind').choices(REPORT_KINDS))
      .option('--after-seq <n>', 'only reports after this sequence number', integerAtLeast(0))
      .option(
        '--before <report-id>',
        'only reports older than this one (to page back: the last report of the previous page)',
      )
      .option('--limit <n>', 'at most this many reports', integerAtLeast(1), REPORTS_DEFAULT_LIMIT)
      .action(
        action<{ kind?: string; afterSeq?: number; before?: string; limit: number }>(async (ctx, o, id) => {
          const query = { node: id, kind: o.kind, afterSeq: o.afterSeq, before: o.before, limit: o.limit };
          const reports = await ctx.api.get<Report[]>('/reports', query, {
            afterSeq: '--after-seq',
            before: '--before',
            limit: '--limit',
          });
          ctx.list(reports, REPORT_COLUMNS, 'reports');
          const last = reports.at(-1);
          // A full page: there may be older reports; say how to get them (stderr, so stdout stays the table).
          if (ctx.output === 'table' && last && reports.length === o.limit)
            writeNote(`${reports.length} reports shown; older ones: --before ${last.reportId}`);
        }),
      );
    nodeMove(cmd);
  },
};

/** xchg node move: a node to another exchange center. */
function nodeMove(cmd: Command): void {
  cmd
    .command('move')
    .description("Move a node to another exchange center (交换中心): it gets the center's URLs with its next poll")
    .argument('<id>', 'node id')
    .requiredOption('--center <code>', 'the new home center')
    .action(
      action<{ center: string }>(async (ctx, o, id) => {
        const body = { center: o.center } satisfies MoveNodeBody;
        const [n, dir] = await Promise.all([
          ctx.api.put<Node>(`/nodes/${encodeURIComponent(id)}/center`, body, { center: '--center' }),
          Directory.load(ctx, { regions: true, departments: true }),
        ]);
        ctx.show(n, () => renderFields(nodeFields(n, dir, ctx.nowMs)));
      }),
    );
}
