"""The matcher fails closed when the database goes away, says so on /readyz, and comes back by
itself without losing or doubling an order (real PostgreSQL: connections are cut for real)."""

import json

import psycopg
import psycopg.sql
import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.redis import redis_client
from apps.matching.worker import Matcher
from apps.trading.models import Order
from apps.trading.services import OrderRequest, command_send, order_build, order_submit
from tests.conftest import RunningMatcher, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]


def set_database_reachable(reachable: bool) -> None:
    """Open or close the test database to new sessions and, when closing, cut the open ones
    but the test's own (so the matcher's); done from the maintenance database, as an operator
    would."""
    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own_pid,) = cursor.fetchone()
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        name = psycopg.sql.Identifier(db["NAME"])
        admin.execute(
            psycopg.sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                name, psycopg.sql.SQL("true" if reachable else "false")
            )
        )
        if not reachable:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> %s",
                (db["NAME"], own_pid),
            )


def heartbeat_state(matcher: Matcher) -> str:
    raw = redis_client().get(keys.heartbeat(matcher.shard))
    assert raw is not None
    state: str = json.loads(raw)["state"]
    return state


def test_the_matcher_fails_closed_and_resumes_when_the_database_returns(
    instruments: dict[str, Instrument], trader: User, second_trader: User
) -> None:
    with RunningMatcher() as running:
        order_submit(trader, OrderRequest("AAPL", "sell", "limit", "232.50", 100, "GTC", "before"))
        set_database_reachable(False)
        # Sent while the database is away: it must not be lost, nor answered before it is durable.
        _, during = order_build(
            second_trader, OrderRequest("AAPL", "buy", "limit", "232.50", 40, "GTC", "during")
        )
        command_send(0, during, want_reply=False)
        # The matcher reports the outage through its heartbeat: wait for that condition.
        assert wait_until(lambda: heartbeat_state(running.matcher) == "database_unavailable")
        ready = APIClient().get("/readyz")
        assert ready.status_code == 503
        assert "database is unreachable" in ready.json()["problems"]["matcher.0"]
        set_database_reachable(True)
        # The next answered order proves the matcher is back and has applied "during" first.
        after = order_submit(
            second_trader, OrderRequest("AAPL", "buy", "limit", "232.50", 10, "GTC", "after")
        )
        assert after["status"] == "filled"
    resting = Order.objects.get(client_order_id="before")
    assert (resting.filled_lots, resting.leaves_lots) == (50, 50)
    assert Order.objects.filter(client_order_id="during").count() == 1
