// Wire shapes of the risk feed (consumer frames "risk.*") and the risk API (/api/v1/risk/).
// Money is a decimal string; null means no limit.

export type LossStage = 'ok' | 'warning' | 'reduce_only' | 'killed';
export type KillScope = 'firm' | 'account' | 'trader';

/** A latched kill switch, as the matcher publishes it. */
export interface KillSwitchState {
  engaged_by: number;
  since: string;
  reason: string;
  allow_risk_reducing: boolean;
  automatic: boolean;
}

export interface PositionRisk {
  symbol: string;
  position: number;
  max_long: number | null;
  max_short: number | null;
  working_buy: number;
  working_sell: number;
}

/** One account's risk numbers, republished whenever one of them changes. */
export interface AccountRisk {
  account: string;
  credit_limit: string | null;
  credit_used: string;
  /** Positive is a loss. */
  loss_today: string;
  loss_warning: string | null;
  loss_reduce_only: string | null;
  loss_kill: string | null;
  loss_stage: LossStage;
  kill_switch: KillSwitchState | null;
  positions: PositionRisk[];
}

export interface KillSwitches {
  firm: KillSwitchState | null;
  /** By trader user id (a JSON object key, so a string). */
  traders: Record<string, KillSwitchState>;
}

export interface TraderInfo {
  user_id: number;
  username: string;
  accounts: string[];
}

export interface RiskAlert {
  account: string;
  alert: string;
  message: string;
  ts: string;
}

export interface RiskRejection {
  account: string;
  user_id: number | null;
  symbol: string;
  client_order_id: string;
  code: string;
  message: string;
  ts: string;
}

export interface KillSwitchChange {
  scope: KillScope;
  account: string;
  /** 0 unless the scope is a trader. */
  trader_user_id: number;
  engaged: boolean;
  allow_risk_reducing: boolean;
  reason: string;
  user_id: number | null;
  cancelled_orders: number;
  ts: string;
}

/** A limit changed; values are the engine's integers (money in micros, windows in ns). */
export interface LimitChange {
  limit: string;
  account: string;
  symbol: string;
  old_value: number | null;
  new_value: number | null;
  reason: string;
  user_id: number | null;
  ts: string;
}

/** A risk list changed: a restricted or permitted symbol, or an authorised trader. */
export interface ListChange {
  list: string;
  account: string;
  symbol: string;
  trader_user_id: number;
  member: boolean;
  reason: string;
  user_id: number | null;
  ts: string;
}

export interface RiskAccountFrame {
  type: 'risk.account';
  account: AccountRisk;
}
export interface RiskAlertFrame {
  type: 'risk.alert';
  alert: RiskAlert;
}
export interface RiskRejectionFrame {
  type: 'risk.rejection';
  rejection: RiskRejection;
}
export interface RiskKillSwitchFrame {
  type: 'risk.kill_switch';
  kill_switch: KillSwitchChange;
}
export interface RiskLimitFrame {
  type: 'risk.limit';
  change: LimitChange;
}
export interface RiskListFrame {
  type: 'risk.list';
  change: ListChange;
}

/** What the alerts feed shows. */
export type FeedFrame = RiskAlertFrame | RiskRejectionFrame | RiskKillSwitchFrame | RiskLimitFrame | RiskListFrame;

export interface RiskSnapshotFrame {
  type: 'risk.snapshot';
  accounts: AccountRisk[];
  kill_switches: KillSwitches;
  traders: TraderInfo[];
  /** User id → username, for everyone the events name. */
  usernames: Record<string, string>;
  /** Oldest first. */
  alerts: FeedFrame[];
  /** Oldest first. */
  rejections: RiskRejectionFrame[];
}

export interface ErrorFrame {
  type: 'error';
  request_id?: string;
  code: string;
  message: string;
}

export type RiskServerFrame = RiskSnapshotFrame | RiskAccountFrame | FeedFrame | ErrorFrame;

/** The limits of one account that the console edits, from GET /api/v1/risk/accounts/{code}/. */
export interface AccountLimits {
  account: string;
  max_order_lots: number | null;
  max_order_notional: string | null;
  credit_limit: string | null;
  loss_warning: string | null;
  loss_reduce_only: string | null;
  loss_kill: string | null;
  position_limits?: PositionLimit[];
  [field: string]: unknown;
}

/** How long and how short an account may be in one instrument, in lots (null: no limit). */
export interface PositionLimit {
  account: string;
  symbol: string;
  max_long: number | null;
  max_short: number | null;
}

/** PUT /api/v1/risk/positions/: the server judges the values, so they go as typed. */
export interface PositionLimitChange {
  account: string;
  symbol: string;
  max_long: number | string | null;
  max_short: number | string | null;
  reason: string;
}

/** The firm-wide controls, from GET /api/v1/risk/firm/: money and percent as decimal
 * strings, windows in milliseconds, counts per trader per window; null: the control is off. */
export interface FirmPolicy {
  collar_percent: string | null;
  collar_minimum: string | null;
  duplicate_window_ms: number | null;
  throttle_window_ms: number | null;
  throttle_messages: number | null;
  throttle_cancels: number | null;
  authorised_users_only: boolean;
  [field: string]: unknown;
}

/** An instrument's per-order limits for every account, from GET /api/v1/risk/instruments/. */
export interface InstrumentLimits {
  symbol: string;
  max_order_lots: number | null;
  max_order_notional: string | null;
  [field: string]: unknown;
}

/** A restricted instrument, for the whole firm (account null) or for one account. */
export interface RestrictedEntry {
  id: number;
  symbol: string;
  account: string | null;
  reason: string;
  created_by: string | null;
  created_at: string;
}

/** The matcher's outcome event for a change: journaled at `seq`. */
export interface ChangeEvent {
  seq?: number;
  kind?: string;
  [field: string]: unknown;
}

/** What a change did: the limits it changed and the matcher's outcome events (null: not yet
 * sent, the change is saved and goes out when its transaction commits). */
export interface ChangeOutcome {
  changed: string[];
  events: ChangeEvent[] | null;
}

export interface FirmChange extends ChangeOutcome {
  firm: FirmPolicy;
}

export interface InstrumentChange extends ChangeOutcome {
  instrument: InstrumentLimits;
}

export interface RestrictedChange extends ChangeOutcome {
  restricted: RestrictedEntry | null;
}
