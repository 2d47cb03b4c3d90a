// REST client for /api/v1/. Same-origin session auth: the session cookie rides
// along, and unsafe methods carry Django's CSRF token.

import type { ApiError, Instrument, MassCancelResult, Me, Order, Position, TraderRiskSettings } from './types';

const BASE = '/api/v1/';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError | null,
  ) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = 'HttpError';
  }
}

/** The CSRF token from the page's meta tag, falling back to the csrftoken cookie. */
export function csrfToken(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content;
  if (meta) return meta;
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'csrftoken') return decodeURIComponent(rest.join('='));
  }
  return '';
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRFToken'] = csrfToken();
  const init: RequestInit = { method, headers, credentials: 'include' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new HttpError(res.status, isApiError(data) ? data : null);
  return data as T;
}

/** The sentence to show the operator for a failed call. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function isApiError(x: unknown): x is ApiError {
  return typeof x === 'object' && x !== null && typeof (x as ApiError).message === 'string';
}

/** The protocol returns bare arrays; a paginated `{results: [...]}` body is accepted too. */
function list<T>(data: T[] | { results: T[] }): T[] {
  return Array.isArray(data) ? data : data.results;
}

export const api = {
  me: () => request<Me>('GET', 'me/'),
  instruments: async () => list(await request<Instrument[] | { results: Instrument[] }>('GET', 'instruments/')),
  openOrders: async () => list(await request<Order[] | { results: Order[] }>('GET', 'orders/?status=open')),
  positions: async () => list(await request<Position[] | { results: Position[] }>('GET', 'positions/')),
  cancelOrder: (orderId: number) => request<Order>('DELETE', `orders/${orderId}/`),
  /** Cancels every open order of the signed-in trader (no filters). */
  massCancel: () => request<MassCancelResult>('POST', 'orders/mass-cancel/', {}),
  riskSettings: () => request<TraderRiskSettings>('GET', 'risk/me/settings/'),
  updateRiskSettings: (changes: Partial<TraderRiskSettings>) =>
    request<TraderRiskSettings>('PATCH', 'risk/me/settings/', changes),
};
