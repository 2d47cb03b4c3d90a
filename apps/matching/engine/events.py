"""Events: what happened.

Each carries the shard's gapless sequence number (`seq`) and the time and id of the command that
caused it. A command's outcome event comes first (accepted, rejected, cancelled, modified, mass
cancel done, orders expired, instrument defined), after only the events of timers that came due
before the command; then its consequences: trades, stop triggers, reductions and
cancellations, and last one book delta per instrument it changed.

Events are records that nothing changes once they are emitted. They are built by the million
on the hot path, so each class writes out its `__init__`, though the dataclass would generate the
same one: compiled with mypyc, a written `__init__` builds the record natively, in about a tenth
of the time of the dataclass's generated Python or of a named tuple's `__new__`. The dataclass
still gives each class its equality and its repr.
"""

from dataclasses import dataclass

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


@dataclass(slots=True)
class InstrumentDefined:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        min_qty_lots: int,
        max_qty_lots: int,
        is_open: bool,
        protection_ticks: int,
        protection_bps: int,
        tick_size_micros: int = 10_000,
        lot_size: int = 1,
        reference_price_ticks: int = 0,
        luld_tier: int = 0,
        halted_accepts_orders: bool = True,
        index_weight: int = 0,
        previous_close_ticks: int = 0,
        spike_pauses: bool = False,
        kind: str = "instrument_defined",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.min_qty_lots = min_qty_lots
        self.max_qty_lots = max_qty_lots
        self.is_open = is_open
        self.protection_ticks = protection_ticks
        self.protection_bps = protection_bps
        self.tick_size_micros = tick_size_micros
        self.lot_size = lot_size
        self.reference_price_ticks = reference_price_ticks
        self.luld_tier = luld_tier
        self.halted_accepts_orders = halted_accepts_orders
        self.index_weight = index_weight
        self.previous_close_ticks = previous_close_ticks
        self.spike_pauses = spike_pauses
        self.kind = kind


@dataclass(slots=True)
class OrderAccepted:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        order_id: int,
        user_id: int,
        account: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        price_ticks: int,
        qty_lots: int,
        client_order_id: str,
        stop_price_ticks: int = 0,
        display_qty_lots: int = 0,
        post_only: bool = False,
        stp_mode: StpMode = StpMode.CANCEL_RESTING,
        stp_group: str = "",
        band_price_ticks: int = 0,
        kind: str = "order_accepted",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.order_id = order_id
        self.user_id = user_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price_ticks = price_ticks
        self.qty_lots = qty_lots
        self.client_order_id = client_order_id
        self.stop_price_ticks = stop_price_ticks
        self.display_qty_lots = display_qty_lots
        self.post_only = post_only
        self.stp_mode = stp_mode
        self.stp_group = stp_group
        self.band_price_ticks = band_price_ticks
        self.kind = kind


@dataclass(slots=True)
class OrderRejected:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        account: str,
        symbol: str,
        client_order_id: str,
        reason: Reason,
        message: str,
        kind: str = "order_rejected",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.account = account
        self.symbol = symbol
        self.client_order_id = client_order_id
        self.reason = reason
        self.message = message
        self.kind = kind


@dataclass(slots=True)
class Trade:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        trade_id: int,
        symbol: str,
        price_ticks: int,
        qty_lots: int,
        aggressor_side: Side,
        maker_order_id: int,
        maker_user_id: int,
        maker_account: str,
        maker_leaves_lots: int,
        taker_order_id: int,
        taker_user_id: int,
        taker_account: str,
        taker_leaves_lots: int,
        kind: str = "trade",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.trade_id = trade_id
        self.symbol = symbol
        self.price_ticks = price_ticks
        self.qty_lots = qty_lots
        self.aggressor_side = aggressor_side
        self.maker_order_id = maker_order_id
        self.maker_user_id = maker_user_id
        self.maker_account = maker_account
        self.maker_leaves_lots = maker_leaves_lots
        self.taker_order_id = taker_order_id
        self.taker_user_id = taker_user_id
        self.taker_account = taker_account
        self.taker_leaves_lots = taker_leaves_lots
        self.kind = kind


