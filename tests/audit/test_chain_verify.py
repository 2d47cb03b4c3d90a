"""Chain verification: an intact chain says so, and the first row that does not verify is named."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.audit.models import EventRecord, RetentionCheckpoint
from apps.audit.services import (
    GENESIS_HASH,
    WEB_SHARD,
    LogEntry,
    entry_hash,
    journal_append,
    web_event_record,
)
from apps.audit.tasks import verify_chain
from apps.audit.verify import chain_verify
from apps.matching.worker import Matcher

pytestmark = pytest.mark.django_db
SHARD = 2
T0_NS = 1_700_000_000_000_000_000


def entry(seq: int, **payload: Any) -> LogEntry:
    body = {"account": "ACC-1", "symbol": "AAPL", "order_id": 100 + seq, "user_id": 7} | payload
    return LogEntry(seq, T0_NS + seq, "order_accepted", f"cmd-{seq}", body)


def journal(seqs: range, prev_hash: str = GENESIS_HASH, shard: int = SHARD) -> str:
    return journal_append(shard, [entry(seq) for seq in seqs], prev_hash)


def forge(seq: int, prev_hash: str, hashed: LogEntry, stored_payload: dict[str, Any]) -> str:
    """Write row `seq` whose hash covers `hashed` but which stores `stored_payload`."""
    digest = entry_hash(prev_hash, SHARD, hashed)
    EventRecord.objects.bulk_create(
        [
            EventRecord(
                shard=SHARD,
                seq=seq,
                ts_ns=hashed.ts_ns,
                kind=hashed.kind,
                command_id=hashed.command_id,
                payload=stored_payload,
                prev_hash=prev_hash,
                hash=digest,
                account="ACC-1",
                symbol="AAPL",
                order_id=100 + seq,
                actor_user_id=7,
            )
        ]
    )
    return digest


@contextmanager
def append_only_triggers_off() -> Iterator[None]:
    """Switch the refusal off inside the test's own transaction, which rolls the switch back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_eventrecord DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_eventrecord_refuse_update")
    yield


def test_an_intact_chain_verifies_up_to_its_last_seq() -> None:
    journal(range(1, 6))

    result = chain_verify(SHARD)

    assert (result.intact, result.checked, result.heads, result.first_bad) == (
        True,
        5,
        {SHARD: 5},
        None,
    )


def test_every_shard_is_verified_when_none_is_named() -> None:
    journal(range(1, 4), shard=0)
    journal(range(1, 3), shard=1)
    web_event_record("audit.search", actor_user_id=None, payload={})

    result = chain_verify()

    assert result.intact
    assert result.heads == {0: 3, 1: 2, WEB_SHARD: 1}


def test_a_payload_altered_after_hashing_is_named() -> None:
    head = journal(range(1, 3))
    honest = entry(3)
    head = forge(3, head, honest, honest.payload | {"order_id": 999})
    journal(range(4, 6), head)

    result = chain_verify(SHARD)

    assert not result.intact
    assert result.first_bad is not None
    assert (result.first_bad.shard, result.first_bad.seq) == (SHARD, 3)
    assert result.first_bad.reason == "its stored hash does not match its content"
    assert result.heads == {SHARD: 2}


def test_a_row_updated_behind_the_triggers_back_is_named() -> None:
    journal(range(1, 6))
    with append_only_triggers_off():
        EventRecord.objects.filter(shard=SHARD, seq=4).update(payload=entry(4, qty_lots=1).payload)

    result = chain_verify(SHARD)

    assert result.first_bad is not None
    assert (result.first_bad.seq, result.first_bad.reason) == (
        4,
        "its stored hash does not match its content",
    )


def test_a_row_with_a_wrong_hash_breaks_the_link_of_the_row_after_it() -> None:
    head = journal(range(1, 3))
    EventRecord.objects.bulk_create(
        [
            EventRecord(
                shard=SHARD,
                seq=3,
                ts_ns=T0_NS + 3,
                kind="order_accepted",
                command_id="cmd-3",
                payload=entry(3).payload,
                prev_hash=head,
                hash="f" * 64,
                account="ACC-1",
                symbol="AAPL",
                order_id=103,
                actor_user_id=7,
            )
        ]
    )

    result = chain_verify(SHARD)

    assert result.first_bad is not None
    assert (result.first_bad.seq, result.first_bad.reason) == (
        3,
        "its stored hash does not match its content",
    )


def test_a_row_that_does_not_link_to_its_predecessor_is_named() -> None:
    journal(range(1, 3))
    journal(range(3, 4), prev_hash="a" * 64)

    result = chain_verify(SHARD)

    assert result.first_bad is not None
    assert (result.first_bad.seq, result.first_bad.reason) == (
        3,
        "its prev_hash does not match the hash of seq 2",
    )


