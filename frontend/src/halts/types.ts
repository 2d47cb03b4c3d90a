// Wire types of halts: what the matcher publishes to the "halts" group (every desk connection
// is in it), and what /api/v1/breakers/halts/ answers. Prices are decimal strings; quantities
// integers; times ISO 8601 UTC. The desk and the halts page both import them; each page is its
// own build (vite.config.ts), so what they share is copied into each.

export type HaltKind = 'luld_pause' | 'manual' | 'market_wide' | 'volume_spike';

export interface Indicative {
  /** Null while nothing crosses. */
  price: string | null;
  paired: number;
  imbalance: number;
  imbalance_side: 'buy' | 'sell' | '';
}

/** An instrument not trading: why, since and until when, and whether it takes new orders. */
export interface Halt {
  symbol: string;
  kind: HaltKind;
  message: string;
  since: string;
  /** Null: until resumed by hand (or, market-wide level 3, the end of the day). */
  until: string | null;
  accepts_orders: boolean;
  indicative: Indicative | null;
}

/** Sent on connect when any instrument is halted; the client forgets its halts on connecting. */
export interface HaltsSnapshotFrame {
  type: 'halts.snapshot';
  halts: Halt[];
}

/** A halt, a pause, a pause extension, or a new indicative price: the halt as it stands. */
export interface HaltFrame {
  type: 'halt';
  halt: Halt;
}

export interface ResumeFrame {
  type: 'resume';
  symbol: string;
  auction_price: string | null;
  auction_volume: number;
  ts: string;
}

export interface LimitStateFrame {
  type: 'limit_state';
  symbol: string;
  entered: boolean;
  band_side: 'upper' | 'lower' | '';
  lower: string | null;
  upper: string | null;
  pause_at: string | null;
}

export interface MarketWideFrame {
  type: 'market_wide';
  level: number;
  decline_pct: string;
  until: string | null;
}

export interface VolumeSpikeFrame {
  type: 'volume_spike';
  symbol: string;
  window_quantity: number;
  average_quantity: number;
  pauses: boolean;
}

export type HaltServerFrame =
  | HaltsSnapshotFrame
  | HaltFrame
  | ResumeFrame
  | LimitStateFrame
  | MarketWideFrame
  | VolumeSpikeFrame;

/** One halt of the past (or in force), from the event log. */
export interface PastHalt {
  symbol: string;
  shard: number;
  seq: number;
  kind: HaltKind | string;
  message: string;
  reason: string;
  halted_by: string | null;
  since: string;
  until: string | null;
  accepts_orders: boolean;
  extensions: number;
  active: boolean;
  ended_at: string | null;
  ended_by: 'resume_request' | 'pause_end' | 'superseded' | null;
  resumed_by: string | null;
  resume_reason: string;
  auction_price: string | null;
  auction_volume: number | null;
}

export interface HaltsList {
  current: Halt[] | null;
  halts: PastHalt[];
}

export interface HaltOutcome {
  action: 'halt' | 'resume';
  symbol: string;
  instruments: number;
  message: string;
}