@dataclass(slots=True)
class StopTriggered:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        order_id: int,
        user_id: int,
        account: str,
        symbol: str,
        trigger_price_ticks: int,
        band_price_ticks: int = 0,
        kind: str = "stop_triggered",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.order_id = order_id
        self.user_id = user_id
        self.account = account
        self.symbol = symbol
        self.trigger_price_ticks = trigger_price_ticks
        self.band_price_ticks = band_price_ticks
        self.kind = kind


@dataclass(slots=True)
class OrderReduced:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        order_id: int,
        user_id: int,
        account: str,
        symbol: str,
        reduced_lots: int,
        leaves_lots: int,
        reason: Reason,
        kind: str = "order_reduced",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.order_id = order_id
        self.user_id = user_id
        self.account = account
        self.symbol = symbol
        self.reduced_lots = reduced_lots
        self.leaves_lots = leaves_lots
        self.reason = reason
        self.kind = kind


@dataclass(slots=True)
class OrderCancelled:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        order_id: int,
        user_id: int,
        account: str,
        symbol: str,
        cancelled_lots: int,
        reason: Reason,
        kind: str = "order_cancelled",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.order_id = order_id
        self.user_id = user_id
        self.account = account
        self.symbol = symbol
        self.cancelled_lots = cancelled_lots
        self.reason = reason
        self.kind = kind


@dataclass(slots=True)
class OrderModified:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        order_id: int,
        user_id: int,
        account: str,
        symbol: str,
        side: Side,
        price_ticks: int,
        leaves_lots: int,
        previous_price_ticks: int,
        previous_leaves_lots: int,
        kept_priority: bool,
        band_price_ticks: int = 0,
        kind: str = "order_modified",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.order_id = order_id
        self.user_id = user_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.price_ticks = price_ticks
        self.leaves_lots = leaves_lots
        self.previous_price_ticks = previous_price_ticks
        self.previous_leaves_lots = previous_leaves_lots
        self.kept_priority = kept_priority
        self.band_price_ticks = band_price_ticks
        self.kind = kind


@dataclass(slots=True)
class CancelRejected:
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    order_id: int
    reason: Reason
    message: str
    kind: str = "cancel_rejected"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        order_id: int,
        reason: Reason,
        message: str,
        kind: str = "cancel_rejected",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.order_id = order_id
        self.reason = reason
        self.message = message
        self.kind = kind


@dataclass(slots=True)
class ModifyRejected:
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    order_id: int
    reason: Reason
    message: str
    kind: str = "modify_rejected"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        order_id: int,
        reason: Reason,
        message: str,
        kind: str = "modify_rejected",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.order_id = order_id
        self.reason = reason
        self.message = message
        self.kind = kind


@dataclass(slots=True)
class MassCancelDone:
    """The outcome of a mass cancel; an OrderCancelled follows for each order it took."""

    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    cancelled_orders: int
    kind: str = "mass_cancel_done"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        cancelled_orders: int,
        kind: str = "mass_cancel_done",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.cancelled_orders = cancelled_orders
        self.kind = kind


@dataclass(slots=True)
class OrdersExpired:
    """The outcome of a session-close expiry; an OrderCancelled (expired) follows per order."""

    seq: int
    ts_ns: int
    command_id: str
    time_in_force: TimeInForce
    expired_orders: int
    kind: str = "orders_expired"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        time_in_force: TimeInForce,
        expired_orders: int,
        kind: str = "orders_expired",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.time_in_force = time_in_force
        self.expired_orders = expired_orders
        self.kind = kind


