"""Positions from fills, and read models rebuilt from the log equal to the live ones."""

from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching.worker import Matcher
from apps.risk.models import FirmRiskPolicy
from apps.trading.models import Fill, Order, Position
from apps.trading.services import OrderRequest, order_submit
from tests.conftest import RunningMatcher

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_price_controls(transactional_db: None, instruments: dict[str, Instrument]) -> None:
    """The trades below use round prices far from AAPL's reference; the price collar and the
    LULD bands (tested in tests/risk, tests/breakers and tests/engine) would stop them."""
    FirmRiskPolicy.objects.update_or_create(
        pk=FirmRiskPolicy.SINGLETON_PK, defaults={"collar_percent": None}
    )
    Instrument.objects.filter(symbol="AAPL").update(luld_tier=Instrument.LuldTier.NONE)


def trade(seller: User, buyer: User, price: str, qty: int, tag: str) -> None:
    order_submit(seller, OrderRequest("AAPL", "sell", "limit", price, qty, "GTC", f"s-{tag}"))
    order_submit(buyer, OrderRequest("AAPL", "buy", "limit", price, qty, "GTC", f"b-{tag}"))


def positions(user: User) -> list[dict[str, Any]]:
    client = APIClient()
    client.force_authenticate(user)
    listed: list[dict[str, Any]] = client.get("/api/v1/positions/").json()
    return listed


@pytest.mark.parametrize(
    ("trades", "quantity", "average", "realised"),
    [
        ([("buy", "10.00", 100)], 100, "10.000000", "0.00"),
        ([("buy", "10.00", 100), ("buy", "11.00", 100)], 200, "10.500000", "0.00"),
        ([("buy", "10.00", 100), ("sell", "12.00", 40)], 60, "10.000000", "80.00"),
        ([("buy", "10.00", 100), ("sell", "9.00", 100)], 0, None, "-100.00"),
        ([("buy", "10.00", 100), ("sell", "11.00", 150)], -50, "11.000000", "100.00"),
        ([("sell", "20.00", 30), ("buy", "18.50", 30)], 0, None, "45.00"),
    ],
)
def test_fills_give_the_position_average_price_and_realised_pnl(
    running_matcher: Matcher,
    trader: User,
    second_trader: User,
    trades: list[tuple[str, str, int]],
    quantity: int,
    average: str | None,
    realised: str,
) -> None:
    for n, (side, price, qty) in enumerate(trades):
        if side == "buy":
            trade(second_trader, trader, price, qty, str(n))
        else:
            trade(trader, second_trader, price, qty, str(n))
    (position,) = positions(trader)
    assert (position["quantity"], position["average_price"], position["realised_pnl"]) == (
        quantity,
        average,
        realised,
    )


def test_read_models_rebuilt_from_the_log_equal_the_live_ones(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    trade(trader, second_trader, "232.50", 100, "a")
    trade(second_trader, trader, "232.70", 30, "b")
    order_submit(trader, OrderRequest("AAPL", "sell", "limit", "233.00", 20, "GTC", "rest"))

    def state() -> tuple[list[Any], list[Any], list[Any]]:
        return (
            list(Order.objects.order_by("order_id").values_list(
                "order_id", "status", "filled_lots", "leaves_lots", "price_ticks")),
            list(Fill.objects.order_by("trade_id", "liquidity").values_list(
                "trade_id", "order__order_id", "price_ticks", "qty_lots", "liquidity")),
            list(Position.objects.order_by("account").values_list(
                "account", "qty_lots", "cost_ticks", "realised_pnl_ticks")),
        )  # fmt: skip

    live = state()
    call_command("rebuild_read_models", shard=0)
    assert state() == live
    assert live[2] != []


def test_a_restarted_matcher_carries_on_the_stored_orders_and_positions(
    trader: User, second_trader: User
) -> None:
    """The matcher keeps working orders and positions in memory; after a restart it starts
    from the stored rows, so a fill then lands on the order and the position as stored."""
    with RunningMatcher():
        trade(second_trader, trader, "10.00", 100, "a")
        order_submit(trader, OrderRequest("AAPL", "sell", "limit", "12.00", 60, "GTC", "rest"))
    with RunningMatcher():
        order_submit(
            second_trader, OrderRequest("AAPL", "buy", "limit", "12.00", 40, "GTC", "lift")
        )
    resting = Order.objects.get(client_order_id="rest")
    assert (resting.status, resting.filled_lots, resting.leaves_lots) == (
        Order.Status.PARTIALLY_FILLED,
        40,
        20,
    )
    (position,) = positions(trader)
    assert (position["quantity"], position["average_price"], position["realised_pnl"]) == (
        60,
        "10.000000",
        "80.00",
    )


def test_a_trader_sees_only_the_positions_of_accounts_they_trade(
    instruments: Any, trader: User, second_trader: User, auditor: User
) -> None:
    with RunningMatcher():
        trade(trader, second_trader, "232.50", 10, "x")
    assert [p["account"] for p in positions(trader)] == ["ACC-1"]
    assert positions(auditor) == []
