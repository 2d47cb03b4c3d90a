"""Which model field is which engine limit, and how its value becomes the engine's integer.

The engine takes integers only (rule 6): money in micros, percentages in basis points, windows in
nanoseconds, and switches as 1 (on) or no value (off). These conversions are exact, so the
configuration the database describes and the one the engine holds compare equal.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.matching.engine import RiskLimit

MICROS_PER_UNIT = 1_000_000
NS_PER_MS = 1_000_000
BPS_PER_PERCENT = 100


def micros(amount: Decimal | None) -> int | None:
    """Currency units to integer micros (exact: money has at most two decimal places)."""
    return None if amount is None else int(amount * MICROS_PER_UNIT)


def bps(percent: Decimal | None) -> int | None:
    return None if percent is None else int(percent * BPS_PER_PERCENT)


def ns_from_ms(ms: int | None) -> int | None:
    return None if ms is None else ms * NS_PER_MS


def count(value: int | None) -> int | None:
    return value


def switch(on: bool) -> int | None:
    # "No value" is how the engine spells "no limit", so a switch that is off is unset.
    return 1 if on else None


@dataclass(slots=True, frozen=True)
class LimitField:
    """A model field (and API field of the same name) that feeds one engine limit."""

    field: str
    limit: RiskLimit
    to_engine: Callable[[Any], int | None]


# Firm-wide: neither account nor symbol.
FIRM_FIELDS = (
    LimitField("collar_percent", RiskLimit.COLLAR_BPS, bps),
    LimitField("collar_minimum", RiskLimit.COLLAR_MIN_MICROS, micros),
    LimitField("duplicate_window_ms", RiskLimit.DUPLICATE_WINDOW_NS, ns_from_ms),
    LimitField("throttle_window_ms", RiskLimit.THROTTLE_WINDOW_NS, ns_from_ms),
    LimitField("throttle_messages", RiskLimit.THROTTLE_MESSAGES, count),
    LimitField("throttle_cancels", RiskLimit.THROTTLE_CANCELS, count),
    LimitField("authorised_users_only", RiskLimit.AUTHORISED_USERS_ONLY, switch),
)
# Per account: the account only.
ACCOUNT_FIELDS = (
    LimitField("max_order_lots", RiskLimit.MAX_ORDER_LOTS, count),
    LimitField("max_order_notional", RiskLimit.MAX_ORDER_NOTIONAL_MICROS, micros),
    LimitField("credit_limit", RiskLimit.CREDIT_LIMIT_MICROS, micros),
    LimitField("loss_warning", RiskLimit.LOSS_WARNING_MICROS, micros),
    LimitField("loss_reduce_only", RiskLimit.LOSS_REDUCE_ONLY_MICROS, micros),
    LimitField("loss_kill", RiskLimit.LOSS_KILL_MICROS, micros),
    LimitField("permitted_instruments_only", RiskLimit.PERMITTED_INSTRUMENTS_ONLY, switch),
)
# Per instrument: the symbol only.
INSTRUMENT_FIELDS = (
    LimitField("max_order_lots", RiskLimit.MAX_ORDER_LOTS, count),
    LimitField("max_order_notional", RiskLimit.MAX_ORDER_NOTIONAL_MICROS, micros),
)
# Per account and instrument: both.
POSITION_FIELDS = (
    LimitField("max_long_lots", RiskLimit.MAX_LONG_LOTS, count),
    LimitField("max_short_lots", RiskLimit.MAX_SHORT_LOTS, count),
)


def engine_values(row: object, fields: tuple[LimitField, ...]) -> dict[RiskLimit, int | None]:
    """Each limit `row` sets, as the engine holds it (None: no limit)."""
    return {f.limit: f.to_engine(getattr(row, f.field)) for f in fields}
