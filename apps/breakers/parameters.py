"""Which settings field is which engine breaker parameter, and how its value becomes the
engine's integer.

The engine takes integers only (rule 6): durations in nanoseconds, percentages in basis points,
counts as they are. Durations are kept in the unit people think in (seconds for the limit state
and the spike window, minutes for the rest) as decimals with three places, so that a test or a
drill can ask for a two-second pause; every conversion is exact, so the configuration the
database describes and the one the engine holds compare equal.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.matching.engine import BreakerParameter

NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
BPS_PER_PERCENT = 100


def ns_from_seconds(seconds: Decimal) -> int:
    return int(Decimal(seconds) * NS_PER_SECOND)


def ns_from_minutes(minutes: Decimal) -> int:
    return int(Decimal(minutes) * NS_PER_MINUTE)


def bps(percent: Decimal) -> int:
    return int(Decimal(percent) * BPS_PER_PERCENT)


def count(value: int) -> int:
    return int(value)


@dataclass(slots=True, frozen=True)
class ParameterField:
    """A BreakerSettings field (and API field of the same name) that feeds one parameter."""

    field: str
    parameter: BreakerParameter
    to_engine: Callable[[Any], int]


P = BreakerParameter
PARAMETER_FIELDS: tuple[ParameterField, ...] = (
    ParameterField("reference_window_minutes", P.REFERENCE_WINDOW_NS, ns_from_minutes),
    ParameterField("limit_state_seconds", P.LIMIT_STATE_NS, ns_from_seconds),
    ParameterField("pause_minutes", P.PAUSE_NS, ns_from_minutes),
    ParameterField("auction_collar_percent", P.AUCTION_COLLAR_BPS, bps),
    ParameterField("extension_minutes", P.AUCTION_EXTENSION_NS, ns_from_minutes),
    ParameterField("close_doubling_minutes", P.CLOSE_DOUBLING_NS, ns_from_minutes),
    ParameterField("market_wide_level_1_percent", P.MARKET_WIDE_LEVEL_1_BPS, bps),
    ParameterField("market_wide_level_2_percent", P.MARKET_WIDE_LEVEL_2_BPS, bps),
    ParameterField("market_wide_level_3_percent", P.MARKET_WIDE_LEVEL_3_BPS, bps),
    ParameterField("market_wide_pause_minutes", P.MARKET_WIDE_PAUSE_NS, ns_from_minutes),
    ParameterField("market_wide_cutoff_minutes", P.MARKET_WIDE_CUTOFF_NS, ns_from_minutes),
    ParameterField("spike_window_seconds", P.SPIKE_WINDOW_NS, ns_from_seconds),
    ParameterField("spike_lookback_minutes", P.SPIKE_LOOKBACK_NS, ns_from_minutes),
    ParameterField("spike_multiple", P.SPIKE_MULTIPLE, count),
    ParameterField("spike_min_lots", P.SPIKE_MIN_LOTS, count),
)
PARAMETER_FIELD_NAMES = tuple(f.field for f in PARAMETER_FIELDS)
# The session's times are not engine parameters: they reach the matcher as StartSession.
SESSION_FIELDS = ("session_open", "session_close", "session_timezone")
SETTINGS_FIELDS = (*PARAMETER_FIELD_NAMES, *SESSION_FIELDS)


def engine_value(row: object, field: ParameterField) -> int:
    """The value `row` gives `field`'s parameter, in the engine's units."""
    return field.to_engine(getattr(row, field.field))
