"""Commands: everything that can change a shard's state.

Each carries its own time (`ts_ns`, integer nanoseconds UTC, stamped by the matcher when it
takes the command off the stream) and the identity of whoever sent it (`user_id`, the operator:
a person or a named algorithm). Prices are integer ticks, quantities integer lots.
"""

from dataclasses import dataclass

from apps.matching.engine.types import (
    BreakerParameter,
    KillScope,
    OrderType,
    RiskLimit,
    RiskList,
    Side,
    StpMode,
    TimeInForce,
)


@dataclass(slots=True, frozen=True)
class DefineInstrument:
    """Lists an instrument on the shard or changes its parameters.

    Market orders execute no further than the protection price: the touch at arrival moved
    away by `protection_ticks`, or, when that is 0, by `protection_bps` of the touch price.
    `tick_size_micros` (the price of one tick) and `lot_size` (units per lot) turn ticks and
    lots into money for the risk stage; `reference_price_ticks` is the price the price collar
    measures from until the instrument trades (0: none).
    """

    command_id: str
    ts_ns: int
    symbol: str
    min_qty_lots: int = 1
    max_qty_lots: int = 1_000_000
    is_open: bool = True
    protection_ticks: int = 0
    protection_bps: int = 500
    tick_size_micros: int = 10_000
    lot_size: int = 1
    reference_price_ticks: int = 0
    # Circuit breakers: the LULD tier (1 or 2; 0 = no price bands), whether new orders are
    # taken (to rest, for the reopening auction) while halted, the instrument's weight in the
    # market-wide index and its previous close, and whether a volume spike pauses it.
    luld_tier: int = 0
    halted_accepts_orders: bool = True
    index_weight: int = 0
    previous_close_ticks: int = 0
    spike_pauses: bool = False
    kind: str = "define_instrument"


@dataclass(slots=True, frozen=True)
class NewOrder:
    """A new order. `price_ticks` is the limit (0 for market and stop orders); `stop_price_ticks`
    the trigger of stop and stop-limit orders; `display_qty_lots` > 0 makes an iceberg showing
    that much at a time. Self-trade prevention matches on `stp_group`, or the account when empty."""

    command_id: str
    ts_ns: int
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
    kind: str = "new_order"


@dataclass(slots=True, frozen=True)
class CancelOrder:
    command_id: str
    ts_ns: int
    user_id: int
    order_id: int
    kind: str = "cancel_order"


@dataclass(slots=True, frozen=True)
class ModifyOrder:
    """Change a working order's limit price and/or its open (leaves) quantity.

    Reducing the quantity at the same price keeps time priority; a new price or a larger
    quantity loses it: the order re-enters at the back, as if new, and may trade.
    """

    command_id: str
    ts_ns: int
    user_id: int
    order_id: int
    price_ticks: int
    qty_lots: int
    kind: str = "modify_order"


@dataclass(slots=True, frozen=True)
class MassCancel:
    """Cancel every working order that matches all the given filters (empty/0 = any).

    Only the sender's own orders are in scope unless `any_owner` is set, which the gateway
    sets for risk managers alone.
    """

    command_id: str
    ts_ns: int
    user_id: int
    account: str = ""
    trader_user_id: int = 0
    symbol: str = ""
    side: Side | None = None
    any_owner: bool = False
    # Only orders with this time in force (None: any). Cancel-on-disconnect sends DAY.
    time_in_force: TimeInForce | None = None
    # Why: a person's request, or the gateway seeing the trader's last desk connection drop.
    on_disconnect: bool = False
    kind: str = "mass_cancel"


@dataclass(slots=True, frozen=True)
class ExpireOrders:
    """Session close: every working order with this time in force expires (all symbols when
    `symbol` is empty). Stop orders waiting for their trigger expire too."""

    command_id: str
    ts_ns: int
    time_in_force: TimeInForce = TimeInForce.DAY
    symbol: str = ""
    kind: str = "expire_orders"


