// One-line sentences about orders for the ticket status line. Prices are
// shown exactly as the wire strings carry them.

import type { Order, OrderType, Side } from './types';

/** What the operator asked for; both ticket orders and server orders fit. */
export interface OrderTerms {
  side: Side;
  quantity: number;
  symbol: string;
  type: OrderType;
  price: string | null;
  stop_price: string | null;
}

/** "buy 100 AAPL @ 189.50", "sell 50 AAPL at market, stop 188.00", … */
export function termsText(o: OrderTerms): string {
  const limit = o.price === null ? 'at market' : `@ ${o.price}`;
  const stop = o.stop_price === null ? '' : `, stop ${o.stop_price}`;
  return `${o.side} ${o.quantity} ${o.symbol} ${limit}${stop}`;
}

/** Desk shorthand for the narrow open-orders type column. */
const TYPE_CODES: Readonly<Record<OrderType, string>> = {
  limit: 'LMT',
  market: 'MKT',
  stop: 'STP',
  stop_limit: 'STP LMT',
};

/** "LMT ICE PO" for the type column, and the same spelled out for its tooltip. */
export function typeLabel(o: Order): { text: string; title: string } {
  const text = [TYPE_CODES[o.type]];
  const title = [o.type.replace('_', ' ')];
  if (o.display_quantity !== null) {
    text.push('ICE');
    title.push(`iceberg showing ${o.display_quantity}`);
  }
  if (o.post_only) {
    text.push('PO');
    title.push('post-only');
  }
  return { text: text.join(' '), title: title.join(', ') };
}

/**
 * Why the system (not the operator) took an order off the book. Codes not
 * listed here still reach the operator, verbatim.
 */
const CANCEL_REASONS: Readonly<Record<string, string>> = {
  ioc_remainder: 'immediate or cancel',
  market_protection: 'it would have traded past the market price protection limit',
  no_liquidity: 'nothing left to trade against',
  self_trade_prevented: 'it would have traded with your own order',
  mass_cancel: 'by a mass cancel',
  expired: 'expired at the session close',
  kill_switch: 'a kill switch was engaged',
  cancel_on_disconnect: 'your last desk connection dropped',
};

/** The operator cancelled it, here or elsewhere (another tab, the API): nothing to explain. */
export function isOperatorCancel(o: Order): boolean {
  return o.reason_code === 'cancelled_by_user';
}

/** "Order 17 (buy 100 AAPL @ 189.50), 40 filled: rest cancelled, immediate or cancel [ioc_remainder]." */
export function cancelledText(o: Order): string {
  const filled = o.filled_quantity > 0;
  const what = filled ? `, ${o.filled_quantity} filled: rest cancelled` : ': cancelled';
  const why = CANCEL_REASONS[o.reason_code];
  const code = o.reason_code ? ` [${o.reason_code}]` : '';
  return `Order ${o.order_id} (${termsText(o)})${what}${why ? ', ' + why : ''}${code}.`;
}

export function acceptedText(o: Order): string {
  const what = termsText(o);
  switch (o.status) {
    case 'filled':
      return `Order ${o.order_id} filled: ${what}.`;
    case 'partially_filled':
      return `Order ${o.order_id} accepted, ${o.filled_quantity} filled: ${what}.`;
    case 'cancelled':
      return cancelledText(o);
    default:
      return `Order ${o.order_id} accepted: ${what}.`;
  }
}

export function modifiedText(o: Order): string {
  if (o.status === 'filled') return `Order ${o.order_id} modified and filled: ${termsText(o)}.`;
  const filled = o.filled_quantity > 0 ? `, ${o.filled_quantity} filled` : '';
  return `Order ${o.order_id} modified: ${o.leaves_quantity} open @ ${o.price ?? 'market'}${filled}.`;
}

export function countText(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
