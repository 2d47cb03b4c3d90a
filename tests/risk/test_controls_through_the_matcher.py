"""Each pre-trade control at, just under and just over its boundary, through the gateway and a
running matcher on the real Redis and database. (The engine-level tables in
tests/engine/test_risk.py walk the same boundaries on every side; this proves the desk's path.)

AAPL's reference price is $232.50, its tick a cent and its lot one share.
"""

import uuid
from decimal import Decimal

import pytest

from apps.accounts import roles
from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.matching.engine import NewOrder, OrderType, Side, TimeInForce
from apps.matching.worker import Matcher
from apps.risk.models import FirmRiskPolicy
from apps.risk.services import (
    account_limits_update,
    firm_policy_update,
    instrument_limits_update,
    position_limit_set,
    restricted_set,
)
from apps.trading.errors import OrderRejected
from apps.trading.services import OrderRequest, command_send, order_submit, reply_wait
from tests.conftest import _persona, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
REASON = "boundary test"


def outcome(user: User, side: str, price: str, qty: int, symbol: str = "AAPL") -> str:
    """Send a GTC limit order and say "accepted" or the code it was refused with."""
    request = OrderRequest(symbol, side, "limit", price, qty, "GTC", uuid.uuid4().hex[:12])
    try:
        order_submit(user, request)
    except OrderRejected as rejection:
        return rejection.code
    return "accepted"


def test_max_order_quantity(running_matcher: Matcher, trader: User, risk_manager: User) -> None:
    account_limits_update(risk_manager, "ACC-1", {"max_order_lots": 100}, REASON)
    assert [outcome(trader, "buy", "230.00", qty) for qty in (99, 100, 101)] == [
        "accepted",
        "accepted",
        "max_order_quantity",
    ]


def test_max_order_notional_per_instrument(
    running_matcher: Matcher, trader: User, risk_manager: User
) -> None:
    instrument_limits_update(
        risk_manager, "AAPL", {"max_order_notional": Decimal("23250.00")}, REASON
    )
    assert [outcome(trader, "buy", "232.50", qty) for qty in (99, 100, 101)] == [
        "accepted",
        "accepted",
        "max_order_notional",
    ]


def test_price_collar(running_matcher: Matcher, trader: User) -> None:
    # The default collar: the greater of 10 % ($23.25 here) and $0.50 from the reference.
    assert [outcome(trader, "buy", price, 1) for price in ("255.74", "255.75", "255.76")] == [
        "accepted",
        "accepted",
        "price_collar",
    ]
    assert outcome(trader, "sell", "209.24", 1) == "price_collar"


def test_duplicate_order_within_the_window(
    running_matcher: Matcher, trader: User, risk_manager: User
) -> None:
    firm_policy_update(risk_manager, {"duplicate_window_ms": 60_000}, REASON)
    assert outcome(trader, "buy", "230.00", 7) == "accepted"
    assert outcome(trader, "buy", "230.00", 7) == "duplicate_order"
    assert outcome(trader, "buy", "230.00", 8) == "accepted"


def test_restricted_list(running_matcher: Matcher, trader: User, risk_manager: User) -> None:
    restricted_set(risk_manager, "AAPL", None, True, REASON)
    assert outcome(trader, "buy", "230.00", 1) == "restricted_instrument"
    assert outcome(trader, "buy", "21.00", 1, symbol="INTC") == "accepted"
    restricted_set(risk_manager, "AAPL", None, False, REASON)
    assert outcome(trader, "buy", "230.00", 1) == "accepted"


def test_only_authorised_operators_trade_an_account(
    running_matcher: Matcher, trader: User, outsider: User
) -> None:
    # Straight onto the stream, past the gateway's own early check: the matcher is the authority.
    command = NewOrder(
        command_id=uuid.uuid4().hex,
        ts_ns=0,
        user_id=outsider.pk,
        account="ACC-1",
        symbol="AAPL",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price_ticks=23_000,
        qty_lots=1,
        client_order_id="intruder",
    )
    command_send(0, command, want_reply=True)
    assert reply_wait(command.command_id)["code"] == "user_not_authorised"
    assert outcome(trader, "buy", "230.00", 1) == "accepted"


