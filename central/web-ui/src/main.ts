// The dashboard page: a sign-in form when there is no session, otherwise the headline cards and the
// exchange volume trend, in Chinese by default with a switch to English (kept in localStorage).
import './style.css';
import { ApiError, del, get, post, type Summary, type Trend, type TrendRange, type Whoami } from './api.js';
import { drawTrend } from './chart.js';
import { bytes, int, percent } from './format.js';
import { currentLang, roleName, setLang, t } from './i18n/index.js';
import type { MessageKey } from './i18n/zh.js';

const root = document.getElementById('app')!;
let trendRange: TrendRange = 'today';
let chart: ReturnType<typeof drawTrend> | undefined;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function langButton(): HTMLButtonElement {
  const b = el('button', { 'data-testid': 'lang-switch', class: 'link' }, t('language'));
  b.onclick = () => {
    setLang(currentLang() === 'zh' ? 'en' : 'zh');
    void start();
  };
  return b;
}

function header(me?: Whoami): HTMLElement {
  const right = el('div', { class: 'who' });
  if (me) {
    const scope = me.regionCode ? t('scopeRegion', { region: me.regionCode }) : t('scopeProvince');
    right.append(
      el('span', { 'data-testid': 'who' }, `${t('signedInAs', { name: me.name, role: roleName(me.role) })} · ${scope}`),
    );
  }
  right.append(langButton());
  if (me) {
    const out = el('button', { 'data-testid': 'logout', class: 'link' }, t('logout'));
    out.onclick = async () => {
      await del('/dashboard/session');
      void start();
    };
    right.append(out);
  }
  return el('header', {}, el('h1', {}, t('title'), el('small', {}, t('subtitle'))), right);
}

function renderLogin(notice?: string): void {
  const input = el('input', { type: 'password', name: 'token', 'data-testid': 'token', autocomplete: 'off' });
  const error = el('p', { class: 'error', 'data-testid': 'login-error' }, notice ?? '');
  const form = el(
    'form',
    { class: 'login', 'data-testid': 'login-form' },
    el('h2', {}, t('loginTitle')),
    el('p', {}, t('loginHint')),
    el('label', {}, t('token'), input),
    el('button', { type: 'submit', 'data-testid': 'login-submit' }, t('login')),
    error,
  );
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      await post('/dashboard/session', { token: input.value.trim() });
      void start();
    } catch (err) {
      error.textContent = t('loginFailed', { message: (err as Error).message });
    }
  };
  root.replaceChildren(header(), form);
}

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

async function loadTrend(box: HTMLElement, canvas: HTMLElement): Promise<void> {
  const trend = await get<Trend>(`/api/v1/dashboard/trend?range=${trendRange}`);
  chart = drawTrend(canvas, trend, chart);
  box.dataset['range'] = trendRange;
  box.dataset['records'] = String(trend.buckets.reduce((n, b) => n + b.records, 0));
  box.dataset['steps'] = String(trend.buckets.length);
}

function trendPanel(): HTMLElement {
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
    b.onclick = () => {
      trendRange = range;
      for (const other of buttons.children) other.classList.toggle('active', other === b);
      void loadTrend(box, canvas);
    };
    buttons.append(b);
  }
  box.append(el('div', { class: 'panel-head' }, el('h2', {}, t('trendTitle')), buttons), canvas);
  void loadTrend(box, canvas);
  return box;
}

async function renderDashboard(me: Whoami): Promise<void> {
  const summary = await get<Summary>('/api/v1/dashboard/summary');
  chart?.dispose();
  chart = undefined;
  const time = new Date(summary.generatedAt).toLocaleTimeString(currentLang() === 'zh' ? 'zh-CN' : 'en-GB');
  const main = el(
    'main',
    { 'data-testid': 'dashboard' },
    cards(summary),
    trendPanel(),
    el('p', { class: 'updated' }, t('updatedAt', { time })),
  );
  root.replaceChildren(header(me), main);
}

async function start(): Promise<void> {
  setLang(currentLang());
  document.title = `${t('title')} · ${t('subtitle')}`;
  try {
    const { user } = await get<{ user: Whoami | null }>('/dashboard/session');
    if (!user) return renderLogin();
    await renderDashboard(user);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return renderLogin(t('sessionExpired'));
    root.replaceChildren(header(), el('p', { class: 'error' }, t('loadFailed', { message: (err as Error).message })));
  }
}

void start();
