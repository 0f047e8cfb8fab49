// The dashboard shell: a sign-in form when there is no session; otherwise the header, the nav bar of PAGES and
// the page the hash names (`#/<id>[/<arg>...]`, default `#/overview`), in Chinese by default with a switch to
// English (kept in localStorage). A page's failure is shown in place; a 401 goes back to sign-in.
import './style.css';
import { ApiError, del, get, post, type Whoami } from './api.js';
import { el } from './dom.js';
import { currentLang, roleName, setLang, t } from './i18n/index.js';
import { setTimeZone } from './format.js';
import { PAGES } from './pages/index.js';
import type { Page } from './pages/page.js';

const root = document.getElementById('app')!;
const DEFAULT_HASH = '#/overview';
let me: Whoami | undefined;
let current: Page | undefined;
/** Counts route renders, so that a slow page answering after the user moved on is dropped. */
let renderSeq = 0;

function langButton(): HTMLButtonElement {
  const b = el('button', { 'data-testid': 'lang-switch', class: 'link' }, t('language'));
  b.onclick = () => {
    setLang(currentLang() === 'zh' ? 'en' : 'zh');
    void start();
  };
  return b;
}

function header(user?: Whoami): HTMLElement {
  const right = el('div', { class: 'who' });
  if (user) {
    const scope = user.regionCode ? t('scopeRegion', { region: user.regionCode }) : t('scopeProvince');
    right.append(
      el(
        'span',
        { 'data-testid': 'who' },
        `${t('signedInAs', { name: user.name, role: roleName(user.role) })} · ${scope}`,
      ),
    );
  }
  right.append(langButton());
  if (user) {
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
  disposeCurrent();
  root.replaceChildren(header(), form);
}

/** The route of the current hash: the page id and the decoded segments after it. */
function route(): { id: string; args: string[] } {
  const parts = (location.hash || DEFAULT_HASH).replace(/^#\/?/, '').split('/').filter(Boolean);
  return { id: parts[0] ?? 'overview', args: parts.slice(1).map(decodeURIComponent) };
}

function nav(activeId: string): HTMLElement {
  const bar = el('nav', { 'data-testid': 'nav' });
  for (const p of PAGES) {
    const a = el('a', { href: `#/${p.id}`, 'data-testid': `nav-${p.id}` }, t(p.title));
    if (p.id === activeId) a.classList.add('active');
    bar.append(a);
  }
  return bar;
}

function disposeCurrent(): void {
  current?.dispose?.();
  current = undefined;
}

/**
 * Renders the page of the current hash into a fresh <main data-testid="dashboard">; once it shows, main carries
 * data-page="<id>" and data-route="<hash>" (what browser tests wait for).
 */
async function renderRoute(): Promise<void> {
  if (!me) return;
  const seq = ++renderSeq;
  const { id, args } = route();
  const page = PAGES.find((p) => p.id === id);
  disposeCurrent();
  const main = el('main', { 'data-testid': 'dashboard' }, el('p', { class: 'loading' }, t('loading')));
  root.replaceChildren(header(me), nav(id), main);
  if (!page) {
    main.replaceChildren(el('p', { class: 'error', 'data-testid': 'not-found' }, t('pageNotFound', { page: id })));
    return;
  }
  current = page;
  try {
    const body = await page.render({ me, args, navigate: (hash) => (location.hash = hash) });
    if (seq !== renderSeq) return;
    main.replaceChildren(body);
    main.dataset['page'] = id;
    main.dataset['route'] = location.hash || DEFAULT_HASH;
  } catch (err) {
    if (seq !== renderSeq) return;
    if (err instanceof ApiError && err.status === 401) return renderLogin(t('sessionExpired'));
    main.replaceChildren(
      el('p', { class: 'error', 'data-testid': 'load-error' }, t('loadFailed', { message: (err as Error).message })),
    );
  }
}

async function start(): Promise<void> {
  setLang(currentLang());
  document.title = `${t('title')} · ${t('subtitle')}`;
  try {
    const { user, timeZone } = await get<{ user: Whoami | null; timeZone: string }>('/dashboard/session');
    setTimeZone(timeZone);
    me = user ?? undefined;
    if (!user) return renderLogin();
    await renderRoute();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return renderLogin(t('sessionExpired'));
    root.replaceChildren(header(), el('p', { class: 'error' }, t('loadFailed', { message: (err as Error).message })));
  }
}

window.addEventListener('hashchange', () => void renderRoute());
void start();
