// Order ticket: reads and sanity-checks the form, hands a complete order to
// the caller. Tick and lot rules are the server's to enforce, so its exact
// rejection sentence reaches the operator instead of a second opinion here.

import { byId, setText } from './dom';
import type { Instrument, Side, TimeInForce } from './types';

export interface TicketOrder {
  symbol: string;
  side: Side;
  price: string;
  quantity: number;
  time_in_force: TimeInForce;
  account: string | null;
}

export type StatusKind = 'ok' | 'error' | 'pending';

const PRICE_RE = /^\d+(\.\d+)?$/;
const QTY_RE = /^[1-9]\d*$/;
const TIFS: readonly TimeInForce[] = ['GTC', 'DAY', 'IOC', 'FOK'];

export class Ticket {
  private readonly form = byId<HTMLFormElement>('ticket');
  private readonly side = byId<HTMLSelectElement>('ticket-side');
  private readonly price = byId<HTMLInputElement>('ticket-price');
  private readonly qty = byId<HTMLInputElement>('ticket-qty');
  private readonly tif = byId<HTMLSelectElement>('ticket-tif');
  private readonly account = byId<HTMLSelectElement>('ticket-account');
  private readonly accountField: HTMLElement;
  private readonly submitBtn = byId<HTMLButtonElement>('ticket-submit');
  private readonly symbolLabel = byId('ticket-symbol');
  private readonly statusEl = byId('ticket-status');
  private instrument: Instrument | null = null;

  constructor(onSubmit: (order: TicketOrder) => void) {
    this.accountField = this.account.closest<HTMLElement>('.field') ?? this.account;
    this.side.addEventListener('change', () => this.syncSide());
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const order = this.read();
      if (order) onSubmit(order);
    });
    this.syncSide();
  }

  setInstrument(inst: Instrument | null): void {
    this.instrument = inst;
    setText(this.symbolLabel, inst?.symbol ?? '—');
    this.price.placeholder = inst?.reference_price ?? '';
    this.price.value = '';
    if (inst) {
      this.qty.step = String(inst.lot_size);
      this.qty.min = String(inst.lot_size);
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

  setPrice(price: string): void {
    this.price.value = price;
    this.price.focus();
  }

  status(text: string, kind: StatusKind): void {
    setText(this.statusEl, text);
    this.statusEl.className = kind;
  }

  private syncSide(): void {
    const side = this.side.value === 'sell' ? 'sell' : 'buy';
    this.submitBtn.classList.toggle('buy', side === 'buy');
    this.submitBtn.classList.toggle('sell', side === 'sell');
    setText(this.submitBtn, side === 'buy' ? 'Buy' : 'Sell');
  }

  private read(): TicketOrder | null {
    const inst = this.instrument;
    if (!inst) {
      this.status('Choose an instrument first.', 'error');
      return null;
    }
    const side = this.side.value;
    if (side !== 'buy' && side !== 'sell') {
      this.status('Choose buy or sell.', 'error');
      return null;
    }
    const price = this.price.value.trim();
    if (!PRICE_RE.test(price) || !/[1-9]/.test(price)) {
      this.status('Enter a positive price, e.g. ' + inst.reference_price + '.', 'error');
      this.price.focus();
      return null;
    }
    const qtyText = this.qty.value.trim();
    if (!QTY_RE.test(qtyText) || !Number.isSafeInteger(Number(qtyText))) {
      this.status('Enter a whole, positive quantity.', 'error');
      this.qty.focus();
      return null;
    }
    const tif = TIFS.find((t) => t === this.tif.value);
    if (!tif) {
      this.status('Choose a time in force.', 'error');
      return null;
    }
    return {
      symbol: inst.symbol,
      side,
      price,
      quantity: Number(qtyText),
      time_in_force: tif,
      account: this.account.value || null,
    };
  }
}
