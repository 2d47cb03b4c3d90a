// The operator's open orders, loaded over REST and kept live from socket frames.
//
// Fills and order updates arrive as two streams whose relative order the
// protocol does not fix, so fills are never simply added to the server's
// filled_quantity (that would double count whenever the update came first).
// Instead the shown fill is max(server filled, baseline + fills seen since the
// baseline), which is right for either arrival order; order updates are
// absolute, so they always correct the row.

import { typeLabel } from './describe';
import { byId, h, setAttr, setText, formatTime } from './dom';
import { RowEditor } from './modify';
import { isOpenStatus, isStopType, type Fill, type Order, type OrderStatus } from './types';

/** What the rows ask the desk to do. */
export interface OrderActions {
  cancel(orderId: number): void;
  /** Returns false when the request could not be sent; the editor then stays open. */
  modify(orderId: number, price: string, quantity: number): boolean;
  /** A complaint about what the operator typed. */
  invalid(text: string): void;
}

interface Tracked {
  order: Order;
  /** filled_quantity known when fill counting started for this order. */
  baseline: number;
  /** Sum of fill frames seen since the baseline. */
  fillsSinceBaseline: number;
  cells: RowCells;
  editor: RowEditor | null;
}

interface RowCells {
  tr: HTMLTableRowElement;
  price: HTMLTableCellElement;
  /** Text holders inside cells that also host the modify inputs. */
  priceText: HTMLSpanElement;
  leavesText: HTMLSpanElement;
  qty: HTMLTableCellElement;
  filled: HTMLTableCellElement;
  leaves: HTMLTableCellElement;
  status: HTMLTableCellElement;
  action: HTMLTableCellElement;
  modify: HTMLButtonElement;
  cancel: HTMLButtonElement;
}

/** Bound on fills remembered for orders not (yet) in the table. */
const MAX_ORPHAN_FILLS = 1000;

export class OpenOrders {
  private readonly table = byId('orders');
  private readonly body: HTMLTableSectionElement;
  private readonly tracked = new Map<number, Tracked>();
  /** Fills for orders we have not seen yet, e.g. a fill that overtook order.accepted. */
  private readonly orphanFills = new Map<number, number>();
  /** Monotonic counter of socket events, per order, to merge REST reloads safely. */
  private eventClock = 0;
  private readonly lastEvent = new Map<number, number>();

  constructor(private readonly actions: OrderActions) {
    this.body = this.table.querySelector('tbody') ?? this.table.appendChild(h('tbody'));
    this.body.addEventListener('click', (ev) => {
      const btn = (ev.target as Element).closest<HTMLButtonElement>('button');
      const t = this.rowOf(btn);
      if (!btn || btn.disabled || !t) return;
      if (btn.classList.contains('cancel')) {
        btn.disabled = true;
        this.actions.cancel(t.order.order_id);
      } else if (btn.classList.contains('modify')) this.openEditor(t);
      else if (btn.classList.contains('modify-confirm')) this.confirmEdit(t);
      else if (btn.classList.contains('modify-cancel')) this.closeEditor(t);
    });
    this.body.addEventListener('keydown', (ev) => {
      const input = ev.target as Element;
      if (!input.matches('input.modify-price, input.modify-qty')) return;
      const t = this.rowOf(input);
      if (!t) return;
      if (ev.key === 'Enter') {
        ev.preventDefault();
        this.confirmEdit(t);
      } else if (ev.key === 'Escape') {
        this.closeEditor(t);
      }
    });
  }

