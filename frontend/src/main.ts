// CWTS Desk browser entry: loads the user and instruments over REST, then
// runs everything live over the desk WebSocket.

import './desk.css';
import { api, errorText, HttpError } from './api';
import { HaltBanners } from './banner';
import { Book } from './book';
import { CancelAll } from './cancelall';
import { CancelOnDisconnect } from './cancelondisconnect';
import { acceptedText, cancelledText, isOperatorCancel, modifiedText, termsText } from './describe';
import { byId, setAttr, setText } from './dom';
import { Fills } from './fills';
import { OpenOrders } from './orders';
import { Positions } from './positions';
import { tickDecimals } from './price';
import { Tape } from './tape';
import { Ticket, type TicketOrder } from './ticket';
import { DeskConnection, type ConnState } from './shared/socket';
import type { ClientFrame, Instrument, Me, Order, OrderNewFrame, ServerFrame } from './types';

const SYMBOL_KEY = 'cwts-desk.symbol';
const SESSION_ENDED = 'Your session has ended. Reload the page to sign in again.';
/** The server accepts client_order_id values up to this length. */
const CLIENT_ORDER_ID_MAX = 64;

type Pending =
  | { kind: 'new'; clientOrderId: string }
  | { kind: 'cancel'; orderId: number }
  | { kind: 'modify'; orderId: number };

class Desk {
  private readonly pending = new Map<string, Pending>();
  private readonly instruments = new Map<string, Instrument>();
  private counter = 0;
  private readonly socket: DeskConnection<ServerFrame, ClientFrame>;
  private readonly book: Book;
  private readonly tape = new Tape();
  private readonly halts = new HaltBanners();
  private readonly fills = new Fills();
  private readonly orders: OpenOrders;
  private readonly positions: Positions;
  private readonly ticket: Ticket;
  private readonly cancelAll: CancelAll;
  private readonly cancelOnDisconnect: CancelOnDisconnect | null;
  private readonly conn = byId('conn');
  private readonly picker = byId<HTMLSelectElement>('symbol-select');

  constructor(
    private readonly me: Me,
    instruments: Instrument[],
  ) {
    for (const i of instruments) this.instruments.set(i.symbol, i);
    this.socket = new DeskConnection<ServerFrame, ClientFrame>(
      {
        onFrame: (f) => this.onFrame(f),
        onOpen: () => this.onOpen(),
        onState: (s) => this.onState(s),
        onAuthLost: () => showFatal(SESSION_ENDED),
      },
      { page: 'desk', retryOnResume: true, warnDropped: true },
    );
    this.book = new Book({
      send: (type, symbol) => this.socket.send({ type, symbol }),
      onPick: (price) => this.ticket.setPrice(price),
    });
    this.orders = new OpenOrders({
      cancel: (id) => this.cancel(id),
      modify: (id, price, quantity) => this.modify(id, price, quantity),
      invalid: (text) => this.ticket.status(text, 'error'),
    });
    this.ticket = new Ticket((o) => this.submit(o));
    this.ticket.setAccounts(me.accounts);
    this.orders.showAccounts(me.accounts.length > 1);
    this.positions = new Positions(
      api.positions,
      (symbol) => tickDecimals(this.instruments.get(symbol)?.tick_size ?? '0.01'),
      (err) => this.ticket.status(`Could not load positions: ${errorText(err)}`, 'error'),
    );
    this.positions.showAccounts(me.accounts.length > 1);
    this.cancelAll = new CancelAll({
      run: api.massCancel,
      status: (text, kind) => this.ticket.status(text, kind),
      // Frames update the table, but not while the socket is down; the listing always does.
      settled: () => this.reloadOrders(),
    });
    this.cancelOnDisconnect = me.roles.includes('trader')
      ? new CancelOnDisconnect({
          load: api.riskSettings,
          save: api.updateRiskSettings,
          status: (text, kind) => this.ticket.status(text, kind),
        })
      : null;

    this.picker.replaceChildren(
      ...instruments.map((i) => {
        const opt = document.createElement('option');
        opt.value = i.symbol;
        opt.textContent = i.symbol;
        opt.title = i.name;
        return opt;
      }),
    );
    this.picker.addEventListener('change', () => this.select(this.picker.value));
    const user = document.getElementById('desk-user');
    if (user && !user.textContent?.trim()) user.textContent = me.username;
  }

  start(): void {
    const remembered = readStored(SYMBOL_KEY);
    const first = remembered && this.instruments.has(remembered) ? remembered : this.picker.value;
    this.select(first);
    this.reloadOrders();
    this.positions.reload();
    void this.cancelOnDisconnect?.load();
    this.socket.connect();
  }

