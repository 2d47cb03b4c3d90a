"""The desk WebSocket, through the real ASGI stack and the real channel layer."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.redis import redis_client
from apps.matching.worker import Matcher
from apps.trading.models import Order
from project.asgi import application

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer_closed_after"),
]
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@database_sync_to_async
def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(user: User | None, origin: tuple[bytes, bytes] = ORIGIN) -> WebsocketCommunicator:
    headers = [origin]
    if user is not None:
        headers.append((b"cookie", await session_cookie(user)))
    return WebsocketCommunicator(application, "/ws/desk/", headers=headers)


@pytest.fixture
async def trader_socket(
    trader: User, instruments: dict[str, Instrument]
) -> AsyncIterator[WebsocketCommunicator]:
    communicator = await connect(trader)
    connected, _ = await communicator.connect()
    assert connected
    yield communicator
    await communicator.disconnect()


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    frame: dict[str, Any] = await communicator.receive_json_from(timeout=10)
    return frame


async def test_unauthenticated_connections_are_refused() -> None:
    communicator = await connect(None)
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4401)


async def test_connections_from_a_foreign_origin_are_refused(trader: User) -> None:
    communicator = await connect(trader, origin=(b"origin", b"https://evil.example"))
    connected, _ = await communicator.connect()
    assert not connected


async def test_a_traders_order_is_acknowledged(
    running_matcher: Matcher, trader_socket: WebsocketCommunicator
) -> None:
    await trader_socket.send_json_to(
        {
            "type": "order.new",
            "request_id": "r1",
            "symbol": "AAPL",
            "side": "buy",
            "order_type": "limit",
            "price": "232.40",
            "quantity": 100,
            "time_in_force": "GTC",
            "client_order_id": "ws-1",
        }
    )
    frame = await receive(trader_socket)
    assert frame["type"] == "order.accepted"
    assert frame["request_id"] == "r1"
    assert (frame["order"]["client_order_id"], frame["order"]["status"]) == ("ws-1", "new")


async def test_subscribing_gives_a_snapshot_then_live_deltas(
    running_matcher: Matcher, trader_socket: WebsocketCommunicator
) -> None:
    await trader_socket.send_json_to({"type": "book.subscribe", "symbol": "AAPL"})
    snapshot = await receive(trader_socket)
    assert snapshot == {"type": "book.snapshot", "symbol": "AAPL", "seq": 0, "bids": [], "asks": []}
    await trader_socket.send_json_to(
        {
            "type": "order.new",
            "request_id": "r2",
            "symbol": "AAPL",
            "side": "sell",
            "price": "232.60",
            "quantity": 5,
            "time_in_force": "GTC",
            "client_order_id": "ws-2",
        }
    )
    frames = {f["type"]: f for f in [await receive(trader_socket), await receive(trader_socket)]}
    assert frames["book.delta"]["seq"] == 1
    assert frames["book.delta"]["changes"] == [
        {"side": "sell", "price": "232.60", "quantity": 5, "count": 1}
    ]


VALID_ORDER = {
    "type": "order.new",
    "request_id": "bad",
    "symbol": "AAPL",
    "side": "buy",
    "order_type": "limit",
    "price": "232.40",
    "quantity": 100,
    "time_in_force": "GTC",
    "client_order_id": "bad-1",
}


@pytest.mark.parametrize(
    ("message", "frame_type", "code"),
    [
        ({"type": "order.launch"}, "error", "unknown_type"),
        ({**VALID_ORDER, "symbol": "NOPE"}, "order.rejected", "unknown_instrument"),
        ({**VALID_ORDER, "quantity": -5}, "order.rejected", "invalid_quantity"),
        ({**VALID_ORDER, "quantity": 0}, "order.rejected", "invalid_quantity"),
        ({**VALID_ORDER, "price": "232.405"}, "order.rejected", "price_off_tick"),
        ({**VALID_ORDER, "price": "-1"}, "order.rejected", "invalid_price"),
        ({**VALID_ORDER, "side": "hold"}, "order.rejected", "invalid_field"),
        ({k: v for k, v in VALID_ORDER.items() if k != "price"}, "order.rejected", "invalid_price"),
        ({k: v for k, v in VALID_ORDER.items() if k != "quantity"}, "error", "missing_field"),
        ({**VALID_ORDER, "account": "ACC-2"}, "order.rejected", "account_not_permitted"),
        ({"type": "order.cancel", "order_id": "seven"}, "error", "invalid_field"),
        ({"type": "order.cancel", "order_id": 424242}, "error", "order_not_found"),
        ({"type": "book.subscribe", "symbol": "../etc"}, "error", "invalid_field"),
        ({**VALID_ORDER, "client_order_id": "a\x00b"}, "order.rejected", "invalid_client_order_id"),
    ],
)
async def test_a_bad_message_gets_an_error_frame_and_changes_nothing(
    trader_socket: WebsocketCommunicator, message: dict[str, Any], frame_type: str, code: str
) -> None:
    await trader_socket.send_json_to(message)
    frame = await receive(trader_socket)
    assert (frame["type"], frame["code"]) == (frame_type, code)
    assert frame["message"].endswith(".")
    assert await sync_to_async(redis_client().xlen)(keys.command_stream(0)) == 0
    assert not await database_sync_to_async(Order.objects.exists)()


async def test_malformed_json_gets_an_error_frame_and_keeps_the_connection(
    trader_socket: WebsocketCommunicator,
) -> None:
    await trader_socket.send_to(text_data="{not json")
    frame = await receive(trader_socket)
    assert (frame["type"], frame["code"]) == ("error", "invalid_json")
    await trader_socket.send_json_to({"type": "book.subscribe", "symbol": "AAPL"})
    assert (await receive(trader_socket))["type"] == "book.snapshot"


async def test_an_auditor_cannot_send_orders_over_the_socket(
    auditor: User, instruments: dict[str, Instrument]
) -> None:
    communicator = await connect(auditor)
    assert (await communicator.connect())[0]
    await communicator.send_json_to(VALID_ORDER)
    frame = await receive(communicator)
    assert (frame["type"], frame["code"]) == ("order.rejected", "permission_denied")
    await communicator.disconnect()


async def test_a_trader_modifies_an_order_over_the_socket(
    running_matcher: Matcher, trader_socket: WebsocketCommunicator
) -> None:
    await trader_socket.send_json_to({**VALID_ORDER, "request_id": "n1", "client_order_id": "m-1"})
    accepted = await receive(trader_socket)
    assert accepted["type"] == "order.accepted"
    order_id = accepted["order"]["order_id"]
    await trader_socket.send_json_to(
        {
            "type": "order.modify",
            "request_id": "m1",
            "order_id": order_id,
            "price": "232.30",
            "quantity": 40,
        }
    )
    modified = await receive(trader_socket)
    assert (modified["type"], modified["request_id"]) == ("order.modified", "m1")
    assert (modified["order"]["price"], modified["order"]["leaves_quantity"]) == ("232.30", 40)


async def test_a_modify_without_a_price_gets_an_error_frame(
    trader_socket: WebsocketCommunicator,
) -> None:
    await trader_socket.send_json_to({"type": "order.modify", "order_id": 5, "quantity": 4})
    frame = await receive(trader_socket)
    assert (frame["type"], frame["code"]) == ("error", "missing_field")
