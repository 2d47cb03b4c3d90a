"""The CWTS matching engine: plain Python, commands in, events out.

No Django, no Redis, no clock, no randomness: time and identity arrive on the command, so the
same commands always give the same events. See README.md beside this file.
"""

from apps.matching.engine.commands import (
    CancelOrder,
    Command,
    DefineInstrument,
    NewOrder,
    Unparseable,
)
from apps.matching.engine.engine import Engine
from apps.matching.engine.events import (
    BookDelta,
    CancelRejected,
    CommandRejected,
    Event,
    InstrumentDefined,
    LevelChange,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    Trade,
)
from apps.matching.engine.types import OrderType, Reason, Side, TimeInForce

__all__ = [
    "BookDelta",
    "CancelOrder",
    "CancelRejected",
    "Command",
    "CommandRejected",
    "DefineInstrument",
    "Engine",
    "Event",
    "InstrumentDefined",
    "LevelChange",
    "NewOrder",
    "OrderAccepted",
    "OrderCancelled",
    "OrderRejected",
    "OrderType",
    "Reason",
    "Side",
    "TimeInForce",
    "Trade",
    "Unparseable",
]