  private select(symbol: string): void {
    const inst = this.instruments.get(symbol) ?? null;
    if (this.picker.value !== symbol) this.picker.value = symbol;
    this.tape.clear();
    this.ticket.setInstrument(inst);
    this.book.select(inst);
    this.halts.select(inst?.symbol ?? null);
    if (inst) writeStored(SYMBOL_KEY, inst.symbol);
  }

  private onOpen(): void {
    this.halts.reset();
    this.book.resubscribe();
    // Order events and fills may have been missed while disconnected.
    this.reloadOrders();
    this.positions.reload();
  }

  private onState(state: ConnState): void {
    setText(this.conn, state);
    setAttr(this.conn, 'data-state', state);
    this.conn.className = state.replace(' ', '-');
    if (state !== 'live') this.book.disconnected();
    if (state !== 'live' && this.pending.size > 0) {
      // Answers to requests on a dead socket never come; say so rather than wait.
      for (const p of this.pending.values()) {
        if (p.kind === 'cancel') this.orders.cancelFailed(p.orderId);
        if (p.kind === 'modify') this.orders.modifyFailed(p.orderId);
      }
      this.pending.clear();
      this.ticket.status('Connection lost before the answer arrived; check open orders.', 'error');
    }
  }

  private reloadOrders(): void {
    this.orders.reload(api.openOrders).catch((err: unknown) => {
      this.ticket.status(`Could not load open orders: ${errorText(err)}`, 'error');
    });
  }

  private nextId(): number {
    this.counter += 1;
    return this.counter;
  }

  private requestId(): string {
    return `r${this.nextId()}-${Date.now()}`;
  }

  private submit(o: TicketOrder): void {
    const n = this.nextId();
    const requestId = `r${n}-${Date.now()}`;
    const suffix = `-${Date.now()}-${n}`;
    const clientOrderId = this.me.username.slice(0, CLIENT_ORDER_ID_MAX - suffix.length) + suffix;
    // Fields an order type does not use are left out, as the protocol asks.
    const frame: OrderNewFrame = {
      type: 'order.new',
      request_id: requestId,
      symbol: o.symbol,
      side: o.side,
      order_type: o.type,
      quantity: o.quantity,
      time_in_force: o.time_in_force,
      client_order_id: clientOrderId,
      stp_mode: o.stp_mode,
      ...(o.price !== null ? { price: o.price } : {}),
      ...(o.stop_price !== null ? { stop_price: o.stop_price } : {}),
      ...(o.display_quantity !== null ? { display_quantity: o.display_quantity } : {}),
      ...(o.post_only ? { post_only: true } : {}),
      ...(o.account ? { account: o.account } : {}),
    };
    if (!this.socket.send(frame)) {
      this.ticket.status('Not connected: order not sent.', 'error');
      return;
    }
    this.pending.set(requestId, { kind: 'new', clientOrderId });
    this.ticket.status(`Sending ${termsText(o)} ${o.time_in_force}…`, 'pending');
  }

  /** Sends a modify; false tells the row editor to stay open for another try. */
  private modify(orderId: number, price: string, quantity: number): boolean {
    const requestId = this.requestId();
    if (!this.socket.send({ type: 'order.modify', request_id: requestId, order_id: orderId, price, quantity })) {
      this.ticket.status('Not connected: modify not sent.', 'error');
      return false;
    }
    this.pending.set(requestId, { kind: 'modify', orderId });
    this.ticket.status(`Modifying order ${orderId} to ${quantity} open @ ${price}…`, 'pending');
    return true;
  }

  private cancel(orderId: number): void {
    const requestId = this.requestId();
    if (this.socket.send({ type: 'order.cancel', request_id: requestId, order_id: orderId })) {
      this.pending.set(requestId, { kind: 'cancel', orderId });
      return;
    }
    // Getting out of the market must not wait for the socket: fall back to REST.
    api
      .cancelOrder(orderId)
      .then((order) => {
        this.orders.upsert(order);
        this.ticket.status(`Cancelled order ${order.order_id}.`, 'ok');
      })
      .catch((err: unknown) => {
        this.orders.cancelFailed(orderId);
        this.ticket.status(errorText(err), 'error');
      });
  }

  /** The pending request a frame answers, removed from the table. */
  private settle(requestId: string | undefined): Pending | undefined {
    if (!requestId) return undefined;
    const p = this.pending.get(requestId);
    this.pending.delete(requestId);
    return p;
  }

