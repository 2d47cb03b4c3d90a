// Shapes of the audit API (/api/v1/audit/), as docs/protocol.md describes them.

/** One row of the event log. `ts_ns` exceeds JavaScript's exact integers: use `ts`. */
export interface EventRow {
  shard: number;
  seq: number;
  ts: string;
  ts_ns: number;
  kind: string;
  command_id: string;
  stream_id: string;
  actor_user_id: number | null;
  actor: string | null;
  account: string;
  symbol: string;
  order_id: number | null;
  client_order_id: string;
  side: string;
  price_ticks: number | null;
  qty_lots: number | null;
  order_type: string;
  time_in_force: string;
  reason: string;
  payload: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface EventPage {
  results: EventRow[];
  next: string | null;
}

export interface OrderLife {
  order_id: number;
  events: EventRow[];
  commands: EventRow[];
}

export interface ChainVerifyResult {
  intact: boolean;
  checked: number;
  /** Shard (as a string key) → the last seq that verified. */
  heads: Record<string, number>;
  first_bad: { shard: number; seq: number; reason: string } | null;
}

export interface ApiError {
  code: string;
  message: string;
}
