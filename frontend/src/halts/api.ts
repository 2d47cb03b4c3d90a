// REST client for /api/v1/: the halts list, halting and resuming, and the instruments for the
// picker. Same-origin session auth; unsafe methods carry Django's CSRF token; a refusal
// arrives as the API's {code, message} body.

import type { ApiError, HaltOutcome, HaltsList } from './types';

export class HaltsHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HaltsHttpError';
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
  const res = await fetch(`/api/v1/${path}`, init);
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (isApiError(data)) throw new HaltsHttpError(res.status, data.code, data.message);
    throw new HaltsHttpError(res.status, 'http_error', `The server answered HTTP ${res.status}.`);
  }
  return data as T;
}

export interface InstrumentRef {
  symbol: string;
  name: string;
}

export const haltsApi = {
  list: () => request<HaltsList>('GET', 'breakers/halts/?limit=200'),
  instruments: () => request<InstrumentRef[]>('GET', 'instruments/'),
  request: (action: 'halt' | 'resume', symbol: string | null, reason: string) =>
    request<HaltOutcome>('POST', 'breakers/halts/', { action, reason, ...(symbol ? { symbol } : {}) }),
};

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
