"""Who is at the desk: each user's open desk connections, counted in Redis, and the
cancel-on-disconnect that fires when a trader's last one drops.

The count lives in Redis rather than in a process because a trader's tabs may be served by
different daphne processes; INCR and DECR are atomic, so two tabs closing at the same instant
still leave exactly one of them seeing zero.
"""

import uuid

import structlog
from django.conf import settings

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching.engine import MassCancel, TimeInForce
from apps.matching.redis import redis_client
from apps.risk.selectors import cancel_on_disconnect
from apps.trading.errors import OrderRejected
from apps.trading.services import command_send

log = structlog.get_logger(__name__)

# A daphne process that dies without running its consumers' disconnects leaves its
# connections counted; the key expires this long after the user's last connect, so a stale
# count cannot outlive a trading day and silence cancel-on-disconnect for good.
CONNECTIONS_TTL_S = 12 * 3600


def connections_key(user_id: int) -> str:
    return f"{settings.MATCHER_KEY_PREFIX}:desk:connections:{user_id}"


def connection_open(user_id: int) -> int:
    """Count one more open desk connection of the user; returns how many are open now."""
    pipe = redis_client().pipeline(transaction=True)
    pipe.incr(connections_key(user_id))
    pipe.expire(connections_key(user_id), CONNECTIONS_TTL_S)
    count, _ = pipe.execute()
    return int(count)


# DECR and, at zero or below, DEL in one step: a connect arriving between the two could
# otherwise be forgotten. Below zero happens when the key expired under live connections.
_CLOSE_SCRIPT = """
local remaining = redis.call('DECR', KEYS[1])
if remaining <= 0 then redis.call('DEL', KEYS[1]) end
return remaining
"""


def connection_close(user_id: int) -> int:
    """Count one desk connection of the user fewer; returns how many are still open."""
    remaining = redis_client().eval(_CLOSE_SCRIPT, 1, connections_key(user_id))
    return max(int(remaining), 0)  # type: ignore[arg-type]


def desk_disconnected(user: User) -> int:
    """The user's last desk connection dropped. If they opted in to cancel-on-disconnect,
    tell every shard to cancel their working DAY orders. The matcher is the authority on
    which orders go (reason cancel_on_disconnect); nobody waits for its answer, since there
    is no one left on the desk to show it to. Returns how many shards were told."""
    if not cancel_on_disconnect(user):
        return 0
    shards = sorted(set(Instrument.objects.values_list("shard", flat=True)))
    for shard in shards:
        command = MassCancel(
            command_id=uuid.uuid4().hex,
            ts_ns=0,
            user_id=user.pk,
            trader_user_id=user.pk,
            time_in_force=TimeInForce.DAY,
            on_disconnect=True,
        )
        try:
            command_send(shard, command, want_reply=False)
        except OrderRejected:
            log.error("cancel_on_disconnect_not_sent", user_id=user.pk, shard=shard)
    return len(shards)
