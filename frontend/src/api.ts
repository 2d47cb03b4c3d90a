// REST client for /api/v1/. Same-origin session auth: the session cookie rides
// along, and unsafe methods carry Django's CSRF token.

import { errorText, fetchJson, isApiError } from './shared/http';
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

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await fetchJson(method, BASE + path, body);
  if (!answer.ok) throw new HttpError(answer.status, isApiError(answer.data) ? answer.data : null);
  return answer.data as T;
}

export { errorText };


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
