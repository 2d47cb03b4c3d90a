"""The risk feed and cancel-on-disconnect on the desk WebSocket, through the real ASGI stack,
the real channel layer and a running matcher."""

import json
from typing import Any, cast

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import LazySettings
from django.db import transaction

from apps.accounts.models import User
from apps.desk.presence import connections_key
from apps.desk.risk_console import recent_risk_events
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.codec import command_from_dict
from apps.matching.engine import MassCancel
from apps.matching.redis import redis_client
from apps.matching.worker import Matcher
from apps.risk.services import account_limits_update, kill_switch_engage, trader_settings_update
from apps.trading.control import SYSTEM_USER_ID
from apps.trading.errors import OrderRejected
from apps.trading.models import Order
from apps.trading.services import OrderRequest, order_submit
from tests.conftest import RunningMatcher, wait_until
from tests.test_consumer import connect, receive
from tests.test_matcher import listen, next_frame

# Personas come before the matcher in each test's arguments: the matcher then starts with their
# entitlements in the database, as a real desk does.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer_closed_after"),
]


async def open_socket(user: User) -> WebsocketCommunicator:
    communicator = await connect(user)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive_type(communicator: WebsocketCommunicator, frame_type: str) -> dict[str, Any]:
    """The next frame of a type, skipping the others (a console also gets account figures)."""
    while True:
        frame = await receive(communicator)
        if frame["type"] == frame_type:
            return frame


def order(client_order_id: str, time_in_force: str = "DAY", **fields: Any) -> OrderRequest:
    return OrderRequest(
        symbol="AAPL",
        side=fields.get("side", "buy"),
        order_type="limit",
        price=fields.get("price", "232.40"),
        quantity=fields.get("quantity", 10),
        time_in_force=time_in_force,
        client_order_id=client_order_id,
    )


def mass_cancels_sent() -> list[MassCancel]:
    """The mass cancels on shard 0's command stream, whoever sent them."""
    entries = cast(
        list[tuple[bytes, dict[bytes, bytes]]], redis_client().xrange(keys.command_stream(0))
    )
    commands = [command_from_dict(json.loads(fields[b"command"])) for _, fields in entries]
    return [c for c in commands if isinstance(c, MassCancel)]


# -- the risk feed ---------------------------------------------------------------------------


async def test_a_trader_cannot_watch_the_risk_feed(
    trader: User, instruments: dict[str, Instrument]
) -> None:
    socket = await open_socket(trader)
    await socket.send_json_to({"type": "risk.subscribe", "request_id": "r1"})
    frame = await receive(socket)
    assert (frame["type"], frame["code"], frame["request_id"]) == (
        "error",
        "permission_denied",
        "r1",
    )
    # Not in the group either: what the matchers publish to it never reaches this socket.
    await get_channel_layer().group_send(
        keys.risk_group(), {"type": "desk.frames", "frames": [{"type": "risk.alert"}]}
    )
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_an_auditor_cannot_watch_the_risk_feed(
    auditor: User, instruments: dict[str, Instrument]
) -> None:
    socket = await open_socket(auditor)
    await socket.send_json_to({"type": "risk.subscribe"})
    frame = await receive(socket)
    assert (frame["type"], frame["code"]) == ("error", "permission_denied")
    await socket.disconnect()


@database_sync_to_async
def _trader_kill_switch_bites(risk_manager: User, trader: User) -> int:
    """Alice has a working order; a risk manager pulls her kill switch, and her next order
    is refused. Returns the id of the order the switch took out."""
    working = order_submit(trader, order("before-kill"))
    kill_switch_engage(risk_manager, "trader", trader="alice", reason="runaway algo")
    with pytest.raises(OrderRejected) as refused:
        order_submit(trader, order("after-kill"))
    assert refused.value.code == "kill_switch"
    return int(working["order_id"])


