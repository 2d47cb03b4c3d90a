// CWTS Desk audit page entry: search the event log, page through it with cursors, open an
// order's life, export the search as CSV and verify the hash chain.

import './audit/audit.css';
import { auditApi, AuditHttpError, errorText } from './audit/api';
import { byId } from './audit/dom';
import { clearForm, fillForm, filtersFromForm, filtersFromUrl } from './audit/filters';
import { LifePanel } from './audit/life';
import { Results } from './audit/results';
import type { EventPage } from './audit/types';
import { ChainVerify } from './audit/verify';

const PAGE_ROWS = 100;
const SESSION_ENDED = 'Your session has ended. Reload the page to sign in again.';

class AuditPage {
  private readonly form = byId<HTMLFormElement>('audit-filters');
  private readonly status = byId('audit-status');
  private readonly pageLabel = byId('audit-page');
  private readonly back = byId<HTMLButtonElement>('audit-back');
  private readonly next = byId<HTMLButtonElement>('audit-next');
  private readonly exportLink = byId<HTMLAnchorElement>('audit-export');
  private readonly banner = byId('audit-banner');
  private readonly life = new LifePanel();
  private readonly results = new Results((orderId) => void this.life.open(orderId));
  /** The filters of the search on screen (what Next, Back and Export use). */
  private filters = new URLSearchParams();
  /** The `after` cursor of every page visited so far; the last one is the page on screen. */
  private cursors: (string | null)[] = [null];
  private nextCursor: string | null = null;
  /** Answers to a request that a newer one replaced are dropped. */
  private generation = 0;

  constructor() {
    new ChainVerify();
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.search(filtersFromForm(this.form));
    });
    byId('audit-clear').addEventListener('click', () => {
      clearForm(this.form);
      this.search(filtersFromForm(this.form));
    });
    this.next.addEventListener('click', () => {
      if (this.nextCursor === null) return;
      this.cursors.push(this.nextCursor);
      void this.load();
    });
    this.back.addEventListener('click', () => {
      if (this.cursors.length <= 1) return;
      this.cursors.pop();
      void this.load();
    });
  }

  start(): void {
    const fromUrl = filtersFromUrl(window.location.search);
    fillForm(this.form, fromUrl);
    this.search(filtersFromForm(this.form));
  }

  private search(filters: URLSearchParams): void {
    this.filters = filters;
    this.cursors = [null];
    const query = filters.toString();
    // The URL carries the search, so that a reload or a shared link shows the same rows.
    window.history.replaceState(null, '', query ? `?${query}` : window.location.pathname);
    this.exportLink.href = auditApi.exportUrl(filters);
    void this.load();
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    const after = this.cursors[this.cursors.length - 1] ?? null;
    const params = new URLSearchParams(this.filters);
    params.set('limit', String(PAGE_ROWS));
    if (after !== null) params.set('after', after);
    this.back.disabled = true;
    this.next.disabled = true;
    this.results.markLoading(true);
    this.status.textContent = 'searching…';
    const started = performance.now();
    let page: EventPage;
    try {
      page = await auditApi.search(params);
    } catch (err) {
      if (generation !== this.generation) return;
      this.results.markLoading(false);
      this.failed(err);
      return;
    }
    if (generation !== this.generation) return;
    const elapsedMs = Math.round(performance.now() - started);
    this.banner.hidden = true;
    this.results.markLoading(false);
    this.results.show(page.results);
    this.nextCursor = page.next;
    const pageNumber = this.cursors.length;
    const first = (pageNumber - 1) * PAGE_ROWS + 1;
    this.status.textContent =
      page.results.length === 0
        ? `no rows · ${elapsedMs} ms`
        : `rows ${first}–${first + page.results.length - 1} · ${elapsedMs} ms`;
    this.pageLabel.textContent = `page ${pageNumber}`;
    this.back.disabled = pageNumber <= 1;
    this.next.disabled = page.next === null;
  }

  private failed(err: unknown): void {
    this.back.disabled = this.cursors.length <= 1;
    this.status.textContent = '';
    if (err instanceof AuditHttpError && (err.status === 401 || err.status === 403)) {
      this.showBanner(err.status === 401 ? SESSION_ENDED : err.message);
    } else {
      this.showBanner(errorText(err));
    }
  }

  private showBanner(text: string): void {
    this.banner.textContent = text;
    this.banner.hidden = false;
  }
}

new AuditPage().start();
