"""Retention: expired, unheld prefixes go; holds, recent rows and recovery keep theirs; the rest
of every chain still verifies from the checkpoint the purge leaves."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import LazySettings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.audit import retention
from apps.audit.models import EventRecord, LegalHold, RetentionCheckpoint
from apps.audit.retention import (
    NS_PER_DAY,
    audit_purge,
    datetime_to_ns,
    legal_hold_place,
    legal_hold_release,
)
from apps.audit.services import WEB_SHARD, LogEntry, chain_tail, journal_append, web_event_record
from apps.audit.tasks import purge_expired
from apps.audit.verify import chain_verify

pytestmark = pytest.mark.django_db
SHARD = 4
NOW_NS = datetime_to_ns(datetime(2033, 6, 1, tzinfo=UTC))
RETENTION_DAYS = 10
EXPIRED_NS = NOW_NS - (RETENTION_DAYS + 5) * NS_PER_DAY
RECENT_NS = NOW_NS - (RETENTION_DAYS - 1) * NS_PER_DAY


@pytest.fixture(autouse=True)
def short_retention(settings: LazySettings) -> None:
    settings.AUDIT_RETENTION_DAYS = RETENTION_DAYS


@pytest.fixture
def recovery_needs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if each matcher's latest snapshot covered its whole log."""
    monkeypatch.setattr(retention, "_recovery_floors", [lambda shard: 10**15])


def journal(*rows: tuple[int, str], shard: int = SHARD) -> None:
    """Append one row per (ts_ns, account) after the shard's current tail."""
    tail = chain_tail(shard)
    entries = [
        LogEntry(
            tail.seq + offset,
            ts_ns,
            "order_accepted",
            f"cmd-{shard}-{tail.seq + offset}",
            {"account": account, "symbol": "AAPL", "order_id": tail.seq + offset, "user_id": 1},
        )
        for offset, (ts_ns, account) in enumerate(rows, start=1)
    ]
    journal_append(shard, entries, tail.hash)


