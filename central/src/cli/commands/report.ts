// xchg report: evaluation (考核) over a period — per department what it published, how it answered
// applications, the data it provided and used, its objections; per region the nodes' online rate (联通率).
import type { Command } from 'commander';
import type { DepartmentReport, Period, RegionReport } from '../../api/evaluation.js';
import { action, type Context } from '../context.js';
import { formatDuration, formatTime } from '../format.js';
import { writeNote, type Column } from '../output.js';
import { parseTime } from '../parse.js';
import type { Noun } from './noun.js';
import { defaulted } from '../help.js';

const pct = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)} %`);

const DEPT_COLUMNS: readonly Column<DepartmentReport>[] = [
  {
    header: 'department',
    value: (d) => (d.name && d.name !== d.departmentCode ? `${d.name} (${d.departmentCode})` : d.departmentCode),
  },
  { header: 'published', value: (d) => d.resourcesPublished, align: 'right' },
  { header: 'apps in', value: (d) => d.applicationsReceived, align: 'right' },
  { header: 'answered', value: (d) => d.applicationsAnswered, align: 'right' },
  { header: 'on time', value: (d) => pct(d.onTimeRate), align: 'right' },
  { header: 'overdue', value: (d) => d.applicationsOverdue, align: 'right' },
  { header: 'apps out', value: (d) => d.applicationsMade, align: 'right' },
  { header: 'provided', value: (d) => `${d.providedRecords}/${d.providedBatches}`, align: 'right' },
  { header: 'used', value: (d) => `${d.usedRecords}/${d.usedBatches}`, align: 'right' },
  { header: 'objections', value: (d) => `${d.objectionsRaisedResolved}/${d.objectionsRaised}`, align: 'right' },
  { header: 'resolved', value: (d) => `${d.objectionsResolved}/${d.objectionsReceived}`, align: 'right' },
];

const REGION_COLUMNS: readonly Column<RegionReport>[] = [
  {
    header: 'region',
    value: (r) => `${r.level === 'province' ? '' : r.level === 'city' ? '  ' : '    '}${r.name} (${r.regionCode})`,
  },
  { header: 'level', value: (r) => r.level },
  { header: 'nodes', value: (r) => r.nodes, align: 'right' },
  { header: 'online rate', value: (r) => pct(r.onlineRate), align: 'right' },
  { header: 'online', value: (r) => formatDuration(r.onlineMs), align: 'right' },
  { header: 'observed', value: (r) => formatDuration(r.observedMs), align: 'right' },
];

interface PeriodFlags {
  since?: number;
  until?: number;
  region?: string;
}

function periodOptions(c: Command): Command {
  return c
    .addOption(
      defaulted('--since <time>', 'period start, e.g. 2025-01-01 or 30d', '30 days before --until').argParser((v) =>
        parseTime(v),
      ),
    )
    .addOption(defaulted('--until <time>', 'period end, exclusive', 'now').argParser((v) => parseTime(v)))
    .option('--region <code>', 'only this region and the regions under it');
}

const periodNote = (ctx: Context, p: Period): void => {
  if (ctx.output === 'table') writeNote(`period ${formatTime(p.since)} – ${formatTime(p.until)}`);
};

export const report: Noun = {
  name: 'report',
  summary: 'evaluation reports 考核',
  description:
    'Evaluation (考核) over a period: per department, resources published, applications answered (and on time), data ' +
    'provided and used (records/batches), objections raised and resolved; per region, the online rate (联通率) of its nodes.',
  register(cmd: Command): void {
    periodOptions(cmd.command('departments').description('Per department figures')).action(
      action<PeriodFlags>(async (ctx, o) => {
        const r = await ctx.api.get<{ period: Period; departments: DepartmentReport[] }>('/reports/departments', {
          since: o.since,
          until: o.until,
          region: o.region,
        });
        periodNote(ctx, r.period);
        ctx.list(r.departments, DEPT_COLUMNS, 'departments', r);
      }),
    );

    periodOptions(cmd.command('regions').description('Per region: node online rate (联通率)')).action(
      action<PeriodFlags>(async (ctx, o) => {
        const r = await ctx.api.get<{ period: Period; regions: RegionReport[] }>('/reports/regions', {
          since: o.since,
          until: o.until,
          region: o.region,
        });
        periodNote(ctx, r.period);
        ctx.list(r.regions, REGION_COLUMNS, 'regions', r);
      }),
    );
  },
};
