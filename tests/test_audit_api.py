"""The auditors' API: who may read the trail, what each filter selects, cursor paging, the CSV
export, an order's life, chain verification, and that reading the trail is itself logged."""

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.db import connections, transaction
from django.test import AsyncClient
from rest_framework.test import APIClient

from apps.accounts import roles
from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.audit.services import GENESIS_HASH, LogEntry, journal_append
from apps.matching.codec import command_to_dict, event_to_dict
from apps.matching.engine import (
    CancelOrder,
    Command,
    DefineInstrument,
    Engine,
    Event,
    NewOrder,
    OrderType,
    Side,
    TimeInForce,
)
from apps.matching.worker import ORDER_ID_SPAN

EVENTS = "/api/v1/audit/events/"
EXPORT = "/api/v1/audit/events/export.csv"
VERIFY = "/api/v1/audit/verify/"

# The trading day the log below records; the clock of the web-side rows (now) is far later.
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000
MS = 1_000_000


def orders_url(order_id: int | str) -> str:
    return f"/api/v1/audit/orders/{order_id}/"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def administrator(db: None) -> User:
    user = User.objects.create_user(username="ada", password="pw-ada")
    user.groups.add(Group.objects.get(name=roles.ADMIN))
    return user


class ShardLog:
    """Commands through the real engine, journaled as the matcher journals them (the command,
    then its events), the n-th command of every shard stamped T0 + n ms: rows of different
    shards share a time, so the search order's tie-break is exercised."""

    def __init__(self, shard: int) -> None:
        self.shard = shard
        self.engine = Engine(shard, order_id_base=shard * ORDER_ID_SPAN)
        self.head = GENESIS_HASH
        self.commands = 0

    def apply(self, make: Callable[[str, int], Command]) -> list[Event]:
        self.commands += 1
        ts_ns = T0_NS + self.commands * MS
        command = make(f"s{self.shard}-c{self.commands}", ts_ns)
        events = self.engine.apply(command)
        entries = [
            LogEntry(
                self.engine.last_command_seq,
                ts_ns,
                command.kind,
                command.command_id,
                command_to_dict(command),
            )
        ]
        entries += [
            LogEntry(e.seq, e.ts_ns, e.kind, e.command_id, event_to_dict(e)) for e in events
        ]
        with transaction.atomic():
            self.head = journal_append(self.shard, entries, self.head)
        return events

    def define(self, symbol: str) -> None:
        self.apply(lambda command_id, ts_ns: DefineInstrument(command_id, ts_ns, symbol))

    def order(
        self,
        user: User,
        account: str,
        symbol: str,
        side: str,
        price_ticks: int,
        qty_lots: int,
        client_order_id: str,
        time_in_force: str = "GTC",
    ) -> int:
        """The new order's id, or 0 if the engine rejected it."""
        events = self.apply(
            lambda command_id, ts_ns: NewOrder(
                command_id,
                ts_ns,
                user.pk,
                account,
                symbol,
                Side(side),
                OrderType.LIMIT,
                TimeInForce(time_in_force),
                price_ticks,
                qty_lots,
                client_order_id,
            )
        )
        outcome = event_to_dict(events[0])
        return int(outcome["order_id"]) if outcome["kind"] == "order_accepted" else 0

    def cancel(self, user: User, order_id: int) -> None:
        self.apply(lambda command_id, ts_ns: CancelOrder(command_id, ts_ns, user.pk, order_id))


@dataclass
class TradingDay:
    alice_aapl: int  # rests, is hit by bob as maker for 60 of 100, then cancelled
    bob_aapl: int  # the taker of that trade, fully filled
    alice_intc: int  # rests; its client order id looks like a spreadsheet formula
    alice_msft: int  # on shard 1
    rejected_coid: str  # bob's fill-or-kill that could not fill


