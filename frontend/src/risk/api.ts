// REST client for /api/v1/risk/: same-origin session auth, unsafe methods carry Django's
// CSRF token, and a refusal arrives as the API's {code, message} body.

import type { AccountLimits, ApiError, KillScope, PositionLimitChange } from './types';

const BASE = '/api/v1/risk/';

export class RiskHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, unknown> | null,
  ) {
    super(message);
    this.name = 'RiskHttpError';
  }
}

function csrfToken(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content;
  if (meta) return meta;
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'csrftoken') return decodeURIComponent(rest.join('='));
  }
  return '';
}

function isApiError(x: unknown): x is ApiError {
  return typeof x === 'object' && x !== null && typeof (x as ApiError).message === 'string';
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'include' };
  if (method !== 'GET') headers['X-CSRFToken'] = csrfToken();
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (isApiError(data)) {
      const fields = typeof data.fields === 'object' && data.fields !== null ? data.fields : null;
      throw new RiskHttpError(res.status, data.code, data.message, fields);
    }
    throw new RiskHttpError(res.status, 'http_error', `The server answered HTTP ${res.status}.`, null);
  }
  return data as T;
}

export interface KillSwitchRequest {
  scope: KillScope;
  action: 'engage' | 'release';
  reason: string;
  account?: string;
  trader?: string;
  allow_risk_reducing?: boolean;
}

export const riskApi = {
  accountLimits: (code: string) => request<AccountLimits>('GET', `accounts/${encodeURIComponent(code)}/`),
  updateAccountLimits: (code: string, changes: Record<string, unknown>) =>
    request<AccountLimits>('PATCH', `accounts/${encodeURIComponent(code)}/`, changes),
  setPositionLimit: (change: PositionLimitChange) => request<unknown>('PUT', 'positions/', change),
  killSwitch: (body: KillSwitchRequest) => request<unknown>('POST', 'kill-switches/', body),
};

/** The sentence to show for a failed call, with the fields the server named. */
export function errorText(err: unknown): string {
  if (err instanceof RiskHttpError) {
    const details = err.fields ? fieldText(err.fields) : '';
    return details && !err.message.includes(details) ? `${err.message} (${details})` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function fieldText(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([name, problem]) => `${name}: ${Array.isArray(problem) ? problem.join(' ') : String(problem)}`)
    .join('; ');
}
