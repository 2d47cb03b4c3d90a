// The accounts table: one row per account with its credit, daily loss and position
// utilisation, its kill switch, and its limits editable in place.

import { errorText } from './api';
import { Bar, percentOf } from './bars';
import { h, moneyText, setAttr, setText, timeEl } from './dom';
import type { AccountLimits, AccountRisk, KillSwitchState, PositionLimitChange, PositionRisk } from './types';

export interface AccountsDeps {
  username(userId: number | null): string;
  /** Opens the confirmation for engaging (true) or releasing (false) the account's switch. */
  killSwitch(account: string, engage: boolean): void;
  loadLimits(account: string): Promise<AccountLimits>;
  saveLimits(account: string, changes: Record<string, unknown>): Promise<unknown>;
  savePositionLimit(change: PositionLimitChange): Promise<unknown>;
  /** Whether the user may change limits (the page says); if not, no limits editor. */
  canChange: boolean;
  /** Whether the user may engage and release kill switches; if not, no kill button. */
  canKill: boolean;
  /** Instruments one might set position limits for. */
  symbols(): readonly string[];
  status(text: string): void;
}

/** The limits the console edits, in the API's field names; money fields take decimals. */
const LIMIT_FIELDS: readonly { name: string; label: string; money: boolean }[] = [
  { name: 'max_order_lots', label: 'Max order qty', money: false },
  { name: 'max_order_notional', label: 'Max order notional', money: true },
  { name: 'credit_limit', label: 'Credit limit', money: true },
  { name: 'loss_warning', label: 'Loss warning', money: true },
  { name: 'loss_reduce_only', label: 'Loss reduce-only', money: true },
  { name: 'loss_kill', label: 'Loss kill', money: true },
];

const STAGE_TEXT: Readonly<Record<string, string>> = {
  ok: 'ok',
  warning: 'loss warning',
  reduce_only: 'reduce only',
  killed: 'killed',
};

