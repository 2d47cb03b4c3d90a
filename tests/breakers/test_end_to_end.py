"""Halts through a running matcher: a manual halt over the API stops matching and shows in the
halts list with its reason; the resume reopens by auction. Needs the engine's breaker stage and
the matcher's halt publishing."""

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.matching import keys
from apps.matching.engine import (
    BreakerParameter,
    ClockTick,
    Command,
    ModifyOrder,
    NewOrder,
    OrderType,
    SetBreakerParameter,
    Side,
    TimeInForce,
)
from apps.matching.redis import redis_client
from apps.matching.worker import Incoming, Matcher
from apps.trading.models import Fill, Order
from apps.trading.services import OrderRequest, order_submit
from tests.breakers.helpers import BREAKERS, client_for
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SECOND = 1_000_000_000


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


def test_an_order_that_finds_a_pause_over_answers_with_its_own_outcome_after_the_auction(
    trader: User, second_trader: User, risk_manager: User, instruments: dict[str, Any]
) -> None:
    # Commands handed to the matcher as its loop hands them over, stamped by the test: the
    # modify comes a second after the pause's end with no tick between, so the reopening
    # auction runs inside it.
    matcher = Matcher(0, block_ms=20)
    matcher.start()
    try:
        start = time.time_ns() + SECOND
        band = matcher.engine.band("AAPL")
        assert band is not None
        upper = band[1]

        def send(command: Command, reply: bool = False) -> None:
            matcher.process([Incoming("", command, want_reply=reply)])

        def order(user: User, account: str, side: Side, qty: int, price: int, at: int) -> str:
            command_id = uuid.uuid4().hex
            terms = ("AAPL", side, OrderType.LIMIT, TimeInForce.GTC, price, qty, command_id)
            send(NewOrder(command_id, at, user.pk, account, *terms))
            return command_id

        for parameter, value in (
            (BreakerParameter.LIMIT_STATE_NS, SECOND),
            (BreakerParameter.PAUSE_NS, 6 * SECOND),
        ):
            who = (risk_manager.pk, "drill")
            send(SetBreakerParameter(uuid.uuid4().hex, start, *who, parameter, value, ""))
        # A bid at the upper band is a limit state; a second later, a pause until +7 s.
        order(second_trader, "ACC-2", Side.BUY, 100, upper, start)
        send(ClockTick(uuid.uuid4().hex, start + SECOND))
        sell = order(trader, "ACC-1", Side.SELL, 150, upper - 400, start + 2 * SECOND)
        matcher.settle()
        sell_id = Order.objects.get(client_order_id=sell).order_id

        modify_id = uuid.uuid4().hex
        late = start + 8 * SECOND
        send(ModifyOrder(modify_id, late, trader.pk, sell_id, upper - 400, 20), reply=True)
        matcher.settle()
    finally:
        matcher.close()

    # The answer is the modify's, not the reopening's first event.
    raw = redis_client().lpop(keys.reply(modify_id))
    assert raw is not None
    answer = json.loads(raw)
    assert answer["status"] == 200, answer
    assert (answer["order"]["order_id"], answer["order"]["leaves_quantity"]) == (sell_id, 20)
    # The log holds the auction before the modify, and the read models the modify's leaves.
    modify_seq = EventRecord.objects.get(command_id=modify_id, kind="modify_order").seq
    assert list(
        EventRecord.objects.filter(seq__gt=modify_seq, command_id=modify_id)
        .order_by("seq")
        .values_list("kind", flat=True)[:3]
    ) == ["trading_resumed", "trade", "order_modified"]
    stored = Order.objects.get(order_id=sell_id)
    assert (stored.filled_lots, stored.leaves_lots, stored.status) == (100, 20, "partially_filled")
