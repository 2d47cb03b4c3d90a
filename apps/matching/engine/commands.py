"""Commands: everything that can change a shard's state.

Each carries its own time (`ts_ns`, integer nanoseconds UTC, stamped by the matcher when it
takes the command off the stream) and the identity of whoever sent it.
"""

from dataclasses import dataclass

from apps.matching.engine.types import OrderType, Side, TimeInForce


@dataclass(slots=True, frozen=True)
class DefineInstrument:
    """Lists an instrument on the shard or changes its parameters."""

    command_id: str
    ts_ns: int
    symbol: str
    min_qty_lots: int = 1
    max_qty_lots: int = 1_000_000
    is_open: bool = True
    kind: str = "define_instrument"


@dataclass(slots=True, frozen=True)
class NewOrder:
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
    kind: str = "new_order"


@dataclass(slots=True, frozen=True)
class CancelOrder:
    command_id: str
    ts_ns: int
    user_id: int
    order_id: int
    kind: str = "cancel_order"


@dataclass(slots=True, frozen=True)
class Unparseable:
    """A stream entry that is not a valid command. It still gets its outcome (a rejection)
    and its place in the log, so that nothing taken off the stream goes unanswered."""

    command_id: str
    ts_ns: int
    user_id: int
    error: str
    kind: str = "unparseable"


Command = DefineInstrument | NewOrder | CancelOrder | Unparseable