@pytest.fixture
def trading_day(trader: User, second_trader: User) -> TradingDay:
    shard0, shard1 = ShardLog(0), ShardLog(1)
    shard0.define("AAPL")
    shard1.define("MSFT")
    shard0.define("INTC")
    alice_aapl = shard0.order(trader, "ACC-1", "AAPL", "buy", 23240, 100, "a-1")
    alice_msft = shard1.order(trader, "ACC-1", "MSFT", "buy", 41000, 10, "a-2")
    bob_aapl = shard0.order(second_trader, "ACC-2", "AAPL", "sell", 23240, 60, "b-1")
    shard0.cancel(trader, alice_aapl)
    shard0.order(second_trader, "ACC-2", "INTC", "buy", 2135, 10, "b-2", time_in_force="FOK")
    alice_intc = shard0.order(trader, "ACC-1", "INTC", "sell", 2140, 5, "=HYPERLINK(1)")
    return TradingDay(alice_aapl, bob_aapl, alice_intc, alice_msft, "b-2")


def day_rows() -> list[EventRecord]:
    """Every row of the trading day (not the web-side rows reading it adds), in search order."""
    return list(
        EventRecord.objects.filter(ts_ns__lt=T0_NS + 3_600 * 10**9).order_by(
            "ts_ns", "shard", "seq"
        )
    )


def positions(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(row["shard"], row["seq"]) for row in rows]


def logged(kind: str) -> list[dict[str, Any]]:
    """What each web-side row of `kind` recorded, oldest first: the caller's payload."""
    rows = EventRecord.objects.filter(kind=kind).order_by("seq")
    return [row.payload.get("detail", row.payload) for row in rows]


@pytest.mark.django_db
class TestWhoMayRead:
    ENDPOINTS = (EVENTS, EXPORT, orders_url(1), VERIFY)

    @pytest.mark.parametrize("persona", ["auditor", "administrator"])
    def test_auditors_and_administrators_may_read_the_trail(
        self, request: pytest.FixtureRequest, persona: str, trading_day: TradingDay
    ) -> None:
        client = client_for(request.getfixturevalue(persona))
        assert client.get(EVENTS).status_code == 200
        assert client.get(EXPORT).status_code == 200
        assert client.get(orders_url(trading_day.alice_aapl)).status_code == 200
        assert client.get(VERIFY).status_code == 200

    @pytest.mark.parametrize("persona", ["trader", "risk_manager", "outsider"])
    @pytest.mark.parametrize("url", ENDPOINTS)
    def test_traders_risk_managers_and_outsiders_are_refused(
        self, request: pytest.FixtureRequest, persona: str, url: str
    ) -> None:
        response = client_for(request.getfixturevalue(persona)).get(url)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
        assert response.json()["message"] == (
            "Only auditors and administrators may read the audit trail."
        )
        assert not EventRecord.objects.filter(kind__startswith="audit.").exists()

    @pytest.mark.parametrize("url", ENDPOINTS)
    def test_anonymous_callers_are_told_to_authenticate(self, url: str) -> None:
        response = client_for(None).get(url)
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
        assert response.json()["message"]


