// The desk's DOM helpers: the shared ones, and the desk's own time format (milliseconds, as
// fills and the tape need them).

import { localTime, localTimeEl } from './shared/dom';

export { byId, h, setAttr, setText } from './shared/dom';

const timeFmt = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hour12: false,
});

/** Local wall-clock time of an ISO timestamp; the raw text if it does not parse. */
export function formatTime(iso: string): string {
  return localTime(iso, timeFmt);
}

/** A <time> element showing local time with the full UTC stamp on hover. */
export function timeEl(iso: string): HTMLTimeElement {
  return localTimeEl(iso, timeFmt);
}
