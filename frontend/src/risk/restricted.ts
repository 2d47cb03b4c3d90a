// The restricted list: instruments nobody in the firm, or nobody on one account, may trade.
// A small form adds an entry (its reason is the entry's, and the journal's); each entry is
// lifted with a reason asked for in the console's reason dialog. The list reloads when the
// matcher publishes a change of it, whoever made it.

import { errorText, riskApi } from './api';
import type { ConfirmDialog } from './confirm';
import { byId, h, setAttr, setText, timeEl } from './dom';
import type { RestrictedEntry } from './types';

export interface RestrictedDeps {
  canChange: boolean;
  confirm: ConfirmDialog;
  status(text: string): void;
}

function scopeText(entry: { account: string | null }): string {
  return entry.account ? `account ${entry.account}` : 'the whole firm';
}

export class RestrictedPanel {
  private readonly body: HTMLTableSectionElement;
  private readonly empty = byId('restricted-empty');
  private readonly count = byId('restricted-count');
  private readonly form = byId<HTMLFormElement>('restrict-form');
  private readonly symbol = byId<HTMLInputElement>('restrict-symbol');
  private readonly account = byId<HTMLInputElement>('restrict-account');
  private readonly reason = byId<HTMLInputElement>('restrict-reason');
  private readonly submitButton = byId<HTMLButtonElement>('restrict-submit');
  private readonly error = byId('restrict-error');
  private readonly symbols = byId<HTMLDataListElement>('restrict-symbols');
  private readonly accounts = byId<HTMLDataListElement>('restrict-accounts');

  constructor(private readonly deps: RestrictedDeps) {
    const body = document.querySelector<HTMLTableSectionElement>('#risk-restricted tbody');
    if (!body) throw new Error('risk: missing #risk-restricted tbody');
    this.body = body;
    this.form.hidden = !deps.canChange;
    for (const th of document.querySelectorAll<HTMLElement>('#risk-restricted th.action')) th.hidden = !deps.canChange;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.add();
    });
  }

  /** The instruments one may restrict, for the symbol picker. */
  setSymbols(symbols: readonly string[]): void {
    fillOptions(this.symbols, symbols);
  }

  /** The trading accounts, for the account picker. */
  setAccounts(codes: readonly string[]): void {
    fillOptions(this.accounts, codes);
  }

  async reload(): Promise<void> {
    let entries: RestrictedEntry[];
    try {
      entries = await riskApi.restricted();
    } catch (err) {
      setText(this.count, `Could not load the restricted list: ${errorText(err)}`);
      return;
    }
    // Firm-wide first, then by account; by symbol within each.
    entries.sort(
      (a, b) =>
        Number(a.account !== null) - Number(b.account !== null) ||
        (a.account ?? '').localeCompare(b.account ?? '') ||
        a.symbol.localeCompare(b.symbol),
    );
    this.body.replaceChildren(...entries.map((e) => this.row(e)));
    this.empty.hidden = entries.length > 0;
    setText(this.count, entries.length === 1 ? '1 entry' : `${entries.length} entries`);
  }

  private row(e: RestrictedEntry): HTMLTableRowElement {
    const tr = h('tr', 'restricted');
    tr.dataset.id = String(e.id);
    tr.dataset.symbol = e.symbol;
    tr.dataset.account = e.account ?? '';
    const scope = h('td', 'scope', e.account ?? 'firm');
    if (!e.account) scope.classList.add('firm');
    const when = h('td', 'time');
    when.append(timeEl(e.created_at));
    const cells = [h('td', 'symbol', e.symbol), scope, h('td', 'reason', e.reason), h('td', 'by', e.created_by ?? '—'), when];
    tr.append(...cells);
    if (this.deps.canChange) {
      const lift = h('button', 'restricted-remove', 'Remove');
      lift.type = 'button';
      lift.setAttribute('aria-label', `Remove ${e.symbol} (${scopeText(e)}) from the restricted list`);
      lift.addEventListener('click', () => this.askLift(e));
      const action = h('td', 'action');
      action.append(lift);
      tr.append(action);
    }
    return tr;
  }

  private async add(): Promise<void> {
    if (!this.deps.canChange || this.submitButton.disabled) return;
    const symbol = this.symbol.value.trim().toUpperCase();
    const account = this.account.value.trim();
    const reason = this.reason.value.trim();
    if (!symbol) {
      this.say('Name the instrument to restrict.');
      this.symbol.focus();
      return;
    }
    if (!reason) {
      this.say('Give a reason: it is recorded with the entry and in the audit log.');
      this.reason.focus();
      return;
    }
    this.submitButton.disabled = true;
    this.say('saving…', false);
    try {
      await riskApi.restrict({ symbol, account: account || null, reason });
    } catch (err) {
      this.say(errorText(err));
      return;
    } finally {
      this.submitButton.disabled = false;
    }
    this.say('', false);
    this.symbol.value = '';
    this.account.value = '';
    this.reason.value = '';
    this.deps.status(`${symbol} restricted for ${account ? `account ${account}` : 'the whole firm'}.`);
    await this.reload();
  }

  private askLift(e: RestrictedEntry): void {
    const scope = scopeText(e);
    this.deps.confirm.open({
      title: `Remove ${e.symbol} from the restricted list of ${scope}?`,
      text: `${e.symbol} was restricted${e.created_by ? ` by ${e.created_by}` : ''}: ${e.reason}. Once removed, ${
        e.account ? `account ${e.account}` : 'every account'
      } may trade it again, unless another restriction still applies.`,
      confirmLabel: 'Remove restriction',
      offerRiskReducing: false,
      run: async (reason) => {
        await riskApi.liftRestriction(e.id, reason);
        this.deps.status(`${e.symbol} is no longer restricted for ${scope}.`);
        await this.reload();
      },
    });
  }

  private say(text: string, refused = true): void {
    setText(this.error, text);
    setAttr(this.form, 'data-state', refused && text ? 'refused' : '');
  }
}

function fillOptions(list: HTMLDataListElement, values: readonly string[]): void {
  const wanted = [...values].sort();
  const have = [...list.options].map((o) => o.value);
  if (have.length === wanted.length && have.every((v, i) => v === wanted[i])) return;
  list.replaceChildren(
    ...wanted.map((value) => {
      const option = h('option');
      option.value = value;
      return option;
    }),
  );
}
