// Inline modify of one open-order row: the price and open-quantity cells
// swap their text for inputs, and the action cell gains confirm / discard.
// The cells' text spans stay in place (only hidden), so live updates keep
// landing in them while the operator types.

import { h } from './dom';
import { parsePrice, parseQuantity } from './parse';

export interface ModifyCells {
  price: HTMLTableCellElement;
  leaves: HTMLTableCellElement;
  action: HTMLTableCellElement;
}

export type ModifyRead = { ok: true; price: string; quantity: number } | { ok: false; message: string };

export class RowEditor {
  private readonly price = h('input', 'modify-price');
  private readonly qty = h('input', 'modify-qty');
  // Symbols keep the row narrow; the titles and labels say what they do.
  private readonly confirm = h('button', 'modify-confirm', '✓');
  private readonly discard = h('button', 'modify-cancel', '✕');

  constructor(
    private readonly cells: ModifyCells,
    orderId: number,
    price: string,
    leaves: number,
  ) {
    this.price.type = 'text';
    this.price.inputMode = 'decimal';
    this.price.spellcheck = false;
    this.price.value = price;
    this.price.title = `New limit price for order ${orderId}`;
    this.price.setAttribute('aria-label', this.price.title);
    this.qty.type = 'number';
    this.qty.min = '1';
    this.qty.value = String(leaves);
    this.qty.title = `New open quantity for order ${orderId}`;
    this.qty.setAttribute('aria-label', this.qty.title);
    this.confirm.type = 'button';
    this.confirm.title = `Send the change to order ${orderId}`;
    this.confirm.setAttribute('aria-label', this.confirm.title);
    this.discard.type = 'button';
    this.discard.title = 'Close without changing the order';
    this.discard.setAttribute('aria-label', this.discard.title);

    for (const cell of [cells.price, cells.leaves]) cell.classList.add('editing');
    cells.price.append(this.price);
    cells.leaves.append(this.qty);
    // After the order's own Cancel button, which stays where it was.
    cells.action.append(this.confirm, this.discard);
    this.price.focus();
    this.price.select();
  }

  read(): ModifyRead {
    const price = parsePrice(this.price.value);
    if (price === null) return { ok: false, message: 'Enter a positive limit price.' };
    const quantity = parseQuantity(this.qty.value);
    if (quantity === null) return { ok: false, message: 'Enter a whole, positive open quantity.' };
    return { ok: true, price, quantity };
  }

  /** Locks the inputs while the modify is in flight, so what was sent is what is shown. */
  busy(on: boolean): void {
    for (const el of [this.price, this.qty, this.confirm, this.discard]) el.disabled = on;
    if (!on) this.price.focus();
  }

  close(): void {
    for (const el of [this.price, this.qty, this.confirm, this.discard]) el.remove();
    for (const cell of [this.cells.price, this.cells.leaves]) cell.classList.remove('editing');
  }
}
