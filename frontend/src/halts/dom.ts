// The halts page's DOM helpers: the shared ones, and the page's own time format (with the day,
// as a past halt may be days old).

import { h, localTimeEl } from '../shared/dom';

export { byId, h, setText } from '../shared/dom';

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
  return localTimeEl(iso, timeFmt);
}

export function cell(className: string, content: string | Node): HTMLTableCellElement {
  const td = h('td', className);
  td.append(content);
  return td;
}
