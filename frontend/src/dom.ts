// Small DOM helpers. Updates go through setText so unchanged cells are not
// touched, which keeps layout and paint work proportional to what changed.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`desk: missing #${id} in the page`);
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

const timeFmt = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hour12: false,
});

/** Local wall-clock time of an ISO timestamp; the raw text if it does not parse. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeFmt.format(d);
}

/** A <time> element showing local time with the full UTC stamp on hover. */
export function timeEl(iso: string): HTMLTimeElement {
  const t = h('time', undefined, formatTime(iso));
  t.dateTime = iso;
  t.title = iso;
  return t;
}
