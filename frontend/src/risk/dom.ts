// DOM helpers for the risk console. The page is its own bundle and shares no module with the
// desk, so that building it leaves desk.js byte for byte as it was.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`risk: missing #${id} in the page`);
  return el as T;
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

export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function setAttr(el: Element, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

const timeFmt = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** A <time> element showing local wall-clock time, with the full stamp on hover. */
export function timeEl(iso: string): HTMLTimeElement {
  const d = new Date(iso);
  const t = h('time', undefined, Number.isNaN(d.getTime()) ? iso : timeFmt.format(d));
  t.dateTime = iso;
  t.title = iso;
  return t;
}

const moneyFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "1234.5" → "1,234.50"; the raw text if it is not a number. Display only: never computed on. */
export function moneyText(amount: string | null): string {
  if (amount === null) return '—';
  const n = Number(amount);
  return Number.isFinite(n) ? moneyFmt.format(n) : amount;
}
