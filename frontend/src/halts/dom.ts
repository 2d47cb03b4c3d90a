// DOM helpers for the halts page. The page is its own bundle and shares no module with the
// desk, so that building it leaves desk.js as the desk's own modules make it.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`halts: missing #${id} in the page`);
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

const timeFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** A <time> element in local time, with the full UTC stamp on hover; "—" for none. */
export function timeEl(iso: string | null, none = '—'): HTMLElement {
  if (iso === null) return h('span', 'muted', none);
  const d = new Date(iso);
  const t = h('time', undefined, Number.isNaN(d.getTime()) ? iso : timeFmt.format(d));
  t.dateTime = iso;
  t.title = iso;
  return t;
}

export function cell(className: string, content: string | Node): HTMLTableCellElement {
  const td = h('td', className);
  td.append(content);
  return td;
}
