"""Limits and kill switches through the API, a live matcher on the real Redis and the real
database: journaled with who, old value, new value and why; biting on the next order; still in
force after a restart."""

from decimal import Decimal
from typing import Any

import pytest
from django.conf import LazySettings

from apps.accounts.models import TradingAccount, User
from apps.audit.models import EventRecord
from apps.audit.services import acting_user
from apps.instruments.models import Instrument
from apps.matching.engine import RiskLimit, RiskList
from apps.risk.models import AccountRiskLimits
from apps.risk.sync import SYNC_REASON
from apps.trading.models import Order
from tests.conftest import RunningMatcher, wait_until
from tests.risk.helpers import RISK, client_for

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = "/api/v1/orders/"


def order_body(client_order_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "price": "232.40",
        "quantity": 10,
        "time_in_force": "GTC",
        "client_order_id": client_order_id,
        **changes,
    }


def refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


def sync_changes() -> int:
    """How many changes the matcher made at start to match the database."""
    return EventRecord.objects.filter(
        kind__in=("risk_limit_changed", "risk_list_changed"),
        payload__change_reason=SYNC_REASON,
    ).count()


def test_a_limit_change_is_journaled_with_who_old_new_and_why_and_bites_next_order(
    instruments: dict[str, Instrument], trader: User, risk_manager: User
) -> None:
    rita, alice = client_for(risk_manager), client_for(trader)
    with RunningMatcher():
        first = rita.patch(
            RISK + "accounts/ACC-1/", {"max_order_lots": 100, "reason": "Desk limit"}, format="json"
        )
        assert first.status_code == 200, first.json()
        (event,) = first.json()["events"]
        assert (event["kind"], event["old_value"], event["new_value"]) == (
            "risk_limit_changed",
            None,
            100,
        )
        second = rita.patch(
            RISK + "accounts/ACC-1/",
            {"max_order_lots": 50, "reason": "Tighter after review"},
            format="json",
        )
        assert second.status_code == 200, second.json()

        too_big = alice.post(ORDERS, order_body("o1", quantity=51), format="json")
        assert refusal(too_big) == (422, "max_order_quantity")
        at_limit = alice.post(ORDERS, order_body("o2", quantity=50), format="json")
        assert at_limit.status_code == 201, at_limit.json()

    record = EventRecord.objects.filter(kind="risk_limit_changed", account="ACC-1").latest("seq")
    assert record.actor_user_id == risk_manager.pk
    assert {
        name: record.payload[name]
        for name in ("limit", "old_value", "new_value", "change_reason", "user_id")
    } == {
        "limit": "max_order_lots",
        "old_value": 100,
        "new_value": 50,
        "change_reason": "Tighter after review",
        "user_id": risk_manager.pk,
    }
    # The command that caused it is in the log too, just before it.
    command = EventRecord.objects.get(shard=record.shard, seq=record.seq - 1)
    assert (command.kind, command.actor_user_id) == ("set_risk_limit", risk_manager.pk)


def test_a_kill_switch_cancels_the_traders_orders_and_refuses_new_ones_until_released(
    instruments: dict[str, Instrument],
    trader: User,
    second_trader: User,
    risk_manager: User,
    auditor: User,
) -> None:
    rita, alice, bob = client_for(risk_manager), client_for(trader), client_for(second_trader)
    kill = {"scope": "trader", "trader": "alice", "reason": "Runaway strategy"}
    with RunningMatcher():
        working = [
            alice.post(ORDERS, order_body(f"a{n}", price=f"232.{10 + n}"), format="json")
            for n in range(3)
        ]
        assert [w.status_code for w in working] == [201, 201, 201]
        bobs = bob.post(ORDERS, order_body("b1", side="sell", price="232.90"), format="json")
        assert bobs.status_code == 201

        engaged = rita.post(RISK + "kill-switches/", {**kill, "action": "engage"}, format="json")
        assert engaged.status_code == 200, engaged.json()
        assert (engaged.json()["engaged"], engaged.json()["cancelled_orders"]) == (True, 3)
        assert not any(Order.objects.get(order_id=w.json()["order_id"]).is_open for w in working)
        assert Order.objects.get(order_id=bobs.json()["order_id"]).is_open

        assert refusal(alice.post(ORDERS, order_body("a9"), format="json")) == (403, "kill_switch")
        (shown,) = rita.get(RISK + "kill-switches/").json()
        assert (shown["scope"], shown["trader"], shown["engaged_by"], shown["reason"]) == (
            "trader",
            "alice",
            "rita",
            "Runaway strategy",
        )

        for persona in (alice, client_for(auditor)):
            refused = persona.post(
                RISK + "kill-switches/", {**kill, "action": "release"}, format="json"
            )
            assert refusal(refused) == (403, "permission_denied")
        assert refusal(alice.post(ORDERS, order_body("a10"), format="json")) == (
            403,
            "kill_switch",
        )

        released = rita.post(
            RISK + "kill-switches/",
            {**kill, "action": "release", "reason": "Strategy fixed"},
            format="json",
        )
        assert released.status_code == 200, released.json()
        assert rita.get(RISK + "kill-switches/").json() == []
        again = rita.post(
            RISK + "kill-switches/", {**kill, "action": "release", "reason": "Twice"}, format="json"
        )
        assert refusal(again) == (400, "invalid_control")
        assert alice.post(ORDERS, order_body("a11"), format="json").status_code == 201


