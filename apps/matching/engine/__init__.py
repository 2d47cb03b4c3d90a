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
    KillSwitch,
    MarkToMarket,
    MassCancel,
    ModifyOrder,
    NewOrder,
    ResetDailyRisk,
    SetRiskLimit,
    SetRiskListEntry,
    Unparseable,
)
from apps.matching.engine.engine import Engine
from apps.matching.engine.events import (
    OUTCOME_KINDS,
    BookDelta,
    CancelRejected,
    CommandRejected,
    DailyRiskReset,
    Event,
    InstrumentDefined,
    KillSwitchChanged,
    LevelChange,
    MarkedToMarket,
    MassCancelDone,
    ModifyRejected,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    OrderRejected,
    OrdersExpired,
    RiskAlert,
    RiskLimitChanged,
    RiskListChanged,
    StopTriggered,
    Trade,
)
from apps.matching.engine.types import (
    KillScope,
    OrderType,
    Reason,
    RiskLimit,
    RiskList,
    Side,
    StpMode,
    TimeInForce,
)

COMMAND_TYPES: dict[str, type[Command]] = {
    cls.__dataclass_fields__["kind"].default: cls  # type: ignore[misc]
    for cls in (
        DefineInstrument,
        NewOrder,
        CancelOrder,
        ModifyOrder,
        MassCancel,
        ExpireOrders,
        SetRiskLimit,
        SetRiskListEntry,
        KillSwitch,
        ResetDailyRisk,
        MarkToMarket,
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
        RiskLimitChanged,
        RiskListChanged,
        KillSwitchChanged,
        DailyRiskReset,
        MarkedToMarket,
        RiskAlert,
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
    "DailyRiskReset",
    "DefineInstrument",
    "Engine",
    "Event",
    "ExpireOrders",
    "InstrumentDefined",
    "KillScope",
    "KillSwitch",
    "KillSwitchChanged",
    "LevelChange",
    "MarkToMarket",
    "MarkedToMarket",
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
    "ResetDailyRisk",
    "RiskAlert",
    "RiskLimit",
    "RiskLimitChanged",
    "RiskList",
    "RiskListChanged",
    "SetRiskLimit",
    "SetRiskListEntry",
    "Side",
    "StopTriggered",
    "StpMode",
    "TimeInForce",
    "Trade",
    "Unparseable",
    "WorkingOrder",
]
