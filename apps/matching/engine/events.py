"""Events: what happened. Each carries the shard's gapless sequence number (`seq`), the
time and id of the command that caused it; a command's outcome event comes first."""

from dataclasses import dataclass

from apps.matching.engine.types import OrderType, Reason, Side, TimeInForce


@dataclass(slots=True, frozen=True)
class InstrumentDefined:
    seq: int
    ts_ns: int
    command_id: str
    symbol: str
    min_qty_lots: int
    max_qty_lots: int
    is_open: bool
    kind: str = "instrument_defined"


@dataclass(slots=True, frozen=True)
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
    kind: str = "order_accepted"


@dataclass(slots=True, frozen=True)
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


@dataclass(slots=True, frozen=True)
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


@dataclass(slots=True, frozen=True)
class OrderCancelled:
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


@dataclass(slots=True, frozen=True)
class CancelRejected:
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    order_id: int
    reason: Reason
    message: str
    kind: str = "cancel_rejected"


@dataclass(slots=True, frozen=True)
class CommandRejected:
    seq: int
    ts_ns: int
    command_id: str
    user_id: int
    reason: Reason
    message: str
    kind: str = "command_rejected"


@dataclass(slots=True, frozen=True)
class LevelChange:
    """A price level's new aggregate; `qty_lots` 0 means the level is gone."""

    side: Side
    price_ticks: int
    qty_lots: int
    order_count: int


@dataclass(slots=True, frozen=True)
class BookDelta:
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
    | OrderCancelled
    | CancelRejected
    | CommandRejected
    | BookDelta
)
OUTCOME_KINDS = frozenset(
    {
        "instrument_defined",
        "order_accepted",
        "order_rejected",
        "order_cancelled",
        "cancel_rejected",
        "command_rejected",
    }
)
