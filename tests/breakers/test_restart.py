"""A halt survives a matcher restart: the journal replays to the same events, the halt is still
in force and published, and the resume after the restart reopens by auction."""

import json

import pytest
from django.conf import LazySettings

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.breakers.services import halt_request, resume_request
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.redis import redis_client
from apps.trading.services import OrderRequest, order_submit
from tests.conftest import RunningMatcher, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def limit(side: str, price: str, coid: str) -> OrderRequest:
    return OrderRequest("AAPL", side, "limit", price, 100, "GTC", coid)


@pytest.mark.parametrize("snapshot_every", [1_000_000, 2], ids=["log-replay", "snapshot"])
def test_a_halt_sequence_replays_after_a_restart(
    settings: LazySettings,
    instruments: dict[str, Instrument],
    trader: User,
    second_trader: User,
    risk_manager: User,
    snapshot_every: int,
) -> None:
    settings.MATCHER_SNAPSHOT_EVERY = snapshot_every
    with RunningMatcher():
        halt_request(risk_manager, "AAPL", "Pending news")
        order_submit(trader, limit("sell", "232.50", "r-sell"))
        order_submit(second_trader, limit("buy", "232.60", "r-buy"))
    halted_at = EventRecord.objects.get(kind="trading_halted")

    # The restart replays the journal through a fresh engine and stops if any regenerated
    # event differs from the logged one (RecoveryDivergence): starting is the proof.
    with RunningMatcher() as restarted:
        engine = restarted.matcher.engine
        assert engine.halts()["AAPL"]["since_ns"] == halted_at.ts_ns
        published = redis_client().hget(keys.halts_snapshot(0), "AAPL")
        assert published is not None
        assert json.loads(published)["kind"] == "manual"
        assert not EventRecord.objects.filter(kind="trade").exists()

        resume_request(risk_manager, "AAPL", "News out")
        assert wait_until(lambda: EventRecord.objects.filter(kind="trade").exists())
        (trade,) = EventRecord.objects.filter(kind="trade")
        assert trade.payload["qty_lots"] == 100
        assert wait_until(lambda: redis_client().hget(keys.halts_snapshot(0), "AAPL") is None)
