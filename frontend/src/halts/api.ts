// REST client for /api/v1/: the halts list, halting and resuming, and the instruments for the
// picker. Same-origin session auth; unsafe methods carry Django's CSRF token; a refusal
// arrives as the API's {code, message} body.

import { ApiRefusal, errorText, fetchJson } from '../shared/http';
import type { HaltOutcome, HaltsList } from './types';

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await fetchJson(method, `/api/v1/${path}`, body);
  if (!answer.ok) throw ApiRefusal.of(answer);
  return answer.data as T;
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

// The halts API names no fields worth showing: the message says it all.
export { errorText };
