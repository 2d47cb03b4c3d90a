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
