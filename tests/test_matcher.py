"""The matcher on the real Redis stream and the real channel layer."""

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.core.management import call_command

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.engine import Side
from apps.matching.redis import redis_client
from apps.matching.worker import Matcher
from apps.trading.models import Fill, Order
from apps.trading.services import OrderRequest, command_send, order_build, order_submit
from tests.conftest import RunningMatcher

pytestmark = pytest.mark.django_db(transaction=True)


async def listen(*groups: str) -> tuple[BaseChannelLayer, str]:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    return layer, channel


_received: dict[str, list[dict[str, Any]]] = {}


async def next_frame(layer: BaseChannelLayer, channel: str) -> dict[str, Any]:
    """The next frame on `channel`; the matcher sends each group a batch's frames at once."""
    pending = _received.setdefault(channel, [])
    if not pending:
        message = await asyncio.wait_for(layer.receive(channel), timeout=10)
        pending.extend(message["frames"])
    return pending.pop(0)


async def send_order(user: User, side: str, price: str, qty: int, request_id: str = "") -> str:
    _, command = await database_sync_to_async(order_build)(
        user, OrderRequest("AAPL", side, "limit", price, qty, "GTC", f"c-{request_id or price}")
    )
    await sync_to_async(command_send)(0, command, request_id=request_id, want_reply=False)
    return command.command_id


@pytest.mark.usefixtures("channel_layer_closed_after")
async def test_an_order_on_the_stream_is_acknowledged_and_updates_the_book(
    running_matcher: Matcher, trader: User
) -> None:
    layer, channel = await listen(keys.user_group(trader.pk), keys.book_group("AAPL"))
    await send_order(trader, "buy", "232.40", 100, request_id="r1")

    # Two groups, two messages: each group keeps its order, but not one against the other.
    frames = {}
    for _ in range(2):
        frame = await next_frame(layer, channel)
        frames[frame["type"]] = frame
    accepted, delta = frames["order.accepted"], frames["book.delta"]
    assert accepted["type"] == "order.accepted"
    assert accepted["request_id"] == "r1"
    assert accepted["order"] | {"created_at": None} == accepted["order"] | {
        "symbol": "AAPL",
        "side": "buy",
        "price": "232.40",
        "quantity": 100,
        "leaves_quantity": 100,
        "status": "new",
        "account": "ACC-1",
        "created_at": None,
    }
    assert delta == {
        "type": "book.delta",
        "symbol": "AAPL",
        "seq": 1,
        "changes": [{"side": "buy", "price": "232.40", "quantity": 100, "count": 1}],
    }


@pytest.mark.usefixtures("channel_layer_closed_after")
async def test_desks_keep_their_frames_when_the_publisher_process_dies(
    running_matcher: Matcher, trader: User
) -> None:
    publisher = running_matcher.publisher._process
    await sync_to_async(publisher.kill)()
    await sync_to_async(publisher.join)()
    layer, channel = await listen(keys.user_group(trader.pk))
    await send_order(trader, "buy", "232.40", 100, request_id="after-the-kill")

    accepted = await next_frame(layer, channel)
    assert (accepted["type"], accepted["request_id"]) == ("order.accepted", "after-the-kill")
    assert running_matcher.publisher._process.is_alive()


