// REST client for /api/v1/risk/: same-origin session auth, unsafe methods carry Django's
// CSRF token, and a refusal arrives as the API's {code, message} body.

import { ApiRefusal, fetchJson } from '../shared/http';
import type { AccountLimits, KillScope, PositionLimitChange } from './types';

const BASE = '/api/v1/risk/';

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await fetchJson(method, BASE + path, body);
  if (!answer.ok) throw ApiRefusal.of(answer);
  return answer.data as T;
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
  if (err instanceof ApiRefusal) {
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