@pytest.mark.django_db
class TestSearch:
    def search(self, user: User, **params: Any) -> list[dict[str, Any]]:
        response = client_for(user).get(EVENTS, {"limit": 1000, **params})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["next"] is None
        results: list[dict[str, Any]] = body["results"]
        return results

    @pytest.mark.parametrize(
        ("params", "selects"),
        [
            ({"symbol": "AAPL"}, lambda r, u: r.symbol == "AAPL"),
            ({"account": "ACC-2"}, lambda r, u: r.account == "ACC-2"),
            ({"trader": "bob"}, lambda r, u: r.actor_user_id == u["bob"]),
            ({"client_order_id": "a-1"}, lambda r, u: r.client_order_id == "a-1"),
            ({"kind": "trade"}, lambda r, u: r.kind == "trade"),
            (
                {"kind": "order_accepted,order_cancelled"},
                lambda r, u: r.kind in ("order_accepted", "order_cancelled"),
            ),
            ({"reason": "cancelled_by_user"}, lambda r, u: r.reason == "cancelled_by_user"),
            ({"reason": "fok_not_fillable"}, lambda r, u: r.reason == "fok_not_fillable"),
            ({"shard": "1"}, lambda r, u: r.shard == 1),
            (
                {"from": "2026-03-02T09:30:00.003Z", "to": "2026-03-02T09:30:00.005Z"},
                lambda r, u: T0_NS + 3 * MS <= r.ts_ns < T0_NS + 5 * MS,
            ),
            (
                {"from": str(T0_NS + 4 * MS), "to": str(T0_NS + 4 * MS + 1)},
                lambda r, u: r.ts_ns == T0_NS + 4 * MS,
            ),
            (
                {"from": "2026-03-02T10:30:00.004+01:00", "to": "2026-03-02T09:30:00.005"},
                lambda r, u: T0_NS + 4 * MS <= r.ts_ns < T0_NS + 5 * MS,
            ),
            (
                {"symbol": "AAPL", "kind": "order_accepted", "account": "ACC-1"},
                lambda r, u: (r.symbol, r.kind, r.account) == ("AAPL", "order_accepted", "ACC-1"),
            ),
        ],
    )
    def test_each_filter_selects_exactly_the_matching_rows_in_time_order(
        self,
        auditor: User,
        trading_day: TradingDay,
        params: dict[str, str],
        selects: Callable[[EventRecord, dict[str, int]], bool],
    ) -> None:
        users = dict(User.objects.values_list("username", "pk"))
        expected = [(r.shard, r.seq) for r in day_rows() if selects(r, users)]
        assert expected, "the trading day must hold rows for every filter"
        found = self.search(auditor, **{"to": T0_NS + 3_600 * 10**9, **params})
        assert positions(found) == expected

    def test_the_order_id_filter_selects_the_rows_naming_the_order(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        found = self.search(auditor, order_id=trading_day.alice_aapl)
        # The acceptance, the cancel command and its outcome; the trade names alice's order
        # only as maker, in its payload, which the order's life finds (not this filter).
        assert [row["kind"] for row in found] == [
            "order_accepted",
            "cancel_order",
            "order_cancelled",
        ]
        assert {row["order_id"] for row in found} == {trading_day.alice_aapl}

    def test_a_kind_may_be_repeated(self, auditor: User, trading_day: TradingDay) -> None:
        repeated = client_for(auditor).get(f"{EVENTS}?kind=trade&kind=order_rejected&limit=50")
        listed = client_for(auditor).get(EVENTS, {"kind": "trade,order_rejected", "limit": 50})
        assert repeated.json() == listed.json()
        assert {row["kind"] for row in repeated.json()["results"]} == {"trade", "order_rejected"}

    def test_a_row_carries_every_field_the_log_holds(
        self, auditor: User, trader: User, trading_day: TradingDay
    ) -> None:
        [row] = self.search(auditor, kind="order_accepted", client_order_id="a-1")
        record = EventRecord.objects.get(shard=row["shard"], seq=row["seq"])
        assert row == {
            "shard": 0,
            "seq": record.seq,
            "ts": "2026-03-02T09:30:00.003000000Z",
            "ts_ns": T0_NS + 3 * MS,
            "kind": "order_accepted",
            "command_id": "s0-c3",
            "stream_id": "",
            "actor_user_id": trader.pk,
            "actor": "alice",
            "account": "ACC-1",
            "symbol": "AAPL",
            "order_id": trading_day.alice_aapl,
            "client_order_id": "a-1",
            "side": "buy",
            "price_ticks": 23240,
            "qty_lots": 100,
            "order_type": "limit",
            "time_in_force": "GTC",
            "reason": "",
            "payload": record.payload,
            "prev_hash": record.prev_hash,
            "hash": record.hash,
        }

    def test_newest_first_is_the_reverse_order(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        window = {"to": T0_NS + 3_600 * 10**9}
        oldest_first = positions(self.search(auditor, **window))
        newest_first = positions(self.search(auditor, order="desc", **window))
        assert newest_first == oldest_first[::-1]

    def test_a_search_that_matches_nothing_is_an_empty_page(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        assert self.search(auditor, symbol="NOPE") == []


@pytest.fixture
def busy_day(trader: User, second_trader: User) -> int:
    """A few hundred rows on two shards, interleaved in time; returns how many."""
    shards = [ShardLog(0), ShardLog(1)]
    for log, symbol in zip(shards, ("AAPL", "MSFT"), strict=True):
        log.define(symbol)
    for n in range(40):
        for log, symbol in zip(shards, ("AAPL", "MSFT"), strict=True):
            log.order(trader, "ACC-1", symbol, "buy", 10_000 + n % 5, 10, f"a-{n}")
            log.order(second_trader, "ACC-2", symbol, "sell", 10_000 + n % 3, 7, f"b-{n}")
    return len(day_rows())


@pytest.mark.django_db
class TestPaging:
    def walk(self, user: User, **params: Any) -> tuple[list[tuple[int, int]], int]:
        """Follow `next` to the end; the rows seen and the number of pages."""
        client = client_for(user)
        seen: list[tuple[int, int]] = []
        after: str | None = None
        pages = 0
        while True:
            query = {**params, **({"after": after} if after else {})}
            body = client.get(EVENTS, query).json()
            pages += 1
            seen += positions(body["results"])
            after = body["next"]
            if after is None:
                return seen, pages

    @pytest.mark.parametrize("order", ["asc", "desc"])
    def test_a_cursor_walk_shows_every_row_once_in_order(
        self, auditor: User, busy_day: int, order: str
    ) -> None:
        expected = [(r.shard, r.seq) for r in day_rows()]
        if order == "desc":
            expected.reverse()
        seen, pages = self.walk(auditor, limit=7, order=order, to=T0_NS + 3_600 * 10**9)
        assert len(seen) == len(set(seen)) == busy_day
        assert seen == expected
        assert pages == -(-busy_day // 7)

    def test_rows_appended_during_a_walk_appear_once_at_its_end(
        self, auditor: User, busy_day: int
    ) -> None:
        # Without a time bound the walk meets the web-side rows, among them its own searches
        # appended while it runs: each is seen once, after every row of the day, and every
        # search but the last (logged after the last page was read) is among them.
        seen, pages = self.walk(auditor, limit=50)
        assert len(seen) == len(set(seen))
        day = [(r.shard, r.seq) for r in day_rows()]
        assert seen[: len(day)] == day
        searches = list(
            EventRecord.objects.filter(kind="audit.search")
            .order_by("seq")
            .values_list("shard", "seq")
        )
        assert len(searches) == pages
        assert set(searches[:-1]) <= set(seen[len(day) :])

    def test_the_default_page_is_a_hundred_rows_and_a_thousand_is_the_most(
        self, auditor: User, busy_day: int
    ) -> None:
        client = client_for(auditor)
        assert len(client.get(EVENTS).json()["results"]) == 100
        assert len(client.get(EVENTS, {"limit": 1000}).json()["results"]) >= busy_day
        response = client.get(EVENTS, {"limit": 1001})
        assert (response.status_code, response.json()["code"]) == (400, "invalid_limit")

    def test_the_last_page_says_there_is_no_next(self, auditor: User, busy_day: int) -> None:
        body = client_for(auditor).get(EVENTS, {"to": T0_NS + 3_600 * 10**9, "limit": busy_day})
        assert len(body.json()["results"]) == busy_day
        assert body.json()["next"] is None


def read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


@pytest.mark.django_db
class TestExport:
    def test_the_export_holds_a_header_and_every_row_the_filters_select(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        response = client_for(auditor).get(EXPORT, {"symbol": "AAPL", "order": "asc"})
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
        content = b"".join(response.streaming_content)
        assert content.startswith(
            b"shard,seq,ts,ts_ns,kind,command_id,stream_id,actor_user_id,actor,account,symbol,"
            b"order_id,client_order_id,side,price_ticks,qty_lots,order_type,time_in_force,"
            b"reason,payload,prev_hash,hash\r\n"
        )
        rows = read_csv(content)
        expected = [r for r in day_rows() if r.symbol == "AAPL"]
        assert [(int(row["shard"]), int(row["seq"])) for row in rows] == [
            (r.shard, r.seq) for r in expected
        ]
        trade = next(row for row in rows if row["kind"] == "trade")
        record = EventRecord.objects.get(shard=0, seq=int(trade["seq"]))
        assert json.loads(trade["payload"]) == record.payload
        assert trade["hash"] == record.hash
        assert trade["prev_hash"] == record.prev_hash
        assert trade["actor"] == "bob"
        assert trade["order_id"] == str(trading_day.bob_aapl)
        assert trade["reason"] == ""

    def test_text_a_spreadsheet_would_run_is_escaped(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        response = client_for(auditor).get(EXPORT, {"order_id": trading_day.alice_intc})
        rows = read_csv(b"".join(response.streaming_content))
        assert {row["client_order_id"] for row in rows} == {"'=HYPERLINK(1)"}

    def test_an_export_is_logged_with_the_rows_it_sent(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        response = client_for(auditor).get(EXPORT, {"kind": "trade", "symbol": "AAPL"})
        assert len(read_csv(b"".join(response.streaming_content))) == 1
        [export] = EventRecord.objects.filter(kind="audit.export")
        assert export.actor_user_id == auditor.pk
        assert logged("audit.export") == [
            {
                "filters": {"symbol": "AAPL", "kind": ["trade"]},
                "order": "asc",
                "rows": 1,
                "completed": True,
            }
        ]

    def test_an_export_refuses_a_cursor(self, auditor: User) -> None:
        response = client_for(auditor).get(EXPORT, {"limit": 5})
        assert (response.status_code, response.json()["code"]) == (400, "unknown_filter")
        assert not EventRecord.objects.filter(kind="audit.export").exists()

    def test_an_export_error_is_json_whatever_the_client_accepts(self, auditor: User) -> None:
        response = client_for(auditor).get(EXPORT, {"from": "soon"}, HTTP_ACCEPT="text/csv")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_filter"


@pytest.fixture
async def thread_connections_closed_after() -> AsyncIterator[None]:
    """Close the database connection that the request's sync code opened on asgiref's thread,
    before the test database is dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_streams_without_reading_it_all_first(
    auditor: User, trading_day: TradingDay, thread_connections_closed_after: None
) -> None:
    client = AsyncClient()
    await client.aforce_login(auditor)
    response = await client.get(EXPORT, {"symbol": "AAPL"})
    assert response.status_code == 200
    # An async iterator: Django would otherwise read a plain one to the end into memory.
    assert response.is_async
    content = b"".join([chunk async for chunk in response.streaming_content])
    rows = read_csv(content)
    assert len(rows) == await EventRecord.objects.filter(symbol="AAPL").acount()
    assert await EventRecord.objects.filter(kind="audit.export").acount() == 1


@pytest.mark.django_db
class TestOrderLife:
    def test_a_makers_life_holds_its_events_and_the_commands_that_caused_them(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        response = client_for(auditor).get(orders_url(trading_day.alice_aapl))
        assert response.status_code == 200
        life = response.json()
        assert life["order_id"] == trading_day.alice_aapl
        assert [row["kind"] for row in life["events"]] == [
            "order_accepted",
            "trade",
            "order_cancelled",
        ]
        trade = life["events"][1]
        assert trade["payload"]["maker_order_id"] == trading_day.alice_aapl
        assert trade["payload"]["qty_lots"] == 60
        assert life["events"][2]["payload"]["cancelled_lots"] == 40
        # Alice's order, Bob's order that traded with it, Alice's cancel.
        assert [
            (row["kind"], row["client_order_id"], row["actor"]) for row in life["commands"]
        ] == [
            ("new_order", "a-1", "alice"),
            ("new_order", "b-1", "bob"),
            ("cancel_order", "", "alice"),
        ]
        event_commands = {row["command_id"] for row in life["events"]}
        assert {row["command_id"] for row in life["commands"]} == event_commands
        for rows in (life["events"], life["commands"]):
            assert positions(rows) == sorted(positions(rows))

    def test_a_takers_life_holds_its_trade(self, auditor: User, trading_day: TradingDay) -> None:
        life = client_for(auditor).get(orders_url(trading_day.bob_aapl)).json()
        assert [row["kind"] for row in life["events"]] == ["order_accepted", "trade"]
        assert [row["client_order_id"] for row in life["commands"]] == ["b-1"]

    def test_an_order_on_another_shard_is_found_there(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        life = client_for(auditor).get(orders_url(trading_day.alice_msft)).json()
        assert {row["shard"] for row in life["events"] + life["commands"]} == {1}

    def test_an_unknown_order_is_not_found_and_the_lookup_still_logged(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        response = client_for(auditor).get(orders_url(987654321))
        assert (response.status_code, response.json()["code"]) == (404, "order_not_found")
        assert response.json()["message"] == "No row of the event log names order 987654321."
        assert logged("audit.order_life") == [{"order_id": 987654321, "rows": 0}]

    def test_a_lookup_is_logged_with_the_rows_it_returned(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        client_for(auditor).get(orders_url(trading_day.alice_aapl))
        [lookup] = EventRecord.objects.filter(kind="audit.order_life")
        assert lookup.actor_user_id == auditor.pk
        assert logged("audit.order_life") == [{"order_id": trading_day.alice_aapl, "rows": 6}]

    def test_a_malformed_order_id_is_refused(self, auditor: User) -> None:
        response = client_for(auditor).get(orders_url("seventeen"))
        assert (response.status_code, response.json()["code"]) == (400, "invalid_filter")
        assert response.json()["message"] == "'order_id' must be a whole number."


@pytest.mark.django_db
class TestSearchIsLogged:
    def test_a_search_is_logged_with_its_filters_and_row_count(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        client_for(auditor).get(
            EVENTS, {"symbol": "AAPL", "kind": "trade,order_accepted", "limit": 2}
        )
        [search] = EventRecord.objects.filter(kind="audit.search")
        assert search.actor_user_id == auditor.pk
        assert logged("audit.search") == [
            {
                "filters": {"symbol": "AAPL", "kind": ["trade", "order_accepted"]},
                "order": "asc",
                "after": None,
                "limit": 2,
                "rows": 2,
            }
        ]

    def test_the_next_page_is_logged_with_its_cursor(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        client = client_for(auditor)
        after = client.get(EVENTS, {"shard": 0, "limit": 3}).json()["next"]
        client.get(EVENTS, {"shard": 0, "limit": 3, "after": after})
        assert [entry["after"] for entry in logged("audit.search")] == [None, after]

    def test_a_refused_search_reads_and_logs_nothing(self, auditor: User) -> None:
        client_for(auditor).get(EVENTS, {"shard": "x"})
        assert not EventRecord.objects.filter(kind="audit.search").exists()


@pytest.mark.django_db
class TestBadInput:
    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({"symbl": "AAPL"}, "unknown_filter"),
            ({"from": "yesterday"}, "invalid_filter"),
            ({"to": "2026-13-01"}, "invalid_filter"),
            ({"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T09:00:00Z"}, "invalid_filter"),
            ({"order_id": "12ab"}, "invalid_filter"),
            ({"order_id": "-3"}, "invalid_filter"),
            ({"order_id": "99999999999999999999"}, "invalid_filter"),
            ({"shard": "40000"}, "invalid_filter"),
            ({"kind": "Order Accepted"}, "invalid_filter"),
            ({"symbol": "X" * 17}, "invalid_filter"),
            ({"order": "sideways"}, "invalid_filter"),
            ({"limit": "0"}, "invalid_limit"),
            ({"limit": "many"}, "invalid_limit"),
            ({"after": "not-a-cursor"}, "invalid_cursor"),
            ({"trader": "nobody"}, "unknown_trader"),
        ],
    )
    def test_bad_input_gets_a_code_and_a_sentence(
        self, auditor: User, params: dict[str, str], code: str
    ) -> None:
        response = client_for(auditor).get(EVENTS, params)
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == code
        assert body["message"].endswith(".")

    def test_a_repeated_single_filter_is_refused(self, auditor: User) -> None:
        response = client_for(auditor).get(f"{EVENTS}?symbol=AAPL&symbol=MSFT")
        assert response.json() == {
            "code": "invalid_filter",
            "message": "Give 'symbol' once, not 2 times.",
        }

    def test_a_cursor_only_continues_a_search_in_its_own_order(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        client = client_for(auditor)
        after = client.get(EVENTS, {"limit": 2, "order": "desc"}).json()["next"]
        response = client.get(EVENTS, {"limit": 2, "after": after})
        assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor")


@pytest.mark.django_db
class TestChainVerify:
    def test_an_untouched_log_verifies_up_to_each_shards_last_seq(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        result = client_for(auditor).get(VERIFY).json()
        last_seq = {
            shard: EventRecord.objects.filter(shard=shard).order_by("-seq")[0].seq
            for shard in (0, 1)
        }
        assert result["intact"] is True
        assert result["first_bad"] is None
        assert result["heads"]["0"] == last_seq[0]
        assert result["heads"]["1"] == last_seq[1]
        assert result["checked"] >= last_seq[0] + last_seq[1]

    def test_a_verification_is_logged_with_who_ran_it_and_what_it_found(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        result = client_for(auditor).get(VERIFY).json()
        [verified] = EventRecord.objects.filter(kind="audit.verified")
        assert verified.actor_user_id == auditor.pk
        assert logged("audit.verified") == [result]

    def test_a_row_that_does_not_hash_is_named(
        self, auditor: User, trading_day: TradingDay
    ) -> None:
        last = EventRecord.objects.filter(shard=1).order_by("-seq").first()
        assert last is not None
        EventRecord.objects.create(
            shard=1,
            seq=last.seq + 1,
            ts_ns=last.ts_ns + 1,
            kind="order_accepted",
            payload={},
            prev_hash=last.hash,
            hash="f" * 64,
        )
        result = client_for(auditor).get(VERIFY, {"shard": 1}).json()
        assert result["intact"] is False
        assert result["heads"] == {"1": last.seq}
        assert (result["first_bad"]["shard"], result["first_bad"]["seq"]) == (1, last.seq + 1)
        assert result["first_bad"]["reason"]


@pytest.mark.django_db
class TestSchemaAndPage:
    def test_the_schema_lists_the_audit_paths(self) -> None:
        schema = APIClient().get("/api/schema/")
        assert schema.status_code == 200
        for path in (
            b"/api/v1/audit/events/",
            b"/api/v1/audit/events/export.csv",
            b"/api/v1/audit/orders/{order_id}/",
            b"/api/v1/audit/verify/",
        ):
            assert path in schema.content

    def test_the_audit_page_asks_anonymous_visitors_to_log_in(self) -> None:
        response = APIClient().get("/audit/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")

    @pytest.mark.parametrize("persona", ["trader", "risk_manager"])
    def test_the_audit_page_is_forbidden_without_the_permission(
        self, request: pytest.FixtureRequest, persona: str
    ) -> None:
        client = APIClient()
        client.force_login(request.getfixturevalue(persona))
        assert client.get("/audit/").status_code == 403

    def test_an_auditor_gets_the_audit_page_and_a_link_to_it(self, auditor: User) -> None:
        client = APIClient()
        client.force_login(auditor)
        page = client.get("/audit/")
        assert page.status_code == 200
        assert b"desk/audit.js" in page.content
        assert b"desk/audit.css" in page.content
        assert b'href="/audit/"' in client.get("/").content

    def test_a_trader_sees_no_link_to_the_audit_page(self, trader: User) -> None:
        client = APIClient()
        client.force_login(trader)
        assert b'href="/audit/"' not in client.get("/").content
