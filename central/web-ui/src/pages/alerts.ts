// The alerts page (#/alerts): open and recent alerts — severity, rule, subject, start, acknowledged by and at,
// end — filtered by state and severity, with an acknowledge button on each firing alert (POST
// /api/v1/alerts/:id/ack, marked as the dashboard's own write). The list is central's, scoped there.
import { ApiError, get, post } from '../api.js';
import type { Alert } from '../api-types.js';
import { el } from '../dom.js';
import { dateTime } from '../format.js';
import { t } from '../i18n/index.js';
import { alertKind, alertMessage, severityLabel } from './labels.js';
import type { Page, PageContext } from './page.js';
import { panel, select, table, type Cell } from './widgets.js';

const LIMIT = 200;
/** Roles central lets acknowledge. */
const ACKERS = ['province_admin', 'operator', 'city_admin'];
const state = { state: 'open', severity: '' };

function query(): string {
  const p = new URLSearchParams({ limit: String(LIMIT) });
  if (state.state) p.set('state', state.state);
  if (state.severity) p.set('severity', state.severity);
  return `/api/v1/alerts?${p.toString()}`;
}

function ackCell(a: Alert, ctx: PageContext, reload: () => void, notice: HTMLElement): Cell {
  if (a.acknowledgement)
    return { col: 'ack', value: t('alAckedBy', { by: a.acknowledgement.by, at: dateTime(a.acknowledgement.at) }) };
  if (a.state !== 'firing' || !ACKERS.includes(ctx.me.role)) return { col: 'ack', value: '—' };
  const b = el('button', { 'data-testid': `ack-${a.id}` }, t('alAck'));
  b.onclick = async () => {
    b.disabled = true;
    try {
      await post(`/api/v1/alerts/${a.id}/ack`, { note: '' });
      reload();
    } catch (err) {
      b.disabled = false;
      notice.textContent = t('alAckFailed', { message: err instanceof ApiError ? err.message : String(err) });
    }
  };
  return { col: 'ack', value: b };
}

async function listBox(box: HTMLElement, ctx: PageContext, notice: HTMLElement): Promise<void> {
  const list = await get<Alert[]>(query());
  const reload = () => void listBox(box, ctx, notice);
  const rows = list.map((a) => ({
    attrs: { 'data-testid': `alert-row-${a.id}`, 'data-state': a.state },
    cells: [
      { col: 'severity', value: severityLabel(a.severity) },
      { col: 'kind', value: alertKind(a.kind) },
      { col: 'subject', value: `${a.entityId}${a.departmentCode ? ` · ${a.departmentCode}` : ''}` },
      { col: 'message', value: alertMessage(a) },
      { col: 'started', value: dateTime(a.startedAt) },
      ackCell(a, ctx, reload, notice),
      { col: 'ended', value: a.endedAt === null ? '—' : `${dateTime(a.endedAt)} ${a.endReason}` },
    ],
  }));
  const headers = [
    t('alSeverity'),
    t('alKind'),
    t('alSubject'),
    t('alMessage'),
    t('alStarted'),
    t('alAcked'),
    t('alEnded'),
  ];
  box.replaceChildren(table('alerts-table', headers, rows, 'alNone'));
  box.dataset['query'] = query();
  box.dataset['count'] = String(list.length);
}

function filters(box: HTMLElement, ctx: PageContext, notice: HTMLElement): HTMLElement {
  const states: [string, string][] = [
    ['open', t('alOpen')],
    ['firing', t('alFiring')],
    ['acknowledged', t('alAcknowledged')],
    ['resolved', t('alResolved')],
    ['', t('alAll')],
  ];
  const severities: [string, string][] = [
    ['', t('alAll')],
    ['critical', t('alSev_critical')],
    ['warning', t('alSev_warning')],
    ['info', t('alSev_info')],
  ];
  const reload = () => void listBox(box, ctx, notice);
  return el(
    'div',
    { class: 'filters' },
    select('alerts-state', t('alState'), states, state.state, (v) => ((state.state = v), reload())),
    select('alerts-severity', t('alSeverity'), severities, state.severity, (v) => ((state.severity = v), reload())),
  );
}

export const alerts: Page = {
  id: 'alerts',
  title: 'pageAlerts',
  async render(ctx) {
    const box = el('div', { 'data-testid': 'alerts-box' });
    const notice = el('p', { class: 'error', 'data-testid': 'alerts-notice' });
    await listBox(box, ctx, notice);
    return el(
      'div',
      { 'data-testid': 'page-alerts' },
      panel('alerts', t('alTitle'), filters(box, ctx, notice), notice, box),
    );
  },
};