@dataclass(slots=True)
class CommandRejected:
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    reason: Reason
    message: str
    kind: str = "command_rejected"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        reason: Reason,
        message: str,
        kind: str = "command_rejected",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.reason = reason
        self.message = message
        self.kind = kind


@dataclass(slots=True)
class RiskLimitChanged:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        limit: RiskLimit,
        account: str,
        symbol: str,
        old_value: int | None,
        new_value: int | None,
        change_reason: str,
        kind: str = "risk_limit_changed",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.limit = limit
        self.account = account
        self.symbol = symbol
        self.old_value = old_value
        self.new_value = new_value
        self.change_reason = change_reason
        self.kind = kind


@dataclass(slots=True)
class RiskListChanged:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        risk_list: RiskList,
        account: str,
        symbol: str,
        trader_user_id: int,
        member: bool,
        was_member: bool,
        change_reason: str,
        kind: str = "risk_list_changed",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.risk_list = risk_list
        self.account = account
        self.symbol = symbol
        self.trader_user_id = trader_user_id
        self.member = member
        self.was_member = was_member
        self.change_reason = change_reason
        self.kind = kind


@dataclass(slots=True)
class KillSwitchChanged:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        scope: KillScope,
        account: str,
        trader_user_id: int,
        engaged: bool,
        allow_risk_reducing: bool,
        change_reason: str,
        cancelled_orders: int,
        kind: str = "kill_switch_changed",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.scope = scope
        self.account = account
        self.trader_user_id = trader_user_id
        self.engaged = engaged
        self.allow_risk_reducing = allow_risk_reducing
        self.change_reason = change_reason
        self.cancelled_orders = cancelled_orders
        self.kind = kind


@dataclass(slots=True)
class DailyRiskReset:
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    accounts: int
    kind: str = "daily_risk_reset"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        accounts: int,
        kind: str = "daily_risk_reset",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.accounts = accounts
        self.kind = kind


@dataclass(slots=True)
class MarkedToMarket:
    seq: int
    ts_ns: int
    command_id: str
    accounts: int
    kind: str = "marked_to_market"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        accounts: int,
        kind: str = "marked_to_market",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.accounts = accounts
        self.kind = kind


@dataclass(slots=True)
class RiskAlert:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        account: str,
        alert: str,
        value: int,
        limit: int,
        message: str,
        kind: str = "risk_alert",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.account = account
        self.alert = alert
        self.value = value
        self.limit = limit
        self.message = message
        self.kind = kind


@dataclass(slots=True)
class ClockAdvanced:
    """The outcome of a clock tick; what fell due follows it."""

    seq: int
    ts_ns: int
    command_id: str
    kind: str = "clock_advanced"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        kind: str = "clock_advanced",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.kind = kind


@dataclass(slots=True)
class HaltRequestDone:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        halt: bool,
        symbol: str,
        instruments: int,
        change_reason: str,
        kind: str = "halt_request_done",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.halt = halt
        self.symbol = symbol
        self.instruments = instruments
        self.change_reason = change_reason
        self.kind = kind


@dataclass(slots=True)
class SessionStarted:
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    open_ns: int
    close_ns: int
    kind: str = "session_started"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        open_ns: int,
        close_ns: int,
        kind: str = "session_started",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.open_ns = open_ns
        self.close_ns = close_ns
        self.kind = kind


@dataclass(slots=True)
class BreakerParameterChanged:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        user_id: int,
        parameter: BreakerParameter,
        symbol: str,
        old_value: int | None,
        new_value: int | None,
        change_reason: str,
        kind: str = "breaker_parameter_changed",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.user_id = user_id
        self.parameter = parameter
        self.symbol = symbol
        self.old_value = old_value
        self.new_value = new_value
        self.change_reason = change_reason
        self.kind = kind


