"""Events: what happened.

Each carries the shard's gapless sequence number (`seq`) and the time and id of the command that
caused it. A command's outcome event comes first (accepted, rejected, cancelled, modified, mass
cancel done, orders expired, instrument defined), then its consequences: trades, stop triggers,
reductions and cancellations, and last one book delta per instrument it changed.

Events are immutable named tuples: they are built by the million on the hot path, and a tuple
is the cheapest immutable record CPython builds (a frozen dataclass costs several times more).
"""

from typing import NamedTuple

from apps.matching.engine.types import (
    BreakerParameter,
    HaltKind,
    KillScope,
    OrderType,
    Reason,
    RiskLimit,
    RiskList,
    Side,
    StpMode,
    TimeInForce,
)


class InstrumentDefined(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    min_qty_lots: int
    max_qty_lots: int
    is_open: bool
    protection_ticks: int
    protection_bps: int
    tick_size_micros: int = 10_000
    lot_size: int = 1
    reference_price_ticks: int = 0
    luld_tier: int = 0
    halted_accepts_orders: bool = True
    index_weight: int = 0
    previous_close_ticks: int = 0
    spike_pauses: bool = False
    kind: str = "instrument_defined"


class OrderAccepted(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    order_id: int
    user_id: int
    account: str
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price_ticks: int
    qty_lots: int
    client_order_id: str
    stop_price_ticks: int = 0
    display_qty_lots: int = 0
    post_only: bool = False
    stp_mode: StpMode = StpMode.CANCEL_RESTING
    stp_group: str = ""
    # The LULD band price the order works at, its own limit being through the band (0: its
    # limit stands). See the breaker stage in docs/engine-semantics.md.
    band_price_ticks: int = 0
    kind: str = "order_accepted"


class OrderRejected(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    account: str
    symbol: str
    client_order_id: str
    reason: Reason
    message: str
    kind: str = "order_rejected"


class Trade(NamedTuple):
    """One print: the resting (maker) order traded with the incoming (taker) order."""

    seq: int
    ts_ns: int
    command_id: str
    trade_id: int
    symbol: str
    price_ticks: int
    qty_lots: int
    aggressor_side: Side
    maker_order_id: int
    maker_user_id: int
    maker_account: str
    maker_leaves_lots: int
    taker_order_id: int
    taker_user_id: int
    taker_account: str
    taker_leaves_lots: int
    kind: str = "trade"


class StopTriggered(NamedTuple):
    """A stop order's trigger was reached; it now enters the book as its type says."""

    seq: int
    ts_ns: int
    command_id: str
    order_id: int
    user_id: int
    account: str
    symbol: str
    trigger_price_ticks: int
    # As in OrderAccepted, for a stop-limit whose limit is through the LULD band.
    band_price_ticks: int = 0
    kind: str = "stop_triggered"


class OrderReduced(NamedTuple):
    """Quantity left a working order without trading (self-trade decrement); it still works."""

    seq: int
    ts_ns: int
    command_id: str
    order_id: int
    user_id: int
    account: str
    symbol: str
    reduced_lots: int
    leaves_lots: int
    reason: Reason
    kind: str = "order_reduced"


class OrderCancelled(NamedTuple):
    """An order is done without (further) trading; `cancelled_lots` is what it had left."""

    seq: int
    ts_ns: int
    command_id: str
    order_id: int
    user_id: int
    account: str
    symbol: str
    cancelled_lots: int
    reason: Reason
    kind: str = "order_cancelled"


class OrderModified(NamedTuple):
    """The outcome of a modify: the order's limit and open quantity now, and whether it kept
    its place in the queue."""

    seq: int
    ts_ns: int
    command_id: str
    order_id: int
    user_id: int
    account: str
    symbol: str
    side: Side
    price_ticks: int
    leaves_lots: int
    previous_price_ticks: int
    previous_leaves_lots: int
    kept_priority: bool
    # As in OrderAccepted: the band price the order works at when its new limit is through
    # the LULD band (0: its limit stands).
    band_price_ticks: int = 0
    kind: str = "order_modified"


class CancelRejected(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    order_id: int
    reason: Reason
    message: str
    kind: str = "cancel_rejected"


class ModifyRejected(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    order_id: int
    reason: Reason
    message: str
    kind: str = "modify_rejected"


class MassCancelDone(NamedTuple):
    """The outcome of a mass cancel; an OrderCancelled follows for each order it took."""

    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    cancelled_orders: int
    kind: str = "mass_cancel_done"


class OrdersExpired(NamedTuple):
    """The outcome of a session-close expiry; an OrderCancelled (expired) follows per order."""

    seq: int
    ts_ns: int
    command_id: str
    time_in_force: TimeInForce
    expired_orders: int
    kind: str = "orders_expired"


class CommandRejected(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    reason: Reason
    message: str
    kind: str = "command_rejected"


class RiskLimitChanged(NamedTuple):
    """The outcome of a limit change: who, why, and the value before and after."""

    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    limit: RiskLimit
    account: str
    symbol: str
    old_value: int | None
    new_value: int | None
    change_reason: str
    kind: str = "risk_limit_changed"


class RiskListChanged(NamedTuple):
    """The outcome of a risk list edit; `was_member` says what it was before."""

    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    risk_list: RiskList
    account: str
    symbol: str
    trader_user_id: int
    member: bool
    was_member: bool
    change_reason: str
    kind: str = "risk_list_changed"


class KillSwitchChanged(NamedTuple):
    """A kill switch was engaged or released; an OrderCancelled (kill_switch) follows for
    each working order an engagement took out."""

    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    scope: KillScope
    account: str
    trader_user_id: int
    engaged: bool
    allow_risk_reducing: bool
    change_reason: str
    cancelled_orders: int
    kind: str = "kill_switch_changed"


class DailyRiskReset(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    accounts: int
    kind: str = "daily_risk_reset"


class MarkedToMarket(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    accounts: int
    kind: str = "marked_to_market"


class RiskAlert(NamedTuple):
    """A threshold crossed (credit utilisation 50/75/90 %, a daily loss stage) or a control
    biting hard (an automatic kill switch). `value` and `limit` are micros (or messages)."""

    seq: int
    ts_ns: int
    command_id: str
    account: str
    alert: str
    value: int
    limit: int
    message: str
    kind: str = "risk_alert"


class ClockAdvanced(NamedTuple):
    """The outcome of a clock tick; what fell due follows it."""

    seq: int
    ts_ns: int
    command_id: str
    kind: str = "clock_advanced"


class HaltRequestDone(NamedTuple):
    """The outcome of a manual halt or resume; a TradingHalted or TradingResumed follows for
    each instrument it changed."""

    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    halt: bool
    symbol: str
    instruments: int
    change_reason: str
    kind: str = "halt_request_done"


class SessionStarted(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    open_ns: int
    close_ns: int
    kind: str = "session_started"


class BreakerParameterChanged(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    parameter: BreakerParameter
    symbol: str
    old_value: int | None
    new_value: int | None
    change_reason: str
    kind: str = "breaker_parameter_changed"


class LimitStateEntered(NamedTuple):
    """The best bid sits at the upper band or the best offer at the lower band (`band_side`
    "upper" or "lower"); unless it clears, a trading pause begins at `pause_at_ns`."""

    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    band_side: str
    lower_band_ticks: int
    upper_band_ticks: int
    pause_at_ns: int
    kind: str = "limit_state_entered"


class LimitStateExited(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    kind: str = "limit_state_exited"


class TradingHalted(NamedTuple):
    """An instrument stopped trading: why, until when (0: until resumed by hand or, for the
    market-wide level 3, the end of the day), and whether it takes new orders meanwhile."""

    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    halt_kind: HaltKind
    message: str
    until_ns: int
    accepts_orders: bool
    user_id: int = 0
    kind: str = "trading_halted"


class AuctionIndicative(NamedTuple):
    """During a halt: the price the reopening auction would uncross at now, what it would
    pair, and the imbalance left (`imbalance_side` "" when none, or when nothing crosses and
    the price is 0)."""

    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    price_ticks: int
    paired_lots: int
    imbalance_lots: int
    imbalance_side: str
    kind: str = "auction_indicative"


class PauseExtended(NamedTuple):
    """The auction price fell outside the collar around the reference: the pause goes on,
    with a wider collar."""

    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    auction_price_ticks: int
    reference_ticks: int
    until_ns: int
    collar_bps: int
    kind: str = "pause_extended"


class TradingResumed(NamedTuple):
    """The instrument trades again; the reopening auction's trades (at one price) follow."""

    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    auction_price_ticks: int
    auction_volume_lots: int
    kind: str = "trading_resumed"


class MarketWideBreakerTriggered(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    level: int
    decline_bps: int
    until_ns: int
    kind: str = "market_wide_breaker_triggered"


class VolumeSpikeDetected(NamedTuple):
    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    window_lots: int
    average_lots: int
    pauses: bool
    kind: str = "volume_spike_detected"


class LevelChange(NamedTuple):
    """A price level's new displayed aggregate; `qty_lots` 0 means the level is gone."""

    side: Side
    price_ticks: int
    qty_lots: int
    order_count: int


class BookDelta(NamedTuple):
    """The levels one command changed, numbered per instrument (`book_seq`)."""

    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    book_seq: int
    changes: tuple[LevelChange, ...]
    kind: str = "book_delta"


Event = (
    InstrumentDefined
    | OrderAccepted
    | OrderRejected
    | Trade
    | StopTriggered
    | OrderReduced
    | OrderCancelled
    | OrderModified
    | CancelRejected
    | ModifyRejected
    | MassCancelDone
    | OrdersExpired
    | CommandRejected
    | RiskLimitChanged
    | RiskListChanged
    | KillSwitchChanged
    | DailyRiskReset
    | MarkedToMarket
    | RiskAlert
    | ClockAdvanced
    | HaltRequestDone
    | SessionStarted
    | BreakerParameterChanged
    | LimitStateEntered
    | LimitStateExited
    | TradingHalted
    | AuctionIndicative
    | PauseExtended
    | TradingResumed
    | MarketWideBreakerTriggered
    | VolumeSpikeDetected
    | BookDelta
)
OUTCOME_KINDS = frozenset(
    {
        "instrument_defined",
        "order_accepted",
        "order_rejected",
        "order_cancelled",
        "order_modified",
        "cancel_rejected",
        "modify_rejected",
        "mass_cancel_done",
        "orders_expired",
        "command_rejected",
        "risk_limit_changed",
        "risk_list_changed",
        "kill_switch_changed",
        "daily_risk_reset",
        "marked_to_market",
        "clock_advanced",
        "halt_request_done",
        "session_started",
        "breaker_parameter_changed",
    }
)
