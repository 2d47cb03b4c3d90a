// REST client for /api/v1/audit/: GETs only, same-origin session auth.

import type { ApiError, ChainVerifyResult, EventPage, OrderLife } from './types';

const BASE = '/api/v1/audit/';

export class AuditHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuditHttpError';
  }
}

function isApiError(x: unknown): x is ApiError {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as ApiError).code === 'string' &&
    typeof (x as ApiError).message === 'string'
  );
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(BASE + path, { headers: { Accept: 'application/json' }, credentials: 'include' });
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    if (isApiError(body)) throw new AuditHttpError(res.status, body.code, body.message);
    throw new AuditHttpError(res.status, 'http_error', `The server answered HTTP ${res.status}.`);
  }
  return body as T;
}

function query(params: URLSearchParams): string {
  const text = params.toString();
  return text ? `?${text}` : '';
}

export const auditApi = {
  search: (params: URLSearchParams) => getJson<EventPage>(`events/${query(params)}`),
  orderLife: (orderId: number) => getJson<OrderLife>(`orders/${orderId}/`),
  verify: () => getJson<ChainVerifyResult>('verify/'),
  /** The CSV export of the same filters (no cursor, no limit: the whole search). */
  exportUrl: (params: URLSearchParams) => `${BASE}events/export.csv${query(params)}`,
};

/** The sentence to show the auditor for a failed call. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
