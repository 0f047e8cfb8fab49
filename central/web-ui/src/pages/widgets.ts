// Building blocks of the DASH-A pages: a titled panel, a data table (each cell may carry a data-col for tests),
// a proportional bar, a select and a range switch. Text goes through t() at the caller.
import { el } from '../dom.js';
import { t } from '../i18n/index.js';
import type { MessageKey } from '../i18n/zh.js';

/** One cell: text or a node, optionally named by `col` (data-col, what browser tests read). */
export type Cell = string | Node | { col: string; value: string | Node; class?: string };

/** A panel: a heading (and controls on its right) over its content. */
export function panel(testid: string, title: string, controls: Node | null, ...content: Node[]): HTMLElement {
  const head = el('div', { class: 'panel-head' }, el('h2', {}, title));
  if (controls) head.append(controls);
  return el('section', { class: 'panel', 'data-testid': testid }, head, ...content);
}

/** A table with a header row; `rows` give each row's attributes and cells; an empty body shows `empty`. */
export function table(
  testid: string,
  headers: (string | Node)[],
  rows: { attrs?: Record<string, string>; cells: Cell[] }[],
  empty: MessageKey = 'daNoRows',
): HTMLElement {
  const head = el('tr', {}, ...headers.map((h) => el('th', {}, h)));
  const body = el('tbody', {});
  for (const r of rows) {
    const tr = el('tr', r.attrs ?? {});
    for (const c of r.cells) {
      if (typeof c === 'string' || c instanceof Node) tr.append(el('td', {}, c));
      else tr.append(el('td', { 'data-col': c.col, ...(c.class && { class: c.class }) }, c.value));
    }
    body.append(tr);
  }
  if (rows.length === 0)
    body.append(el('tr', {}, el('td', { class: 'empty', colspan: String(headers.length) }, t(empty))));
  return el('table', { class: 'data', 'data-testid': testid }, el('thead', {}, head), body);
}

/** A bar whose width is value / max of its column (0 when max is 0), with the figure beside it. */
export function bar(value: number, max: number, text: string): HTMLElement {
  const pct = max > 0 ? Math.max(2, Math.round((value / max) * 100)) : 0;
  return el(
    'div',
    { class: 'bar' },
    el('span', { class: 'bar-fill', style: `width:${pct}%` }),
    el('span', { class: 'bar-text' }, text),
  );
}

/** A labelled <select> of `options` ([value, label]); `onChange` gets the chosen value. */
export function select(
  testid: string,
  label: string,
  options: readonly (readonly [string, string])[],
  value: string,
  onChange: (v: string) => void,
): HTMLElement {
  const s = el('select', { 'data-testid': testid });
  for (const [v, text] of options) {
    const o = el('option', { value: v }, text);
    if (v === value) o.selected = true;
    s.append(o);
  }
  s.onchange = () => onChange(s.value);
  return el('label', { class: 'filter' }, label, s);
}

/** Buttons of which one is active (a range switch); `onPick` gets the chosen value. */
export function switcher<V extends string>(
  testidPrefix: string,
  options: readonly (readonly [V, MessageKey])[],
  active: V,
  onPick: (v: V) => void,
): HTMLElement {
  const box = el('div', { class: 'ranges' });
  for (const [v, key] of options) {
    const b = el('button', { 'data-testid': `${testidPrefix}-${v}`, class: v === active ? 'active' : '' }, t(key));
    b.onclick = () => {
      for (const other of box.children) other.classList.toggle('active', other === b);
      onPick(v);
    };
    box.append(b);
  }
  return box;
}