def ns_to_datetime(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=ts_ns // 1000)


def seqs(shard: int = SHARD) -> list[int]:
    return list(
        EventRecord.objects.filter(shard=shard).order_by("seq").values_list("seq", flat=True)
    )


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_expired_unheld_rows_go_and_the_rest_verifies_from_the_checkpoint() -> None:
    journal(*[(EXPIRED_NS + n, "ACC-1") for n in range(4)], (RECENT_NS, "ACC-1"), (NOW_NS, "ACC-1"))
    fourth_hash = EventRecord.objects.get(shard=SHARD, seq=4).hash

    result = audit_purge(now_ns=NOW_NS)

    assert seqs() == [5, 6]
    assert result.shards[SHARD].purged == 4
    checkpoint = RetentionCheckpoint.objects.get(shard=SHARD)
    assert (checkpoint.seq, checkpoint.hash, checkpoint.ts_ns) == (4, fourth_hash, EXPIRED_NS + 3)
    verified = chain_verify(SHARD)
    assert (verified.intact, verified.checked, verified.heads) == (True, 2, {SHARD: 6})


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_the_purge_is_recorded_on_the_web_chain_with_its_counts() -> None:
    journal(*[(EXPIRED_NS, "ACC-1")] * 3, (NOW_NS, "ACC-1"))

    audit_purge(now_ns=NOW_NS)

    [purged] = EventRecord.objects.filter(shard=WEB_SHARD, kind="audit.purged")
    detail = purged.payload["detail"]
    assert detail["purged"] == 3
    assert detail["retention_days"] == RETENTION_DAYS
    assert detail["shards"][str(SHARD)]["purged"] == 3
    assert detail["shards"][str(SHARD)]["through_seq"] == 3
    assert chain_verify().intact


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_nothing_within_retention_is_purged() -> None:
    journal((RECENT_NS, "ACC-1"), (RECENT_NS + 1, "ACC-1"), (NOW_NS, "ACC-1"))

    result = audit_purge(now_ns=NOW_NS)

    assert seqs() == [1, 2, 3]
    assert result.shards[SHARD].kept_because == "seq 1 is within retention"
    assert not RetentionCheckpoint.objects.filter(shard=SHARD).exists()


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_an_expired_row_after_a_recent_one_stays_so_the_chain_stays_whole() -> None:
    journal((EXPIRED_NS, "ACC-1"), (RECENT_NS, "ACC-1"), (EXPIRED_NS, "ACC-1"), (NOW_NS, "ACC-1"))

    audit_purge(now_ns=NOW_NS)

    assert seqs() == [2, 3, 4]


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_the_newest_row_of_a_shard_stays_however_old() -> None:
    journal(*[(EXPIRED_NS, "ACC-1")] * 3)

    result = audit_purge(now_ns=NOW_NS)

    assert seqs() == [3]
    assert result.shards[SHARD].kept_because == "seq 3 is the newest row of the shard"
    assert chain_verify(SHARD).intact


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_a_hold_on_an_account_keeps_its_rows_and_everything_after_them(trader: User) -> None:
    journal(
        (EXPIRED_NS, "ACC-1"),
        (EXPIRED_NS, "ACC-2"),
        (EXPIRED_NS, "ACC-1"),
        (EXPIRED_NS, "ACC-2"),
        (NOW_NS, "ACC-1"),
    )
    legal_hold_place(created_by=trader, reason="subpoena 17", account="ACC-2")

    result = audit_purge(now_ns=NOW_NS)

    assert seqs() == [2, 3, 4, 5]
    assert result.shards[SHARD].kept_because == "seq 2 is under a legal hold"
    assert chain_verify(SHARD).intact


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_a_hold_on_an_account_keeps_trades_that_name_it_only_in_the_payload(
    trader: User,
) -> None:
    journal((EXPIRED_NS, "ACC-1"))
    tail = chain_tail(SHARD)
    trade = {"symbol": "AAPL", "maker_account": "ACC-1", "taker_account": "ACC-3", "qty_lots": 5}
    journal_append(SHARD, [LogEntry(2, EXPIRED_NS, "trade", "cmd-t", trade)], tail.hash)
    journal((NOW_NS, "ACC-1"))
    legal_hold_place(created_by=trader, reason="inquiry", account="ACC-3")

    audit_purge(now_ns=NOW_NS)

    assert seqs() == [2, 3]


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_a_hold_on_a_time_range_keeps_the_rows_inside_it(trader: User) -> None:
    second = 10**9
    journal(*[(EXPIRED_NS + n * second, "ACC-1") for n in range(3)], (NOW_NS, "ACC-1"))
    legal_hold_place(
        created_by=trader,
        reason="one second of trading",
        starts_at=ns_to_datetime(EXPIRED_NS + second),
        ends_at=ns_to_datetime(EXPIRED_NS + 2 * second),
    )

    audit_purge(now_ns=NOW_NS)

    assert seqs() == [2, 3, 4]


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_a_released_hold_no_longer_keeps_anything(trader: User, auditor: User) -> None:
    journal((EXPIRED_NS, "ACC-2"), (EXPIRED_NS, "ACC-2"), (NOW_NS, "ACC-1"))
    hold = legal_hold_place(created_by=trader, reason="closed matter", account="ACC-2")
    legal_hold_release(hold, released_by=auditor)
    kinds = EventRecord.objects.filter(shard=WEB_SHARD).values_list("kind", flat=True)
    assert {"legal_hold.placed", "legal_hold.released"} <= set(kinds)

    audit_purge(now_ns=NOW_NS)

    assert seqs() == [3]
    hold.refresh_from_db()
    assert hold.released_by == auditor


def test_matcher_rows_stay_until_a_recovery_floor_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retention, "_recovery_floors", [])
    journal(*[(EXPIRED_NS, "ACC-1")] * 3, (NOW_NS, "ACC-1"))

    result = audit_purge(now_ns=NOW_NS)

    assert seqs() == [1, 2, 3, 4]
    assert result.shards[SHARD].kept_because == (
        "no recovery floor is registered for matcher shards"
    )