  /**
   * Settles only a request of `kind` about `orderId`. One request can cause
   * outcomes for several orders that all echo its request_id (a new order
   * that cancels a resting one of ours to prevent a self-trade), and only
   * the outcome for the order asked about answers it.
   */
  private settleFor(requestId: string | undefined, kind: 'cancel' | 'modify', orderId: number): boolean {
    if (!requestId) return false;
    const p = this.pending.get(requestId);
    if (!p || p.kind === 'new' || p.kind !== kind || p.orderId !== orderId) return false;
    this.pending.delete(requestId);
    return true;
  }

  private onFrame(f: ServerFrame): void {
    if (this.halts.onFrame(f)) return;
    switch (f.type) {
      case 'book.snapshot':
        this.book.onSnapshot(f);
        break;
      case 'book.delta':
        this.book.onDelta(f);
        break;
      case 'trade':
        if (f.symbol === this.book.symbol) this.tape.add(f);
        this.positions.trade(f);
        break;
      case 'order.accepted': {
        this.orders.upsert(f.order);
        if (this.settle(f.request_id)?.kind === 'new') {
          this.ticket.status(acceptedText(f.order), f.order.status === 'cancelled' ? 'notice' : 'ok');
        }
        break;
      }
      case 'order.rejected': {
        const p = this.settle(f.request_id) ?? this.byClientOrderId(f.client_order_id);
        // One sent from elsewhere (another tab, a script) is still the trader's to know about.
        this.ticket.status(p ? f.message : `Order ${f.client_order_id} rejected: ${f.message}`, 'error');
        break;
      }
      case 'order.updated':
        this.orders.upsert(f.order);
        break;
      case 'order.cancelled': {
        this.orders.upsert(f.order);
        if (this.settleFor(f.request_id, 'cancel', f.order.order_id)) {
          this.ticket.status(`Cancelled order ${f.order.order_id}.`, 'ok');
        } else if (this.explainsItself(f.order)) {
          this.ticket.status(cancelledText(f.order), 'notice');
        }
        break;
      }
      case 'order.modified': {
        this.orders.upsert(f.order);
        if (this.settleFor(f.request_id, 'modify', f.order.order_id)) {
          this.orders.modifyDone(f.order.order_id);
          this.ticket.status(modifiedText(f.order), 'ok');
        }
        break;
      }
      case 'mass_cancel.done':
        this.cancelAll.onDone(f.cancelled_orders);
        break;
      case 'fill':
        this.orders.applyFill(f.fill);
        this.fills.add(f.fill);
        this.positions.fillSeen();
        break;
      case 'error': {
        const p = this.settle(f.request_id);
        if (p?.kind === 'cancel') this.orders.cancelFailed(p.orderId);
        if (p?.kind === 'modify') this.orders.modifyFailed(p.orderId);
        this.ticket.status(f.message, 'error');
        break;
      }
      default:
        console.warn('desk: unknown frame', f);
    }
  }

  /**
   * Whether a cancel nobody asked for here deserves a sentence: not one the
   * operator made (here or elsewhere), and not the per-order echo of our own
   * Cancel all, whose total is shown instead.
   */
  private explainsItself(o: Order): boolean {
    if (isOperatorCancel(o)) return false;
    return !(o.reason_code === 'mass_cancel' && this.cancelAll.covered);
  }

  /** A rejection without request_id may still be ours (sent just before a reconnect). */
  private byClientOrderId(clientOrderId: string): Pending | undefined {
    for (const [rid, p] of this.pending) {
      if (p.kind === 'new' && p.clientOrderId === clientOrderId) {
        this.pending.delete(rid);
        return p;
      }
    }
    return undefined;
  }
}

function readStored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage can be disabled by policy
  }
}

function writeStored(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* not critical */
  }
}

function showFatal(text: string): void {
  const banner = document.getElementById('desk-banner');
  if (banner) {
    banner.textContent = text;
    banner.hidden = false;
  } else {
    console.error(text);
  }
}

async function boot(): Promise<void> {
  let me: Me;
  let instruments: Instrument[];
  try {
    [me, instruments] = await Promise.all([api.me(), api.instruments()]);
  } catch (err) {
    if (err instanceof HttpError && (err.status === 401 || err.status === 403)) {
      showFatal(SESSION_ENDED);
    } else {
      showFatal(`The desk could not load: ${errorText(err)}`);
    }
    return;
  }
  new Desk(me, instruments).start();
}

void boot();
