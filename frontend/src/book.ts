// L2 book for the selected instrument: snapshot + seq-ordered deltas, rendered
// as a ladder (asks above bids, best prices meeting in the middle).

import { byId, h, setAttr, setText } from './dom';
import { fromUnits, tickDecimals, toUnits } from './price';
import type { BookDeltaFrame, BookSnapshotFrame, Instrument, Level, Side } from './types';

/** Levels shown per side; deeper levels are kept in state but not drawn. */
const DEPTH = 25;
/** Deltas held while waiting for a snapshot; beyond this we just wait for it. */
const MAX_BUFFERED = 5000;

interface BookLevel {
  price: string;
  units: number;
  qty: number;
  count: number;
}

type SideLevels = Map<number, BookLevel>;

interface LevelRow {
  tr: HTMLTableRowElement;
  price: HTMLTableCellElement;
  qty: HTMLTableCellElement;
  count: HTMLTableCellElement;
}

export interface BookDeps {
  /** Sends book.subscribe / book.unsubscribe; false when the socket is down. */
  send(type: 'book.subscribe' | 'book.unsubscribe', symbol: string): boolean;
  /** Operator clicked a level. */
  onPick(price: string, side: Side): void;
}

export class Book {
  private instrument: Instrument | null = null;
  private decimals = 2;
  private bids: SideLevels = new Map();
  private asks: SideLevels = new Map();
  /** seq of the last applied snapshot or delta; null until a snapshot arrives. */
  private seq: number | null = null;
  private awaitingSnapshot = false;
  private buffered: BookDeltaFrame[] = [];
  private renderQueued = false;

  private readonly view: BookView;

  constructor(private readonly deps: BookDeps) {
    this.view = new BookView(deps.onPick);
  }

  get symbol(): string | null {
    return this.instrument?.symbol ?? null;
  }

  /** Switch to another instrument: drop the old subscription and book, ask for the new one. */
  select(instrument: Instrument | null): void {
    const prev = this.instrument?.symbol;
    if (prev && prev !== instrument?.symbol) this.deps.send('book.unsubscribe', prev);
    this.instrument = instrument;
    this.decimals = instrument ? tickDecimals(instrument.tick_size) : 2;
    this.bids = new Map();
    this.asks = new Map();
    this.seq = null;
    this.view.reset(instrument);
    this.requestSnapshot();
  }

  /** The socket dropped: what is on screen may no longer be the market. */
  disconnected(): void {
    this.awaitingSnapshot = true;
    this.buffered = [];
    this.view.setStale(this.seq !== null);
  }

  /** After a (re)connect the server has forgotten our subscription. */
  resubscribe(): void {
    this.requestSnapshot();
  }

  onSnapshot(frame: BookSnapshotFrame): void {
    if (frame.symbol !== this.symbol) return;
    // A snapshot older than what we already hold (an answer to an earlier
    // subscribe overtaken by deltas) would roll the book back.
    if (!this.awaitingSnapshot && this.seq !== null && frame.seq < this.seq) return;
    this.bids = this.fromLevels(frame.bids);
    this.asks = this.fromLevels(frame.asks);
    this.seq = frame.seq;
    this.awaitingSnapshot = false;
    const pending = this.buffered.sort((a, b) => a.seq - b.seq);
    this.buffered = [];
    for (const d of pending) {
      if (!this.applyDelta(d)) break;
    }
    this.scheduleRender();
  }

  onDelta(frame: BookDeltaFrame): void {
    if (frame.symbol !== this.symbol) return;
    if (this.awaitingSnapshot || this.seq === null) {
      // Deltas can overtake the snapshot; keep them and replay those newer than it.
      if (this.buffered.length < MAX_BUFFERED) this.buffered.push(frame);
      return;
    }
    if (this.applyDelta(frame)) this.scheduleRender();
  }

  /**
   * Applies one delta in order. Stale ones (seq not above ours) are dropped;
   * a gap means we missed something, so the book is re-fetched. Returns
   * whether the book changed.
   */
  private applyDelta(frame: BookDeltaFrame): boolean {
    if (this.seq === null) return false;
    if (frame.seq <= this.seq) return false;
    if (frame.seq !== this.seq + 1) {
      this.requestSnapshot();
      return false;
    }
    for (const ch of frame.changes) {
      const units = toUnits(ch.price, this.decimals);
      if (units === null) {
        console.warn('desk: unreadable price in delta', ch);
        continue;
      }
      const levels = ch.side === 'buy' ? this.bids : this.asks;
      if (ch.quantity <= 0) levels.delete(units);
      else levels.set(units, { price: ch.price, units, qty: ch.quantity, count: ch.count });
    }
    this.seq = frame.seq;
    return true;
  }

