// Net positions of the operator's accounts. The server keeps them (average
// price and realised P&L are computed there), so the panel reloads the REST
// listing when fills say something changed, and only adds the last trade
// price seen on the socket. Money stays in the server's decimal strings.

import { byId, h, setAttr, setText } from './dom';
import type { Position, TradeFrame } from './types';

/** Fills that land within this long of each other cause one reload. */
const DEBOUNCE_MS = 250;
/** A steady stream of fills still reloads at least this often. */
const MAX_WAIT_MS = 1000;

interface Row {
  tr: HTMLTableRowElement;
  qty: HTMLTableCellElement;
  avg: HTMLTableCellElement;
  realised: HTMLTableCellElement;
  last: HTMLTableCellElement;
}

export class Positions {
  private readonly table = byId('positions');
  private readonly body: HTMLTableSectionElement;
  private readonly rows = new Map<string, Row>();
  /** Last trade seen per symbol: its id (to ignore replays) and price. */
  private readonly lastTrade = new Map<string, { id: number; price: string }>();
  /** Numbers each request, so an answer overtaken by a newer one is dropped. */
  private requestSeq = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private firstPendingAt = 0;

  /**
   * @param load fetches the listing
   * @param decimals the tick decimals of a symbol, for showing average prices
   * @param failed told why a reload did not work
   */
  constructor(
    private readonly load: () => Promise<Position[]>,
    private readonly decimals: (symbol: string) => number,
    private readonly failed: (err: unknown) => void,
  ) {
    this.body = this.table.querySelector('tbody') ?? this.table.appendChild(h('tbody'));
  }

  showAccounts(on: boolean): void {
    this.table.classList.toggle('one-account', !on);
  }

  /** Reloads now; an answer to an earlier request that comes later is ignored. */
  reload(): void {
    this.cancelScheduled();
    const seq = ++this.requestSeq;
    this.load().then(
      (positions) => {
        if (seq === this.requestSeq) this.render(positions);
      },
      (err: unknown) => {
        if (seq === this.requestSeq) this.failed(err);
      },
    );
  }

  /** A fill changed a position: reload once the burst it belongs to is over. */
  fillSeen(): void {
    const now = Date.now();
    if (this.timer === null) this.firstPendingAt = now;
    else clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, this.firstPendingAt + MAX_WAIT_MS - now));
    this.timer = setTimeout(() => this.reload(), wait);
  }

  /** A print on a subscribed book: the last price of its symbol. */
  trade(t: TradeFrame): void {
    const seen = this.lastTrade.get(t.symbol);
    if (seen && seen.id >= t.trade_id) return;
    this.lastTrade.set(t.symbol, { id: t.trade_id, price: t.price });
    for (const row of this.rows.values()) {
      if (row.tr.dataset['symbol'] === t.symbol) setText(row.last, t.price);
    }
  }

  private cancelScheduled(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private render(positions: Position[]): void {
    const sorted = [...positions].sort(
      (a, b) => compare(a.account, b.account) || compare(a.symbol, b.symbol),
    );
    const listed = new Set<string>();
    let before: Element | null = this.body.firstElementChild;
    for (const p of sorted) {
      const key = `${p.account}\u0000${p.symbol}`;
      listed.add(key);
      const row = this.rows.get(key) ?? this.create(key, p);
      this.fill(row, p);
      // Keep the DOM in listing order without rebuilding rows that stay.
      if (row.tr !== before) this.body.insertBefore(row.tr, before);
      before = row.tr.nextElementSibling;
    }
    for (const [key, row] of this.rows) {
      if (!listed.has(key)) {
        row.tr.remove();
        this.rows.delete(key);
      }
    }
  }

  private create(key: string, p: Position): Row {
    const tr = h('tr', 'position');
    tr.dataset['account'] = p.account;
    tr.dataset['symbol'] = p.symbol;
    const row: Row = {
      tr,
      qty: h('td', 'qty'),
      avg: h('td', 'price avg'),
      realised: h('td', 'pnl realised'),
      last: h('td', 'price last', this.lastTrade.get(p.symbol)?.price ?? ''),
    };
    tr.append(
      h('td', 'account', p.account),
      h('td', 'symbol', p.symbol),
      row.qty,
      row.avg,
      row.realised,
      row.last,
    );
    this.rows.set(key, row);
    return row;
  }

  private fill(row: Row, p: Position): void {
    const side = p.quantity > 0 ? 'long' : p.quantity < 0 ? 'short' : 'flat';
    setAttr(row.tr, 'data-side', side);
    setText(row.qty, String(p.quantity));
    setText(row.avg, p.average_price === null ? '' : showPrice(p.average_price, this.decimals(p.symbol)));
    setText(row.realised, p.realised_pnl);
    setAttr(row.realised, 'data-sign', decimalSign(p.realised_pnl));
    row.qty.title = `Bought ${p.bought_quantity}, sold ${p.sold_quantity}`;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "232.500000" with 2 decimals -> "232.50": zeros beyond the tick dropped, digits never. */
function showPrice(text: string, decimals: number): string {
  const m = /^(-?\d+)\.(\d*?)0*$/.exec(text.trim());
  if (!m) return text;
  const frac = (m[2] ?? '').padEnd(decimals, '0');
  return frac ? `${m[1]}.${frac}` : (m[1] ?? text);
}

/** The sign of a decimal string, without turning it into a float. */
function decimalSign(text: string): 'positive' | 'negative' | 'zero' {
  if (!/[1-9]/.test(text)) return 'zero';
  return text.trim().startsWith('-') ? 'negative' : 'positive';
}
