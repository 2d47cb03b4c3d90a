// Order ticket: reads and sanity-checks the form, hands a complete order to
// the caller. Tick and lot rules are the server's to enforce, so its exact
// rejection sentence reaches the operator instead of a second opinion here.

import { byId, setText } from './dom';
import { parsePrice, parseQuantity } from './parse';
import { isStopType, type Instrument, type OrderType, type Side, type StpMode, type TimeInForce } from './types';

export interface TicketOrder {
  symbol: string;
  side: Side;
  type: OrderType;
  /** Null for market and stop orders, which carry no limit. */
  price: string | null;
  /** Set for stop and stop_limit orders only. */
  stop_price: string | null;
  quantity: number;
  time_in_force: TimeInForce;
  account: string | null;
  /** Iceberg peak; null shows the whole quantity. */
  display_quantity: number | null;
  post_only: boolean;
  stp_mode: StpMode;
}

export type StatusKind = 'ok' | 'error' | 'pending' | 'notice';

const TIFS: readonly TimeInForce[] = ['GTC', 'DAY', 'IOC', 'FOK'];
const TYPES: readonly OrderType[] = ['limit', 'market', 'stop', 'stop_limit'];
const STP_MODES: readonly StpMode[] = ['cancel_resting', 'cancel_aggressor', 'cancel_both', 'decrement_both'];
const DEFAULT_STP: StpMode = 'cancel_resting';

/** Which inputs an order type uses; the others are hidden and not sent. */
interface TypeFields {
  price: boolean;
  stop: boolean;
  display: boolean;
  postOnly: boolean;
}

function fieldsOf(type: OrderType): TypeFields {
  const hasLimit = type === 'limit' || type === 'stop_limit';
  return { price: hasLimit, stop: isStopType(type), display: hasLimit, postOnly: type === 'limit' };
}

export class Ticket {
  private readonly form = byId<HTMLFormElement>('ticket');
  private readonly side = byId<HTMLSelectElement>('ticket-side');
  private readonly type = byId<HTMLSelectElement>('ticket-type');
  private readonly price = byId<HTMLInputElement>('ticket-price');
  private readonly stop = byId<HTMLInputElement>('ticket-stop');
  private readonly qty = byId<HTMLInputElement>('ticket-qty');
  private readonly tif = byId<HTMLSelectElement>('ticket-tif');
  private readonly account = byId<HTMLSelectElement>('ticket-account');
  private readonly display = byId<HTMLInputElement>('ticket-display');
  private readonly postOnly = byId<HTMLInputElement>('ticket-post-only');
  private readonly stp = byId<HTMLSelectElement>('ticket-stp');
  private readonly advancedSummary = byId('ticket-advanced-summary');
  private readonly accountField: HTMLElement;
  private readonly submitBtn = byId<HTMLButtonElement>('ticket-submit');
  private readonly symbolLabel = byId('ticket-symbol');
  private readonly statusEl = byId('ticket-status');
  private instrument: Instrument | null = null;