async def test_a_risk_manager_gets_a_snapshot_of_accounts_switches_and_recent_events(
    risk_manager: User, trader: User, second_trader: User, running_matcher: Matcher
) -> None:
    await _trader_kill_switch_bites(risk_manager, trader)

    console = await open_socket(risk_manager)
    await console.send_json_to({"type": "risk.subscribe", "request_id": "s1"})
    snapshot = await receive(console)

    assert (snapshot["type"], snapshot["request_id"]) == ("risk.snapshot", "s1")
    accounts = {a["account"]: a for a in snapshot["accounts"]}
    assert set(accounts) == {"ACC-1", "ACC-2"}
    assert accounts["ACC-2"]["loss_stage"] == "ok"
    switch = snapshot["kill_switches"]["traders"][str(trader.pk)]
    assert (switch["engaged_by"], switch["reason"]) == (risk_manager.pk, "runaway algo")
    assert {(t["username"], tuple(t["accounts"])) for t in snapshot["traders"]} == {
        ("alice", ("ACC-1",)),
        ("bob", ("ACC-2",)),
    }
    assert snapshot["usernames"][str(risk_manager.pk)] == "rita"

    [engaged] = [f["kill_switch"] for f in snapshot["alerts"] if f["type"] == "risk.kill_switch"]
    assert (engaged["scope"], engaged["trader_user_id"], engaged["engaged"]) == (
        "trader",
        trader.pk,
        True,
    )
    assert (engaged["reason"], engaged["user_id"], engaged["cancelled_orders"]) == (
        "runaway algo",
        risk_manager.pk,
        1,
    )
    [rejection] = [f["rejection"] for f in snapshot["rejections"]]
    assert rejection["user_id"] == trader.pk
    assert (rejection["account"], rejection["symbol"], rejection["code"]) == (
        "ACC-1",
        "AAPL",
        "kill_switch",
    )
    assert rejection["client_order_id"] == "after-kill"
    assert "kill switch is engaged" in rejection["message"]
    await console.disconnect()


async def test_a_risk_manager_sees_a_kill_switch_and_the_refused_order_live(
    risk_manager: User, trader: User, running_matcher: Matcher
) -> None:
    console = await open_socket(risk_manager)
    await console.send_json_to({"type": "risk.subscribe"})
    assert (await receive(console))["type"] == "risk.snapshot"

    await _trader_kill_switch_bites(risk_manager, trader)

    engaged = (await receive_type(console, "risk.kill_switch"))["kill_switch"]
    assert (engaged["trader_user_id"], engaged["engaged"], engaged["cancelled_orders"]) == (
        trader.pk,
        True,
        1,
    )
    rejection = (await receive_type(console, "risk.rejection"))["rejection"]
    assert (rejection["client_order_id"], rejection["code"]) == ("after-kill", "kill_switch")
    await console.disconnect()


async def test_the_feed_tells_of_a_limit_change_once_though_the_matcher_got_it_twice(
    risk_manager: User, trader: User, instruments: dict[str, Instrument]
) -> None:
    # Made while the matcher was down, as the demo seed makes its limits: the database holds
    # it, and so does the command stream.
    await database_sync_to_async(_limit_change_queued)(risk_manager, 100, "Desk limit")
    layer, channel = await listen(keys.risk_group())
    matcher = RunningMatcher()
    await sync_to_async(matcher.__enter__, thread_sensitive=False)()
    try:
        # At start the matcher brings itself in line with the database, so the queued command
        # then changes nothing; the next change is a real one.
        await database_sync_to_async(account_limits_update)(
            risk_manager, "ACC-1", {"max_order_lots": 50}, "Desk limit cut"
        )
        changes: list[dict[str, Any]] = []
        while not changes or changes[-1]["reason"] != "Desk limit cut":
            frame = await next_frame(layer, channel)
            if frame["type"] == "risk.limit" and frame["change"]["account"] == "ACC-1":
                changes.append(frame["change"])
    finally:
        await sync_to_async(matcher.__exit__, thread_sensitive=False)(None, None, None)

    def told(change: dict[str, Any]) -> tuple[object, ...]:
        return change["limit"], change["user_id"], change["old_value"], change["new_value"]

    assert [told(c) for c in changes] == [
        ("max_order_lots", SYSTEM_USER_ID, None, 100),
        ("max_order_lots", risk_manager.pk, 100, 50),
    ]
    feed, _ = await database_sync_to_async(recent_risk_events)()
    assert [told(f["change"]) for f in feed if f["type"] == "risk.limit"] == [
        ("max_order_lots", risk_manager.pk, 100, 50)
    ]


def _limit_change_queued(risk_manager: User, max_order_lots: int, reason: str) -> None:
    # In a transaction the service sends its command on commit and waits for no answer.
    with transaction.atomic():
        account_limits_update(risk_manager, "ACC-1", {"max_order_lots": max_order_lots}, reason)