def test_limits_and_lists_stay_in_force_after_the_matcher_restarts(
    settings: LazySettings,
    instruments: dict[str, Instrument],
    trader: User,
    risk_manager: User,
) -> None:
    settings.MATCHER_SNAPSHOT_EVERY = 4
    rita, alice = client_for(risk_manager), client_for(trader)
    with RunningMatcher():
        changes = [
            rita.patch(
                RISK + "accounts/ACC-1/", {"max_order_lots": 10, "reason": "Cap"}, format="json"
            ),
            rita.post(
                RISK + "restricted/",
                {"symbol": "INTC", "account": "ACC-1", "reason": "Research blackout"},
                format="json",
            ),
            rita.put(
                RISK + "positions/",
                {
                    "account": "ACC-1",
                    "symbol": "AAPL",
                    "max_long": 15,
                    "max_short": None,
                    "reason": "Concentration",
                },
                format="json",
            ),
        ]
        assert [c.status_code for c in changes] == [200, 201, 200]
    synced_at_first_start = sync_changes()

    with RunningMatcher() as restarted:
        limits, lists = restarted.matcher.engine.risk.configuration()
        assert limits[(RiskLimit.MAX_ORDER_LOTS, "ACC-1", "")] == 10
        assert limits[(RiskLimit.MAX_LONG_LOTS, "ACC-1", "AAPL")] == 15
        assert (RiskList.RESTRICTED, "ACC-1", "INTC", 0) in lists
        assert refusal(alice.post(ORDERS, order_body("r1", quantity=11), format="json")) == (
            422,
            "max_order_quantity",
        )
        intc = order_body("r2", symbol="INTC", price="21.30")
        assert refusal(alice.post(ORDERS, intc, format="json")) == (403, "restricted_instrument")
        assert alice.post(ORDERS, order_body("r3", quantity=10), format="json").status_code == 201
        assert refusal(alice.post(ORDERS, order_body("r4", quantity=6), format="json")) == (
            422,
            "position_limit",
        )
    # Recovery replayed them from the log: the restart had nothing to bring in line.
    assert sync_changes() == synced_at_first_start


def test_a_change_the_matcher_never_received_is_applied_when_it_starts(
    instruments: dict[str, Instrument], trader: User
) -> None:
    # Saved while no command could reach the matcher (written straight to the table here).
    AccountRiskLimits.objects.create(
        account=TradingAccount.objects.get(code="ACC-1"), max_order_notional=Decimal("1000")
    )
    alice = client_for(trader)
    with RunningMatcher():
        # 5 x 232.40 = 1162.00 > 1000.00
        assert refusal(alice.post(ORDERS, order_body("n1", quantity=5), format="json")) == (
            422,
            "max_order_notional",
        )
        assert alice.post(ORDERS, order_body("n2", quantity=4), format="json").status_code == 201
    synced = EventRecord.objects.get(
        kind="risk_limit_changed", payload__limit="max_order_notional_micros"
    )
    assert (synced.payload["new_value"], synced.payload["change_reason"]) == (
        1_000_000_000,
        SYNC_REASON,
    )


def test_an_entitlement_withdrawn_reaches_the_matcher_with_who_withdrew_it(
    instruments: dict[str, Instrument], trader: User, risk_manager: User
) -> None:
    account = TradingAccount.objects.get(code="ACC-1")
    entry = (RiskList.AUTHORISED, "ACC-1", "", trader.pk)
    changes = EventRecord.objects.filter(
        kind="risk_list_changed", payload__risk_list="authorised", payload__member=False
    )
    with RunningMatcher() as running:
        # As the admin does it: the request's user is the one the journal names.
        with acting_user(risk_manager.pk):
            account.traders.remove(trader)
        assert wait_until(changes.exists)
    # The thread has stopped: its engine can be read.
    assert entry not in running.matcher.engine.risk.configuration()[1]
    withdrawn = changes.get()
    assert (withdrawn.actor_user_id, withdrawn.payload["trader_user_id"]) == (
        risk_manager.pk,
        trader.pk,
    )