  private requestSnapshot(): void {
    const symbol = this.symbol;
    if (!symbol) return;
    this.awaitingSnapshot = true;
    this.buffered = [];
    this.view.setStale(this.seq !== null);
    // If the socket is down this is a no-op; the reconnect calls resubscribe().
    this.deps.send('book.subscribe', symbol);
  }

  private fromLevels(levels: Level[]): SideLevels {
    const out: SideLevels = new Map();
    for (const [price, qty, count] of levels) {
      const units = toUnits(price, this.decimals);
      if (units === null) {
        console.warn('desk: unreadable price in snapshot', price);
        continue;
      }
      if (qty > 0) out.set(units, { price, units, qty, count });
    }
    return out;
  }

  private scheduleRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    // Bursts of deltas collapse into one DOM pass per frame.
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  private render(): void {
    // Best ask is the lowest: take the nearest DEPTH, then draw highest first
    // so the best ask sits at the bottom of the asks block, against the bids.
    const asks = [...this.asks.values()].sort((a, b) => a.units - b.units).slice(0, DEPTH).reverse();
    const bids = [...this.bids.values()].sort((a, b) => b.units - a.units).slice(0, DEPTH);
    this.view.draw(asks, bids, this.decimals, this.seq);
  }
}

class BookView {
  private readonly root = byId('book');
  private readonly asksBody = byId<HTMLTableSectionElement>('book-asks');
  private readonly bidsBody = byId<HTMLTableSectionElement>('book-bids');
  private readonly spread = byId('book-spread');
  private readonly title = byId('book-symbol');
  private readonly askRows = new Map<number, LevelRow>();
  private readonly bidRows = new Map<number, LevelRow>();
  /** Scroll the touch into view on the first draw of a new instrument. */
  private centerPending = true;

  constructor(onPick: (price: string, side: Side) => void) {
    const pick = (ev: MouseEvent) => {
      const tr = (ev.target as Element).closest<HTMLTableRowElement>('tr[data-price]');
      const side = tr?.dataset['side'];
      const price = tr?.dataset['price'];
      if (price && (side === 'buy' || side === 'sell')) onPick(price, side);
    };
    this.asksBody.addEventListener('click', pick);
    this.bidsBody.addEventListener('click', pick);
  }

  reset(instrument: Instrument | null): void {
    this.asksBody.replaceChildren();
    this.bidsBody.replaceChildren();
    this.askRows.clear();
    this.bidRows.clear();
    setText(this.spread, '');
    setText(this.title, instrument ? `${instrument.symbol} · ${instrument.name}` : '');
    this.setStale(false);
    this.centerPending = true;
  }

  setStale(stale: boolean): void {
    this.root.classList.toggle('stale', stale);
  }

  draw(asks: BookLevel[], bids: BookLevel[], decimals: number, seq: number | null): void {
    this.setStale(false);
    reconcile(this.asksBody, this.askRows, asks, 'sell');
    reconcile(this.bidsBody, this.bidRows, bids, 'buy');
    const bestAsk = asks[asks.length - 1];
    const bestBid = bids[0];
    setText(
      this.spread,
      bestAsk && bestBid ? `spread ${fromUnits(bestAsk.units - bestBid.units, decimals)}` : '',
    );
    setAttr(this.root, 'data-seq', seq === null ? '' : String(seq));
    if (this.centerPending && (asks.length > 0 || bids.length > 0)) {
      this.centerPending = false;
      this.centerTouch();
    }
  }

  /** Deep books overflow the panel; keep the spread, where the action is, in the middle. */
  private centerTouch(): void {
    const box = this.root.getBoundingClientRect();
    const mid = this.spread.getBoundingClientRect();
    this.root.scrollTop += mid.top - box.top - (this.root.clientHeight - mid.height) / 2;
  }
}

/**
 * Brings `body` to exactly `levels` in order, reusing the row of each price
 * and writing only the cells whose text changed.
 */
function reconcile(
  body: HTMLTableSectionElement,
  rows: Map<number, LevelRow>,
  levels: BookLevel[],
  side: Side,
): void {
  const keep = new Set<number>();
  let cursor: ChildNode | null = body.firstChild;
  for (const lvl of levels) {
    keep.add(lvl.units);
    let r = rows.get(lvl.units);
    if (!r) {
      r = { tr: h('tr', 'level'), price: h('td', 'price'), qty: h('td', 'qty'), count: h('td', 'count') };
      r.tr.dataset['side'] = side;
      r.tr.append(r.price, r.qty, r.count);
      rows.set(lvl.units, r);
    }
    setAttr(r.tr, 'data-price', lvl.price);
    setText(r.price, lvl.price);
    setText(r.qty, String(lvl.qty));
    setText(r.count, String(lvl.count));
    if (r.tr === cursor) cursor = cursor.nextSibling;
    else body.insertBefore(r.tr, cursor);
  }
  for (const [units, r] of rows) {
    if (!keep.has(units)) {
      r.tr.remove();
      rows.delete(units);
    }
  }
}
