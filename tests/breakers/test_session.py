"""The session's open and close reach every shard as StartSession: at the open (Celery beat),
by hand (management command, admin action), in ns UTC from the local times and time zone."""

from datetime import date, time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from apps.accounts.models import User
from apps.breakers import tasks
from apps.breakers.models import BreakerSettings
from apps.breakers.selectors import breaker_settings, session_times
from apps.breakers.services import session_start
from apps.instruments.models import Instrument
from apps.matching.engine import StartSession
from project.api_errors import Rejection
from tests.breakers.helpers import commands_sent, nothing_sent

pytestmark = pytest.mark.django_db
HOUR_NS = 3600 * 10**9


def test_new_york_930_is_1330_utc_in_summer_and_1430_in_winter() -> None:
    row = breaker_settings()
    summer = session_times(row, date(2026, 7, 1))
    winter = session_times(row, date(2026, 1, 5))
    assert summer.open_ns == 1_782_912_600 * 10**9  # 2026-07-01T13:30:00Z
    assert winter.open_ns == 1_767_623_400 * 10**9  # 2026-01-05T14:30:00Z
    assert summer.close_ns - summer.open_ns == 6 * HOUR_NS + HOUR_NS // 2


def test_the_session_follows_the_settings_time_zone_and_times() -> None:
    BreakerSettings.objects.create(
        session_open=time(8, 0), session_close=time(16, 30), session_timezone="Europe/London"
    )
    times = session_times(breaker_settings(), date(2026, 1, 5))
    assert times.open_ns == 1_767_600_000 * 10**9  # 2026-01-05T08:00:00Z
    assert times.close_ns - times.open_ns == 8 * HOUR_NS + HOUR_NS // 2


def test_the_task_at_the_open_sends_todays_session_to_every_shard(
    instruments: dict[str, Instrument],
) -> None:
    Instrument.objects.filter(symbol="INTC").update(shard=1)
    tasks.start_session()
    expected = session_times(breaker_settings())
    for shard in (0, 1):
        (command,) = commands_sent(shard)
        assert isinstance(command, StartSession)
        assert (command.open_ns, command.close_ns, command.user_id) == (
            expected.open_ns,
            expected.close_ns,
            0,
        )


def test_the_beat_schedule_starts_the_session_at_the_open() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["start-session"]
    assert entry["task"] == "apps.breakers.tasks.start_session"
    hour, minute = settings.SESSION_OPEN_UTC.split(":")
    assert entry["schedule"].hour == {int(hour)}
    assert entry["schedule"].minute == {int(minute)}


def test_the_management_command_sends_a_given_days_session(
    instruments: dict[str, Instrument],
) -> None:
    out = StringIO()
    call_command("start_session", "--date", "2026-07-01", stdout=out)
    (command,) = commands_sent()
    assert isinstance(command, StartSession)
    assert command.open_ns == 1_782_912_600 * 10**9
    assert "2026-07-01" in out.getvalue()


def test_starting_the_session_by_hand_needs_the_permission(
    instruments: dict[str, Instrument], trader: User, risk_manager: User
) -> None:
    with pytest.raises(Rejection) as refused:
        session_start(trader)
    assert refused.value.status == 403
    assert nothing_sent()
    session_start(risk_manager)
    (command,) = commands_sent()
    assert isinstance(command, StartSession)
    assert command.user_id == risk_manager.pk
