"""The admin shows the event log read-only and places and releases legal holds."""

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.audit.models import EventRecord, LegalHold
from apps.audit.services import WEB_SHARD, web_event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_of(db: None) -> tuple[Client, User]:
    admin = User.objects.create_superuser("root", password="pw-root")
    client = Client()
    client.force_login(admin)
    return client, admin


def test_the_event_log_admin_shows_rows_but_offers_no_add_change_or_delete(
    admin_client_of: tuple[Client, User],
) -> None:
    client, _ = admin_client_of
    row = web_event_record("audit.search", actor_user_id=None, payload={"q": 1})

    listing = client.get("/admin/audit/eventrecord/")
    detail = client.get(f"/admin/audit/eventrecord/{row.pk}/change/")
    adding = client.get("/admin/audit/eventrecord/add/")
    deleting = client.post(f"/admin/audit/eventrecord/{row.pk}/delete/", {"post": "yes"})

    assert (listing.status_code, detail.status_code) == (200, 200)
    assert b"audit.search" in listing.content
    assert b'name="_save"' not in detail.content
    assert (adding.status_code, deleting.status_code) == (403, 403)
    assert EventRecord.objects.filter(pk=row.pk).exists()


def test_a_hold_placed_in_the_admin_is_recorded_with_who_placed_it(
    admin_client_of: tuple[Client, User],
) -> None:
    client, admin = admin_client_of

    response = client.post(
        "/admin/audit/legalhold/add/",
        {"account": "ACC-1", "symbol": "", "reason": "regulator request 4"},
    )

    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.account, hold.created_by, hold.released_at) == ("ACC-1", admin, None)
    placed = EventRecord.objects.get(shard=WEB_SHARD, kind="legal_hold.placed")
    assert (placed.actor_user_id, placed.account) == (admin.pk, "ACC-1")
    assert placed.payload["detail"]["hold_id"] == hold.pk


def test_a_hold_is_released_from_the_admin_and_never_deleted(
    admin_client_of: tuple[Client, User],
) -> None:
    client, admin = admin_client_of
    hold = LegalHold.objects.create(account="ACC-1", reason="closed", created_by=admin)

    released = client.post(
        "/admin/audit/legalhold/",
        {"action": "release", "_selected_action": [hold.pk]},
    )
    deleting = client.post(f"/admin/audit/legalhold/{hold.pk}/delete/", {"post": "yes"})

    assert released.status_code == 302
    hold.refresh_from_db()
    assert (hold.released_by, hold.released_at is not None) == (admin, True)
    assert deleting.status_code == 403
    assert EventRecord.objects.filter(shard=WEB_SHARD, kind="legal_hold.released").exists()
