"""Fixtures of the breaker tests: commits that run their callbacks, an administrator, and a
stand-in for the matcher's answers."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts import roles
from apps.accounts.models import User
from apps.trading import control

Capture = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Capture) -> Callable[[], Any]:
    """Run what a request registers for after commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def admin_user(db: None) -> User:
    user = User.objects.create_user(username="ada", password="pw-ada", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.ADMIN))
    return user


class FakeMatcher:
    """Answers every awaited command as the matcher would after applying it: the outcome
    event built by `answer` from the command on the stream (HaltRequestDone by default)."""

    def __init__(self) -> None:
        self.instruments = 1
        self.reply: dict[str, Any] | None = None
        self.awaited: list[str] = []

    def __call__(self, command_id: str) -> dict[str, Any]:
        self.awaited.append(command_id)
        if self.reply is not None:
            return self.reply
        return {
            "status": 200,
            "event": {"kind": "halt_request_done", "instruments": self.instruments},
        }


@pytest.fixture
def fake_matcher(monkeypatch: pytest.MonkeyPatch) -> FakeMatcher:
    fake = FakeMatcher()
    # The breakers send through the shared control dispatch (apps.trading.control).
    monkeypatch.setattr(control, "reply_wait", fake)
    return fake