@dataclass(slots=True, frozen=True)
class SetRiskLimit:
    """Set one pre-trade limit (`value` None removes it). Firm limits name neither account nor
    symbol; account limits name the account; per-instrument order limits name the symbol only;
    position limits name both. `user_id` is the risk manager who changed it, `change_reason` why."""

    command_id: str
    ts_ns: int
    user_id: int
    change_reason: str
    limit: RiskLimit
    value: int | None
    account: str = ""
    symbol: str = ""
    kind: str = "set_risk_limit"


@dataclass(slots=True, frozen=True)
class SetRiskListEntry:
    """Add (`member` true) or remove an entry of a risk list: a restricted symbol (for the
    firm when `account` is empty), a permitted symbol of an account, or an operator
    (`trader_user_id`) authorised to trade an account."""

    command_id: str
    ts_ns: int
    user_id: int
    change_reason: str
    risk_list: RiskList
    member: bool
    account: str = ""
    symbol: str = ""
    trader_user_id: int = 0
    kind: str = "set_risk_list_entry"


@dataclass(slots=True, frozen=True)
class KillSwitch:
    """Engage (cancelling every working order in scope at once, and blocking new ones until
    released) or release a kill switch for the firm, an account or a trader. While engaged
    with `allow_risk_reducing`, orders that only shrink a position still pass."""

    command_id: str
    ts_ns: int
    user_id: int
    change_reason: str
    scope: KillScope
    engage: bool
    account: str = ""
    trader_user_id: int = 0
    allow_risk_reducing: bool = False
    kind: str = "kill_switch"


@dataclass(slots=True, frozen=True)
class ResetDailyRisk:
    """Session start: daily counters (filled notional, P&L baseline, loss stage, alerts,
    client order ids) start again. Latched kill switches stay latched."""

    command_id: str
    ts_ns: int
    user_id: int = 0
    kind: str = "reset_daily_risk"


@dataclass(slots=True, frozen=True)
class MarkToMarket:
    """Value every account's positions at the last trade prices and apply the daily loss
    stages; sent by the matcher on a steady beat so that losses bite without a new order."""

    command_id: str
    ts_ns: int
    kind: str = "mark_to_market"


@dataclass(slots=True, frozen=True)
class ClockTick:
    """Sequenced time: the matcher sends one whenever a timer of the engine is due (a limit
    state's 15 s, a pause's end, an auction extension), so pauses replay exactly."""

    command_id: str
    ts_ns: int
    kind: str = "clock_tick"


@dataclass(slots=True, frozen=True)
class HaltInstrument:
    """A risk manager halts (`halt` true) or resumes an instrument, or every instrument of the
    shard when `symbol` is empty. Resuming reopens by call auction."""

    command_id: str
    ts_ns: int
    user_id: int
    change_reason: str
    halt: bool
    symbol: str = ""
    kind: str = "halt_instrument"


@dataclass(slots=True, frozen=True)
class StartSession:
    """Today's session (open and close, ns UTC): band doubling near the close and the
    market-wide breaker's cut-off count from it; the market-wide levels re-arm, measured from
    each instrument's previous close."""

    command_id: str
    ts_ns: int
    user_id: int
    open_ns: int
    close_ns: int
    kind: str = "start_session"


@dataclass(slots=True, frozen=True)
class SetBreakerParameter:
    """Set one circuit-breaker parameter (`value` None restores the default) for the firm, or
    for one instrument when `symbol` is named."""

    command_id: str
    ts_ns: int
    user_id: int
    change_reason: str
    parameter: BreakerParameter
    value: int | None
    symbol: str = ""
    kind: str = "set_breaker_parameter"


@dataclass(slots=True, frozen=True)
class Unparseable:
    """A stream entry that is not a valid command. It still gets its outcome (a rejection)
    and its place in the log, so that nothing taken off the stream goes unanswered."""

    command_id: str
    ts_ns: int
    user_id: int
    error: str
    kind: str = "unparseable"


Command = (
    DefineInstrument
    | NewOrder
    | CancelOrder
    | ModifyOrder
    | MassCancel
    | ExpireOrders
    | SetRiskLimit
    | SetRiskListEntry
    | KillSwitch
    | ResetDailyRisk
    | MarkToMarket
    | ClockTick
    | HaltInstrument
    | StartSession
    | SetBreakerParameter
    | Unparseable
)