  constructor(onSubmit: (order: TicketOrder) => void) {
    this.accountField = fieldOf(this.account);
    this.side.addEventListener('change', () => this.syncSide());
    this.type.addEventListener('change', () => this.syncType());
    for (const el of [this.display, this.postOnly, this.stp]) {
      el.addEventListener('input', () => this.syncAdvanced());
      el.addEventListener('change', () => this.syncAdvanced());
    }
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const order = this.read();
      if (order) onSubmit(order);
    });
    this.syncSide();
    this.syncType();
  }

  setInstrument(inst: Instrument | null): void {
    this.instrument = inst;
    setText(this.symbolLabel, inst?.symbol ?? '—');
    for (const input of [this.price, this.stop]) {
      input.placeholder = inst?.reference_price ?? '';
      input.value = '';
    }
    if (inst) {
      for (const input of [this.qty, this.display]) {
        input.step = String(inst.lot_size);
        input.min = String(inst.lot_size);
      }
    }
    this.submitBtn.disabled = inst === null;
  }

  setAccounts(accounts: readonly string[]): void {
    this.account.replaceChildren(
      ...accounts.map((a) => {
        const opt = document.createElement('option');
        opt.value = a;
        opt.textContent = a;
        return opt;
      }),
    );
    // A single account needs no choice; it is still sent with each order.
    this.accountField.hidden = accounts.length <= 1;
  }

  /** A price picked from the ladder goes to the limit, or to the stop when there is no limit. */
  setPrice(price: string): void {
    const target = !this.price.disabled ? this.price : !this.stop.disabled ? this.stop : null;
    if (!target) return;
    target.value = price;
    target.focus();
  }

  status(text: string, kind: StatusKind): void {
    setText(this.statusEl, text);
    this.statusEl.className = kind;
  }

  private orderType(): OrderType {
    return TYPES.find((t) => t === this.type.value) ?? 'limit';
  }

  private syncSide(): void {
    const side = this.side.value === 'sell' ? 'sell' : 'buy';
    this.submitBtn.classList.toggle('buy', side === 'buy');
    this.submitBtn.classList.toggle('sell', side === 'sell');
    setText(this.submitBtn, side === 'buy' ? 'Buy' : 'Sell');
  }

  private syncType(): void {
    const f = fieldsOf(this.orderType());
    // Disabled as well as hidden, so a value left in a hidden input is never read.
    const show = (input: HTMLInputElement, on: boolean) => {
      input.disabled = !on;
      fieldOf(input).hidden = !on;
    };
    show(this.price, f.price);
    show(this.stop, f.stop);
    show(this.display, f.display);
    show(this.postOnly, f.postOnly);
    this.syncAdvanced();
  }

  /** Keeps non-default advanced settings visible while the section is folded. */
  private syncAdvanced(): void {
    const parts: string[] = [];
    if (!this.display.disabled && this.display.value.trim()) parts.push(`iceberg ${this.display.value.trim()}`);
    if (!this.postOnly.disabled && this.postOnly.checked) parts.push('post-only');
    if (this.stp.value !== DEFAULT_STP) parts.push(`STP ${this.stp.value.replace(/_/g, ' ')}`);
    setText(this.advancedSummary, parts.join(' · '));
  }

  private fail(text: string, focus?: HTMLElement): null {
    this.status(text, 'error');
    const folded = focus?.closest('details');
    if (folded) folded.open = true;
    focus?.focus();
    return null;
  }

  private read(): TicketOrder | null {
    const inst = this.instrument;
    if (!inst) return this.fail('Choose an instrument first.');
    const side = this.side.value;
    if (side !== 'buy' && side !== 'sell') return this.fail('Choose buy or sell.');
    const type = this.orderType();
    const f = fieldsOf(type);
    const example = ', e.g. ' + inst.reference_price + '.';

    const price = f.price ? parsePrice(this.price.value) : null;
    if (f.price && price === null) return this.fail('Enter a positive limit price' + example, this.price);
    const stopPrice = f.stop ? parsePrice(this.stop.value) : null;
    if (f.stop && stopPrice === null) return this.fail('Enter a positive stop price' + example, this.stop);

    const quantity = parseQuantity(this.qty.value);
    if (quantity === null) return this.fail('Enter a whole, positive quantity.', this.qty);
    const tif = TIFS.find((t) => t === this.tif.value);
    if (!tif) return this.fail('Choose a time in force.');

    let display: number | null = null;
    if (f.display && this.display.value.trim()) {
      display = parseQuantity(this.display.value);
      if (display === null) return this.fail('The display quantity must be a whole, positive number.', this.display);
    }
    const stp = STP_MODES.find((m) => m === this.stp.value);
    if (!stp) return this.fail('Choose a self-trade prevention mode.');

    return {
      symbol: inst.symbol,
      side,
      type,
      price,
      stop_price: stopPrice,
      quantity,
      time_in_force: tif,
      account: this.account.value || null,
      display_quantity: display,
      post_only: f.postOnly && this.postOnly.checked,
      stp_mode: stp,
    };
  }
}

/** The labelled row around an input, which is what gets hidden. */
function fieldOf(el: HTMLElement): HTMLElement {
  return el.closest<HTMLElement>('.field') ?? el;
}