  /**
   * Replaces the table with a REST listing, except for orders the socket has
   * told us about since the request went out: those frames are newer.
   */
  async reload(fetchOpen: () => Promise<Order[]>): Promise<void> {
    const startedAt = this.eventClock;
    const orders = await fetchOpen();
    const newerOnSocket = (id: number) => (this.lastEvent.get(id) ?? -1) > startedAt;
    const listed = new Set<number>();
    for (const o of orders) {
      listed.add(o.order_id);
      if (newerOnSocket(o.order_id)) continue;
      // Fills seen before this listing may or may not be in it; count from here.
      this.orphanFills.delete(o.order_id);
      const t = this.tracked.get(o.order_id);
      if (!isOpenStatus(o.status)) this.remove(o.order_id);
      else if (!t) this.insert(o, o.filled_quantity, 0);
      else {
        t.order = o;
        t.baseline = o.filled_quantity;
        t.fillsSinceBaseline = 0;
        this.refresh(t);
      }
    }
    for (const id of [...this.tracked.keys()]) {
      if (!listed.has(id) && !newerOnSocket(id)) this.remove(id);
    }
  }

  /** An absolute order state from order.accepted / order.updated / order.cancelled. */
  upsert(order: Order): void {
    const id = order.order_id;
    this.touch(id);
    const t = this.tracked.get(id);
    if (t && order.filled_quantity < t.order.filled_quantity) return; // older view
    if (!isOpenStatus(order.status)) {
      this.remove(id);
      return;
    }
    if (t) {
      t.order = order;
      this.refresh(t);
    } else {
      // Born while we were listening: every fill of it reaches this socket.
      const early = this.orphanFills.get(id) ?? 0;
      this.orphanFills.delete(id);
      this.insert(order, 0, early);
    }
  }

  applyFill(fill: Fill): void {
    const id = fill.order_id;
    this.touch(id);
    const t = this.tracked.get(id);
    if (!t) {
      this.orphanFills.set(id, (this.orphanFills.get(id) ?? 0) + fill.quantity);
      if (this.orphanFills.size > MAX_ORPHAN_FILLS) {
        const oldest = this.orphanFills.keys().next().value;
        if (oldest !== undefined) this.orphanFills.delete(oldest);
      }
      return;
    }
    t.fillsSinceBaseline += fill.quantity;
    this.refresh(t);
  }

  /** Re-arms the Cancel button after a failed cancel. */
  cancelFailed(orderId: number): void {
    const t = this.tracked.get(orderId);
    if (t) t.cells.cancel.disabled = false;
  }

  /** Our modify went through: the row already shows the new terms, so the editor goes. */
  modifyDone(orderId: number): void {
    const t = this.tracked.get(orderId);
    if (t) this.closeEditor(t);
  }

  /** Our modify was refused or lost: the operator may correct and retry. */
  modifyFailed(orderId: number): void {
    this.tracked.get(orderId)?.editor?.busy(false);
  }

  /** The account column only earns its width when the operator trades several. */
  showAccounts(on: boolean): void {
    this.table.classList.toggle('one-account', !on);
  }

  has(orderId: number): boolean {
    return this.tracked.has(orderId);
  }

  private rowOf(el: Element | null): Tracked | undefined {
    const id = Number(el?.closest<HTMLTableRowElement>('tr.order')?.dataset['orderId']);
    return Number.isInteger(id) ? this.tracked.get(id) : undefined;
  }

  private openEditor(t: Tracked): void {
    const price = t.order.price;
    if (t.editor || price === null) return;
    t.editor = new RowEditor(t.cells, t.order.order_id, price, shown(t).leaves);
    this.refresh(t);
  }

  private confirmEdit(t: Tracked): void {
    const editor = t.editor;
    if (!editor) return;
    const read = editor.read();
    if (!read.ok) {
      this.actions.invalid(read.message);
      return;
    }
    editor.busy(true);
    if (!this.actions.modify(t.order.order_id, read.price, read.quantity)) editor.busy(false);
  }

  private closeEditor(t: Tracked): void {
    t.editor?.close();
    t.editor = null;
    this.refresh(t);
  }

  private touch(id: number): void {
    this.eventClock += 1;
    this.lastEvent.set(id, this.eventClock);
  }

