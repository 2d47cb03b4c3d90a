"""The matcher rebuilds from its latest snapshot plus the log's tail, and refuses to run when
the log and the engine disagree."""

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, wait

import pytest
from django.conf import LazySettings

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.audit.services import LogEntry, journal_append, last_hash
from apps.instruments.models import Instrument
from apps.matching.codec import command_to_dict
from apps.matching.engine import (
    ClockTick,
    DefineInstrument,
    ExpireOrders,
    NewOrder,
    OrderType,
    Side,
    TimeInForce,
)
from apps.matching.models import ClientOrderIdPage, EngineSnapshot, pack_state, unpack_state
from apps.matching.worker import (
    Incoming,
    Matcher,
    RecoveryDivergence,
    SnapshotIncomplete,
)
from apps.trading.services import OrderRequest, order_submit
from tests.conftest import RunningMatcher

pytestmark = pytest.mark.django_db(transaction=True)


def sell(user: User, price: str, qty: int, client_order_id: str) -> None:
    order_submit(user, OrderRequest("AAPL", "sell", "limit", price, qty, "GTC", client_order_id))


@contextlib.contextmanager
def started_matcher() -> Iterator[Matcher]:
    """A matcher recovered and started on this thread, which the test drives batch by batch,
    closed at the end."""
    matcher = Matcher(0, block_ms=20)
    matcher.start()
    try:
        yield matcher
    finally:
        matcher.close()


def sell_through(matcher: Matcher, user: User, client_order_id: str, price_ticks: int) -> None:
    """A sell of 10 for ACC-1 handed to `matcher` as its loop hands commands over, journaled
    and published before this returns."""
    terms = ("AAPL", Side.SELL, OrderType.LIMIT, TimeInForce.GTC, price_ticks, 10)
    command = NewOrder(uuid.uuid4().hex, time.time_ns(), user.pk, "ACC-1", *terms, client_order_id)
    matcher.process([Incoming("", command)])
    matcher.settle()


