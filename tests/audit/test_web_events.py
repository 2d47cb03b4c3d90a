"""Web-side events: their own gapless chain, and the Django signals that record them."""

import json
import threading
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client

from apps.accounts import roles
from apps.accounts.models import TradingAccount, User
from apps.audit.models import EventRecord
from apps.audit.services import WEB_SHARD, acting_user, web_event_record
from apps.audit.verify import chain_verify

pytestmark = pytest.mark.django_db


def web_events(kind: str) -> list[EventRecord]:
    return list(EventRecord.objects.filter(shard=WEB_SHARD, kind=kind).order_by("seq"))


def details(kind: str) -> list[dict[str, Any]]:
    return [event.payload["detail"] for event in web_events(kind)]


def test_web_events_form_a_gapless_chain_that_verifies() -> None:
    for n in range(5):
        web_event_record("audit.search", actor_user_id=None, payload={"n": n})

    seqs = list(EventRecord.objects.filter(shard=WEB_SHARD).values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5]
    assert chain_verify(WEB_SHARD).intact


def test_a_web_event_keeps_its_searchable_fields_in_columns_and_in_its_hashed_payload() -> None:
    recorded = web_event_record(
        "audit.export",
        actor_user_id=41,
        payload={"filters": {"account": "ACC-9"}, "rows": 12},
        account="ACC-1",
        symbol="AAPL",
        order_id=5,
        client_order_id="c-5",
        reason="legal_request",
    )

    row = EventRecord.objects.get(pk=recorded.pk)
    columns = (row.actor_user_id, row.account, row.symbol, row.order_id, row.client_order_id)
    assert (*columns, row.reason) == (41, "ACC-1", "AAPL", 5, "c-5", "legal_request")
    assert row.payload == {
        "user_id": 41,
        "account": "ACC-1",
        "symbol": "AAPL",
        "order_id": 5,
        "client_order_id": "c-5",
        "reason": "legal_request",
        "detail": {"filters": {"account": "ACC-9"}, "rows": 12},
    }
    assert chain_verify(WEB_SHARD).intact


def test_web_event_time_never_runs_backwards_along_the_chain() -> None:
    stamps = [
        web_event_record("audit.search", actor_user_id=None, payload={}).ts_ns for _ in range(20)
    ]

    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_a_web_event_rolls_back_with_the_transaction_that_recorded_it() -> None:
    def record_then_fail() -> None:
        with transaction.atomic():
            web_event_record("audit.search", actor_user_id=None, payload={})
            raise RuntimeError("the caller's change failed")

    web_event_record("audit.search", actor_user_id=None, payload={})
    with pytest.raises(RuntimeError):
        record_then_fail()
    web_event_record("audit.search", actor_user_id=None, payload={})

    assert [event.seq for event in web_events("audit.search")] == [1, 2]
    assert chain_verify(WEB_SHARD).intact


@pytest.mark.django_db(transaction=True)
def test_concurrent_web_writers_never_share_a_seq_or_break_the_chain() -> None:
    writers, events_each = 6, 10
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for n in range(events_each):
                web_event_record("audit.search", actor_user_id=writer, payload={"n": n})
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    seqs = list(EventRecord.objects.filter(shard=WEB_SHARD).values_list("seq", flat=True))
    assert seqs == list(range(1, writers * events_each + 1))
    assert chain_verify(WEB_SHARD).intact


# -- signals --------------------------------------------------------------------------------


def test_a_login_is_recorded(trader: User) -> None:
    response = Client(REMOTE_ADDR="10.1.2.3").post(
        "/login/", {"username": "alice", "password": "pw-alice"}
    )
    assert response.status_code == 302

    [login] = web_events("auth.login")
    assert login.actor_user_id == trader.pk
    assert login.payload["detail"] == {"username": "alice", "client_address": "10.1.2.3"}


def test_a_failed_login_records_the_name_tried_and_never_the_password(trader: User) -> None:
    response = Client().post("/login/", {"username": "alice", "password": "not-her-password"})
    assert response.status_code == 200

    [failed] = web_events("auth.login_failed")
    assert failed.actor_user_id is None
    assert failed.reason == "bad_credentials"
    assert failed.payload["detail"]["username"] == "alice"
    assert "not-her-password" not in json.dumps(failed.payload)
    assert not web_events("auth.login")


def test_a_logout_is_recorded(trader: User) -> None:
    client = Client()
    client.force_login(trader)
    client.post("/logout/")

    [logout] = web_events("auth.logout")
    assert (logout.actor_user_id, logout.payload["detail"]["username"]) == (trader.pk, "alice")


def test_giving_a_user_a_role_records_the_old_and_new_roles() -> None:
    user = User.objects.create_user("carol", password="pw-carol")
    user.groups.add(Group.objects.get(name=roles.TRADER))

    assert details("role.changed") == [
        {
            "subject_user_id": user.pk,
            "username": "carol",
            "old_roles": [],
            "new_roles": [roles.TRADER],
        }
    ]


def test_removing_users_from_a_role_from_the_groups_side_records_each_user(
    trader: User, second_trader: User
) -> None:
    traders = Group.objects.get(name=roles.TRADER)
    traders.user_set.remove(trader, second_trader)

    changes = {detail["username"]: detail for detail in details("role.changed")}
    assert changes["alice"]["old_roles"] == [roles.TRADER]
    assert changes["alice"]["new_roles"] == []
    assert changes["bob"]["new_roles"] == []


def test_clearing_a_users_roles_is_recorded_once(trader: User) -> None:
    trader.groups.add(Group.objects.get(name=roles.AUDITOR))
    trader.groups.clear()

    *_, cleared = details("role.changed")
    assert (cleared["old_roles"], cleared["new_roles"]) == (
        sorted([roles.AUDITOR, roles.TRADER]),
        [],
    )


def test_adding_a_role_a_user_already_has_records_nothing(trader: User) -> None:
    before = len(web_events("role.changed"))
    trader.groups.add(Group.objects.get(name=roles.TRADER))

    assert len(web_events("role.changed")) == before


def test_a_role_change_is_attributed_to_the_acting_user(trader: User, risk_manager: User) -> None:
    with acting_user(risk_manager.pk):
        trader.groups.add(Group.objects.get(name=roles.RISK_MANAGER))

    *_, change = web_events("role.changed")
    assert change.actor_user_id == risk_manager.pk
    assert change.payload["detail"]["subject_user_id"] == trader.pk


def test_entitling_a_trader_to_an_account_records_the_old_and_new_traders(
    trader: User, second_trader: User
) -> None:
    account = TradingAccount.objects.get(code="ACC-1")
    account.traders.add(second_trader)

    *_, change = web_events("entitlement.changed")
    assert change.account == "ACC-1"
    assert change.payload["detail"] == {"old_traders": ["alice"], "new_traders": ["alice", "bob"]}


def test_an_entitlement_withdrawn_from_the_users_side_is_recorded(trader: User) -> None:
    trader.trading_accounts.clear()

    *_, change = web_events("entitlement.changed")
    assert change.account == "ACC-1"
    assert change.payload["detail"] == {"old_traders": ["alice"], "new_traders": []}
    assert chain_verify(WEB_SHARD).intact