  private insert(order: Order, baseline: number, fills: number): void {
    const cells = buildRow(order);
    const t: Tracked = { order, baseline, fillsSinceBaseline: fills, cells, editor: null };
    this.tracked.set(order.order_id, t);
    // Newest (highest id) first.
    let before: HTMLTableRowElement | null = null;
    for (const tr of this.body.rows) {
      if (Number(tr.dataset['orderId']) < order.order_id) {
        before = tr;
        break;
      }
    }
    this.body.insertBefore(cells.tr, before);
    this.refresh(t);
  }

  private remove(id: number): void {
    const t = this.tracked.get(id);
    if (!t) return;
    t.cells.tr.remove();
    this.tracked.delete(id);
  }

  private refresh(t: Tracked): void {
    const o = t.order;
    const { filled, leaves, status } = shown(t);
    if (leaves === 0) {
      // Fully filled by fills we saw before the status update: it is no longer open.
      this.remove(o.order_id);
      return;
    }
    const c = t.cells;
    setText(c.priceText, o.price ?? 'MKT');
    setText(c.qty, String(o.quantity));
    setText(c.filled, String(filled));
    setText(c.leavesText, String(leaves));
    setText(c.status, status.replace('_', ' '));
    setAttr(c.tr, 'data-status', status);
    c.modify.hidden = t.editor !== null || !canModify(o, status, filled);
  }
}

/** The row's figures: the server's state plus fills it may not have counted yet. */
function shown(t: Tracked): { filled: number; leaves: number; status: OrderStatus } {
  const o = t.order;
  const filled = Math.min(o.quantity, Math.max(o.filled_quantity, t.baseline + t.fillsSinceBaseline));
  const leaves = Math.max(0, o.leaves_quantity - (filled - o.filled_quantity));
  const status = filled > o.filled_quantity && o.status === 'new' ? 'partially_filled' : o.status;
  return { filled, leaves, status };
}

/**
 * Only a priced order on the book can be modified. A stop still waiting for
 * its trigger (open, never filled) is refused by the server, so no button.
 */
function canModify(o: Order, status: OrderStatus, filled: number): boolean {
  if (o.price === null) return false;
  return !(isStopType(o.type) && status === 'new' && filled === 0);
}

function buildRow(o: Order): RowCells {
  const tr = h('tr', `order ${o.side}`);
  tr.dataset['orderId'] = String(o.order_id);
  tr.dataset['side'] = o.side;
  tr.dataset['symbol'] = o.symbol;
  tr.dataset['type'] = o.type;
  const time = h('td', 'time', formatTime(o.created_at));
  time.title = o.created_at;
  // Type, stop and flags are fixed once accepted; only price and quantities change.
  const label = typeLabel(o);
  const type = h('td', 'type', label.text);
  type.title = label.title;
  const priceText = h('span', 'value');
  const price = h('td', 'price');
  price.appendChild(priceText);
  const leavesText = h('span', 'value');
  const leaves = h('td', 'leaves');
  leaves.appendChild(leavesText);
  const qty = h('td', 'qty');
  const filled = h('td', 'filled');
  const status = h('td', 'status');
  const modify = h('button', 'modify', 'Modify');
  modify.type = 'button';
  modify.title = `Change the price or open quantity of order ${o.order_id}`;
  const cancel = h('button', 'cancel', 'Cancel');
  cancel.type = 'button';
  cancel.title = `Cancel order ${o.order_id}`;
  const action = h('td', 'action');
  // Cancel first, so it sits in the same place on every row.
  action.append(cancel, modify);
  tr.append(
    time,
    h('td', 'order-id', String(o.order_id)),
    h('td', 'symbol', o.symbol),
    h('td', 'side', o.side),
    type,
    price,
    h('td', 'stop', o.stop_price ?? ''),
    qty,
    filled,
    leaves,
    h('td', 'tif', o.time_in_force),
    h('td', 'account', o.account),
    status,
    action,
  );
  return { tr, price, priceText, qty, filled, leaves, leavesText, status, action, modify, cancel };
}
