"""The CWTS matching engine: plain Python, commands in, events out.

No Django, no Redis, no clock, no randomness: time and identity arrive on the command, so the
same commands always give the same events. See README.md beside this file and
docs/engine-semantics.md for the full contract.
"""

from apps.matching.engine.book import WorkingOrder
from apps.matching.engine.commands import (
    CancelOrder,
    Command,
    DefineInstrument,
    ExpireOrders,
    MassCancel,
    ModifyOrder,
    NewOrder,
    Unparseable,
)
from apps.matching.engine.engine import Engine
from apps.matching.engine.events import (
    OUTCOME_KINDS,
    BookDelta,
    CancelRejected,
    CommandRejected,
    Event,
    InstrumentDefined,
    LevelChange,
    MassCancelDone,
    ModifyRejected,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    OrderRejected,
    OrdersExpired,
    StopTriggered,
    Trade,
)
from apps.matching.engine.types import OrderType, Reason, Side, StpMode, TimeInForce

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__dataclass_fields__["kind"].default: cls  # type: ignore[misc]
    for cls in (
        DefineInstrument,
        NewOrder,
        CancelOrder,
        ModifyOrder,
        MassCancel,
        ExpireOrders,
        Unparseable,
    )
}

EVENT_TYPES: dict[str, type[Event]] = {
    cls._field_defaults["kind"]: cls
    for cls in (
        InstrumentDefined,
        OrderAccepted,
        OrderRejected,
        Trade,
        StopTriggered,
        OrderReduced,
        OrderCancelled,
        OrderModified,
        CancelRejected,
        ModifyRejected,
        MassCancelDone,
        OrdersExpired,
        CommandRejected,
        BookDelta,
    )
}

__all__ = [
    "COMMAND_TYPES",
    "EVENT_TYPES",
    "OUTCOME_KINDS",
    "BookDelta",
    "CancelOrder",
    "CancelRejected",
    "Command",
    "CommandRejected",
    "DefineInstrument",
    "Engine",
    "Event",
    "ExpireOrders",
    "InstrumentDefined",
    "LevelChange",
    "MassCancel",
    "MassCancelDone",
    "ModifyOrder",
    "ModifyRejected",
    "NewOrder",
    "OrderAccepted",
    "OrderCancelled",
    "OrderModified",
    "OrderReduced",
    "OrderRejected",
    "OrderType",
    "OrdersExpired",
    "Reason",
    "Side",
    "StopTriggered",
    "StpMode",
    "TimeInForce",
    "Trade",
    "Unparseable",
    "WorkingOrder",
]