def test_a_restart_resumes_from_the_snapshot_and_replays_only_the_tail(
    settings: LazySettings,
    instruments: dict[str, Instrument],
    trader: User,
    second_trader: User,
) -> None:
    settings.MATCHER_SNAPSHOT_EVERY = 3
    with RunningMatcher():
        for n in range(4):
            sell(trader, f"232.{50 + n}", 10, f"s{n}")
    snapshots = list(EngineSnapshot.objects.filter(shard=0).values_list("seq", flat=True))
    # Snapshots on the way (every 3 commands: the start-up risk configuration's, then the
    # orders') and one at the clean stop.
    assert len(snapshots) >= 2
    assert max(snapshots) == EventRecord.objects.filter(shard=0).order_by("-seq").first().seq

    with RunningMatcher() as restarted:
        assert restarted.matcher.engine.depth("AAPL", Side.SELL) == [
            (23250, 10, 1),
            (23251, 10, 1),
            (23252, 10, 1),
            (23253, 10, 1),
        ]
        filled = order_submit(
            second_trader, OrderRequest("AAPL", "buy", "limit", "232.51", 20, "GTC", "b1")
        )
        assert filled["status"] == "filled"
    seqs = list(EventRecord.objects.filter(shard=0).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_client_order_id_is_stored_once_and_still_known_after_a_restart(
    settings: LazySettings, instruments: dict[str, Instrument], trader: User
) -> None:
    settings.MATCHER_SNAPSHOT_EVERY = 2
    with RunningMatcher():
        for n in range(5):
            sell(trader, f"232.{50 + n}", 10, f"s{n}")
    # Snapshots leave the ids out; an id is in one page, beside the first snapshot after its
    # order (the last order, after the last snapshot, is replayed from the log instead).
    pages = [page.ids for page in ClientOrderIdPage.objects.filter(shard=0).order_by("seq")]
    stored = [coid for page in pages for _, ids in page.values() for coid in ids]
    assert len(pages) >= 2
    assert stored == [f"s{n}" for n in range(len(stored))]
    assert len(stored) >= 3
    assert all("client_order_ids" not in s.state for s in EngineSnapshot.objects.filter(shard=0))

    with RunningMatcher() as restarted:
        # The first id, from the first page: the resubmission answers with the original order.
        again = order_submit(
            trader, OrderRequest("AAPL", "sell", "limit", "240.00", 10, "GTC", "s0")
        )
        assert (again["client_order_id"], again["price"]) == ("s0", "232.50")
        assert len(restarted.matcher.engine.depth("AAPL", Side.SELL)) == 5
    assert EventRecord.objects.filter(
        kind="order_rejected", client_order_id="s0", reason="duplicate_client_order_id"
    ).exists()


def test_the_ids_of_a_snapshot_that_failed_to_store_go_into_the_next_page(
    instruments: dict[str, Instrument], trader: User
) -> None:
    with started_matcher() as matcher:
        sell_through(matcher, trader, "a1", 23250)
        sell_through(matcher, trader, "a2", 23251)
        # A row already at the snapshot's seq: storing the snapshot fails on the database.
        squatter = EngineSnapshot.objects.create(
            shard=0, seq=matcher.engine.seq, head_hash="", last_ts_ns=0, state_zlib=b""
        )
        journaled: Future[None] = Future()
        journaled.set_result(None)
        matcher._store_snapshot_once_journaled(matcher._take_snapshot(), journaled)
        assert not ClientOrderIdPage.objects.exists()
        squatter.delete()
        sell_through(matcher, trader, "b1", 23252)
        matcher.snapshot()

    [page] = ClientOrderIdPage.objects.filter(shard=0)
    assert page.ids == {"ACC-1": [0, ["a1", "a2", "b1"]]}
    restarted = Matcher(0)
    restarted.recover()
    assert list(restarted.engine.client_order_ids["ACC-1"]) == ["a1", "a2", "b1"]


def test_old_snapshots_and_the_pages_of_ended_sessions_are_deleted(
    settings: LazySettings, instruments: dict[str, Instrument], trader: User
) -> None:
    settings.MATCHER_SNAPSHOTS_KEPT = 2
    taken: list[int] = []
    with started_matcher() as matcher:

        def snapshot() -> None:
            matcher.snapshot()
            taken.append(matcher.engine.seq)

        for coid, price in (("a1", 23250), ("a2", 23251)):
            sell_through(matcher, trader, coid, price)
            snapshot()
        assert ClientOrderIdPage.objects.filter(shard=0).count() == 2
        # The session's end: the next session's ids start afresh, in pages of their own.
        matcher.process([Incoming("", ExpireOrders(uuid.uuid4().hex, time.time_ns()))])
        matcher.settle()
        snapshot()
        for coid, price in (("b1", 23252), ("b2", 23253)):
            sell_through(matcher, trader, coid, price)
            snapshot()

    snapshots = EngineSnapshot.objects.filter(shard=0).order_by("seq")
    assert [s.seq for s in snapshots] == taken[-2:]
    session = matcher.engine.client_order_ids_since_seq
    assert {s.client_order_ids_since_seq for s in snapshots} == {session}
    pages = ClientOrderIdPage.objects.filter(shard=0).order_by("seq")
    assert [(p.session_seq, p.ids) for p in pages] == [
        (session, {"ACC-1": [0, ["b1"]]}),
        (session, {"ACC-1": [1, ["b2"]]}),
    ]
    restarted = Matcher(0)
    restarted.recover()
    assert list(restarted.engine.client_order_ids["ACC-1"]) == ["b1", "b2"]


def test_a_snapshot_stored_with_its_client_order_ids_still_restores_them(
    instruments: dict[str, Instrument], trader: User
) -> None:
    # Snapshots stored before the pages existed hold the session's ids themselves.
    with started_matcher() as matcher:
        sell_through(matcher, trader, "a1", 23250)
        pending = matcher._take_snapshot()
        pending.row.state_zlib = pack_state(matcher.engine.snapshot())
        pending.row.save(force_insert=True)
    assert not ClientOrderIdPage.objects.exists()

    with started_matcher() as restarted:
        assert list(restarted.engine.client_order_ids["ACC-1"]) == ["a1"]
        # Its next snapshot stores the session's ids in a page, from the first on.
        sell_through(restarted, trader, "a2", 23251)
        restarted.snapshot()
    [page] = ClientOrderIdPage.objects.filter(shard=0)
    assert page.ids == {"ACC-1": [0, ["a1", "a2"]]}


def test_a_snapshot_whose_client_order_id_pages_do_not_add_up_stops_the_matcher(
    instruments: dict[str, Instrument], trader: User
) -> None:
    with started_matcher() as matcher:
        sell_through(matcher, trader, "a1", 23250)
        matcher.snapshot()
    ClientOrderIdPage.objects.all().delete()
    with pytest.raises(SnapshotIncomplete, match="do not match the snapshot's counts"):
        Matcher(0).recover()


def test_a_log_that_the_engine_does_not_reproduce_stops_the_matcher(
    instruments: dict[str, Instrument],
) -> None:
    command = DefineInstrument(command_id="def-x", ts_ns=1, symbol="AAPL", min_qty_lots=1)
    forged_outcome = {
        "seq": 2, "ts_ns": 1, "command_id": "def-x", "symbol": "AAPL", "min_qty_lots": 5,
        "max_qty_lots": 1_000_000, "is_open": True, "protection_ticks": 0,
        "protection_bps": 500, "kind": "instrument_defined",
    }  # fmt: skip
    journal_append(
        0,
        [
            LogEntry(1, 1, command.kind, command.command_id, command_to_dict(command)),
            LogEntry(2, 1, "instrument_defined", "def-x", forged_outcome),
        ],
        last_hash(0),
    )
    with pytest.raises(RecoveryDivergence, match="seq 2"):
        Matcher(0).recover()


def test_batches_go_on_while_a_snapshot_is_still_being_stored(
    instruments: dict[str, Instrument],
) -> None:
    # Storing a day's snapshot takes 100 ms and more: the orders behind it must not wait.
    matcher = Matcher(0, block_ms=20)
    matcher.start()
    snapshot_may_finish = threading.Event()
    try:
        matcher.snapshot_every = 1
        # The snapshot thread is busy until the test lets it go: the snapshot queues behind.
        matcher._snapshot_thread.submit(snapshot_may_finish.wait)
        tick = ClockTick(uuid.uuid4().hex, time.time_ns())
        matcher.process([Incoming("", tick)])
        stored = matcher._snapshotting
        assert stored is not None
        assert not stored.done()

        def three_more_batches() -> None:
            for _ in range(3):
                # Each batch finds the last one published: the matcher collects that stage.
                if matcher._publishing is not None:
                    wait([matcher._publishing])
                matcher.process([Incoming("", ClockTick(uuid.uuid4().hex, time.time_ns()))])

        batches = threading.Thread(target=three_more_batches)
        batches.start()
        batches.join(timeout=10)
        held_up = batches.is_alive()
        snapshot_may_finish.set()
        batches.join()
        assert not held_up, "a batch waited for the snapshot being stored"
    finally:
        snapshot_may_finish.set()
        matcher.close()
    assert EventRecord.objects.filter(shard=0, kind="clock_tick").count() == 4
    assert EngineSnapshot.objects.filter(shard=0).exists()


def test_a_stored_state_comes_back_as_it_was_even_beyond_64_bit_integers() -> None:
    # orjson refuses integers beyond 64 bits; the standard encoder then writes the state.
    for state in ({"seq": 12, "text": 'Zürich "desk" \\ ✓'}, {"seq": 2**70, "text": "x"}):
        assert unpack_state(pack_state(state)) == state
