// The overview page's panels beyond the headline: department rankings as provider and as consumer and the top
// resources (7 / 30 days), approval response times against the deadline, evaluation (考核) per department and,
// for province-wide roles, the cities compared. Each table cell a test reads carries data-col.
import { get } from '../api.js';
import type {
  DashboardApprovals,
  DashboardCities,
  DashboardEvaluation,
  DashboardRankings,
  RankingRange,
} from '../api-types.js';
import { el } from '../dom.js';
import { bytes, dec1, int, percent } from '../format.js';
import { t } from '../i18n/index.js';
import { bar, panel, switcher, table } from './widgets.js';

let rankRange: RankingRange = '7d';

type Volume = DashboardRankings['providers'][number];

function volumeTable(testid: string, rows: readonly Volume[]): HTMLElement {
  const max = Math.max(0, ...rows.map((r) => r.records));
  return table(
    testid,
    [t('daRank'), t('daDepartment'), t('daRecords'), t('daBatches'), t('daBytes')],
    rows.map((r, i) => ({
      attrs: { 'data-code': r.departmentCode },
      cells: [
        String(i + 1),
        `${r.name} (${r.departmentCode})`,
        { col: 'records', value: bar(r.records, max, int(r.records)) },
        { col: 'batches', value: int(r.batches) },
        { col: 'bytes', value: bytes(r.bytes) },
      ],
    })),
  );
}

function rankingsBody(r: DashboardRankings): HTMLElement {
  const max = Math.max(0, ...r.resources.map((x) => x.records));
  const resources = table(
    'rank-resources',
    [t('daRank'), t('daResource'), t('daProvider'), t('daRecords'), t('daBatches')],
    r.resources.map((x, i) => ({
      attrs: { 'data-code': x.resourceCode },
      cells: [
        String(i + 1),
        x.name ? `${x.name} (${x.resourceCode})` : x.resourceCode,
        x.providerDepartmentCode ?? '—',
        { col: 'records', value: bar(x.records, max, int(x.records)) },
        { col: 'batches', value: int(x.batches) },
      ],
    })),
  );
  return el(
    'div',
    { class: 'grid3' },
    el('div', {}, el('h3', {}, t('daProviders')), volumeTable('rank-providers', r.providers)),
    el('div', {}, el('h3', {}, t('daConsumers')), volumeTable('rank-consumers', r.consumers)),
    el('div', {}, el('h3', {}, t('daTopResources')), resources),
  );
}

export async function rankingsPanel(): Promise<HTMLElement> {
  const load = (range: RankingRange) => get<DashboardRankings>(`/api/v1/dashboard/rankings?range=${range}`);
  const first = await load(rankRange);
  const box = el('div', {}, rankingsBody(first));
  const controls = switcher<RankingRange>(
    'rank-range',
    [
      ['7d', 'range7d'],
      ['30d', 'range30d'],
    ],
    rankRange,
    async (range) => {
      rankRange = range;
      box.replaceChildren(rankingsBody(await load(range)));
      p.dataset['range'] = range;
    },
  );
  const p = panel('rankings', t('daRankingsTitle'), controls, box);
  p.dataset['range'] = rankRange;
  return p;
}

function figure(testid: string, label: string, value: string): HTMLElement {
  return el('div', { class: 'figure' }, el('span', {}, label), el('strong', { 'data-testid': testid }, value));
}

export async function approvalsPanel(): Promise<HTMLElement> {
  const a = await get<DashboardApprovals>('/api/v1/dashboard/approvals?range=90d');
  const o = a.overall;
  const figures = el(
    'div',
    { class: 'figures' },
    figure('ap-received', t('daReceived'), int(o.received)),
    figure('ap-median', t('daMedianDays'), dec1(o.medianWorkingDays)),
    figure('ap-p90', t('daP90Days'), dec1(o.p90WorkingDays)),
    figure('ap-ontime', t('daOnTimeShare'), percent(o.onTimeShare)),
    figure('ap-pending', t('daPending'), int(o.pending)),
    figure('ap-overdue', t('daOverdue'), int(o.overdue)),
  );
  const rows = table(
    'ap-departments',
    [
      t('daDepartment'),
      t('daReceived'),
      t('daAnswered'),
      t('daMedianDays'),
      t('daP90Days'),
      t('daOnTimeShare'),
      t('daOverdue'),
    ],
    a.departments.map((d) => ({
      attrs: { 'data-code': d.departmentCode },
      cells: [
        `${d.name} (${d.departmentCode})`,
        { col: 'received', value: int(d.received) },
        { col: 'answered', value: int(d.answered) },
        { col: 'median', value: dec1(d.medianWorkingDays) },
        { col: 'p90', value: dec1(d.p90WorkingDays) },
        { col: 'ontime', value: percent(d.onTimeShare) },
        { col: 'overdue', value: int(d.overdue) },
      ],
    })),
  );
  const title = t('daApprovalsTitle', { days: a.deadlineWorkingDays });
  return panel('approvals', title, null, figures, rows);
}

export async function evaluationPanel(): Promise<HTMLElement> {
  const e = await get<DashboardEvaluation>('/api/v1/dashboard/evaluation?range=30d');
  const rows = table(
    'ev-departments',
    [
      t('daDepartment'),
      t('daResourcesPublished'),
      t('daReceived'),
      t('daOnTimeRate'),
      t('daProvidedRecords'),
      t('daUsedRecords'),
      t('daObjections'),
    ],
    e.departments.map((d) => ({
      attrs: { 'data-code': d.departmentCode },
      cells: [
        `${d.name} (${d.departmentCode})`,
        { col: 'published', value: int(d.resourcesPublished) },
        { col: 'received', value: int(d.applicationsReceived) },
        { col: 'ontime', value: percent(d.onTimeRate) },
        { col: 'provided', value: int(d.providedRecords) },
        { col: 'used', value: int(d.usedRecords) },
        { col: 'objections', value: `${int(d.objectionsResolved)} / ${int(d.objectionsReceived)}` },
      ],
    })),
  );
  return panel('evaluation', t('daEvaluationTitle', { total: e.total }), null, rows);
}

export async function citiesPanel(): Promise<HTMLElement> {
  const c = await get<DashboardCities>('/api/v1/dashboard/cities');
  const max = Math.max(0, ...c.cities.map((x) => x.weekRecords));
  const rows = table(
    'cities-table',
    [
      t('daCity'),
      t('daDepartments'),
      t('daNodesOnline'),
      t('daOnlineRate'),
      t('daTodayRecords'),
      t('daWeekRecords'),
      t('daReceived'),
      t('daOnTimeShare'),
    ],
    c.cities.map((x) => ({
      attrs: { 'data-code': x.regionCode },
      cells: [
        x.level === 'province' ? t('daProvinceOwn', { name: x.name }) : x.name,
        { col: 'departments', value: int(x.departments) },
        { col: 'nodes', value: `${int(x.nodesOnline)} / ${int(x.nodes)}` },
        { col: 'online', value: percent(x.onlineRate) },
        { col: 'today', value: int(x.todayRecords) },
        { col: 'week', value: bar(x.weekRecords, max, int(x.weekRecords)) },
        { col: 'approvals', value: int(x.approvalsReceived) },
        { col: 'ontime', value: percent(x.approvalsOnTimeShare) },
      ],
    })),
  );
  return panel('cities', t('daCitiesTitle'), null, rows);
}