@pytest.mark.usefixtures("channel_layer_closed_after")
async def test_a_cross_prints_a_trade_and_fills_both_owners(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    seller_layer, seller = await listen(keys.user_group(trader.pk))
    buyer_layer, buyer = await listen(keys.user_group(second_trader.pk))
    tape_layer, tape = await listen(keys.book_group("AAPL"))
    await send_order(trader, "sell", "232.50", 100)
    assert (await next_frame(seller_layer, seller))["type"] == "order.accepted"
    assert (await next_frame(tape_layer, tape))["type"] == "book.delta"

    await send_order(second_trader, "buy", "232.55", 40)
    trade = await next_frame(tape_layer, tape)
    assert {k: trade[k] for k in ("type", "price", "quantity", "aggressor_side")} == {
        "type": "trade",
        "price": "232.50",
        "quantity": 40,
        "aggressor_side": "buy",
    }
    delta = await next_frame(tape_layer, tape)
    assert delta["changes"] == [{"side": "sell", "price": "232.50", "quantity": 60, "count": 1}]

    seller_fill = await next_frame(seller_layer, seller)
    assert seller_fill["type"] == "fill"
    assert seller_fill["fill"] | {"ts": None, "trade_id": None, "order_id": None} == {
        "symbol": "AAPL",
        "side": "sell",
        "price": "232.50",
        "quantity": 40,
        "liquidity": "maker",
        "ts": None,
        "trade_id": None,
        "order_id": None,
    }
    seller_order = await next_frame(seller_layer, seller)
    assert (seller_order["type"], seller_order["order"]["status"]) == (
        "order.updated",
        "partially_filled",
    )

    buyer_frames = [await next_frame(buyer_layer, buyer) for _ in range(3)]
    assert [f["type"] for f in buyer_frames] == ["order.accepted", "fill", "order.updated"]
    assert buyer_frames[0]["order"]["status"] == "filled"
    assert buyer_frames[1]["fill"]["liquidity"] == "taker"


@pytest.mark.usefixtures("channel_layer_closed_after")
async def test_an_unreadable_stream_entry_gets_a_rejection_and_a_log_entry(
    running_matcher: Matcher, trader: User
) -> None:
    layer, channel = await listen(keys.user_group(trader.pk))
    bad = {"kind": "new_order", "command_id": "bad-1", "user_id": trader.pk, "price_ticks": "x"}
    await sync_to_async(redis_client().xadd)(
        keys.command_stream(0), {"command": json.dumps(bad), "request_id": "r9", "reply": ""}
    )
    frame = await next_frame(layer, channel)
    assert (frame["type"], frame["code"], frame["request_id"]) == (
        "error",
        "malformed_command",
        "r9",
    )
    kinds = await database_sync_to_async(
        lambda: list(EventRecord.objects.filter(command_id="bad-1").values_list("kind", flat=True))
    )()
    assert kinds == ["unparseable", "command_rejected"]


def test_the_gateway_waits_for_the_matchers_outcome(running_matcher: Matcher, trader: User) -> None:
    order = order_submit(trader, OrderRequest("AAPL", "sell", "limit", "232.60", 10, "GTC", "w1"))
    assert order["status"] == "new"
    assert Order.objects.get(order_id=order["order_id"]).leaves_lots == 10


def test_a_restarted_matcher_rebuilds_its_books_from_the_log(
    transactional_db: None, instruments: dict[str, Instrument], trader: User, second_trader: User
) -> None:
    with RunningMatcher():
        for price, qty in (("232.50", 100), ("232.50", 50), ("232.70", 10)):
            order_submit(
                trader, OrderRequest("AAPL", "sell", "limit", price, qty, "GTC", f"s{price}{qty}")
            )
        order_submit(second_trader, OrderRequest("AAPL", "buy", "limit", "232.50", 30, "GTC", "b1"))
    with RunningMatcher() as restarted:
        assert restarted.matcher.engine.depth("AAPL", Side.SELL) == [
            (23250, 120, 2),
            (23270, 10, 1),
        ]
        # The oldest order at the best price is still first in the queue.
        filled = order_submit(
            second_trader, OrderRequest("AAPL", "buy", "limit", "232.50", 70, "GTC", "b2")
        )
        assert filled["status"] == "filled"
    first = Order.objects.get(client_order_id="s232.50100")
    assert (first.status, first.filled_lots) == ("filled", 100)
    seqs = list(EventRecord.objects.filter(shard=0).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_the_simulator_trades_through_the_gateway(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    call_command(
        "simulate", user=trader.username, taker=second_trader.username, symbols="AAPL",
        rate=1000, count=40, seed=3,
    )  # fmt: skip
    assert set(Order.objects.filter(user=trader).values_list("account", flat=True)) == {"ACC-1"}
    assert Order.objects.filter(user=second_trader, time_in_force="IOC").exists()
    # The taker's crossing orders meet the quotes: the demo prints trades.
    assert Fill.objects.filter(user=second_trader, liquidity="taker").exists()
    # It varies its sizes, as an algorithm must: the firm's duplicate check refuses none.
    assert not EventRecord.objects.filter(kind="order_rejected").exists()


GOOD_NEW_ORDER = {
    "kind": "new_order", "command_id": "poison", "ts_ns": 0, "account": "ACC-1",
    "symbol": "AAPL", "side": "buy", "order_type": "limit", "time_in_force": "GTC",
    "price_ticks": 23240, "qty_lots": 10, "client_order_id": "p-1",
}  # fmt: skip


@pytest.mark.parametrize(
    "poison",
    [
        {"client_order_id": "a\x00b"},
        {"command_id": "c" * 65},
        {"account": "A" * 40},
        {"price_ticks": 2**64},
        {"user_id": 987654321},
    ],
    ids=["nul-in-text", "long-command-id", "long-account", "int-overflow", "unknown-user"],
)
def test_an_entry_the_journal_cannot_hold_is_rejected_and_the_shard_goes_on(
    running_matcher: Matcher, trader: User, poison: dict[str, object]
) -> None:
    entry = {**GOOD_NEW_ORDER, "user_id": trader.pk, **poison}
    redis_client().xadd(
        keys.command_stream(0), {"command": json.dumps(entry), "request_id": "", "reply": ""}
    )
    after = order_submit(trader, OrderRequest("AAPL", "sell", "limit", "232.60", 10, "GTC", "ok"))
    assert after["status"] == "new"
    assert EventRecord.objects.filter(kind="unparseable").count() == 1
    assert EventRecord.objects.filter(kind="command_rejected", reason="malformed_command").exists()
