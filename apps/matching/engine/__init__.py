"""The CWTS matching engine: plain Python, commands in, events out.

No Django, no Redis, no clock, no randomness: time and identity arrive on the command, so the
same commands always give the same events. See README.md beside this file and
docs/engine-semantics.md for the full contract.

Which build of the submodules runs is chosen here, before any of them is imported: the
mypyc-compiled build in var/engine-build/ (made by `make engine`, scripts/build_engine.py) when it
exists and was compiled from exactly these sources, else the plain Python beside this file.
`CWTS_ENGINE=pure` forces plain Python; `CWTS_ENGINE=compiled` insists on the build and fails the
import when it is missing or stale. `IMPLEMENTATION` says which one runs. This file itself is
never compiled, so that the choice can be made.
"""

import hashlib
import json
import os
import sys
import sysconfig
from pathlib import Path

IMPLEMENTATION_ENV = "CWTS_ENGINE"
BUILD_DIR_ENV = "CWTS_ENGINE_BUILD"
SOURCE_DIR = Path(__file__).resolve().parent
# Outside the source tree on purpose: an extension module beside a .py of the same name wins
# the import, so a build left here would silently shadow every later edit of the source.
DEFAULT_BUILD_DIR = SOURCE_DIR.parents[2] / "var" / "engine-build"
STAMP_NAME = "stamp.json"


def compiled_module_names() -> list[str]:
    """The submodules a build compiles: every module of the package but this one."""
    return sorted(path.stem for path in SOURCE_DIR.glob("*.py") if path.stem != "__init__")


def source_digest() -> str:
    """SHA-256 over the names and bytes of the compiled modules' sources, as they are now."""
    digest = hashlib.sha256()
    for name in compiled_module_names():
        source = (SOURCE_DIR / f"{name}.py").read_bytes()
        digest.update(f"{name}\0{len(source)}\0".encode())
        digest.update(source)
    return digest.hexdigest()


def extension_suffix() -> str:
    """The file suffix of this interpreter's extension modules (its version and ABI)."""
    return str(sysconfig.get_config_var("EXT_SUFFIX"))


def build_dir() -> Path:
    return Path(os.environ.get(BUILD_DIR_ENV) or DEFAULT_BUILD_DIR)


def build_problem(directory: Path) -> str | None:
    """Why the build in `directory` cannot run these sources, as a sentence; None if it can."""
    try:
        stamp = json.loads((directory / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return f"there is no compiled engine build in {directory} (run `make engine`)"
    if stamp.get("extension_suffix") != extension_suffix():
        return (
            f"the compiled engine build in {directory} was made for another Python "
            f"({stamp.get('extension_suffix')!r}, this one loads {extension_suffix()!r}); "
            "run `make engine`"
        )
    if stamp.get("source_digest") != source_digest():
        return (
            f"the compiled engine build in {directory} was made from other sources than "
            f"those in {SOURCE_DIR} (run `make engine`)"
        )
    return None


def _choose_implementation() -> str:
    wanted = os.environ.get(IMPLEMENTATION_ENV, "").strip().lower() or "auto"
    if wanted == "pure":
        return "pure-python"
    if wanted not in ("auto", "compiled"):
        raise ImportError(f"{IMPLEMENTATION_ENV} must be pure, compiled or auto, not {wanted!r}")
    directory = build_dir()
    problem = build_problem(directory)
    if problem is not None:
        if wanted == "compiled":
            raise ImportError(f"{IMPLEMENTATION_ENV}=compiled, but {problem}.")
        return "pure-python"
    library = directory / "lib"
    # The modules share one extension (mypyc's group module, a top-level name): appended to
    # sys.path, it shadows nothing. The build's package directory goes first on __path__, so
    # every submodule imported below (and by anyone later) is the compiled one.
    if str(library) not in sys.path:
        sys.path.append(str(library))
    __path__.insert(0, str(library.joinpath(*__name__.split("."))))
    return "compiled"


IMPLEMENTATION = _choose_implementation()

# The submodules come after the choice above, which decides where they are found.
from apps.matching.engine.book import WorkingOrder  # noqa: E402
from apps.matching.engine.commands import (  # noqa: E402
    CancelOrder,
    ClockTick,
    Command,
    DefineInstrument,
    ExpireOrders,
    HaltInstrument,
    KillSwitch,
    MarkToMarket,
    MassCancel,
    ModifyOrder,
    NewOrder,
    ResetDailyRisk,
    SetBreakerParameter,
    SetRiskLimit,
    SetRiskListEntry,
    StartSession,
    Unparseable,
)
from apps.matching.engine.engine import Engine  # noqa: E402
from apps.matching.engine.events import (  # noqa: E402
    OUTCOME_KINDS,
    AuctionIndicative,
    BookDelta,
    BreakerParameterChanged,
    CancelRejected,
    ClockAdvanced,
    CommandRejected,
    DailyRiskReset,
    Event,
    HaltRequestDone,
    InstrumentDefined,
    KillSwitchChanged,
    LevelChange,
    LimitStateEntered,
    LimitStateExited,
    MarkedToMarket,
    MarketWideBreakerTriggered,
    MassCancelDone,
    ModifyRejected,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    OrderRejected,
    OrdersExpired,
    PauseExtended,
    RiskAlert,
    RiskLimitChanged,
    RiskListChanged,
    SessionStarted,
    StopTriggered,
    Trade,
    TradingHalted,
    TradingResumed,
    VolumeSpikeDetected,
)
from apps.matching.engine.types import (  # noqa: E402
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
        ClockTick,
        HaltInstrument,
        StartSession,
        SetBreakerParameter,
        Unparseable,
    )
}

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__dataclass_fields__["kind"].default: cls  # type: ignore[misc]
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
        ClockAdvanced,
        HaltRequestDone,
        SessionStarted,
        BreakerParameterChanged,
        LimitStateEntered,
        LimitStateExited,
        TradingHalted,
        AuctionIndicative,
        PauseExtended,
        TradingResumed,
        MarketWideBreakerTriggered,
        VolumeSpikeDetected,
        BookDelta,
    )
}

__all__ = [
    "COMMAND_TYPES",
    "EVENT_TYPES",
    "IMPLEMENTATION",
    "OUTCOME_KINDS",
    "AuctionIndicative",
    "BookDelta",
    "BreakerParameter",
    "BreakerParameterChanged",
    "CancelOrder",
    "CancelRejected",
    "ClockAdvanced",
    "ClockTick",
    "Command",
    "CommandRejected",
    "DailyRiskReset",
    "DefineInstrument",
    "Engine",
    "Event",
    "ExpireOrders",
    "HaltInstrument",
    "HaltKind",
    "HaltRequestDone",
    "InstrumentDefined",
    "KillScope",
    "KillSwitch",
    "KillSwitchChanged",
    "LevelChange",
    "LimitStateEntered",
    "LimitStateExited",
    "MarkToMarket",
    "MarkedToMarket",
    "MarketWideBreakerTriggered",
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
    "PauseExtended",
    "Reason",
    "ResetDailyRisk",
    "RiskAlert",
    "RiskLimit",
    "RiskLimitChanged",
    "RiskList",
    "RiskListChanged",
    "SessionStarted",
    "SetBreakerParameter",
    "SetRiskLimit",
    "SetRiskListEntry",
    "Side",
    "StartSession",
    "StopTriggered",
    "StpMode",
    "TimeInForce",
    "Trade",
    "TradingHalted",
    "TradingResumed",
    "Unparseable",
    "VolumeSpikeDetected",
    "WorkingOrder",
]
