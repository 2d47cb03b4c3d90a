// Trade tape for the selected instrument: newest first, bounded.

import { byId, h, timeEl } from './dom';
import type { TradeFrame } from './types';

const MAX_ROWS = 50;

export class Tape {
  private readonly body: HTMLTableSectionElement;
  private readonly seen = new Set<number>();

  constructor() {
    const table = byId('trades');
    this.body = table.querySelector('tbody') ?? table.appendChild(h('tbody'));
  }

  clear(): void {
    this.body.replaceChildren();
    this.seen.clear();
  }

  add(t: TradeFrame): void {
    // A resubscribe may replay a print we already show.
    if (this.seen.has(t.trade_id)) return;
    this.seen.add(t.trade_id);
    const tr = h('tr', `trade ${t.aggressor_side}`);
    tr.dataset['tradeId'] = String(t.trade_id);
    tr.dataset['side'] = t.aggressor_side;
    const time = h('td', 'time');
    time.appendChild(timeEl(t.ts));
    tr.append(
      h('td', 'price', t.price),
      h('td', 'qty', String(t.quantity)),
      h('td', 'side', t.aggressor_side),
      time,
    );
    this.body.prepend(tr);
    while (this.body.rows.length > MAX_ROWS) {
      const last = this.body.lastElementChild as HTMLTableRowElement;
      const id = Number(last.dataset['tradeId']);
      this.seen.delete(id);
      last.remove();
    }
  }
}
