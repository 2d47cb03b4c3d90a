// Small DOM helpers of every page. Updates go through setText and setAttr so unchanged cells
// are not touched, which keeps layout and paint work proportional to what changed.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id} in the page`);
  return el as T;
}

export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function setAttr(el: Element, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Local time of an ISO timestamp in the page's own format; the raw text if it does not parse. */
export function localTime(iso: string, format: Intl.DateTimeFormat): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : format.format(d);
}

/** A <time> element showing local time in the page's format, with the full stamp on hover. */
export function localTimeEl(iso: string, format: Intl.DateTimeFormat): HTMLTimeElement {
  const t = h('time', undefined, localTime(iso, format));
  t.dateTime = iso;
  t.title = iso;
  return t;
}