def test_message_throttle(running_matcher: Matcher, trader: User, risk_manager: User) -> None:
    firm_policy_update(risk_manager, {"throttle_messages": 3}, REASON)
    assert [outcome(trader, "buy", f"230.0{n}", 1) for n in range(4)] == [
        "accepted",
        "accepted",
        "accepted",
        "message_rate_exceeded",
    ]


def test_credit_limit_counts_working_orders(
    running_matcher: Matcher, trader: User, risk_manager: User
) -> None:
    account_limits_update(risk_manager, "ACC-1", {"credit_limit": Decimal("10000.00")}, REASON)
    assert outcome(trader, "buy", "230.00", 20) == "accepted"  # $4,600 working
    assert outcome(trader, "buy", "225.00", 23) == "accepted"  # $9,775: just under
    assert outcome(trader, "buy", "225.00", 1) == "accepted"  # $10,000: at the limit
    assert outcome(trader, "buy", "224.99", 1) == "credit_limit"  # $10,224.99: over


def test_position_limit_counts_working_orders(
    running_matcher: Matcher, trader: User, risk_manager: User
) -> None:
    position_limit_set(risk_manager, "ACC-1", "AAPL", 50, 0, REASON)
    assert outcome(trader, "buy", "230.00", 49) == "accepted"  # could be long 49
    assert outcome(trader, "buy", "229.99", 1) == "accepted"  # 50: at the limit
    assert outcome(trader, "buy", "229.98", 1) == "position_limit"  # 51
    assert outcome(trader, "sell", "235.00", 1) == "position_limit"  # no shorting


def marked_after(seq: int) -> bool:
    return EventRecord.objects.filter(shard=0, kind="marked_to_market", seq__gt=seq).exists()


def head_seq() -> int:
    row = EventRecord.objects.filter(shard=0).order_by("-seq").first()
    return row.seq if row is not None else 0


def test_daily_loss_kill_latches_at_its_level_on_a_price_move(
    running_matcher: Matcher, trader: User, second_trader: User, risk_manager: User
) -> None:
    carol = _persona("carol", roles.TRADER, ("ACC-3",))
    FirmRiskPolicy.objects.filter(pk=FirmRiskPolicy.SINGLETON_PK).delete()
    account_limits_update(risk_manager, "ACC-1", {"loss_kill": Decimal("100.00")}, REASON)
    assert outcome(second_trader, "sell", "232.50", 10) == "accepted"
    assert outcome(trader, "buy", "232.50", 10) == "accepted"  # long 10 at $232.50
    assert outcome(trader, "sell", "240.00", 5) == "accepted"  # working

    # A print at $222.51 marks Alice $99.90 down: just under the kill level.
    assert outcome(second_trader, "sell", "222.51", 1) == "accepted"
    assert outcome(carol, "buy", "222.51", 1) == "accepted"
    seq = head_seq()
    assert wait_until(lambda: marked_after(seq))
    assert outcome(trader, "sell", "240.01", 1) == "accepted"

    # At $222.50 she is $100.00 down: the kill level. Nothing she does is needed.
    assert outcome(second_trader, "sell", "222.50", 1) == "accepted"
    assert outcome(carol, "buy", "222.50", 1) == "accepted"
    assert wait_until(
        lambda: EventRecord.objects.filter(kind="risk_alert", account="ACC-1").exists()
    )
    alert = EventRecord.objects.get(kind="risk_alert", account="ACC-1")
    assert alert.payload["alert"] == "loss_kill"
    assert alert.payload["value"] == 100_000_000
    assert set(
        EventRecord.objects.filter(kind="order_cancelled", account="ACC-1").values_list(
            "reason", flat=True
        )
    ) == {"kill_switch"}
    assert outcome(trader, "sell", "222.50", 1) == "kill_switch"
