// The filter form ⇄ the query string of the audit API (and of the page's own URL).

/** Form fields in API parameter order; `order` is the sort, the rest filter. */
export const FILTER_NAMES = [
  'from',
  'to',
  'symbol',
  'account',
  'trader',
  'order_id',
  'client_order_id',
  'kind',
  'reason',
  'order',
] as const;

const DEFAULT_ORDER = 'desc';

function field(form: HTMLFormElement, name: string): HTMLInputElement | HTMLSelectElement | null {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement || el instanceof HTMLSelectElement ? el : null;
}

/** The filters the auditor filled in; empty fields are left out so the API sees "any". */
export function filtersFromForm(form: HTMLFormElement): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    const value = field(form, name)?.value.trim() ?? '';
    if (value) params.set(name, value);
  }
  return params;
}

export function fillForm(form: HTMLFormElement, params: URLSearchParams): void {
  for (const name of FILTER_NAMES) {
    const el = field(form, name);
    if (!el) continue;
    // Repeated kind parameters (kind=a&kind=b) become the comma list the field takes.
    const value = name === 'kind' ? params.getAll(name).join(',') : (params.get(name) ?? '');
    el.value = name === 'order' ? value || DEFAULT_ORDER : value;
  }
}

export function clearForm(form: HTMLFormElement): void {
  fillForm(form, new URLSearchParams());
}

/** Only the parameters the page understands, from its URL. */
export function filtersFromUrl(search: string): URLSearchParams {
  const given = new URLSearchParams(search);
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    for (const value of given.getAll(name)) if (value.trim()) params.append(name, value.trim());
  }
  return params;
}
