// Sections of the brain's page: surges and what was done about them, the routes between centers with their
// last change reason (those of the caller's flows, from GET /dashboard/topology), and the history-vs-forecast
// chart of one node pair with a selector.
import type { SurgeView } from '../../../src/api/brain.js';
import type { Topology } from '../../../src/api/dashboard-topology.js';
import type { TrafficHistory } from '../../../src/api/traffic.js';
import { get } from '../api.js';
import { el } from '../dom.js';
import { drawForecast } from '../forecast-chart.js';
import { formatTime, int } from '../format.js';
import { t } from '../i18n/index.js';
import { badge, heading, table } from './topology.js';

/** A node pair (resource '' = every resource summed). */
export interface Pair {
  fromNode: string;
  toNode: string;
  resource: string;
}

const HOUR_MS = 3_600_000;
let chart: ReturnType<typeof drawForecast> | undefined;

/** A time to the minute in central's time zone and the viewer's language. */
export function when(ms: number): string {
  return formatTime(ms, 'minute');
}

function actionText(a: unknown): string {
  const x = (a ?? {}) as { action?: string; policyId?: string };
  if (x.action === 'dynamic-policy') return t('action_dynamic_policy', { id: x.policyId ?? '' });
  if (x.action === 'policy-withdrawn') return t('action_policy_withdrawn', { id: x.policyId ?? '' });
  if (x.action === 'alert') return t('action_alert');
  if (x.action === 'none') return t('action_none');
  return x.action ?? '';
}

/** The latest 50 surges, newest first. */
export function surgesPanel(surges: SurgeView[]): HTMLElement {
  const box = el('section', { class: 'panel', 'data-testid': 'surges' }, heading('surgesTitle'));
  box.dataset['count'] = String(surges.length);
  if (surges.length === 0) return (box.append(el('p', { class: 'empty' }, t('noSurges'))), box);
  const latest = [...surges].reverse().slice(0, 50);
  box.append(
    table(
      'surge-table',
      ['colPair', 'colStart', 'colEnd', 'colPeak', 'colExpected', 'colActions'],
      latest.map((s) => ({
        id: `surge-${s.surgeId}`,
        cells: [
          `${s.fromNode} → ${s.toNode}`,
          when(s.startMs),
          s.endMs === null ? t('surgeOngoing') : when(s.endMs),
          el('span', { 'data-testid': `surge-${s.surgeId}-peak` }, int(s.peak)),
          int(s.expected),
          s.actions.map(actionText).join('; '),
        ],
      })),
    ),
  );
  return box;
}

/** The routes of the caller's flows (all stored pairs for a province-wide reader) with why they were chosen. */
export async function routesPanel(): Promise<HTMLElement> {
  const topo = await get<Topology>('/api/v1/dashboard/topology?range=7d');
  const box = el('section', { class: 'panel', 'data-testid': 'routes' }, heading('routesTitle'));
  box.dataset['count'] = String(topo.routes.length);
  if (topo.routes.length === 0) return (box.append(el('p', { class: 'empty' }, t('noRoutes'))), box);
  box.append(
    table(
      'route-table',
      ['colRoute', 'colState', 'colReason', 'colSince', 'colChanges'],
      topo.routes.map((r) => ({
        id: `route-${r.from}-${r.to}`,
        cells: [
          `${r.route ? r.route.join(' → ') : `${r.from} ⇒ ${r.to}: —`}${r.pinned ? t('pinned') : ''}`,
          badge(r.state),
          el('span', { 'data-testid': `route-${r.from}-${r.to}-reason` }, r.reason),
          when(r.since),
          int(r.changes),
        ],
      })),
    ),
  );
  return box;
}

/** The last 7 days of `pair` by hour with the forecast beside it. */
function loadPair(pair: Pair): Promise<TrafficHistory> {
  const since = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 7 * 24 * HOUR_MS;
  const q = new URLSearchParams({ from: pair.fromNode, to: pair.toNode, since: String(since), step: '1h' });
  return get<TrafficHistory>(`/api/v1/traffic?${q.toString()}`);
}

function showForecast(box: HTMLElement, canvas: HTMLElement, note: HTMLElement, h: TrafficHistory): void {
  note.textContent = h.forecast ? '' : t('noForecast');
  requestAnimationFrame(() => {
    if (!canvas.isConnected) return;
    chart = drawForecast(canvas, h, chart);
    box.dataset['pair'] = `${h.fromNode}|${h.toNode}`;
    box.dataset['since'] = String(h.sinceMs);
    box.dataset['points'] = String(h.buckets.length);
    box.dataset['records'] = String(h.totals.records);
    box.dataset['forecast'] = String(h.forecast?.buckets.length ?? 0);
  });
}

/** A selector of `pairs` and the chart of the selected one (the first at start). */
export async function forecastPanel(pairs: Pair[]): Promise<HTMLElement> {
  const box = el('section', { class: 'panel', 'data-testid': 'forecast' });
  const first = pairs[0];
  if (!first) return (box.append(heading('forecastTitle'), el('p', { class: 'empty' }, t('noPairs'))), box);
  const select = el('select', { 'data-testid': 'forecast-pair' });
  pairs.forEach((p, i) => select.append(el('option', { value: String(i) }, `${p.fromNode} → ${p.toNode}`)));
  const canvas = el('div', { class: 'chart', 'data-testid': 'forecast-chart' });
  const note = el('p', { class: 'meta', 'data-testid': 'forecast-note' });
  select.onchange = async () => {
    const p = pairs[Number(select.value)];
    if (p) showForecast(box, canvas, note, await loadPair(p));
  };
  box.append(el('div', { class: 'panel-head' }, el('h2', {}, t('forecastTitle')), select), note, canvas);
  showForecast(box, canvas, note, await loadPair(first));
  return box;
}

export function disposeForecast(): void {
  chart?.dispose();
  chart = undefined;
}
