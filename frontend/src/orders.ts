// The operator's open orders, loaded over REST and kept live from socket frames.
//
// Fills and order updates arrive as two streams whose relative order the
// protocol does not fix, so fills are never simply added to the server's
// filled_quantity (that would double count whenever the update came first).
// Instead the shown fill is max(server filled, baseline + fills seen since the
// baseline), which is right for either arrival order; order updates are
// absolute, so they always correct the row.

import { byId, h, setAttr, setText, formatTime } from './dom';
import { isOpenStatus, type Fill, type Order } from './types';

interface Tracked {
  order: Order;
  /** filled_quantity known when fill counting started for this order. */
  baseline: number;
  /** Sum of fill frames seen since the baseline. */
  fillsSinceBaseline: number;
  cells: RowCells;
}

interface RowCells {
  tr: HTMLTableRowElement;
  filled: HTMLTableCellElement;
  leaves: HTMLTableCellElement;
  status: HTMLTableCellElement;
  cancel: HTMLButtonElement;
}

/** Bound on fills remembered for orders not (yet) in the table. */
const MAX_ORPHAN_FILLS = 1000;

export class OpenOrders {
  private readonly body: HTMLTableSectionElement;
  private readonly tracked = new Map<number, Tracked>();
  /** Fills for orders we have not seen yet, e.g. a fill that overtook order.accepted. */
  private readonly orphanFills = new Map<number, number>();
  /** Monotonic counter of socket events, per order, to merge REST reloads safely. */
  private eventClock = 0;
  private readonly lastEvent = new Map<number, number>();

  constructor(private readonly onCancel: (orderId: number) => void) {
    const table = byId('orders');
    this.body = table.querySelector('tbody') ?? table.appendChild(h('tbody'));
    this.body.addEventListener('click', (ev) => {
      const btn = (ev.target as Element).closest<HTMLButtonElement>('button.cancel');
      const id = Number(btn?.closest<HTMLTableRowElement>('tr.order')?.dataset['orderId']);
      if (btn && !btn.disabled && Number.isInteger(id)) {
        btn.disabled = true;
        this.onCancel(id);
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

  has(orderId: number): boolean {
    return this.tracked.has(orderId);
  }

  private touch(id: number): void {
    this.eventClock += 1;
    this.lastEvent.set(id, this.eventClock);
  }

  private insert(order: Order, baseline: number, fills: number): void {
    const cells = buildRow(order);
    const t: Tracked = { order, baseline, fillsSinceBaseline: fills, cells };
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
    const filled = Math.min(o.quantity, Math.max(o.filled_quantity, t.baseline + t.fillsSinceBaseline));
    const leaves = Math.max(0, o.leaves_quantity - (filled - o.filled_quantity));
    if (leaves === 0) {
      // Fully filled by fills we saw before the status update: it is no longer open.
      this.remove(o.order_id);
      return;
    }
    const status = filled > o.filled_quantity && o.status === 'new' ? 'partially_filled' : o.status;
    setText(t.cells.filled, String(filled));
    setText(t.cells.leaves, String(leaves));
    setText(t.cells.status, status.replace('_', ' '));
    setAttr(t.cells.tr, 'data-status', status);
  }
}

function buildRow(o: Order): RowCells {
  const tr = h('tr', `order ${o.side}`);
  tr.dataset['orderId'] = String(o.order_id);
  tr.dataset['side'] = o.side;
  tr.dataset['symbol'] = o.symbol;
  const time = h('td', 'time', formatTime(o.created_at));
  time.title = o.created_at;
  const filled = h('td', 'filled');
  const leaves = h('td', 'leaves');
  const status = h('td', 'status');
  const cancel = h('button', 'cancel', 'Cancel');
  cancel.type = 'button';
  cancel.title = `Cancel order ${o.order_id}`;
  const action = h('td', 'action');
  action.appendChild(cancel);
  tr.append(
    time,
    h('td', 'order-id', String(o.order_id)),
    h('td', 'symbol', o.symbol),
    h('td', 'side', o.side),
    h('td', 'price', o.price),
    h('td', 'qty', String(o.quantity)),
    filled,
    leaves,
    h('td', 'tif', o.time_in_force),
    h('td', 'account', o.account),
    status,
    action,
  );
  return { tr, filled, leaves, status, cancel };
}
