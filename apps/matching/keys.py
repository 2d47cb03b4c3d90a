"""Redis key names. A shard's keys share a hash tag, so a Redis Cluster keeps them together."""

from django.conf import settings

CONSUMER_GROUP = "matcher"


def _shard_prefix(shard: int) -> str:
    return f"{settings.MATCHER_KEY_PREFIX}:{{s{shard}}}"


def command_stream(shard: int) -> str:
    return f"{_shard_prefix(shard)}:cmd"


def book_snapshot(shard: int, symbol: str) -> str:
    return f"{_shard_prefix(shard)}:book:{symbol}"


def heartbeat(shard: int) -> str:
    return f"{_shard_prefix(shard)}:heartbeat"


def reply(command_id: str) -> str:
    return f"{settings.MATCHER_KEY_PREFIX}:reply:{command_id}"


def book_group(symbol: str) -> str:
    """Channel-layer group of an instrument's book deltas and trades."""
    return f"book.{symbol}"


def user_group(user_id: int) -> str:
    """Channel-layer group of one user's order outcomes and fills."""
    return f"user.{user_id}"


def risk_snapshot(shard: int) -> str:
    """Hash of the shard's risk figures: account code → JSON, plus the kill switches under
    `KILL_SWITCHES_FIELD`, for a risk console's first paint."""
    return f"{_shard_prefix(shard)}:risk"


KILL_SWITCHES_FIELD = "~kill_switches"


def risk_group() -> str:
    """Channel-layer group of the risk console: utilisation, alerts, rejections, kill switches."""
    return "risk"


def halts_snapshot(shard: int) -> str:
    """Hash of the shard's halted instruments: symbol → JSON (gone when it trades again)."""
    return f"{_shard_prefix(shard)}:halts"


def halts_group() -> str:
    """Channel-layer group every desk joins: halts, pauses, resumptions, limit states."""
    return "halts"
