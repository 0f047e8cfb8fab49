// The topology page: exchange centers, the links between them colored by their probe state, and the flows
// between departments of the last 24 hours or 7 days with the route each crosses (GET /dashboard/topology),
// as a graph and as two tables (links, flows) carrying the API's figures.
import type { Topology } from '../../../src/api/dashboard-topology.js';
import { get } from '../api.js';
import { el } from '../dom.js';
import { bytes, int } from '../format.js';
import { t } from '../i18n/index.js';
import type { MessageKey } from '../i18n/zh.js';
import { drawTopology, HEALTH_COLORS } from '../topology-chart.js';
import type { Page } from './page.js';

type Range = Topology['range'];

let range: Range = '24h';
let chart: ReturnType<typeof drawTopology> | undefined;

/** A table with a header row; `rows` are arrays of cells (strings or elements), each row with its test id. */
export function table(
  testId: string,
  head: MessageKey[],
  rows: { id: string; cells: (string | Node)[] }[],
): HTMLElement {
  const thead = el('thead', {}, el('tr', {}, ...head.map((k) => el('th', {}, t(k)))));
  const tbody = el(
    'tbody',
    {},
    ...rows.map((r) => el('tr', { 'data-testid': r.id }, ...r.cells.map((c) => el('td', {}, c)))),
  );
  return el('table', { class: 'grid', 'data-testid': testId }, thead, tbody);
}

/** A panel's heading row. */
export function heading(key: MessageKey): HTMLElement {
  return el('div', { class: 'panel-head' }, el('h2', {}, t(key)));
}

/** A state as a colored badge with its name. */
export function badge(state: string): HTMLElement {
  const b = el('span', { class: 'badge', 'data-state': state }, t(`health_${state}` as MessageKey));
  b.style.background = HEALTH_COLORS[state] ?? HEALTH_COLORS['none']!;
  return b;
}

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

function linksTable(topo: Topology): HTMLElement {
  if (topo.links.length === 0) return el('p', { class: 'empty' }, t('noLinks'));
  return table(
    'links',
    ['colLink', 'colState', 'colLatency', 'colLoss', 'colLoad', 'colUtilisation', 'colReason'],
    topo.links.map((l) => ({
      id: `link-${l.id}`,
      cells: [
        `${l.a} — ${l.b}`,
        badge(l.state),
        l.latencyP50Ms === null ? '—' : `${l.latencyP50Ms} ms`,
        pct(l.loss),
        l.loadBps === null ? '—' : `${bytes(Math.round(l.loadBps))}/s`,
        pct(l.utilisation),
        l.reason ?? '',
      ],
    })),
  );
}

function flowsTable(topo: Topology): HTMLElement {
  if (topo.flows.length === 0) return el('p', { class: 'empty', 'data-testid': 'no-flows' }, t('noFlows'));
  const names = new Map(topo.departments.map((d) => [d.code, d.name]));
  const dept = (code: string): string => (names.get(code) === code ? code : `${names.get(code) ?? ''} (${code})`);
  return table(
    'flows',
    ['colFrom', 'colTo', 'colRecords', 'colBytes', 'colRoute', 'colState'],
    topo.flows.map((f, i) => ({
      id: `flow-${i}`,
      cells: [
        dept(f.fromDepartment),
        dept(f.toDepartment),
        el('span', { 'data-testid': `flow-${i}-records` }, int(f.records)),
        bytes(f.bytes),
        el(
          'span',
          { 'data-testid': `flow-${i}-route`, title: f.routeReason },
          f.route === null
            ? t('routeNotChosen')
            : f.route.length === 1
              ? t('routeWithin', { center: f.route[0]! })
              : f.route.join(' → '),
        ),
        badge(f.routeState),
      ],
    })),
  );
}

/** The graph panel with its range buttons; the graph is drawn once attached (ECharts needs its size). */
function graphPanel(topo: Topology, reload: (r: Range) => void): HTMLElement {
  const canvas = el('div', { class: 'chart topology', 'data-testid': 'topology-chart' });
  const buttons = el('div', { class: 'ranges' });
  for (const [r, key] of [
    ['24h', 'range24h'],
    ['7d', 'range7d'],
  ] as const) {
    const b = el('button', { 'data-testid': `topo-range-${r}`, class: r === range ? 'active' : '' }, t(key));
    b.onclick = () => reload(r);
    buttons.append(b);
  }
  const records = topo.flows.reduce((n, f) => n + f.records, 0);
  const summary = t('topoSummary', {
    centers: int(topo.centers.length),
    links: int(topo.links.length),
    flows: int(topo.flows.length),
    total: int(topo.flowsTotal),
    records: int(records),
  });
  const box = el(
    'section',
    { class: 'panel', 'data-testid': 'topology' },
    el('div', { class: 'panel-head' }, el('h2', {}, t('topoTitle')), buttons),
    el('p', { class: 'meta', 'data-testid': 'topology-summary' }, summary),
    canvas,
  );
  requestAnimationFrame(() => {
    if (!canvas.isConnected) return;
    chart = drawTopology(canvas, topo, chart);
    // What the graph shows, for tests and for reading: the API's counts and sums.
    box.dataset['range'] = topo.range;
    box.dataset['since'] = String(topo.sinceMs);
    box.dataset['centers'] = String(topo.centers.length);
    box.dataset['links'] = String(topo.links.length);
    box.dataset['flows'] = String(topo.flows.length);
    box.dataset['records'] = String(records);
  });
  return box;
}

async function view(): Promise<HTMLElement> {
  const topo = await get<Topology>(`/api/v1/dashboard/topology?range=${range}`);
  const page = el('div', { 'data-testid': 'page-topology' });
  const reload = (r: Range): void => {
    range = r;
    chart?.dispose();
    chart = undefined;
    void view().then((next) => page.replaceWith(next));
  };
  page.append(
    graphPanel(topo, reload),
    el('section', { class: 'panel' }, heading('linksTitle'), linksTable(topo)),
    el('section', { class: 'panel' }, heading('flowsTitle'), flowsTable(topo)),
  );
  return page;
}

export const topology: Page = {
  id: 'topology',
  title: 'pageTopology',
  render: () => view(),
  dispose() {
    chart?.dispose();
    chart = undefined;
  },
};
