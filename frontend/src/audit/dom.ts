// DOM helpers for the audit page. The page is its own bundle: it shares no module with the
// desk, so that building it leaves desk.js byte for byte as it was.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`audit: missing #${id} in the page`);
  return el as T;
}

export function cell(className: string, text: string, title?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.className = className;
  td.textContent = text;
  if (title !== undefined) td.title = title;
  return td;
}

// The web tier's own chain (logins, role changes, searches, exports) is the last shard number.
const WEB_SHARD = 32767;

export function shardName(shard: number): string {
  return shard === WEB_SHARD ? 'web' : String(shard);
}

/** A row's place in the log: "0:812", or "web:40" on the web tier's chain. */
export function positionText(shard: number, seq: number): string {
  return `${shardName(shard)}:${seq}`;
}

/** "2026-11-24T09:30:00.123456789Z" → "2026-11-24 09:30:00.123456789": UTC, as logged. */
export function utcText(iso: string): string {
  return iso.replace('T', ' ').replace(/Z$/, '');
}

export function numberText(n: number | null): string {
  return n === null ? '' : String(n);
}

/** A payload as compact JSON, without the fields every row already shows in its columns. */
export function payloadText(payload: Record<string, unknown>, omit: readonly string[] = []): string {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (!omit.includes(key)) shown[key] = value;
  }
  return JSON.stringify(shown);
}
