// A node's drill-down (#/nodes/<id>): its health figures, its tasks with their newest runs (task_run reports)
// and quarantine counts, the quarantined records' reasons and the newest of them (no values), its open alerts.
import { get } from '../api.js';
import type { Alert, DashboardNodeDetail } from '../api-types.js';
import { el } from '../dom.js';
import { age, bytes, dateTime, dec1, int } from '../format.js';
import { t } from '../i18n/index.js';
import { alertKind, alertMessage, severityLabel, statusLabel } from './labels.js';
import { panel, table } from './widgets.js';

function fig(testid: string, label: string, value: string | Node): HTMLElement {
  return el('div', { class: 'figure' }, el('span', {}, label), el('strong', { 'data-testid': testid }, value));
}

function health(d: DashboardNodeDetail): HTMLElement {
  const n = d.node;
  return el(
    'div',
    { class: 'figures' },
    fig('nd-status', t('ndStatus'), statusLabel(n.status)),
    fig('nd-department', t('daDepartment'), `${n.departmentName} (${n.departmentCode})`),
    fig('nd-heartbeat', t('ndHeartbeat'), age(n.heartbeatAgeMs)),
    fig('nd-version', t('ndVersion'), n.agentVersion),
    fig('nd-backlog', t('ndBacklog'), n.spoolDepth === null ? '—' : int(n.spoolDepth)),
    fig('nd-cpu', t('ndCpu'), n.cpuPercent === null ? '—' : `${dec1(n.cpuPercent)}%`),
    fig('nd-memory', t('ndMemory'), bytes(n.memRssBytes)),
    fig('nd-disk', t('ndDisk'), bytes(n.diskFreeBytes)),
  );
}

function tasks(d: DashboardNodeDetail): HTMLElement {
  const blocks = d.tasks.map((task) => {
    const runs = table(
      `runs-${task.id}`,
      [t('ndRunFinished'), t('ndRunStatus'), t('daRecords'), t('daBatches'), t('ndQuarantined'), t('ndRunError')],
      task.runs.map((r) => ({
        attrs: { 'data-run': r.runId },
        cells: [
          dateTime(r.finishedAt),
          { col: 'status', value: r.status, class: r.status === 'ok' ? '' : 'warn' },
          { col: 'records', value: int(r.records) },
          { col: 'batches', value: int(r.batches) },
          { col: 'quarantined', value: int(r.quarantined) },
          { col: 'error', value: r.error || '—' },
        ],
      })),
      'ndNoRuns',
    );
    const head = el(
      'div',
      { class: 'task-head', 'data-testid': `task-${task.id}` },
      el('strong', {}, task.name),
      el('span', {}, t(task.kind === 'sync' ? 'ndKindSync' : 'ndKindExchange')),
      el('span', {}, task.resourceCode || '—'),
      el(
        'span',
        { 'data-testid': `task-quarantine-${task.id}` },
        t('ndTaskQuarantine', { total: int(task.quarantined), open: int(task.quarantinedOpen) }),
      ),
    );
    return el('div', { class: 'task' }, head, runs);
  });
  if (blocks.length === 0) blocks.push(el('p', { class: 'empty' }, t('ndNoTasks')));
  return panel('nd-tasks', t('ndTasksTitle'), null, ...blocks);
}

function quarantine(d: DashboardNodeDetail): HTMLElement {
  const q = d.quarantine;
  const reasons = table(
    'nd-reasons',
    [t('ndReason'), t('ndCount')],
    q.reasons.map((r) => ({ cells: [r.reason, { col: 'count', value: int(r.count) }] })),
  );
  const recent = table(
    'nd-recent',
    [t('ndCreated'), t('ndTask'), t('ndSide'), t('ndRow'), t('ndField'), t('ndReason')],
    q.recent.map((r) => ({
      cells: [
        dateTime(r.createdAt),
        r.taskId,
        r.side,
        { col: 'row', value: String(r.rowIndex) },
        r.field || '—',
        r.reason,
      ],
    })),
  );
  const title = t('ndQuarantineTitle', { total: int(q.total), open: int(q.open) });
  return panel('nd-quarantine', title, null, el('div', { class: 'grid2' }, reasons, recent));
}

function alerts(list: readonly Alert[]): HTMLElement {
  const rows = table(
    'nd-alerts',
    [t('alSeverity'), t('alKind'), t('alMessage'), t('alStarted')],
    list.map((a) => ({
      attrs: { 'data-alert': String(a.id) },
      cells: [severityLabel(a.severity), alertKind(a.kind), alertMessage(a), dateTime(a.startedAt)],
    })),
    'alNone',
  );
  return panel('nd-alerts-panel', t('ndAlertsTitle'), null, rows);
}

/** The drill-down page of node `id` (a 404 from central is shown by the shell). */
export async function renderNodeDetail(id: string): Promise<HTMLElement> {
  const d = await get<DashboardNodeDetail>(`/api/v1/dashboard/nodes/${encodeURIComponent(id)}`);
  const back = el('a', { href: '#/nodes', 'data-testid': 'nd-back' }, t('ndBack'));
  const title = el('h2', { 'data-testid': 'nd-title' }, `${d.node.name} · ${d.node.id}`);
  return el(
    'div',
    { 'data-testid': 'page-node', 'data-node': d.node.id },
    el('div', { class: 'panel-head' }, title, back),
    health(d),
    tasks(d),
    quarantine(d),
    alerts(d.alerts),
  );
}
