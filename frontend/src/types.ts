// Wire types from docs/protocol.md. Prices are decimal strings and stay strings;
// quantities and counts are integers.

export type Side = 'buy' | 'sell';
export type TimeInForce = 'GTC' | 'DAY' | 'IOC' | 'FOK';
export type OrderType = 'limit' | 'market' | 'stop' | 'stop_limit';
export type StpMode = 'cancel_resting' | 'cancel_aggressor' | 'cancel_both' | 'decrement_both';
export type OrderStatus = 'new' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

export interface Me {
  username: string;
  roles: string[];
  accounts: string[];
}

export interface Instrument {
  symbol: string;
  name: string;
  tick_size: string;
  lot_size: number;
  reference_price: string;
  luld_tier: number;
}

export interface Order {
  order_id: number;
  client_order_id: string;
  account: string;
  symbol: string;
  side: Side;
  type: OrderType;
  time_in_force: TimeInForce;
  /** Null for market and stop orders. */
  price: string | null;
  /** Set for stop and stop_limit orders only. */
  stop_price: string | null;
  /** Iceberg peak; null when the whole quantity is shown. */
  display_quantity: number | null;
  post_only: boolean;
  quantity: number;
  filled_quantity: number;
  leaves_quantity: number;
  status: OrderStatus;
  reason_code: string;
  created_at: string;
}

export interface Fill {
  trade_id: number;
  order_id: number;
  symbol: string;
  side: Side;
  price: string;
  quantity: number;
  liquidity: 'maker' | 'taker';
  ts: string;
}

/** Net position of one account in one instrument, from GET /api/v1/positions/. */
export interface Position {
  account: string;
  symbol: string;
  /** Signed: negative when short. */
  quantity: number;
  /** Null when flat. */
  average_price: string | null;
  realised_pnl: string;
  bought_quantity: number;
  sold_quantity: number;
}

/** One L2 level: [price, quantity, order count]. */
export type Level = [price: string, quantity: number, count: number];

export interface LevelChange {
  side: Side;
  price: string;
  quantity: number;
  count: number;
}

/** The trader's own risk choices, from /api/v1/risk/me/settings/. */
export interface TraderRiskSettings {
  /** Cancel my working DAY orders when my last desk connection drops. */
  cancel_on_disconnect: boolean;
}

export type { ApiError } from './shared/http';

// Client -> server

export interface BookSubscribeFrame {
  type: 'book.subscribe' | 'book.unsubscribe';
  symbol: string;
}

export interface OrderNewFrame {
  type: 'order.new';
  request_id: string;
  symbol: string;
  side: Side;
  order_type: OrderType;
  /** Left out for market and stop orders. */
  price?: string;
  /** Given for stop and stop_limit orders only. */
  stop_price?: string;
  quantity: number;
  time_in_force: TimeInForce;
  client_order_id: string;
  account?: string;
  display_quantity?: number;
  post_only?: boolean;
  stp_mode?: StpMode;
}

export interface OrderCancelFrame {
  type: 'order.cancel';
  request_id: string;
  order_id: number;
}

export interface OrderModifyFrame {
  type: 'order.modify';
  request_id: string;
  order_id: number;
  price: string;
  /** The new open (leaves) quantity, not the original order quantity. */
  quantity: number;
}

export type ClientFrame = BookSubscribeFrame | OrderNewFrame | OrderCancelFrame | OrderModifyFrame;

// Server -> client

export interface BookSnapshotFrame {
  type: 'book.snapshot';
  symbol: string;
  seq: number;
  bids: Level[];
  asks: Level[];
}

export interface BookDeltaFrame {
  type: 'book.delta';
  symbol: string;
  seq: number;
  changes: LevelChange[];
}

export interface TradeFrame {
  type: 'trade';
  symbol: string;
  price: string;
  quantity: number;
  aggressor_side: Side;
  trade_id: number;
  ts: string;
}

export interface OrderAcceptedFrame {
  type: 'order.accepted';
  request_id?: string;
  order: Order;
}

export interface OrderRejectedFrame {
  type: 'order.rejected';
  request_id?: string;
  client_order_id: string;
  code: string;
  message: string;
}

export interface OrderUpdatedFrame {
  type: 'order.updated';
  order: Order;
}

export interface OrderCancelledFrame {
  type: 'order.cancelled';
  request_id?: string;
  order: Order;
}

export interface OrderModifiedFrame {
  type: 'order.modified';
  request_id?: string;
  order: Order;
}

export interface MassCancelDoneFrame {
  type: 'mass_cancel.done';
  request_id?: string;
  cancelled_orders: number;
}

export interface FillFrame {
  type: 'fill';
  fill: Fill;
}

export interface ErrorFrame {
  type: 'error';
  request_id?: string;
  code: string;
  message: string;
}

export type ServerFrame =
  | BookSnapshotFrame
  | BookDeltaFrame
  | TradeFrame
  | OrderAcceptedFrame
  | OrderRejectedFrame
  | OrderUpdatedFrame
  | OrderCancelledFrame
  | OrderModifiedFrame
  | MassCancelDoneFrame
  | FillFrame
  | ErrorFrame;

export interface MassCancelResult {
  cancelled_orders: number;
}

export function isOpenStatus(status: OrderStatus): boolean {
  return status === 'new' || status === 'partially_filled';
}

export function isStopType(type: OrderType): boolean {
  return type === 'stop' || type === 'stop_limit';
}