def _account_figures(credit_used: str, loss_today: str, symbol: str, stage: str) -> str:
    return json.dumps(
        {
            "account": "ACC-1",
            "credit_limit": "1000.00",
            "credit_used": credit_used,
            "loss_today": loss_today,
            "loss_warning": "50.00",
            "loss_reduce_only": None,
            "loss_kill": None,
            "loss_stage": stage,
            "kill_switch": None,
            "positions": [
                {
                    "symbol": symbol,
                    "position": 5,
                    "max_long": None,
                    "max_short": None,
                    "working_buy": 0,
                    "working_sell": 0,
                }
            ],
        }
    )


async def test_the_snapshot_adds_up_an_account_over_every_shard(
    risk_manager: User, trader: User, instruments: dict[str, Instrument], settings: LazySettings
) -> None:
    settings.MATCHER_SHARD_COUNT = 2
    client = redis_client()
    client.hset(keys.risk_snapshot(0), "ACC-1", _account_figures("100.00", "10.00", "AAPL", "ok"))
    client.hset(
        keys.risk_snapshot(1), "ACC-1", _account_figures("25.50", "45.00", "INTC", "warning")
    )
    client.hset(
        keys.risk_snapshot(1),
        keys.KILL_SWITCHES_FIELD,
        json.dumps({"firm": None, "accounts": {}, "traders": {}}),
    )
    console = await open_socket(risk_manager)
    await console.send_json_to({"type": "risk.subscribe"})
    snapshot = await receive(console)
    [account] = snapshot["accounts"]
    assert (account["credit_used"], account["loss_today"], account["loss_stage"]) == (
        "125.50",
        "55.00",
        "warning",
    )
    assert [p["symbol"] for p in account["positions"]] == ["AAPL", "INTC"]
    assert snapshot["kill_switches"] == {"firm": None, "traders": {}}
    await console.disconnect()


# -- cancel-on-disconnect --------------------------------------------------------------------


@database_sync_to_async
def _opt_in(trader: User) -> None:
    trader_settings_update(trader, cancel_on_disconnect=True)


@database_sync_to_async
def _order_state(client_order_id: str) -> tuple[str, str]:
    row = Order.objects.get(client_order_id=client_order_id)
    return row.status, row.reason_code


@database_sync_to_async
def _submit(trader: User, request: OrderRequest) -> None:
    order_submit(trader, request)


async def test_cancel_on_disconnect_cancels_day_orders_when_the_last_connection_closes(
    trader: User, running_matcher: Matcher
) -> None:
    await _opt_in(trader)
    first = await open_socket(trader)
    second = await open_socket(trader)
    await _submit(trader, order("day-1"))
    await _submit(trader, order("gtc-1", time_in_force="GTC", price="232.30"))

    await first.disconnect()
    # One desk is still open: nothing is asked of the matcher.
    assert await sync_to_async(mass_cancels_sent)() == []
    assert await sync_to_async(redis_client().get)(connections_key(trader.pk)) == b"1"

    await second.disconnect()
    [sent] = await sync_to_async(mass_cancels_sent)()
    assert (sent.user_id, sent.trader_user_id, sent.on_disconnect) == (trader.pk, trader.pk, True)
    assert await database_sync_to_async(wait_until)(
        lambda: Order.objects.get(client_order_id="day-1").status == "cancelled"
    )
    assert await _order_state("day-1") == ("cancelled", "cancel_on_disconnect")
    # GTC orders outlive the desk; only DAY orders go.
    assert await _order_state("gtc-1") == ("new", "")
    assert await sync_to_async(redis_client().exists)(connections_key(trader.pk)) == 0


async def test_without_opting_in_a_traders_orders_survive_their_last_disconnect(
    trader: User, running_matcher: Matcher
) -> None:
    socket = await open_socket(trader)
    await _submit(trader, order("day-2"))
    await socket.disconnect()
    # An order after the disconnect: once it is answered, the matcher has seen everything
    # the disconnect could have sent before it.
    await _submit(trader, order("marker", price="232.10"))
    assert await sync_to_async(mass_cancels_sent)() == []
    assert await _order_state("day-2") == ("new", "")


async def test_a_reconnected_trader_is_counted_again(
    trader: User, running_matcher: Matcher
) -> None:
    await _opt_in(trader)
    socket = await open_socket(trader)
    await socket.disconnect()
    again = await open_socket(trader)
    await _submit(trader, order("day-3"))
    # The earlier close was the last one then; this desk is open now, and its order stays.
    await _submit(trader, order("marker-3", price="232.10"))
    assert await _order_state("day-3") == ("new", "")
    await again.disconnect()
    assert await database_sync_to_async(wait_until)(
        lambda: Order.objects.get(client_order_id="day-3").status == "cancelled"
    )
