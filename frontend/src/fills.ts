// The operator's own fills, newest first. Fills only arrive over the socket,
// so this shows what happened since the page was opened.

import { byId, h, timeEl } from './dom';
import type { Fill } from './types';

const MAX_ROWS = 200;

export class Fills {
  private readonly body: HTMLTableSectionElement;
  private readonly seen = new Set<string>();

  constructor() {
    const table = byId('fills');
    this.body = table.querySelector('tbody') ?? table.appendChild(h('tbody'));
  }

  add(f: Fill): void {
    // A self-cross yields two fills with one trade_id, one per order.
    const key = `${f.trade_id}:${f.order_id}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const tr = h('tr', `fill ${f.side}`);
    tr.dataset['tradeId'] = String(f.trade_id);
    tr.dataset['orderId'] = String(f.order_id);
    tr.dataset['side'] = f.side;
    const time = h('td', 'time');
    time.appendChild(timeEl(f.ts));
    tr.append(
      time,
      h('td', 'symbol', f.symbol),
      h('td', 'side', f.side),
      h('td', 'price', f.price),
      h('td', 'qty', String(f.quantity)),
      h('td', 'liquidity', f.liquidity),
      h('td', 'order-id', String(f.order_id)),
    );
    this.body.prepend(tr);
    while (this.body.rows.length > MAX_ROWS) {
      const last = this.body.lastElementChild as HTMLTableRowElement;
      this.seen.delete(`${last.dataset['tradeId']}:${last.dataset['orderId']}`);
      last.remove();
    }
  }
}
