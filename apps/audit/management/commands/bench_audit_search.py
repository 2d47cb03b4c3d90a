"""Audit search benchmark: the auditors' search over millions of log rows, one filter at a time.

It fills a scratch PostgreSQL database (never the desk's own, append-only log) with synthetic
rows shaped like the matcher's (commands, acceptances, deltas, trades, cancels across accounts,
symbols and traders), then times the first page and a next page of the same search the API runs
(`events_page`) for each filter, and prints p50/p95 per filter. The last line is JSON.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from apps.accounts.models import User
from apps.audit.api.filters import EventFilters, EventPageQuery
from apps.audit.api.selectors import events_page
from project.benchdb import ScratchDatabase

ACCOUNTS = 200
SYMBOLS = 50
TRADERS = 100
EVENTS_PER_ORDER = 5
START_NS = 1_760_000_000_000_000_000
STEP_NS = 1_000  # one row a microsecond: 10 million rows span ten seconds of a busy shard
SEED_CHUNK = 1_000_000
KINDS = ("new_order", "order_accepted", "book_delta", "trade", "order_cancelled")


class Command(BaseCommand):
    help = "Time the auditors' search over a large synthetic event log, one filter at a time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=10_000_000)
        parser.add_argument("--searches", type=int, default=40, help="Searches per filter.")
        parser.add_argument("--seed", type=int, default=5)
        parser.add_argument(
            "--database-url", default="postgres://postgres@127.0.0.1:5432/cwts_bench_audit"
        )
        parser.add_argument("--keep-database", action="store_true")
        parser.add_argument("--measure", action="store_true", help="(internal) measure here")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["measure"]:
            self._measure(options)
        else:
            self._orchestrate(options)

    def _orchestrate(self, options: dict[str, Any]) -> None:
        database = ScratchDatabase.from_url(options["database_url"])
        database.recreate()
        self.stdout.write(f"audit search benchmark: database {database.name} (created fresh)")
        env = {
            **os.environ,
            "DATABASE_URL": database.url,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        try:
            migrate = [sys.executable, manage, "migrate", "--no-input", "-v", "0"]
            if subprocess.run(migrate, env=env, check=False).returncode != 0:  # noqa: S603
                raise CommandError("migrating the benchmark database failed")
            measure = [
                sys.executable, manage, "bench_audit_search", "--measure",
                f"--rows={options['rows']}", f"--searches={options['searches']}",
                f"--seed={options['seed']}",
            ]  # fmt: skip
            if subprocess.run(measure, env=env, check=False).returncode != 0:  # noqa: S603
                raise CommandError("the measuring process failed (see above)")
        finally:
            if not options["keep_database"]:
                database.drop()

    def _measure(self, options: dict[str, Any]) -> None:
        rows, rng = options["rows"], random.Random(options["seed"])
        traders = User.objects.bulk_create(
            [User(username=f"bench-trader-{n}") for n in range(TRADERS)]
        )
        trader_ids = [t.pk for t in traders]
        started = time.perf_counter()
        self._seed(rows, trader_ids)
        self.stdout.write(f"seeded {rows:,} rows in {time.perf_counter() - started:.0f}s")

        orders = max(1, rows // EVENTS_PER_ORDER)
        span_ns = rows * STEP_NS
        searches: dict[str, Any] = {
            "symbol": lambda: EventFilters(symbol=f"S{rng.randrange(SYMBOLS)}"),
            "account": lambda: EventFilters(account=f"ACC-{rng.randrange(ACCOUNTS)}"),
            "trader": lambda: EventFilters(actor_user_id=rng.choice(trader_ids)),
            "order_id": lambda: EventFilters(order_id=rng.randrange(orders)),
            "client_order_id": lambda: EventFilters(client_order_id=f"c-{rng.randrange(orders)}"),
            "kind": lambda: EventFilters(kinds=(rng.choice(KINDS),)),
            "reason": lambda: EventFilters(reason="cancelled_by_user"),
            "time_range": lambda: self._minute(rng, span_ns),
            "none": lambda: EventFilters(),
        }
        figures: dict[str, dict[str, float]] = {}
        for name, make_filters in searches.items():
            timings = [self._timed_search(make_filters()) for _ in range(options["searches"])]
            cuts = statistics.quantiles(timings, n=20)
            figures[name] = {"p50_ms": round(cuts[9], 2), "p95_ms": round(cuts[18], 2)}
            self.stdout.write(
                f"filter {name:<16} first and next page: p50 {cuts[9]:7.2f} ms  "
                f"p95 {cuts[18]:7.2f} ms"
            )
        worst = max(f["p95_ms"] for f in figures.values())
        self.stdout.write(
            json.dumps({"rows": rows, "search_p95_ms_worst_filter": worst, "filters": figures})
        )

    @staticmethod
    def _minute(rng: random.Random, span_ns: int) -> EventFilters:
        start = START_NS + rng.randrange(max(1, span_ns - 60 * 10**9))
        return EventFilters(from_ns=start, to_ns=start + 60 * 10**9)

    @staticmethod
    def _timed_search(filters: EventFilters) -> float:
        """Milliseconds for a first page and, when there is one, the next page."""
        started = time.perf_counter()
        page = events_page(EventPageQuery(filters=filters))
        if page.next_cursor is not None:
            events_page(EventPageQuery(filters=filters, after=page.next_cursor))
        return (time.perf_counter() - started) * 1e3

    @staticmethod
    def _seed(rows: int, trader_ids: list[int]) -> None:
        """Rows generated inside PostgreSQL, a million per statement: a client round trip per
        row would take hours. Hashes are placeholders: this measures search, not the chain."""
        actors = "ARRAY[" + ",".join(str(i) for i in trader_ids) + "]::bigint[]"
        kinds = "ARRAY[" + ",".join(f"'{k}'" for k in KINDS) + "]"
        with connection.cursor() as cursor:
            for first in range(1, rows + 1, SEED_CHUNK):
                last = min(rows, first + SEED_CHUNK - 1)
                cursor.execute(
                    f"""
                    INSERT INTO audit_eventrecord (
                        shard, seq, ts_ns, kind, command_id, stream_id, actor_user_id, account,
                        symbol, order_id, client_order_id, side, price_ticks, qty_lots,
                        order_type, time_in_force, reason, payload, prev_hash, hash)
                    SELECT 0, g, {START_NS} + g * {STEP_NS},
                        ({kinds})[1 + g %% {len(KINDS)}],
                        'cmd-' || (g / {EVENTS_PER_ORDER}), '',
                        ({actors})[1 + (g / {EVENTS_PER_ORDER}) %% {TRADERS}],
                        'ACC-' || ((g / {EVENTS_PER_ORDER}) %% {ACCOUNTS}),
                        'S' || ((g / {EVENTS_PER_ORDER}) %% {SYMBOLS}),
                        g / {EVENTS_PER_ORDER}, 'c-' || (g / {EVENTS_PER_ORDER}),
                        CASE WHEN g %% 2 = 0 THEN 'buy' ELSE 'sell' END,
                        10000 + g %% 100, 1 + g %% 50, 'limit', 'GTC',
                        CASE WHEN g %% {len(KINDS)} = 4 THEN 'cancelled_by_user' ELSE '' END,
                        '{{}}'::jsonb, repeat('0', 64), repeat('0', 64)
                    FROM generate_series(%s::bigint, %s::bigint) AS g
                    """,  # noqa: S608 - every interpolated value is this module's constant
                    [first, last],
                )
            cursor.execute("ANALYZE audit_eventrecord")
