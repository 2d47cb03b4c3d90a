"""Personas, instruments and a live matcher on the real Redis and the real database."""

import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal

import pytest
from channels.layers import get_channel_layer
from django.conf import LazySettings
from django.contrib.auth.models import Group
from django.db import connection

from apps.accounts import roles
from apps.accounts.models import TradingAccount, User
from apps.instruments.models import Instrument
from apps.matching.redis import redis_client
from apps.matching.worker import Matcher


@pytest.fixture(autouse=True)
def isolated_redis_keys(settings: LazySettings) -> Iterator[str]:
    """Each test gets its own stream, book and channel-layer keys on the real Redis."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    settings.MATCHER_KEY_PREFIX = prefix
    layers = {**settings.CHANNEL_LAYERS}
    layers["default"] = {
        **layers["default"],
        "CONFIG": {**layers["default"]["CONFIG"], "prefix": f"{prefix}:asgi"},
    }
    settings.CHANNEL_LAYERS = layers
    yield prefix
    client = redis_client()
    stale = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if stale:
        client.delete(*stale)


def _persona(username: str, role: str | None, accounts: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    for code in accounts:
        account, _ = TradingAccount.objects.get_or_create(code=code)
        account.traders.add(user)
    return user


@pytest.fixture
def trader(db: None) -> User:
    return _persona("alice", roles.TRADER, ("ACC-1",))


@pytest.fixture
def second_trader(db: None) -> User:
    return _persona("bob", roles.TRADER, ("ACC-2",))


@pytest.fixture
def risk_manager(db: None) -> User:
    return _persona("rita", roles.RISK_MANAGER)


@pytest.fixture
def auditor(db: None) -> User:
    return _persona("audrey", roles.AUDITOR)


@pytest.fixture
def outsider(db: None) -> User:
    return _persona("oscar", None)


@pytest.fixture
def instruments(db: None) -> dict[str, Instrument]:
    listed = {}
    for symbol, reference in (("AAPL", "232.50"), ("INTC", "21.35")):
        listed[symbol] = Instrument.objects.create(
            symbol=symbol,
            name=symbol,
            tick_size=Decimal("0.01"),
            lot_size=1,
            reference_price=Decimal(reference),
        )
    return listed


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll `condition` until it holds or `timeout_s` passes; for states only observable by
    looking (a heartbeat, a process's view of the database)."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while time.monotonic() < deadline:
        if condition():
            return True
        pause.wait(0.02)
    return condition()


class RunningMatcher:
    """A matcher on its own thread, as `run_matcher` runs it, stopped at the end of the test."""

    def __init__(self, shard: int = 0) -> None:
        self.matcher = Matcher(shard, block_ms=20)
        self.stop = threading.Event()
        self.started = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="matcher", daemon=True)

    def _run(self) -> None:
        try:
            self.matcher.start()
            self.started.set()
            while not self.stop.is_set():
                self.matcher.step_or_recover(self.stop)
        except BaseException as exc:  # surfaced in the test that owns the matcher
            self.failure = exc
            self.started.set()
            raise
        finally:
            self.matcher.close()
            connection.close()

    def __enter__(self) -> "RunningMatcher":
        self.thread.start()
        assert self.started.wait(10), "the matcher did not start"
        assert self.failure is None, f"the matcher failed to start: {self.failure!r}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        assert self.failure is None, f"the matcher failed: {self.failure!r}"


@pytest.fixture
def running_matcher(
    transactional_db: None, instruments: dict[str, Instrument]
) -> Iterator[Matcher]:
    with RunningMatcher() as running:
        yield running.matcher


@pytest.fixture
async def channel_layer_closed_after() -> AsyncIterator[None]:
    """Close the channel layer's Redis pools on the test's own event loop before it ends."""
    yield
    layer = get_channel_layer()
    close_pools = getattr(layer, "close_pools", None)
    if close_pools is not None:
        await close_pools()
