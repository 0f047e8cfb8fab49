// The one DOM helper every page uses: el(tag, attributes, ...children) builds an element in one expression.

/** Creates `<tag>` with string attributes (data-testid, class, ...) and the given children appended. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}
