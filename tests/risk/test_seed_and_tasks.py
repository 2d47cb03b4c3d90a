"""The demo's limits, the daily reset at session open, and the permissions each role gets."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching.engine import ResetDailyRisk
from apps.risk.models import AccountRiskLimits, FirmRiskPolicy, InstrumentRiskLimits, PositionLimit
from apps.risk.tasks import reset_daily_risk
from tests.risk.helpers import commands_sent, nothing_sent

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def test_the_demo_has_limits_for_the_people_and_none_for_the_simulator(
    django_capture_on_commit_callbacks: Capture,
) -> None:
    call_command("seed_demo")
    assert FirmRiskPolicy.objects.get().throttle_messages == 500
    acc1 = AccountRiskLimits.objects.get(account__code="ACC-1")
    assert (acc1.credit_limit, acc1.loss_kill) == (Decimal("5000000"), Decimal("100000"))
    assert set(AccountRiskLimits.objects.values_list("account__code", flat=True)) == {
        "ACC-1",
        "ACC-2",
    }
    assert InstrumentRiskLimits.objects.count() == Instrument.objects.count()
    assert PositionLimit.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    # Seeding again changes nothing, so it sends nothing.
    assert nothing_sent()


def test_the_daily_reset_goes_to_every_shard(instruments: dict[str, Instrument]) -> None:
    Instrument.objects.filter(symbol="INTC").update(shard=1)
    reset_daily_risk()
    for shard in (0, 1):
        (command,) = commands_sent(shard)
        assert isinstance(command, ResetDailyRisk)


def test_the_daily_reset_runs_at_session_open_on_weekdays() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["reset-daily-risk"]
    assert entry["task"] == "apps.risk.tasks.reset_daily_risk"
    schedule = entry["schedule"]
    assert (schedule.hour, schedule.minute) == ({13}, {30})
    assert schedule.day_of_week == {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("persona", "view", "change", "kill"),
    [
        ("risk_manager", True, True, True),
        ("auditor", True, False, False),
        ("trader", False, False, False),
        ("outsider", False, False, False),
    ],
)
def test_each_role_gets_exactly_its_risk_permissions(
    request: pytest.FixtureRequest, persona: str, view: bool, change: bool, kill: bool
) -> None:
    user: User = request.getfixturevalue(persona)
    assert (
        user.has_perm("risk.view_risk_limits"),
        user.has_perm("risk.change_risk_limits"),
        user.has_perm("risk.operate_kill_switch"),
    ) == (view, change, kill)
