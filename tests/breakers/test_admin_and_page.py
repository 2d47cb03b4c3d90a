"""The admin edits breakers through the same services as the API (with a reason); the halts
page is open to every signed-in user and shows halt controls to those who may use them."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.breakers.models import BreakerSettings
from apps.instruments.models import Instrument
from apps.matching.engine import DefineInstrument, HaltInstrument, SetBreakerParameter
from tests.breakers.conftest import FakeMatcher
from tests.breakers.helpers import commands_sent, nothing_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instruments")]

SETTINGS_FORM: dict[str, Any] = {
    "reference_window_minutes": "5",
    "limit_state_seconds": "15",
    "pause_minutes": "2",
    "auction_collar_percent": "5.00",
    "extension_minutes": "5",
    "close_doubling_minutes": "25",
    "market_wide_level_1_percent": "7.00",
    "market_wide_level_2_percent": "13.00",
    "market_wide_level_3_percent": "20.00",
    "market_wide_pause_minutes": "15",
    "market_wide_cutoff_minutes": "35",
    "spike_window_seconds": "10",
    "spike_lookback_minutes": "5",
    "spike_multiple": "5",
    "spike_min_lots": "100",
    "session_open": "09:30",
    "session_close": "16:00",
    "session_timezone": "America/New_York",
}


def browser_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff(user: User) -> User:
    user.is_staff = True
    user.save()
    return user


def test_settings_saved_in_the_admin_go_through_the_service_with_the_reason(
    risk_manager: User, committed: Callable[[], Any]
) -> None:
    client = browser_for(staff(risk_manager))
    with committed():
        response = client.post(
            "/admin/breakers/breakersettings/add/",
            {**SETTINGS_FORM, "change_reason": "Shorter pauses"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert BreakerSettings.objects.get().pause_minutes == Decimal(2)
    (command,) = commands_sent()
    assert isinstance(command, SetBreakerParameter)
    assert (command.change_reason, command.user_id) == ("Shorter pauses", risk_manager.pk)


def test_the_admin_asks_for_a_reason(risk_manager: User, committed: Callable[[], Any]) -> None:
    client = browser_for(staff(risk_manager))
    with committed():
        response = client.post("/admin/breakers/breakersettings/add/", SETTINGS_FORM)
    assert response.status_code == 200
    assert not BreakerSettings.objects.exists()
    assert nothing_sent()


def test_an_instruments_breakers_are_edited_in_the_admin_through_the_service(
    admin_user: User, committed: Callable[[], Any]
) -> None:
    aapl = Instrument.objects.get(symbol="AAPL")
    client = browser_for(admin_user)
    with committed():
        response = client.post(
            f"/admin/breakers/instrumentbreakers/{aapl.pk}/change/",
            {
                "luld_tier": "2",
                "halted_accepts_orders": "on",
                "index_weight": "4",
                "previous_close": "231.00",
                "change_reason": "Tier review",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    aapl.refresh_from_db()
    assert (aapl.luld_tier, aapl.index_weight, aapl.spike_pauses) == (2, 4, False)
    (command,) = commands_sent()
    assert isinstance(command, DefineInstrument)
    assert (command.luld_tier, command.previous_close_ticks) == (2, 23100)


def test_instruments_are_halted_from_the_admin_with_a_reason(
    risk_manager: User, fake_matcher: FakeMatcher
) -> None:
    aapl = Instrument.objects.get(symbol="AAPL")
    client = browser_for(staff(risk_manager))
    url = "/admin/breakers/instrumentbreakers/"
    asked = client.post(url, {"action": "halt", "_selected_action": [aapl.pk]})
    assert asked.status_code == 200
    assert b"change_reason" in asked.content
    assert nothing_sent()
    done = client.post(
        url,
        {
            "action": "halt",
            "_selected_action": [aapl.pk],
            "apply": "Halt",
            "change_reason": "Corporate action",
        },
    )
    assert done.status_code == 302
    (command,) = commands_sent()
    assert isinstance(command, HaltInstrument)
    assert (command.symbol, command.halt, command.change_reason) == (
        "AAPL",
        True,
        "Corporate action",
    )


def test_traders_do_not_see_the_breakers_in_the_admin(trader: User) -> None:
    client = browser_for(staff(trader))
    assert client.get("/admin/breakers/breakersettings/").status_code == 403


@pytest.mark.parametrize("persona", ["trader", "auditor", "outsider"])
def test_every_signed_in_user_sees_the_halts_page_without_controls(
    request: pytest.FixtureRequest, persona: str
) -> None:
    response = browser_for(request.getfixturevalue(persona)).get("/halts/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="current-halts"' in page
    assert 'id="past-halts"' in page
    assert 'id="halt-open"' not in page
    assert 'data-can-halt="false"' in page


def test_risk_managers_see_halt_and_resume_controls(risk_manager: User) -> None:
    page = browser_for(risk_manager).get("/halts/").content.decode()
    assert 'id="halt-open"' in page
    assert 'id="halt-dialog"' in page
    assert 'data-can-halt="true"' in page


def test_the_halts_page_asks_anonymous_visitors_to_log_in() -> None:
    response = Client().get("/halts/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
