"""The database refuses UPDATE and DELETE on the event log, whichever way they come."""

from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from apps.audit.models import EventRecord, PurgeGrant
from apps.audit.services import GENESIS_HASH, LogEntry, journal_append
from apps.audit.signals import EXPECTED_TRIGGERS, append_only_triggers

pytestmark = pytest.mark.django_db
SHARD = 3


def journal_three_rows() -> list[EventRecord]:
    entries = [
        LogEntry(seq, 1_700_000_000_000_000_000 + seq, "order_accepted", f"c{seq}", {"n": seq})
        for seq in (1, 2, 3)
    ]
    journal_append(SHARD, entries, GENESIS_HASH)
    return list(EventRecord.objects.filter(shard=SHARD).order_by("seq"))


def snapshot() -> list[tuple[object, ...]]:
    return list(EventRecord.objects.order_by("shard", "seq").values_list())


def orm_queryset_update() -> None:
    EventRecord.objects.filter(shard=SHARD, seq=2).update(kind="order_cancelled")


def orm_instance_save() -> None:
    row = EventRecord.objects.get(shard=SHARD, seq=2)
    row.payload = {"n": 200}
    row.save()


def orm_queryset_delete() -> None:
    EventRecord.objects.filter(shard=SHARD).delete()


def orm_instance_delete() -> None:
    EventRecord.objects.get(shard=SHARD, seq=3).delete()


def raw_update() -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_eventrecord SET hash = %s WHERE seq = 2", ["f" * 64])


def raw_delete() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_eventrecord WHERE shard = %s", [SHARD])


@pytest.mark.parametrize(
    "change",
    [
        orm_queryset_update,
        orm_instance_save,
        orm_queryset_delete,
        orm_instance_delete,
        raw_update,
        raw_delete,
    ],
)
def test_the_database_refuses_to_change_or_delete_a_logged_row(change: Callable[[], None]) -> None:
    journal_three_rows()
    before = snapshot()

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        change()

    assert snapshot() == before


def test_a_purge_grant_lets_only_the_rows_it_covers_be_deleted() -> None:
    journal_three_rows()
    PurgeGrant.objects.create(shard=SHARD, through_seq=2)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        EventRecord.objects.filter(shard=SHARD, seq=3).delete()
    EventRecord.objects.filter(shard=SHARD, seq__lte=2).delete()

    assert list(EventRecord.objects.filter(shard=SHARD).values_list("seq", flat=True)) == [3]


def test_a_purge_grant_never_lets_a_row_be_updated() -> None:
    journal_three_rows()
    PurgeGrant.objects.create(shard=SHARD, through_seq=3)
    before = snapshot()

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        EventRecord.objects.filter(shard=SHARD).update(kind="order_cancelled")

    assert snapshot() == before


def test_a_grant_for_one_shard_does_not_open_another() -> None:
    journal_three_rows()
    PurgeGrant.objects.create(shard=SHARD + 1, through_seq=3)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        EventRecord.objects.filter(shard=SHARD, seq=1).delete()


def test_the_append_only_triggers_are_installed_by_migrate() -> None:
    assert append_only_triggers("default") == EXPECTED_TRIGGERS[connection.vendor]


@pytest.mark.django_db(transaction=True)
def test_the_flush_command_still_empties_the_event_log() -> None:
    journal_three_rows()

    call_command("flush", interactive=False, verbosity=0)

    assert not EventRecord.objects.exists()
    assert not PurgeGrant.objects.exists()
    # And the log is append-only again straight after.
    journal_three_rows()
    with pytest.raises(IntegrityError, match="append-only"):
        EventRecord.objects.filter(shard=SHARD).delete()
