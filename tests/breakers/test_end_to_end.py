"""Halts through a running matcher: a manual halt over the API stops matching and shows in the
halts list with its reason; the resume reopens by auction. Needs the engine's breaker stage and
the matcher's halt publishing."""

from decimal import Decimal
from typing import Any

import pytest

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.matching.worker import Matcher
from apps.trading.models import Fill
from apps.trading.services import OrderRequest, order_submit
from tests.breakers.helpers import BREAKERS, client_for
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def limit(symbol: str, side: str, price: str, quantity: int, coid: str) -> OrderRequest:
    return OrderRequest(
        symbol=symbol,
        side=side,
        order_type="limit",
        price=Decimal(price),
        quantity=quantity,
        time_in_force="GTC",
        client_order_id=coid,
    )


def halts(user: User, symbol: str = "AAPL") -> dict[str, Any]:
    body: dict[str, Any] = client_for(user).get(BREAKERS + "halts/", {"symbol": symbol}).json()
    return body


def test_a_manual_halt_stops_matching_and_the_resume_reopens_by_auction(
    running_matcher: Matcher, trader: User, second_trader: User, risk_manager: User
) -> None:
    api = client_for(risk_manager)
    halted = api.post(
        BREAKERS + "halts/",
        {"symbol": "AAPL", "action": "halt", "reason": "Pending news"},
        format="json",
    )
    assert halted.status_code == 200, halted.json()
    assert (halted.json()["instruments"], halted.json()["message"]) == (1, "Halted AAPL.")

    assert wait_until(lambda: bool(halts(trader)["current"]))
    (current,) = halts(trader)["current"]
    assert (current["symbol"], current["kind"], current["accepts_orders"]) == (
        "AAPL",
        "manual",
        True,
    )
    (past,) = halts(trader)["halts"]
    assert (past["reason"], past["halted_by"], past["active"]) == ("Pending news", "rita", True)

    # Halted: orders are taken to rest for the reopening auction, but nothing matches.
    sell = order_submit(trader, limit("AAPL", "sell", "232.50", 100, "e2e-sell"))
    buy = order_submit(second_trader, limit("AAPL", "buy", "232.60", 100, "e2e-buy"))
    assert (sell["status"], buy["status"]) == ("new", "new")
    assert not Fill.objects.exists()
    assert not EventRecord.objects.filter(kind="trade").exists()
    # Elsewhere trading goes on.
    intc_sell = order_submit(trader, limit("INTC", "sell", "21.35", 10, "e2e-intc-sell"))
    intc_buy = order_submit(second_trader, limit("INTC", "buy", "21.35", 10, "e2e-intc-buy"))
    assert (intc_sell["status"], intc_buy["status"]) == ("new", "filled")

    resumed = api.post(
        BREAKERS + "halts/",
        {"symbol": "AAPL", "action": "resume", "reason": "News out"},
        format="json",
    )
    assert resumed.status_code == 200, resumed.json()
    assert resumed.json()["instruments"] == 1

    # The reopening auction crosses the two orders at one price.
    assert wait_until(lambda: EventRecord.objects.filter(kind="trade", symbol="AAPL").exists())
    (trade,) = EventRecord.objects.filter(kind="trade", symbol="AAPL")
    assert trade.payload["qty_lots"] == 100
    assert 23250 <= trade.payload["price_ticks"] <= 23260
    assert wait_until(lambda: not halts(trader)["current"])
    (past,) = halts(trader)["halts"]
    assert (past["active"], past["ended_by"], past["resumed_by"], past["resume_reason"]) == (
        False,
        "resume_request",
        "rita",
        "News out",
    )
    assert past["auction_volume"] == 100
    assert Decimal(past["auction_price"]) == Decimal(trade.payload["price_ticks"]) / 100


def test_resuming_an_instrument_that_is_not_halted_is_refused_by_the_matcher(
    running_matcher: Matcher, risk_manager: User
) -> None:
    response = client_for(risk_manager).post(
        BREAKERS + "halts/", {"symbol": "INTC", "action": "resume", "reason": "x"}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json() == {"code": "invalid_control", "message": "INTC is not halted."}
    assert not halts(risk_manager, "INTC")["halts"]


def test_breaker_settings_reach_the_matcher_and_are_journaled(
    running_matcher: Matcher, risk_manager: User
) -> None:
    response = client_for(risk_manager).patch(
        BREAKERS + "settings/",
        {"limit_state_seconds": "1", "reason": "Fast drill"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    (event,) = response.json()["events"]
    assert event["kind"] == "breaker_parameter_changed"
    assert (event["parameter"], event["new_value"]) == ("limit_state_ns", 1_000_000_000)
    assert (event["user_id"], event["change_reason"]) == (risk_manager.pk, "Fast drill")
