// REST client for /api/v1/risk/: same-origin session auth, unsafe methods carry Django's
// CSRF token, and a refusal arrives as the API's {code, message} body.

import { ApiRefusal, fetchJson } from '../shared/http';
import type {
  AccountLimits,
  FirmChange,
  FirmPolicy,
  InstrumentChange,
  InstrumentLimits,
  KillScope,
  PositionLimitChange,
  RestrictedChange,
  RestrictedEntry,
} from './types';

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
  firmPolicy: () => request<FirmPolicy>('GET', 'firm/'),
  updateFirmPolicy: (changes: Record<string, unknown>) => request<FirmChange>('PATCH', 'firm/', changes),
  instrumentLimits: () => request<InstrumentLimits[]>('GET', 'instruments/'),
  updateInstrumentLimits: (symbol: string, changes: Record<string, unknown>) =>
    request<InstrumentChange>('PATCH', `instruments/${encodeURIComponent(symbol)}/`, changes),
  restricted: () => request<RestrictedEntry[]>('GET', 'restricted/'),
  restrict: (body: RestrictRequest) => request<RestrictedChange>('POST', 'restricted/', body),
  /** The reason travels in the body (the API also takes it in the query string). */
  liftRestriction: (id: number, reason: string) =>
    request<RestrictedChange>('DELETE', `restricted/${id}/`, { reason }),
};

export interface RestrictRequest {
  symbol: string;
  /** Null: the whole firm. */
  account: string | null;
  reason: string;
}

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
