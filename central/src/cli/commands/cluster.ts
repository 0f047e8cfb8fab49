// xchg cluster: the brain's clustering (聚类) of node pairs by traffic shape — the newest run, how k was chosen,
// each cluster's label, silhouette and static-policy template, one cluster's member pairs, a run on demand.
import type { Command } from 'commander';
import type { ClusterDetail, ClusterRunSummary, ClusterRunView, ClusterView } from '../../api/brain.js';
import { action } from '../context.js';
import { formatTime } from '../format.js';
import { renderFields, renderSection, renderTable, type Column } from '../output.js';
import type { Noun } from './noun.js';

interface Template {
  windows: { days: string | number; startHour: number; endHour: number }[];
  batchRecords: number;
  concurrency: number;
  surgeSensitivity: string;
  reason: string;
}

const template = (c: ClusterView): Template => c.policy as Template;
const hh = (h: number): string => `${String(h % 24).padStart(2, '0')}:00`;
const DAYS: Record<string, string> = { working: 'workdays', rest: 'rest days', every: 'every day' };
const WEEKDAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** "workdays 07:00-20:00" from a template's windows; '-' without one. */
export function templateWindows(c: ClusterView): string {
  const ws = template(c).windows;
  if (!ws.length) return 'all day';
  return ws
    .map(
      (w) =>
        `${typeof w.days === 'number' ? WEEKDAYS[w.days] : (DAYS[w.days] ?? w.days)} ${hh(w.startHour)}-${hh(w.endHour)}`,
    )
    .join('; ');
}

const COLUMNS: readonly Column<ClusterView>[] = [
  { header: 'id', value: (c) => c.clusterId, align: 'right' },
  { header: 'label', value: (c) => `${c.label.zh} ${c.label.en}`, maxWidth: 50 },
  { header: 'pairs', value: (c) => c.size, align: 'right' },
  { header: 'silhouette', value: (c) => c.silhouette.toFixed(2), align: 'right' },
  { header: 'window', value: templateWindows, maxWidth: 40 },
  { header: 'batch', value: (c) => template(c).batchRecords, align: 'right' },
  { header: 'conc', value: (c) => template(c).concurrency, align: 'right' },
  { header: 'surges', value: (c) => template(c).surgeSensitivity },
];

function runText(run: ClusterRunView): string {
  const byK = (run.criterion as { byK?: { k: number; silhouette: number }[] }).byK ?? [];
  return [
    renderFields([
      ['Run', run.runId],
      ['At', formatTime(run.createdAt)],
      ['History', `${formatTime(run.sinceMs)} → ${formatTime(run.untilMs)}`],
      ['Pairs', run.pairs],
      [
        'k',
        `${run.k} (highest mean silhouette of ${byK.map((b) => `k=${b.k}: ${b.silhouette.toFixed(3)}`).join(', ') || '-'})`,
      ],
    ]),
    renderSection('Clusters', renderTable(run.clusters, COLUMNS)),
  ].join('\n\n');
}

export const cluster: Noun = {
  name: 'cluster',
  summary: 'traffic clusters 流量聚类',
  description:
    'The brain groups node pairs by the shape of their traffic (daily and weekly profile, volume, noise, ' +
    'periodicity, batch size) with k-means, k chosen by the mean silhouette, and labels each cluster ' +
    '(夜间批量 nightly bulk, 工作时段平稳 office hours, 周期性 weekly, 零星突发 sporadic, 全天实时 real-time). Each ' +
    "cluster's template becomes the static policy (静态策略) of its pairs' sync tasks (xchg policy list).",
  register(cmd: Command): void {
    cmd
      .command('list')
      .description('The newest clustering: k, how it was chosen, each cluster with its label and policy template')
      .action(
        action(async (ctx) => {
          const run = await ctx.api.get<ClusterRunView>('/clusters');
          ctx.show(run, () => runText(run));
        }),
      );
    cmd
      .command('show')
      .alias('get')
      .description('One cluster: its label and the rule behind it, the policy template and why, its member pairs')
      .argument('<id>', 'cluster id (xchg cluster list)')
      .action(
        action(async (ctx, _o, id) => {
          const c = await ctx.api.get<ClusterDetail>(`/clusters/${encodeURIComponent(id)}`);
          ctx.show(c, () => detailText(c));
        }),
      );
    cmd
      .command('run')
      .description('Cluster now from the stored history (the brain also does it on its own schedule)')
      .action(
        action(async (ctx) => {
          const r = await ctx.api.post<ClusterRunSummary>('/clusters/run');
          ctx.show(r, () =>
            [
              r.run ? runText(r.run) : `no pair has enough history yet (${r.skipped} pairs skipped)`,
              `static policies: ${r.policies.created} created, ${r.policies.replaced} replaced, ${r.policies.withoutTask} pairs without a sync task`,
            ].join('\n\n'),
          );
        }),
      );
  },
};

function detailText(c: ClusterDetail): string {
  const t = template(c);
  return [
    renderFields([
      ['Cluster', `${c.clusterId} of run ${c.runId}`],
      ['Label', `${c.label.zh} / ${c.label.en}`],
      ['Why this label', c.label.rule],
      ['Silhouette', c.silhouette.toFixed(3)],
      ['Window', templateWindows(c)],
      ['Batch records', t.batchRecords],
      ['Concurrency', t.concurrency],
      ['Surge sensitivity', t.surgeSensitivity],
      ['Policy reason', t.reason],
    ]),
    renderSection(
      `Pairs (${c.members.length})`,
      renderTable(c.members, [
        { header: 'from', value: (m) => m.fromNode },
        { header: 'to', value: (m) => m.toNode },
        { header: 'resource', value: (m) => m.resource || '(all)' },
      ]),
    ),
  ].join('\n\n');
}
