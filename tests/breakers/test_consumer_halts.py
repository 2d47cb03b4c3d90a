"""Every desk connection shows halts: it joins the halts group on connect, and gets the halts in
force (as the matchers keep them in Redis) first."""

import json
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.redis import redis_client
from tests.test_consumer import connect

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer_closed_after", "instruments"),
]


def halt(symbol: str, kind: str = "luld_pause") -> dict[str, Any]:
    return {
        "symbol": symbol,
        "kind": kind,
        "message": "Limit state for 15 s: a 5-minute trading pause.",
        "since": "2026-07-01T13:30:00Z",
        "until": "2026-07-01T13:35:00Z",
        "accepts_orders": True,
        "indicative": None,
    }


async def open_socket(user: User) -> WebsocketCommunicator:
    communicator = await connect(user)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_a_desk_gets_the_halts_in_force_of_every_shard_on_connecting(
    trader: User,
) -> None:
    await Instrument.objects.filter(symbol="INTC").aupdate(shard=1)
    client = redis_client()
    client.hset(keys.halts_snapshot(0), "AAPL", json.dumps(halt("AAPL")))
    client.hset(keys.halts_snapshot(1), "INTC", json.dumps(halt("INTC", "manual")))
    socket = await open_socket(trader)
    frame = await socket.receive_json_from(timeout=10)
    assert frame == {"type": "halts.snapshot", "halts": [halt("AAPL"), halt("INTC", "manual")]}
    await socket.disconnect()


async def test_nothing_is_sent_on_connecting_while_nothing_is_halted(trader: User) -> None:
    socket = await open_socket(trader)
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_every_desk_receives_what_the_matcher_publishes_to_the_halts_group(
    trader: User, risk_manager: User, auditor: User
) -> None:
    sockets = [await open_socket(user) for user in (trader, risk_manager, auditor)]
    frames = [{"type": "halt", "halt": halt("AAPL")}, {"type": "resume", "symbol": "AAPL"}]
    await get_channel_layer().group_send(
        keys.halts_group(), {"type": "desk.frames", "frames": frames}
    )
    for socket in sockets:
        assert await socket.receive_json_from(timeout=10) == frames[0]
        assert await socket.receive_json_from(timeout=10) == frames[1]
        await socket.disconnect()


async def test_a_closed_desk_leaves_the_halts_group(trader: User) -> None:
    socket = await open_socket(trader)
    await socket.disconnect()
    layer = get_channel_layer()
    await layer.group_send(
        keys.halts_group(), {"type": "desk.frames", "frames": [{"type": "resume"}]}
    )
    # The group has no member left: the layer keeps nothing for it.
    assert not redis_client().keys(f"{layer.prefix}*group*halts*")
