// The overview page: the headline cards (departments connected, nodes online and 联通率, today's exchanges and
// volume, resources, applications, alerts), the exchange volume trend (today / 7 days / 30 days), and the panels
// of overview-panels.ts (cities compared for province-wide roles, rankings, approvals, evaluation).
import { get, type Summary, type Trend, type TrendRange } from '../api.js';
import { drawTrend } from '../chart.js';
import { el } from '../dom.js';
import { bytes, formatTime, int, percent } from '../format.js';
import { t } from '../i18n/index.js';
import type { MessageKey } from '../i18n/zh.js';
import { approvalsPanel, citiesPanel, evaluationPanel, rankingsPanel } from './overview-panels.js';
import type { Page } from './page.js';

/** Roles that see the whole province (and so the cities compared). */
const PROVINCE_WIDE = ['province_admin', 'operator', 'auditor'];

let trendRange: TrendRange = 'today';
let chart: ReturnType<typeof drawTrend> | undefined;

function card(id: string, title: MessageKey, value: string, sub: string): HTMLElement {
  return el(
    'section',
    { class: 'card', 'data-testid': `card-${id}` },
    el('h3', {}, t(title)),
    el('div', { class: 'value', 'data-testid': `card-${id}-value` }, value),
    el('div', { class: 'sub', 'data-testid': `card-${id}-sub` }, sub),
  );
}

function cards(s: Summary): HTMLElement {
  return el(
    'div',
    { class: 'cards' },
    card(
      'departments',
      'cardDepartments',
      int(s.departments.connected),
      t('cardDepartmentsSub', { total: int(s.departments.total) }),
    ),
    card(
      'nodes',
      'cardNodes',
      int(s.nodes.online),
      t('cardNodesSub', { total: int(s.nodes.total), rate: percent(s.nodes.onlineRate) }),
    ),
    card('exchanges', 'cardExchanges', int(s.today.batches), t('cardExchangesSub', { records: int(s.today.records) })),
    card('volume', 'cardVolume', bytes(s.today.bytes), t('cardVolumeSub', { errors: int(s.today.errors) })),
    card('resources', 'cardResources', int(s.resources.published), t('cardResourcesSub')),
    card(
      'applications',
      'cardApplications',
      int(s.applications.pending),
      t('cardApplicationsSub', { overdue: int(s.applications.overdue) }),
    ),
    card('alerts', 'cardAlerts', int(s.alerts.open), t('cardAlertsSub', { critical: int(s.alerts.critical) })),
  );
}

/** Draws `trend` once the panel is in the document (the shell attaches the page after render() answers). */
function showTrend(box: HTMLElement, canvas: HTMLElement, trend: Trend): void {
  requestAnimationFrame(() => {
    if (!canvas.isConnected) return;
    chart = drawTrend(canvas, trend, chart);
    box.dataset['range'] = trend.range;
    box.dataset['records'] = String(trend.buckets.reduce((n, b) => n + b.records, 0));
    box.dataset['steps'] = String(trend.buckets.length);
  });
}

function trendPanel(first: Trend): HTMLElement {
  const canvas = el('div', { class: 'chart', 'data-testid': 'trend-chart' });
  const box = el('section', { class: 'panel', 'data-testid': 'trend' });
  const ranges: [TrendRange, MessageKey][] = [
    ['today', 'rangeToday'],
    ['7d', 'range7d'],
    ['30d', 'range30d'],
  ];
  const buttons = el('div', { class: 'ranges' });
  for (const [range, key] of ranges) {
    const b = el('button', { 'data-testid': `range-${range}`, class: range === trendRange ? 'active' : '' }, t(key));
    b.onclick = async () => {
      trendRange = range;
      for (const other of buttons.children) other.classList.toggle('active', other === b);
      showTrend(box, canvas, await get<Trend>(`/api/v1/dashboard/trend?range=${range}`));
    };
    buttons.append(b);
  }
  box.append(el('div', { class: 'panel-head' }, el('h2', {}, t('trendTitle')), buttons), canvas);
  showTrend(box, canvas, first);
  return box;
}

export const overview: Page = {
  id: 'overview',
  title: 'pageOverview',
  async render(ctx) {
    const [summary, trend, cities, rankings, approvals, evaluation] = await Promise.all([
      get<Summary>('/api/v1/dashboard/summary'),
      get<Trend>(`/api/v1/dashboard/trend?range=${trendRange}`),
      PROVINCE_WIDE.includes(ctx.me.role) ? citiesPanel() : null,
      rankingsPanel(),
      approvalsPanel(),
      evaluationPanel(),
    ]);
    const time = formatTime(summary.generatedAt, 'time');
    const page = el('div', { 'data-testid': 'page-overview' }, cards(summary), trendPanel(trend));
    if (cities) page.append(cities);
    page.append(rankings, approvals, evaluation, el('p', { class: 'updated' }, t('updatedAt', { time })));
    return page;
  },
  dispose() {
    chart?.dispose();
    chart = undefined;
  },
};
