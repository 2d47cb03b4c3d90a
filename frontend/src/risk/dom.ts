// The risk console's DOM helpers: the shared ones, the console's time format and its money.

import { localTimeEl } from '../shared/dom';

export { byId, h, setAttr, setText } from '../shared/dom';

const timeFmt = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** A <time> element showing local wall-clock time, with the full stamp on hover. */
export function timeEl(iso: string): HTMLTimeElement {
  return localTimeEl(iso, timeFmt);
}

const moneyFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "1234.5" → "1,234.50"; the raw text if it is not a number. Display only: never computed on. */
export function moneyText(amount: string | null): string {
  if (amount === null) return '—';
  const n = Number(amount);
  return Number.isFinite(n) ? moneyFmt.format(n) : amount;
}