def test_the_purge_stops_where_the_matchers_recovery_begins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retention, "_recovery_floors", [])
    retention.recovery_floor_register(lambda shard: 2)
    journal(*[(EXPIRED_NS, "ACC-1")] * 4, (NOW_NS, "ACC-1"))

    audit_purge(now_ns=NOW_NS)

    assert seqs() == [3, 4, 5]


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_a_purge_in_small_batches_leaves_the_same_chain(settings: LazySettings) -> None:
    settings.AUDIT_PURGE_BATCH_ROWS = 2
    journal(*[(EXPIRED_NS + n, "ACC-1") for n in range(7)], (NOW_NS, "ACC-1"))

    result = audit_purge(now_ns=NOW_NS)

    assert (seqs(), result.shards[SHARD].purged, result.shards[SHARD].through_seq) == ([8], 7, 7)
    assert RetentionCheckpoint.objects.get(shard=SHARD).seq == 7
    assert chain_verify(SHARD).intact


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_purging_never_updates_a_logged_row() -> None:
    journal(*[(EXPIRED_NS, "ACC-1")] * 5, (NOW_NS, "ACC-1"))

    with CaptureQueriesContext(connection) as queries:
        audit_purge(now_ns=NOW_NS)

    statements = [query["sql"].upper() for query in queries.captured_queries]
    assert not [sql for sql in statements if sql.startswith('UPDATE "AUDIT_EVENTRECORD"')]
    assert [sql for sql in statements if sql.startswith('DELETE FROM "AUDIT_EVENTRECORD"')]


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_a_second_purge_continues_from_the_checkpoint() -> None:
    journal(*[(EXPIRED_NS, "ACC-1")] * 3, (RECENT_NS, "ACC-1"))
    audit_purge(now_ns=NOW_NS)
    journal((NOW_NS, "ACC-1"))

    audit_purge(now_ns=NOW_NS + RETENTION_DAYS * NS_PER_DAY)

    assert seqs() == [5]
    assert RetentionCheckpoint.objects.get(shard=SHARD).seq == 4
    assert chain_verify(SHARD).intact


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_a_prefix_that_does_not_verify_is_not_purged() -> None:
    journal(*[(EXPIRED_NS, "ACC-1")] * 2)
    tail = chain_tail(SHARD)
    journal_append(
        SHARD, [LogEntry(3, EXPIRED_NS, "order_accepted", "x", {"n": 1})], prev_hash="c" * 64
    )
    journal((NOW_NS, "ACC-1"))
    assert tail.seq == 2

    result = audit_purge(now_ns=NOW_NS)

    assert seqs() == [1, 2, 3, 4]
    assert result.shards[SHARD].kept_because == (
        "its prefix does not verify: shard 4 seq 3 does not verify: "
        "its prev_hash does not match the hash of seq 2"
    )


def test_web_events_continue_their_chain_after_its_prefix_is_purged() -> None:
    for _ in range(3):
        web_event_record("audit.search", actor_user_id=None, payload={})
    far_future_ns = chain_tail(WEB_SHARD).ts_ns + (RETENTION_DAYS + 1) * NS_PER_DAY

    audit_purge(now_ns=far_future_ns)
    web_event_record("audit.export", actor_user_id=None, payload={})

    assert seqs(WEB_SHARD) == [3, 4, 5]
    assert RetentionCheckpoint.objects.get(shard=WEB_SHARD).seq == 2
    assert chain_verify(WEB_SHARD).intact


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_a_dry_run_removes_nothing() -> None:
    journal(*[(EXPIRED_NS, "ACC-1")] * 3, (NOW_NS, "ACC-1"))

    result = audit_purge(now_ns=NOW_NS, dry_run=True)

    assert result.shards[SHARD].purged == 3
    assert seqs() == [1, 2, 3, 4]
    assert not EventRecord.objects.filter(kind="audit.purged").exists()


@pytest.mark.usefixtures("recovery_needs_nothing")
def test_the_command_and_the_daily_task_purge(capsys: pytest.CaptureFixture[str]) -> None:
    # Rows from 1990 are long expired under the real clock.
    old_ns = datetime_to_ns(datetime(1990, 1, 1, tzinfo=UTC))
    journal(*[(old_ns, "ACC-1")] * 3, (old_ns, "ACC-1"), (old_ns, "ACC-1"))

    call_command("audit_purge")
    journal((old_ns, "ACC-1"))
    purge_expired()

    out = capsys.readouterr().out.splitlines()
    assert f"shard {SHARD}: purged 4 rows through seq 4" in out[1]
    assert seqs() == [6]
    assert len(EventRecord.objects.filter(kind="audit.purged")) == 2


def test_a_hold_must_end_after_it_starts(trader: User) -> None:
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError):
        legal_hold_place(created_by=trader, reason="x", starts_at=moment, ends_at=moment)
    assert not LegalHold.objects.exists()
