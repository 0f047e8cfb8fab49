// The nodes page (#/nodes): the node table with its last health — department, region, status, heartbeat age,
// version, outbox and spool backlog, CPU, memory, disk, open alerts — filtered by status and text, sorted by a
// column header, paged; a node's name leads to its drill-down (#/nodes/<id>, node-detail.ts).
import { get } from '../api.js';
import type { DashboardNodeRow, DashboardNodes, NodeSort } from '../api-types.js';
import { el } from '../dom.js';
import { age, bytes, dec1, int } from '../format.js';
import { t } from '../i18n/index.js';
import type { MessageKey } from '../i18n/zh.js';
import { statusLabel } from './labels.js';
import { renderNodeDetail } from './node-detail.js';
import type { Page } from './page.js';
import { panel, select, table, type Cell } from './widgets.js';

const PAGE_SIZE = 50;
const state = { status: '', q: '', sort: 'department' as NodeSort, order: 'asc' as 'asc' | 'desc', offset: 0 };

const COLUMNS: [NodeSort | null, MessageKey][] = [
  ['name', 'ndNode'],
  ['department', 'daDepartment'],
  [null, 'ndRegion'],
  ['status', 'ndStatus'],
  ['heartbeat', 'ndHeartbeat'],
  ['version', 'ndVersion'],
  [null, 'ndOutbox'],
  ['backlog', 'ndBacklog'],
  ['cpu', 'ndCpu'],
  ['memory', 'ndMemory'],
  ['disk', 'ndDisk'],
  [null, 'ndAlerts'],
];

function query(): string {
  const p = new URLSearchParams({ sort: state.sort, order: state.order, limit: String(PAGE_SIZE) });
  if (state.status) p.set('status', state.status);
  if (state.q) p.set('q', state.q);
  if (state.offset) p.set('offset', String(state.offset));
  return `/api/v1/dashboard/nodes?${p.toString()}`;
}

function nodeRow(n: DashboardNodeRow): { attrs: Record<string, string>; cells: Cell[] } {
  return { attrs: { 'data-id': n.id, 'data-testid': `node-row-${n.id}` }, cells: cellsOf(n) };
}

function cellsOf(n: DashboardNodeRow): Cell[] {
  return [
    {
      col: 'name',
      value: el('a', { href: `#/nodes/${encodeURIComponent(n.id)}`, 'data-testid': `node-link-${n.id}` }, n.name),
    },
    { col: 'department', value: `${n.departmentName} (${n.departmentCode})` },
    { col: 'region', value: n.regionCode },
    { col: 'status', value: statusLabel(n.status) },
    { col: 'heartbeat', value: age(n.heartbeatAgeMs) },
    { col: 'version', value: n.agentVersion },
    { col: 'outbox', value: n.outboxDepth === null ? '—' : int(n.outboxDepth) },
    { col: 'backlog', value: n.spoolDepth === null ? '—' : `${int(n.spoolDepth)} · ${bytes(n.spoolBytes)}` },
    { col: 'cpu', value: n.cpuPercent === null ? '—' : `${dec1(n.cpuPercent)}%` },
    { col: 'memory', value: bytes(n.memRssBytes) },
    { col: 'disk', value: bytes(n.diskFreeBytes) },
    { col: 'alerts', value: int(n.openAlerts), class: n.openAlerts > 0 ? 'warn' : '' },
  ];
}

function headers(reload: () => void): Node[] {
  return COLUMNS.map(([sort, key]) => {
    if (!sort) return el('span', {}, t(key));
    const arrow = state.sort === sort ? (state.order === 'asc' ? ' ▲' : ' ▼') : '';
    const b = el('button', { class: 'link sort', 'data-testid': `sort-${sort}` }, `${t(key)}${arrow}`);
    b.onclick = () => {
      state.order = state.sort === sort && state.order === 'asc' ? 'desc' : 'asc';
      state.sort = sort;
      state.offset = 0;
      reload();
    };
    return b;
  });
}

async function tableBox(box: HTMLElement): Promise<void> {
  const data = await get<DashboardNodes>(query());
  const reload = () => void tableBox(box);
  const pager = el('div', { class: 'pager' });
  const prev = el('button', { 'data-testid': 'nodes-prev' }, t('ndPrev'));
  prev.disabled = data.offset === 0;
  prev.onclick = () => ((state.offset = Math.max(0, state.offset - PAGE_SIZE)), reload());
  const next = el('button', { 'data-testid': 'nodes-next' }, t('ndNext'));
  next.disabled = data.offset + data.nodes.length >= data.total;
  next.onclick = () => ((state.offset += PAGE_SIZE), reload());
  const shown = t('ndShown', {
    from: data.total === 0 ? 0 : data.offset + 1,
    to: data.offset + data.nodes.length,
    total: data.total,
    online: data.counts.online,
    offline: data.counts.offline,
  });
  pager.append(el('span', { 'data-testid': 'nodes-shown' }, shown), prev, next);
  box.replaceChildren(table('nodes-table', headers(reload), data.nodes.map(nodeRow)), pager);
  box.dataset['query'] = query();
}

function filters(box: HTMLElement): HTMLElement {
  const statuses: [string, string][] = [
    ['', t('ndAll')],
    ['online', t('ndOnline')],
    ['offline', t('ndOffline')],
  ];
  const search = el('input', { type: 'search', 'data-testid': 'nodes-q', placeholder: t('ndSearch'), value: state.q });
  search.onchange = () => {
    state.q = search.value.trim();
    state.offset = 0;
    void tableBox(box);
  };
  const status = select('nodes-status', t('ndStatus'), statuses, state.status, (v) => {
    state.status = v;
    state.offset = 0;
    void tableBox(box);
  });
  return el('div', { class: 'filters' }, status, el('label', { class: 'filter' }, t('ndSearchLabel'), search));
}

export const nodes: Page = {
  id: 'nodes',
  title: 'pageNodes',
  async render(ctx) {
    if (ctx.args[0]) return renderNodeDetail(ctx.args[0]);
    const box = el('div', { 'data-testid': 'nodes-box' });
    await tableBox(box);
    return el('div', { 'data-testid': 'page-nodes' }, panel('nodes', t('ndTitle'), filters(box), box));
  },
};
