// The REST plumbing of every page: same-origin session auth (the session cookie rides along),
// unsafe methods carry Django's CSRF token, and a refusal arrives as the API's
// {code, message, fields?} body. Each page keeps its own client and error type on top.

export interface ApiError {
  code: string;
  message: string;
  fields?: Record<string, unknown>;
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

export function isApiError(x: unknown): x is ApiError {
  return typeof x === 'object' && x !== null && typeof (x as ApiError).message === 'string';
}

export interface JsonAnswer {
  ok: boolean;
  status: number;
  /** The parsed body; null when it is empty or not JSON. */
  data: unknown;
}

/** One call to `url`; never throws for an HTTP status, so each page words its own refusal. */
export async function fetchJson(method: string, url: string, body?: unknown): Promise<JsonAnswer> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRFToken'] = csrfToken();
  const init: RequestInit = { method, headers, credentials: 'include' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { ok: res.ok, status: res.status, data };
}

/** A refusal of the risk or halts API, with the fields the server named. */
export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, unknown> | null,
  ) {
    super(message);
    this.name = 'ApiRefusal';
  }

  static of(answer: JsonAnswer): ApiRefusal {
    const data = answer.data;
    if (isApiError(data)) {
      const fields = typeof data.fields === 'object' && data.fields !== null ? data.fields : null;
      return new ApiRefusal(answer.status, data.code, data.message, fields);
    }
    return new ApiRefusal(answer.status, 'http_error', `The server answered HTTP ${answer.status}.`, null);
  }
}

/** The sentence to show the operator for a failed call. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
