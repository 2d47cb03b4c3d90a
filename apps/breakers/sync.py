"""The breaker configuration the database describes, and the commands that bring a matcher to it.

The matcher calls these at start: after recovery its engine holds the parameters the journal
replayed; anything changed in the database while no command could reach it (a lost Redis, an
edit with the matcher down, a first start) is brought in line by sequenced, journaled commands,
like every other change. The per-instrument settings travel in DefineInstrument, which the
matcher's instrument sync already keeps up to date.
"""

from apps.breakers.parameters import PARAMETER_FIELDS, engine_value
from apps.breakers.selectors import breaker_settings
from apps.matching.engine import BreakerParameter, Command, SetBreakerParameter

# (parameter, symbol) → value in the engine's units (ns, bps, counts); symbol "" is firm-wide.
ParameterKey = tuple[BreakerParameter, str]
BreakerConfiguration = dict[ParameterKey, int]

SYNC_REASON = "Matcher start: configuration from the database"
SYNC_USER_ID = 0


def desired_breaker_parameters() -> BreakerConfiguration:
    """Every breaker parameter the database sets, in the engine's units: all of them firm-wide,
    defaults included (the database, not the engine's built-in defaults, is the authority)."""
    row = breaker_settings()
    return {(f.parameter, ""): engine_value(row, f) for f in PARAMETER_FIELDS}


def breaker_sync_commands(
    current: BreakerConfiguration, desired: BreakerConfiguration, ts_ns: int
) -> list[Command]:
    """The commands that turn the `current` parameters into the `desired` ones, in a fixed order
    (by parameter, then symbol), so that the same two configurations always give the same
    commands. A parameter the engine holds but the database does not set goes back to the
    engine's default (value None)."""
    commands: list[Command] = []
    for key in sorted(current.keys() | desired.keys()):
        value = desired.get(key)
        if current.get(key) == value:
            continue
        parameter, symbol = key
        commands.append(
            SetBreakerParameter(
                command_id=f"breaker-sync-{ts_ns}-{len(commands) + 1}",
                ts_ns=ts_ns,
                user_id=SYNC_USER_ID,
                change_reason=SYNC_REASON,
                parameter=parameter,
                value=value,
                symbol=symbol,
            )
        )
    return commands