function num(text: string | null): number | null {
  if (text === null) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/** The value of a limit as the editor shows it: the API's text, or empty for no limit. */
export function inputText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** What a limit's editor sends for the text typed in it: null for an empty field (no limit),
 * decimals as text, whole numbers as numbers. The server is the judge of the value, so
 * anything else goes as typed and comes back refused with its sentence. */
export function typedLimit(text: string, decimal: boolean): unknown {
  const cleaned = text.trim().replace(/,/g, '');
  if (cleaned === '') return null;
  if (decimal) return cleaned;
  return Number.isInteger(Number(cleaned)) ? Number(cleaned) : cleaned;
}

export function killSwitchText(ks: KillSwitchState, username: (id: number | null) => string): string {
  const who = ks.automatic ? 'automatically' : `by ${username(ks.engaged_by)}`;
  const reducing = ks.allow_risk_reducing ? ' (risk-reducing orders allowed)' : '';
  return `ENGAGED ${who}${ks.reason ? `: ${ks.reason}` : ''}${reducing}`;
}

class LimitsEditor {
  readonly row = h('tr', 'limits-editor');
  private readonly form = h('form', 'limits-form');
  private readonly inputs = new Map<string, HTMLInputElement>();
  private readonly reason = h('input', 'limits-reason');
  private readonly save = h('button', 'primary limits-save', 'Save limits');
  private readonly error = h('span', 'limits-error');
  private readonly positionSymbol = h('input', 'position-symbol');
  private readonly positionLong = h('input', 'position-long');
  private readonly positionShort = h('input', 'position-short');
  private readonly positionSave = h('button', 'position-save', 'Set position limit');
  private readonly symbols = h('datalist');
  private loaded: AccountLimits | null = null;

  constructor(
    private readonly account: string,
    private readonly deps: AccountsDeps,
    private readonly closed: () => void,
  ) {
    this.row.hidden = true;
    this.row.dataset.account = account;
    const cell = h('td');
    cell.colSpan = 6;
    this.form.noValidate = true;
    this.form.autocomplete = 'off';
    for (const f of LIMIT_FIELDS) {
      const label = h('label', 'field', f.label);
      const input = h('input');
      input.name = f.name;
      input.type = 'text';
      input.inputMode = f.money ? 'decimal' : 'numeric';
      input.placeholder = 'none';
      input.spellcheck = false;
      label.append(input);
      this.inputs.set(f.name, input);
      this.form.append(label);
    }
    // Position limits: one instrument at a time, with the same reason.
    this.symbols.id = `position-symbols-${account}`;
    const positionFields: [HTMLInputElement, string, string][] = [
      [this.positionSymbol, 'position_symbol', 'Position: symbol'],
      [this.positionLong, 'max_long', 'Max long'],
      [this.positionShort, 'max_short', 'Max short'],
    ];
    const positionLabels = positionFields.map(([input, name, text]) => {
      const label = h('label', 'field position', text);
      input.name = name;
      input.type = 'text';
      input.spellcheck = false;
      input.placeholder = name === 'position_symbol' ? 'AAPL' : 'none';
      if (name !== 'position_symbol') input.inputMode = 'numeric';
      label.append(input);
      return label;
    });
    this.positionSymbol.setAttribute('list', this.symbols.id);
    this.positionSymbol.addEventListener('change', () => this.fillPosition());
    this.positionSave.type = 'button';
    this.positionSave.addEventListener('click', () => void this.submitPosition());
    const reasonLabel = h('label', 'field reason', 'Reason');
    this.reason.name = 'reason';
    this.reason.type = 'text';
    this.reason.maxLength = 200;
    this.reason.placeholder = 'required';
    reasonLabel.append(this.reason);
    const cancel = h('button', 'limits-cancel', 'Cancel');
    cancel.type = 'button';
    this.save.type = 'submit';
    cancel.addEventListener('click', () => this.close());
    const positionRow = h('div', 'position-row');
    positionRow.append(...positionLabels, this.positionSave, this.symbols);
    this.form.append(reasonLabel, this.save, cancel, this.error, positionRow);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
    cell.append(this.form);
    this.row.append(cell);
  }

  get isOpen(): boolean {
    return !this.row.hidden;
  }

  async open(): Promise<void> {
    this.row.hidden = false;
    setText(this.error, 'loading…');
    this.save.disabled = true;
    // Nothing is typed into a field that the loaded values would then overwrite.
    for (const input of this.allInputs()) input.disabled = true;
    try {
      this.fill(await this.deps.loadLimits(this.account));
      setText(this.error, '');
      this.save.disabled = false;
      this.inputs.values().next().value?.focus();
    } catch (err) {
      setText(this.error, `Could not load the limits: ${errorText(err)}`);
    }
  }

  close(): void {
    this.row.hidden = true;
    this.reason.value = '';
    setText(this.error, '');
    this.closed();
  }

  private allInputs(): HTMLInputElement[] {
    return [...this.inputs.values(), this.positionSymbol, this.positionLong, this.positionShort];
  }

  private fill(limits: AccountLimits): void {
    this.loaded = limits;
    for (const input of [this.positionSymbol, this.positionLong, this.positionShort]) input.disabled = false;
    for (const [name, input] of this.inputs) {
      const known = name in limits;
      input.value = inputText(limits[name]);
      input.disabled = !known;
      (input.closest('label') ?? input).hidden = !known;
    }
    const symbols = new Set([...(limits.position_limits ?? []).map((p) => p.symbol), ...this.deps.symbols()]);
    this.symbols.replaceChildren(
      ...[...symbols].sort().map((symbol) => {
        const option = h('option');
        option.value = symbol;
        return option;
      }),
    );
    this.fillPosition();
  }

  /** The chosen instrument's position limits as they stand, ready to change. */
  private fillPosition(): void {
    const symbol = this.positionSymbol.value.trim().toUpperCase();
    const current = this.loaded?.position_limits?.find((p) => p.symbol === symbol);
    this.positionLong.value = inputText(current?.max_long);
    this.positionShort.value = inputText(current?.max_short);
  }

  private async submitPosition(): Promise<void> {
    const symbol = this.positionSymbol.value.trim().toUpperCase();
    if (!symbol) {
      setText(this.error, 'Name the instrument whose position limits to set.');
      this.positionSymbol.focus();
      return;
    }
    const reason = this.reason.value.trim();
    if (!reason) {
      setText(this.error, 'Give a reason for the change: it is recorded in the audit log.');
      this.reason.focus();
      return;
    }
    const lots = (input: HTMLInputElement): number | string | null => {
      const text = input.value.trim().replace(/,/g, '');
      if (text === '') return null;
      return Number.isInteger(Number(text)) ? Number(text) : text;
    };
    this.positionSave.disabled = true;
    setText(this.error, 'saving…');
    try {
      await this.deps.savePositionLimit({
        account: this.account,
        symbol,
        max_long: lots(this.positionLong),
        max_short: lots(this.positionShort),
        reason,
      });
      this.fill(await this.deps.loadLimits(this.account));
    } catch (err) {
      setText(this.error, errorText(err));
      return;
    } finally {
      this.positionSave.disabled = false;
    }
    setText(this.error, '');
    this.deps.status(`Position limits of ${this.account} in ${symbol} saved.`);
  }

  private changes(): Record<string, unknown> {
    const changes: Record<string, unknown> = {};
    if (!this.loaded) return changes;
    for (const f of LIMIT_FIELDS) {
      const input = this.inputs.get(f.name);
      if (!input || input.disabled) continue;
      const text = input.value.trim().replace(/,/g, '');
      if (text === inputText(this.loaded[f.name])) continue;
      // The server is the judge of the value; an empty field removes the limit.
      changes[f.name] = typedLimit(text, f.money);
    }
    return changes;
  }

  private async submit(): Promise<void> {
    if (this.save.disabled) return;
    const changes = this.changes();
    if (Object.keys(changes).length === 0) {
      setText(this.error, 'Nothing changed.');
      return;
    }
    const reason = this.reason.value.trim();
    if (!reason) {
      setText(this.error, 'Give a reason for the change: it is recorded in the audit log.');
      this.reason.focus();
      return;
    }
    this.save.disabled = true;
    setText(this.error, 'saving…');
    try {
      await this.deps.saveLimits(this.account, { ...changes, reason });
    } catch (err) {
      setText(this.error, errorText(err));
      this.save.disabled = false;
      return;
    }
    this.save.disabled = false;
    this.deps.status(`Limits of ${this.account} saved: ${Object.keys(changes).join(', ')}.`);
    this.close();
  }
}

class AccountRow {
  readonly row = h('tr', 'account');
  readonly editor: LimitsEditor;
  private readonly stage = h('span', 'stage');
  private readonly creditBar = new Bar();
  private readonly creditText = h('span', 'figures');
  private readonly lossBar = new Bar();
  private readonly lossText = h('span', 'figures');
  private readonly positions = h('td', 'positions');
  private readonly killCell = h('td', 'kill-switch');
  private readonly killButton = h('button', 'kill-toggle');
  private readonly limitsButton = h('button', 'limits-toggle', 'Limits');
  private state: AccountRisk;

  constructor(
    account: AccountRisk,
    private readonly deps: AccountsDeps,
  ) {
    this.state = account;
    this.row.dataset.account = account.account;
    const code = h('td', 'account');
    code.append(h('strong', undefined, account.account), ' ', this.stage);
    const credit = h('td', 'credit');
    credit.append(this.creditBar.el, this.creditText);
    const loss = h('td', 'loss');
    loss.append(this.lossBar.el, this.lossText);
    const action = h('td', 'action');
    this.killButton.type = 'button';
    this.limitsButton.type = 'button';
    this.killButton.addEventListener('click', () =>
      this.deps.killSwitch(this.state.account, this.state.kill_switch === null),
    );
    this.limitsButton.addEventListener('click', () => {
      if (this.editor.isOpen) this.editor.close();
      else void this.editor.open();
      setAttr(this.limitsButton, 'aria-expanded', String(this.editor.isOpen));
    });
    this.limitsButton.hidden = !deps.canChange;
    this.killButton.hidden = !deps.canKill;
    action.append(this.killButton, this.limitsButton);
    this.row.append(code, credit, loss, this.positions, this.killCell, action);
    this.editor = new LimitsEditor(account.account, deps, () => setAttr(this.limitsButton, 'aria-expanded', 'false'));
    this.render(account);
  }

  get account(): AccountRisk {
    return this.state;
  }

  render(a: AccountRisk): void {
    this.state = a;
    setAttr(this.row, 'data-stage', a.loss_stage);
    setText(this.stage, STAGE_TEXT[a.loss_stage] ?? a.loss_stage);
    setAttr(this.stage, 'data-stage', a.loss_stage);

    const used = num(a.credit_used) ?? 0;
    const creditPct = percentOf(used, num(a.credit_limit));
    const credit =
      a.credit_limit === null
        ? `${moneyText(a.credit_used)} · no limit`
        : `${moneyText(a.credit_used)} / ${moneyText(a.credit_limit)} · ${(creditPct ?? 0).toFixed(1)} %`;
    this.creditBar.set(creditPct, `Credit used ${credit}`);
    setText(this.creditText, credit);

    const loss = num(a.loss_today) ?? 0;
    const ceiling = num(a.loss_kill) ?? num(a.loss_reduce_only) ?? num(a.loss_warning);
    const lossPct = percentOf(Math.max(loss, 0), ceiling);
    const marks = [a.loss_warning, a.loss_reduce_only]
      .map((m) => percentOf(num(m) ?? 0, ceiling))
      .filter((p): p is number => p !== null && p > 0 && p < 100);
    const what = loss > 0 ? `loss ${moneyText(a.loss_today)}` : `gain ${moneyText(String(-loss))}`;
    const stages = [
      a.loss_warning !== null ? `warn ${moneyText(a.loss_warning)}` : '',
      a.loss_reduce_only !== null ? `reduce ${moneyText(a.loss_reduce_only)}` : '',
      a.loss_kill !== null ? `kill ${moneyText(a.loss_kill)}` : '',
    ].filter(Boolean);
    const lossLabel = `${what}${stages.length ? ' · ' + stages.join(' / ') : ' · no limit'}`;
    this.lossBar.set(lossPct, `Daily ${lossLabel}`, marks);
    setText(this.lossText, lossLabel);

    this.renderPositions(a.positions);

    const ks = a.kill_switch;
    setAttr(this.row, 'data-kill-switch', ks ? 'engaged' : 'off');
    this.killCell.replaceChildren();
    if (ks) {
      this.killCell.append(h('span', 'engaged', killSwitchText(ks, this.deps.username)), ' ');
      this.killCell.append(timeEl(ks.since));
    } else {
      this.killCell.append(h('span', 'off', 'off'));
    }
    setText(this.killButton, ks ? 'Release' : 'Kill');
    this.killButton.className = ks ? 'kill-toggle release' : 'kill-toggle kill';
    this.killButton.title = ks
      ? `Release ${a.account}'s kill switch`
      : `Engage ${a.account}'s kill switch: cancel its working orders and block new ones`;
  }

  private renderPositions(positions: readonly PositionRisk[]): void {
    const items = positions
      .filter((p) => p.position !== 0 || p.working_buy !== 0 || p.working_sell !== 0 || p.max_long !== null || p.max_short !== null)
      .map((p) => {
        const item = h('div', 'position');
        item.dataset.symbol = p.symbol;
        const limit = p.position >= 0 ? p.max_long : p.max_short;
        // A position limit counts working orders that would increase the position.
        const exposure = p.position >= 0 ? p.position + p.working_buy : -p.position + p.working_sell;
        const bar = new Bar();
        const side = p.position >= 0 ? 'long' : 'short';
        const text =
          `${p.symbol} ${signed(p.position)}` +
          (limit !== null ? ` / ${limit} ${side}` : '') +
          (p.working_buy || p.working_sell ? ` (working +${p.working_buy}/−${p.working_sell})` : '');
        bar.set(percentOf(exposure, limit), text);
        item.append(bar.el, h('span', 'figures', text));
        return item;
      });
    this.positions.replaceChildren(...(items.length ? items : [h('span', 'muted', 'flat')]));
  }
}

export class AccountsTable {
  private readonly body: HTMLTableSectionElement;
  private readonly rows = new Map<string, AccountRow>();

  constructor(private readonly deps: AccountsDeps) {
    const body = document.querySelector<HTMLTableSectionElement>('#risk-accounts tbody');
    if (!body) throw new Error('risk: missing #risk-accounts tbody');
    this.body = body;
  }

  get size(): number {
    return this.rows.size;
  }

  /** The first load, or a fresh one after a reconnect. Open limit editors stay open. */
  replaceAll(accounts: readonly AccountRisk[]): void {
    const seen = new Set<string>();
    for (const a of accounts) {
      seen.add(a.account);
      this.update(a);
    }
    for (const [code, row] of this.rows) {
      if (!seen.has(code)) {
        row.row.remove();
        row.editor.row.remove();
        this.rows.delete(code);
      }
    }
  }

  update(a: AccountRisk): void {
    const row = this.rows.get(a.account);
    if (row) {
      row.render(a);
      return;
    }
    const added = new AccountRow(a, this.deps);
    this.rows.set(a.account, added);
    // Accounts stay in code order, each with its editor right below it.
    const next = [...this.rows.keys()].filter((code) => code > a.account).sort()[0];
    const before = next !== undefined ? (this.rows.get(next)?.row ?? null) : null;
    this.body.insertBefore(added.row, before);
    this.body.insertBefore(added.editor.row, before);
  }

  /** A kill switch change seen before (or without) the account's own republished numbers. */
  setKillSwitch(account: string, ks: KillSwitchState | null): void {
    const row = this.rows.get(account);
    // The account's own numbers carry the fuller state (who, whether automatic); keep it
    // when they already agree with the change.
    if (row && (row.account.kill_switch !== null) !== (ks !== null)) row.render({ ...row.account, kill_switch: ks });
  }

  /** Usernames arrived: redraw the sentences that name people. */
  refresh(): void {
    for (const row of this.rows.values()) row.render(row.account);
  }
}