def test_a_gap_in_seq_is_named() -> None:
    head = journal(range(1, 4))
    journal(range(6, 8), head)

    result = chain_verify(SHARD)

    assert result.first_bad is not None
    assert (result.first_bad.seq, result.first_bad.reason) == (
        6,
        "it follows seq 3: seqs 4 to 5 are missing",
    )
    assert result.heads == {SHARD: 3}


def test_a_chain_that_does_not_start_at_one_without_a_checkpoint_is_named() -> None:
    journal(range(2, 4))

    result = chain_verify(SHARD)

    assert result.first_bad is not None
    assert result.first_bad.seq == 2
    assert result.first_bad.reason == (
        "it is the first row, but seq 1 is missing and no checkpoint covers them"
    )


def test_a_search_column_edited_apart_from_its_payload_is_named() -> None:
    head = journal(range(1, 2))
    honest = entry(2)
    forge(2, head, honest, honest.payload)
    with append_only_triggers_off():
        EventRecord.objects.filter(shard=SHARD, seq=2).update(account="ACC-2")

    result = chain_verify(SHARD)

    assert result.first_bad is not None
    assert (result.first_bad.seq, result.first_bad.reason) == (
        2,
        "its account column ('ACC-2') does not match its payload ('ACC-1')",
    )


def test_verification_starts_from_the_retention_checkpoint() -> None:
    head = journal(range(1, 4))
    RetentionCheckpoint.objects.create(
        shard=SHARD, seq=3, hash=head, ts_ns=T0_NS + 3, purged_at="2020-01-01T00:00:00Z"
    )
    journal(range(4, 6), head)

    result = chain_verify(SHARD)

    assert (result.intact, result.checked, result.heads) == (True, 2, {SHARD: 5})


def test_a_first_row_that_does_not_link_to_the_checkpoint_is_named() -> None:
    journal(range(1, 6))
    RetentionCheckpoint.objects.create(
        shard=SHARD, seq=3, hash="b" * 64, ts_ns=T0_NS + 3, purged_at="2020-01-01T00:00:00Z"
    )

    result = chain_verify(SHARD)

    assert result.first_bad is not None
    assert (result.first_bad.seq, result.first_bad.reason) == (
        4,
        "its prev_hash does not match the hash of the retention checkpoint at seq 3",
    )


def test_the_command_says_how_far_each_chain_is_intact(capsys: pytest.CaptureFixture[str]) -> None:
    journal(range(1, 5))

    call_command("audit_verify", "--shard", str(SHARD))

    assert capsys.readouterr().out.splitlines() == [f"chain intact up to seq 4 on shard {SHARD}"]


def test_the_command_names_the_first_bad_row_and_exits_with_status_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = journal(range(1, 3))
    journal(range(4, 5), head)

    with pytest.raises(SystemExit) as exited:
        call_command("audit_verify")

    assert exited.value.code == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"shard {SHARD} seq 4 does not verify: it follows seq 2: seq 3 is missing"
        " (chain intact up to seq 2)"
    )


def test_the_nightly_task_records_what_it_found_on_the_web_chain() -> None:
    journal(range(1, 4))

    verify_chain()

    recorded = EventRecord.objects.get(shard=WEB_SHARD, kind="audit.verified")
    assert recorded.payload["detail"] == {
        "intact": True,
        "checked": 3,
        "heads": {str(SHARD): 3},
        "first_bad": None,
    }
    assert chain_verify().intact


def test_a_broken_chain_is_recorded_as_such_by_the_task() -> None:
    head = journal(range(1, 3))
    journal(range(4, 5), head)

    verify_chain()

    recorded = EventRecord.objects.get(shard=WEB_SHARD, kind="audit.verified")
    assert recorded.reason == "chain_broken"
    assert recorded.payload["detail"]["first_bad"] == {
        "shard": SHARD,
        "seq": 4,
        "reason": "it follows seq 2: seq 3 is missing",
    }


@pytest.mark.django_db(transaction=True)
def test_the_matchers_own_journal_verifies(
    running_matcher: Matcher, trader: User, second_trader: User
) -> None:
    alice, bob = APIClient(), APIClient()
    alice.force_authenticate(trader)
    bob.force_authenticate(second_trader)
    order = {"symbol": "AAPL", "type": "limit", "price": "232.50", "time_in_force": "GTC"}
    sell = order | {"side": "sell", "quantity": 100, "client_order_id": "a-1"}
    buy = order | {"side": "buy", "quantity": 60, "client_order_id": "b-1"}
    sold = alice.post("/api/v1/orders/", sell, format="json")
    bought = bob.post("/api/v1/orders/", buy, format="json")
    assert (sold.status_code, bought.status_code) == (201, 201), bought.json()
    cancelled = alice.delete(f"/api/v1/orders/{sold.json()['order_id']}/")
    assert cancelled.status_code == 200

    result = chain_verify(0)

    assert result.intact, result.first_bad
    assert result.heads[0] == EventRecord.objects.filter(shard=0).count()
    assert EventRecord.objects.filter(shard=0, kind="trade").exists()
