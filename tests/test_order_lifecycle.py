"""The completed order semantics through the real matcher: modify, mass cancel, market and
stop orders, icebergs and session-close expiry, via the API and the scheduled task."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.matching.worker import Matcher
from apps.trading.models import Order
from apps.trading.tasks import expire_day_orders

pytestmark = pytest.mark.django_db(transaction=True)
ORDERS = "/api/v1/orders/"


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def place(client: APIClient, **fields: Any) -> dict[str, Any]:
    body = {
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "price": "232.40",
        "quantity": 100,
        "time_in_force": "GTC",
        "client_order_id": f"c-{len(fields)}-{sorted(fields.items())}"[:64],
        **fields,
    }
    response = client.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.json()
    created: dict[str, Any] = response.json()
    return created


def book(client: APIClient) -> dict[str, Any]:
    snapshot: dict[str, Any] = client.get("/api/v1/instruments/AAPL/book/").json()
    return snapshot


def test_reducing_an_order_keeps_its_place_in_the_queue(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    alice, bob = client_for(trader), client_for(second_trader)
    first = place(alice, side="sell", price="232.50", quantity=100)
    place(bob, side="sell", price="232.50", quantity=100, client_order_id="bob-1")
    modified = alice.patch(f"{ORDERS}{first['order_id']}/", {"price": "232.50", "quantity": 40})
    assert modified.status_code == 200
    assert (modified.json()["leaves_quantity"], modified.json()["quantity"]) == (40, 40)
    taker = place(bob, side="buy", price="232.50", quantity=40, client_order_id="bob-2")
    assert taker["status"] == "filled"
    # Bob's own resting sell would have been a self-trade; Alice's reduced order traded first.
    assert Order.objects.get(order_id=first["order_id"]).status == "filled"


def test_repricing_an_order_makes_it_trade_at_once(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    alice, bob = client_for(trader), client_for(second_trader)
    resting = place(alice, side="buy", price="232.00", quantity=50)
    place(bob, side="sell", price="232.30", quantity=50, client_order_id="bob-ask")
    response = alice.patch(f"{ORDERS}{resting['order_id']}/", {"price": "232.30", "quantity": 50})
    assert response.status_code == 200
    assert response.json()["status"] == "filled"
    assert book(alice)["bids"] == []
    assert book(alice)["asks"] == []


def test_modifying_a_filled_order_is_refused(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    alice, bob = client_for(trader), client_for(second_trader)
    sell = place(alice, side="sell", price="232.50", quantity=10)
    place(bob, side="buy", price="232.50", quantity=10, client_order_id="bob-take")
    response = alice.patch(f"{ORDERS}{sell['order_id']}/", {"price": "232.60", "quantity": 10})
    assert (response.status_code, response.json()["code"]) == (409, "order_not_open")


def test_a_traders_mass_cancel_takes_only_their_own_orders(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    alice, bob = client_for(trader), client_for(second_trader)
    place(alice, price="232.10")
    place(alice, side="sell", price="232.90")
    place(bob, price="232.20", client_order_id="bob-keep")
    response = alice.post(f"{ORDERS}mass-cancel/", {}, format="json")
    assert response.json() == {"cancelled_orders": 2}
    assert list(Order.objects.filter(status="new").values_list("user__username", flat=True)) == [
        "bob"
    ]


def test_a_risk_managers_mass_cancel_by_side_reaches_every_trader(
    running_matcher: Matcher, trader: User, second_trader: User, risk_manager: User
) -> None:
    place(client_for(trader), price="232.10")
    place(client_for(second_trader), price="232.20", client_order_id="bob-bid")
    place(client_for(second_trader), side="sell", price="232.90", client_order_id="bob-ask")
    response = client_for(risk_manager).post(
        f"{ORDERS}mass-cancel/", {"symbol": "AAPL", "side": "buy"}, format="json"
    )
    assert response.json() == {"cancelled_orders": 2}
    assert list(Order.objects.filter(status="new").values_list("side", flat=True)) == ["sell"]
    assert set(Order.objects.filter(status="cancelled").values_list("reason_code", flat=True)) == {
        "mass_cancel"
    }


def test_an_auditor_cannot_mass_cancel(running_matcher: Matcher, auditor: User) -> None:
    response = client_for(auditor).post(f"{ORDERS}mass-cancel/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_a_market_order_sweeps_within_its_protection_and_never_rests(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    alice, bob = client_for(trader), client_for(second_trader)
    place(alice, side="sell", price="232.50", quantity=30)
    place(alice, side="sell", price="232.60", quantity=30)
    market = place(bob, type="market", price=None, quantity=100, client_order_id="bob-mkt")
    assert (market["status"], market["filled_quantity"], market["price"]) == (
        "cancelled",
        60,
        None,
    )
    assert market["reason_code"] == "no_liquidity"
    assert book(bob)["asks"] == []


def test_a_market_order_into_an_empty_book_is_refused(
    running_matcher: Matcher, trader: User
) -> None:
    response = client_for(trader).post(
        ORDERS,
        {"symbol": "AAPL", "side": "buy", "type": "market", "quantity": 5, "client_order_id": "m"},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "no_liquidity")
    assert not Order.objects.exists()


def test_a_stop_waits_unseen_then_triggers_on_a_trade_through_its_price(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    alice, bob = client_for(trader), client_for(second_trader)
    stop = place(
        bob, type="stop", price=None, stop_price="232.50", quantity=10, client_order_id="s"
    )
    assert book(bob) == {"symbol": "AAPL", "seq": 0, "bids": [], "asks": []}
    place(alice, side="sell", price="232.50", quantity=5)
    place(alice, side="sell", price="232.70", quantity=20)
    place(bob, price="232.50", quantity=5, client_order_id="bob-lift")
    triggered = Order.objects.get(order_id=stop["order_id"])
    assert (triggered.status, triggered.filled_lots) == ("filled", 10)


def test_an_iceberg_shows_only_its_display_quantity(running_matcher: Matcher, trader: User) -> None:
    place(client_for(trader), side="sell", price="232.50", quantity=1000, display_quantity=100)
    assert book(client_for(trader))["asks"] == [["232.50", 100, 1]]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"type": "market", "price": "232.40"}, "invalid_price"),
        ({"type": "stop_limit"}, "invalid_stop_price"),
        ({"type": "limit", "stop_price": "232.00"}, "invalid_stop_price"),
        ({"display_quantity": 500}, "invalid_display_quantity"),
        ({"time_in_force": "IOC", "post_only": True}, "invalid_order"),
    ],
)
def test_inconsistent_orders_are_refused_with_a_reason(
    running_matcher: Matcher, trader: User, fields: dict[str, Any], code: str
) -> None:
    body = {
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "price": "232.40",
        "quantity": 100,
        "time_in_force": "GTC",
        "client_order_id": "bad",
        **fields,
    }
    response = client_for(trader).post(ORDERS, body, format="json")
    assert response.json()["code"] == code
    assert 400 <= response.status_code < 500
    assert not Order.objects.exists()


def test_session_close_expires_day_orders_and_keeps_gtc(
    running_matcher: Matcher, trader: User
) -> None:
    alice = client_for(trader)
    day = place(alice, time_in_force="DAY", price="232.10")
    gtc = place(alice, time_in_force="GTC", price="232.20")
    expire_day_orders()
    # One writer, in stream order: once the next order is answered, the expiry is applied.
    place(alice, price="232.00", client_order_id="after-close")
    assert Order.objects.get(order_id=day["order_id"]).reason_code == "expired"
    assert Order.objects.get(order_id=gtc["order_id"]).status == "new"


def test_resubmitting_a_client_order_id_returns_the_original_order_and_trades_nothing(
    running_matcher: Matcher, trader: User
) -> None:
    alice = client_for(trader)
    first = place(alice, side="sell", price="232.50", quantity=10, client_order_id="same-1")
    again = alice.post(
        ORDERS,
        {
            "symbol": "AAPL",
            "side": "sell",
            "type": "limit",
            "price": "232.50",
            "quantity": 10,
            "time_in_force": "GTC",
            "client_order_id": "same-1",
        },
        format="json",
    )
    assert again.status_code == 201
    assert again.json()["order_id"] == first["order_id"]
    assert Order.objects.count() == 1
    assert book(alice)["asks"] == [["232.50", 10, 1]]


def test_resubmitting_a_rejected_order_returns_the_original_rejection(
    running_matcher: Matcher, trader: User
) -> None:
    alice = client_for(trader)
    body = {
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "price": "232.50",
        "quantity": 10,
        "time_in_force": "FOK",
        "client_order_id": "fok-1",
    }
    first = alice.post(ORDERS, body, format="json")
    assert first.json()["code"] == "fok_not_fillable"
    place(alice, side="sell", price="232.50", quantity=10, client_order_id="liquidity")
    again = alice.post(ORDERS, body, format="json")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert book(alice)["asks"] == [["232.50", 10, 1]]