@dataclass(slots=True)
class LimitStateEntered:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        band_side: str,
        lower_band_ticks: int,
        upper_band_ticks: int,
        pause_at_ns: int,
        kind: str = "limit_state_entered",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.band_side = band_side
        self.lower_band_ticks = lower_band_ticks
        self.upper_band_ticks = upper_band_ticks
        self.pause_at_ns = pause_at_ns
        self.kind = kind


@dataclass(slots=True)
class LimitStateExited:
    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    kind: str = "limit_state_exited"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        kind: str = "limit_state_exited",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.kind = kind


@dataclass(slots=True)
class TradingHalted:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        halt_kind: HaltKind,
        message: str,
        until_ns: int,
        accepts_orders: bool,
        user_id: int = 0,
        kind: str = "trading_halted",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.halt_kind = halt_kind
        self.message = message
        self.until_ns = until_ns
        self.accepts_orders = accepts_orders
        self.user_id = user_id
        self.kind = kind


@dataclass(slots=True)
class AuctionIndicative:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        price_ticks: int,
        paired_lots: int,
        imbalance_lots: int,
        imbalance_side: str,
        kind: str = "auction_indicative",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.price_ticks = price_ticks
        self.paired_lots = paired_lots
        self.imbalance_lots = imbalance_lots
        self.imbalance_side = imbalance_side
        self.kind = kind


@dataclass(slots=True)
class PauseExtended:
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

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        auction_price_ticks: int,
        reference_ticks: int,
        until_ns: int,
        collar_bps: int,
        kind: str = "pause_extended",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.auction_price_ticks = auction_price_ticks
        self.reference_ticks = reference_ticks
        self.until_ns = until_ns
        self.collar_bps = collar_bps
        self.kind = kind


@dataclass(slots=True)
class TradingResumed:
    """The instrument trades again; the reopening auction's trades (at one price) follow."""

    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    auction_price_ticks: int
    auction_volume_lots: int
    kind: str = "trading_resumed"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        auction_price_ticks: int,
        auction_volume_lots: int,
        kind: str = "trading_resumed",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.auction_price_ticks = auction_price_ticks
        self.auction_volume_lots = auction_volume_lots
        self.kind = kind


@dataclass(slots=True)
class MarketWideBreakerTriggered:
    seq: int
    ts_ns: int
    command_id: str
    level: int
    decline_bps: int
    until_ns: int
    kind: str = "market_wide_breaker_triggered"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        level: int,
        decline_bps: int,
        until_ns: int,
        kind: str = "market_wide_breaker_triggered",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.level = level
        self.decline_bps = decline_bps
        self.until_ns = until_ns
        self.kind = kind


@dataclass(slots=True)
class VolumeSpikeDetected:
    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    window_lots: int
    average_lots: int
    pauses: bool
    kind: str = "volume_spike_detected"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        window_lots: int,
        average_lots: int,
        pauses: bool,
        kind: str = "volume_spike_detected",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.window_lots = window_lots
        self.average_lots = average_lots
        self.pauses = pauses
        self.kind = kind


@dataclass(slots=True, order=True)
class LevelChange:
    """A price level's new displayed aggregate; `qty_lots` 0 means the level is gone."""

    side: Side
    price_ticks: int
    qty_lots: int
    order_count: int

    def __init__(self, side: Side, price_ticks: int, qty_lots: int, order_count: int) -> None:
        self.side = side
        self.price_ticks = price_ticks
        self.qty_lots = qty_lots
        self.order_count = order_count


@dataclass(slots=True)
class BookDelta:
    """The levels one command changed, numbered per instrument (`book_seq`)."""

    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    book_seq: int
    changes: tuple[LevelChange, ...]
    kind: str = "book_delta"

    def __init__(
        self,
        seq: int,
        ts_ns: int,
        command_id: str,
        symbol: str,
        book_seq: int,
        changes: tuple[LevelChange, ...],
        kind: str = "book_delta",
    ) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.command_id = command_id
        self.symbol = symbol
        self.book_seq = book_seq
        self.changes = changes
        self.kind = kind


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
