"""The matcher: the one writer of a shard.

It takes commands off the shard's Redis stream in batches, stamps their time, applies them one
by one to the engine, journals the batch (commands, events and read models) in one database
transaction, then acknowledges the stream entries, answers waiting callers, stores the book
snapshots and publishes to the desks. Nothing leaves before the journal commit.

Three threads share the work. The matcher's own thread reads, applies and prepares a batch
(its log rows hashed and formatted, its read models folded, its frames and answers built);
the journal thread writes it and commits; the publish thread then acknowledges it, answers
and publishes. While batch N commits, batch N+1 is applied and prepared; it is handed over
only once N has committed, so at most one batch is being journaled, and batches commit in
order. The publish thread takes batches in the same order, each once it has committed, so
N's answers go out while N+1 is being written. If a batch fails to commit or to be
acknowledged, the engine is ahead of what the journal and the stream say: it is thrown away
and rebuilt from the journal, as after a crash.
"""

import contextlib
import gc
import json
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import orjson
import redis
import structlog
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db import connection as db_connection

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.audit.services import (
    GENESIS_HASH,
    JournalBatch,
    LogEntry,
    journal_prepare,
    journal_write,
)
from apps.breakers.sync import breaker_sync_commands, desired_breaker_parameters
from apps.instruments.models import Instrument
from apps.instruments.services import definition_fields, instrument_definition
from apps.matching import keys
from apps.matching.codec import (
    INT64_MAX,
    INT64_MIN,
    MalformedCommand,
    checked_text,
    command_from_dict,
    command_to_dict,
    event_to_dict,
)
from apps.matching.engine import (
    COMMAND_TYPES,
    OUTCOME_KINDS,
    AuctionIndicative,
    BookDelta,
    CancelRejected,
    ClockTick,
    Command,
    CommandRejected,
    Engine,
    Event,
    KillSwitchChanged,
    LimitStateEntered,
    LimitStateExited,
    MarketWideBreakerTriggered,
    MarkToMarket,
    MassCancelDone,
    ModifyRejected,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderReduced,
    OrderRejected,
    PauseExtended,
    RiskAlert,
    RiskLimitChanged,
    RiskListChanged,
    Side,
    StopTriggered,
    Trade,
    TradingHalted,
    TradingResumed,
    Unparseable,
    VolumeSpikeDetected,
)
from apps.matching.engine.types import RISK_REASONS
from apps.matching.models import ClientOrderIdPage, EngineSnapshot, pack_state
from apps.matching.publisher import Frames, Publisher
from apps.matching.redis import redis_client
from apps.risk.sync import desired_risk_configuration, risk_sync_commands
from apps.trading.errors import REASON_STATUS
from apps.trading.projection import OrderRow, ReadModelChanges, ReadModelProjector
from apps.trading.selectors import ns_to_iso, order_as_dict

log = structlog.get_logger(__name__)

# Order ids are unique across shards: shard N issues ids from N * ORDER_ID_SPAN + 1.
ORDER_ID_SPAN = 1_000_000_000_000
REPLY_TTL_S = 60
# Tracked allocations, net of frees, between collections of the youngest generation.
GC_YOUNG_THRESHOLD = 50_000
HEARTBEAT_EVERY_S = 1.0
INSTRUMENT_SYNC_EVERY_S = 10.0
# Positions are revalued at the last prices this often (when anything traded), so that a
# daily loss limit bites on a price move even if the account sends nothing.
MARK_TO_MARKET_EVERY_S = 1.0
HALT_EVENTS = (
    TradingHalted,
    PauseExtended,
    AuctionIndicative,
    TradingResumed,
    LimitStateEntered,
    LimitStateExited,
    MarketWideBreakerTriggered,
    VolumeSpikeDetected,
)
MICROS = Decimal(1_000_000)
CENT = Decimal("0.01")
MIN_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0

StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]


class RecoveryDivergence(RuntimeError):
    """Replaying the log did not regenerate the logged events: engine and log disagree."""

    def __init__(self, shard: int, seq: int, regenerated: object, logged: object) -> None:
        super().__init__(
            f"shard {shard}: replay diverges from the event log at seq {seq}: "
            f"regenerated {regenerated!r}, logged {logged!r}"
        )


def stream_id_key(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


class SnapshotIncomplete(RuntimeError):
    """The latest snapshot's client order ids are not all in its pages: recovery cannot give
    the engine back the ids that make a resubmission a duplicate."""


class CommitFailed(RuntimeError):
    """The batch in flight was not journaled, or not acknowledged: the engine is ahead of what
    the journal and the stream say, and must be rebuilt from the journal."""


@dataclass(slots=True, frozen=True)
class Incoming:
    stream_id: str
    command: Command
    request_id: str = ""
    want_reply: bool = False


@dataclass(slots=True)
class PreparedBatch:
    """A batch applied to the engine and folded into the read models, with everything the
    journal and publish threads need to write and publish it: nothing in here reads the
    engine again."""

    journal: JournalBatch
    read_models: ReadModelChanges
    stream_ids: list[str]
    # Redis keys and values (JSON) of the books the batch changed, as they stood after it.
    book_snapshots: list[tuple[str, bytes]]
    # The touched accounts' figures for the console.
    risk_snapshot: dict[str, bytes]
    # The halts the batch changed: symbol, and the halt as published (None: lifted).
    halts: list[tuple[str, str | None]]
    # Reply keys and the answers (JSON) waiting callers read there.
    replies: list[tuple[str, bytes]]
    # The frames for the desks, packed for the publisher.
    frames: bytes


@dataclass(slots=True)
class PendingSnapshot:
    """A snapshot taken between batches, still to be stored: the row, the engine's state
    without the session's client order ids, and the page of those ids it adds."""

    row: EngineSnapshot
    state: dict[str, Any]
    page: ClientOrderIdPage
    # Account → [its first id's place in the session, the ids]; empty: no page to store.
    page_ids: dict[str, list[Any]]
    # Per account, the ids the stored pages hold once this snapshot is stored.
    id_counts: dict[str, int]


class Matcher:
    def __init__(self, shard: int = 0, *, batch_size: int = 500, block_ms: int = 100) -> None:
        self.shard = shard
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.stream = keys.command_stream(shard)
        self.consumer = f"matcher-{shard}"
        self.redis = redis_client()
        self.engine = Engine(shard, order_id_base=shard * ORDER_ID_SPAN)
        self.projector = ReadModelProjector(shard)
        self.publisher = Publisher()
        self.head_hash = GENESIS_HASH
        self.last_stream_id = (0, 0)
        self._last_ts_ns = 0
        self._instruments: dict[str, Instrument] = {}
        self._instruments_by_id: dict[int, Instrument] = {}
        self._pending_drained = False
        self._last_heartbeat = 0.0
        self._last_instrument_sync = 0.0
        self._last_mark = time.monotonic()
        self._traded_since_mark = False
        # The current halts as published (symbol → frame), and those changed in this batch.
        self._halts: dict[str, dict[str, Any]] = {}
        self._halts_changed: dict[str, None] = {}
        self._commands_since_snapshot = 0
        self.snapshot_every = settings.MATCHER_SNAPSHOT_EVERY
        # How many of the session's client order ids each account has in stored pages, and
        # the session (the seq that began it): a snapshot's page holds the ids beyond these.
        # Only a stored snapshot moves them, so one that fails leaves its ids to the next.
        self._stored_id_session: int | None = None
        self._stored_id_counts: dict[str, int] = {}
        self._backoff_s = MIN_BACKOFF_S
        self._known_users: set[int] = set()
        self._journal_thread = ThreadPoolExecutor(1, thread_name_prefix=f"journal-{shard}")
        self._publish_thread = ThreadPoolExecutor(1, thread_name_prefix=f"publish-{shard}")
        # Snapshots are stored on a connection of their own, beside the journal's batches.
        self._snapshot_thread = ThreadPoolExecutor(1, thread_name_prefix=f"snapshot-{shard}")
        self._snapshotting: Future[None] | None = None
        # The stream entries handed to the journal so far: what a snapshot taken now covers.
        self._handed_stream_id = (0, 0)
        # The last batch handed over: its journal commit, and its acknowledgement and fan-out.
        self._in_flight: Future[None] | None = None
        self._publishing: Future[None] | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        try:
            self.redis.xgroup_create(self.stream, keys.CONSUMER_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.sync_instruments()
        self.sync_risk()
        self.settle()
        self._restore_halts()
        self._store_snapshots(self.engine.instruments)
        self._store_risk_snapshot(list(self.engine.risk.accounts))
        self.heartbeat()
        # The recovered book is long-lived and holds no reference cycles: keep it out of the
        # cyclic collector's full passes, whose pauses would otherwise land on order latency.
        gc.collect()
        gc.freeze()
        # A batch's events, payloads and rows die by reference count as soon as it is
        # published, but at the default threshold (700) the young generation was collected
        # while they were alive, 4,000 times a bench_pipeline run, promoting them into older
        # passes: 8 % of the matcher's CPU. At 50,000 a batch never triggers a collection;
        # the engine's growth does, once or twice a run. Sustained 5,945 to 6,149 orders/s
        # against 4,150 to 5,644 in alternating runs.
        gc.set_threshold(GC_YOUNG_THRESHOLD)

    def run(self, stop: threading.Event) -> None:
        self.start()
        log.info("matcher_started", shard=self.shard, seq=self.engine.seq)
        try:
            while not stop.is_set():
                self.step_or_recover(stop)
            self.settle()
            if self._commands_since_snapshot:
                # A clean stop leaves a snapshot, so that the next start replays nothing.
                self.snapshot()
        finally:
            self.close()
            log.info("matcher_stopped", shard=self.shard, seq=self.engine.seq)

    def close(self) -> None:
        """Let the batch in flight finish, then stop the journal thread and the publisher."""
        try:
            self.settle()
        finally:
            self._close_journal_connection()
            self._journal_thread.shutdown()
            self._publish_thread.shutdown()
            self._snapshot_thread.shutdown()
            self.publisher.close()

    def _close_journal_connection(self) -> None:
        # Django's connections are per thread: this one is closed on the thread that owns it.
        # A connection the database already dropped may complain: it is closed all the same.
        for thread in (self._journal_thread, self._snapshot_thread):
            with contextlib.suppress(DatabaseError):
                thread.submit(lambda: db_connection.close()).result()

    def settle(self, snapshot: bool = True) -> None:
        """Wait until every batch handed over is journaled, acknowledged and published, and
        unless `snapshot` is False, until the snapshot being stored is.

        Raises CommitFailed if one was not: the engine then holds commands the journal does
        not, or the stream does not know were journaled.
        """
        stages = [f for f in (self._in_flight, self._publishing) if f is not None]
        self._in_flight = self._publishing = None
        if snapshot and self._snapshotting is not None:
            stages.append(self._snapshotting)
            self._snapshotting = None
        wait(stages)
        for stage in stages:
            try:
                stage.result()
            except (DatabaseError, redis.RedisError) as exc:
                raise CommitFailed(f"shard {self.shard}: a batch in flight failed: {exc}") from exc

    def _settle_journal(self) -> None:
        """Wait until the last batch handed over is journaled; its acknowledgement may still
        be under way. Raises CommitFailed as `settle` does, once both stages have stopped."""
        journaled, self._in_flight = self._in_flight, None
        if journaled is not None:
            wait([journaled])
        failed = journaled is not None and journaled.exception() is not None
        if failed or (self._publishing is not None and self._publishing.done()):
            # Something to raise, or a publish stage that is over: `settle` takes both. Not
            # the snapshot: storing one takes 100 ms and more, which no order should wait.
            self._in_flight = journaled
            self.settle(snapshot=False)

    def recover(self) -> None:
        """Rebuild the engine: the latest snapshot, then the journaled commands after it.

        Every replayed command must regenerate exactly the events the log holds for it; if it
        does not, the engine and the log disagree and the matcher refuses to run.
        """
        snapshot = EngineSnapshot.objects.filter(shard=self.shard).order_by("-seq").first()
        after_seq = 0
        # No pages are known to be stored until a snapshot without its ids says which.
        self._stored_id_session, self._stored_id_counts = None, {}
        if snapshot is not None:
            self.engine = self._restored_engine(snapshot)
            self.head_hash = snapshot.head_hash
            self._last_ts_ns = snapshot.last_ts_ns
            if snapshot.last_stream_id:
                self.last_stream_id = stream_id_key(snapshot.last_stream_id)
            after_seq = snapshot.seq
        rows = (
            EventRecord.objects.filter(shard=self.shard, seq__gt=after_seq)
            .order_by("seq")
            .values_list("seq", "ts_ns", "kind", "payload", "stream_id", "hash")
        )
        replayed = 0
        expected: list[dict[str, Any]] = []
        for seq, ts_ns, kind, payload, stream_id, digest in rows.iterator(chunk_size=2000):
            if kind not in COMMAND_TYPES:
                regenerated = expected.pop(0) if expected else None
                if regenerated != payload:
                    raise RecoveryDivergence(self.shard, seq, regenerated, payload)
            else:
                if expected:
                    raise RecoveryDivergence(self.shard, seq, expected[0], None)
                events = self.engine.apply(command_from_dict(payload))
                if self.engine.last_command_seq != seq:
                    raise RecoveryDivergence(self.shard, seq, None, payload)
                # Through JSON, as the log stored them, so that tuples and enums compare alike.
                expected = json.loads(json.dumps([event_to_dict(e) for e in events]))
                if stream_id:
                    self.last_stream_id = max(self.last_stream_id, stream_id_key(stream_id))
                replayed += 1
            self.head_hash = digest
            self._last_ts_ns = ts_ns
        if expected:
            raise RecoveryDivergence(self.shard, self.engine.seq, expected[0], None)
        self._commands_since_snapshot = replayed
        log.info(
            "matcher_recovered",
            shard=self.shard,
            snapshot_seq=after_seq,
            commands=replayed,
            seq=self.engine.seq,
        )

    def _restored_engine(self, snapshot: EngineSnapshot) -> Engine:
        """The engine `snapshot` holds, with its session's client order ids from their pages
        (a snapshot stored before the pages existed holds them itself)."""
        state = snapshot.state
        session = state.get("client_order_ids_since_seq", 0)
        if "client_order_ids" in state:
            return Engine.restore(state)
        pages = ClientOrderIdPage.objects.filter(
            shard=self.shard, session_seq=session, seq__lte=snapshot.seq
        ).order_by("seq")
        ids: dict[str, list[str]] = {}
        for page in pages:
            for account, (start, used) in page.ids.items():
                held = ids.setdefault(account, [])
                if start != len(held):
                    raise SnapshotIncomplete(
                        f"shard {self.shard}: the client order id page up to seq {page.seq} "
                        f"starts {account}'s ids at {start}, but the pages before it hold "
                        f"{len(held)}"
                    )
                held.extend(used)
        try:
            engine = Engine.restore(state, ids)
        except ValueError as exc:
            raise SnapshotIncomplete(
                f"shard {self.shard}, snapshot at seq {snapshot.seq}: {exc}"
            ) from exc
        self._stored_id_session = session
        self._stored_id_counts = state["client_order_id_counts"]
        return engine

    def snapshot(self) -> None:
        """Store the engine's state as of the journal's head (called with no batch in flight)."""
        self._store_snapshot(self._take_snapshot())

    def _take_snapshot(self) -> PendingSnapshot:
        """The engine's state now, between batches, still to be stored (and packed where it
        is stored, off the matcher's thread): the state without the session's client order
        ids, and a page of the ids the stored pages do not hold yet."""
        self._commands_since_snapshot = 0
        row = EngineSnapshot(
            shard=self.shard,
            seq=self.engine.seq,
            head_hash=self.head_hash,
            last_stream_id="{}-{}".format(*max(self.last_stream_id, self._handed_stream_id)),
            last_ts_ns=self._last_ts_ns,
            client_order_ids_since_seq=self.engine.client_order_ids_since_seq,
        )
        state = self.engine.snapshot(client_order_ids=False)
        session = row.client_order_ids_since_seq
        stored = self._stored_id_counts if session == self._stored_id_session else {}
        added = self.engine.client_order_ids_after(stored)
        return PendingSnapshot(
            row,
            state,
            ClientOrderIdPage(shard=self.shard, session_seq=session, seq=row.seq),
            {account: [stored.get(account, 0), ids] for account, ids in added.items()},
            state["client_order_id_counts"],
        )

    def _store_snapshot(self, pending: PendingSnapshot) -> None:
        pending.row.state_zlib = pack_state(pending.state)
        with transaction.atomic():
            pending.row.save(force_insert=True)
            if pending.page_ids:
                pending.page.ids_zlib = pack_state(pending.page_ids)
                pending.page.save(force_insert=True)
            self._prune_snapshots()
        self._stored_id_session = pending.row.client_order_ids_since_seq
        self._stored_id_counts = pending.id_counts
        log.info("matcher_snapshot", shard=self.shard, seq=pending.row.seq)

    def _prune_snapshots(self) -> None:
        """Keep the latest `MATCHER_SNAPSHOTS_KEPT` snapshots and the pages they need: at 5,000
        orders/s a day leaves 8,640 of them. A kept snapshot needs its own session's pages,
        and sessions only move forward, so the pages of sessions before the oldest kept one's
        are no longer needed."""
        kept = max(1, settings.MATCHER_SNAPSHOTS_KEPT)
        oldest = (
            EngineSnapshot.objects.filter(shard=self.shard)
            .order_by("-seq")
            .values_list("seq", "client_order_ids_since_seq")[kept - 1 : kept]
            .first()
        )
        if oldest is None:
            return
        seq, session = oldest
        EngineSnapshot.objects.filter(shard=self.shard, seq__lt=seq).delete()
        ClientOrderIdPage.objects.filter(shard=self.shard, session_seq__lt=session).delete()

    def _store_snapshot_once_journaled(
        self, pending: PendingSnapshot, journaled: Future[None]
    ) -> None:
        """On the snapshot thread, once the batch the snapshot follows is journaled: store it
        if that batch committed. A snapshot that cannot be stored is not lost work (the next
        start replays more of the log, and the next page holds its ids), so its own failure
        is only logged."""
        journaled.result()
        try:
            self._store_snapshot(pending)
        except DatabaseError as exc:
            db_connection.close()
            log.warning(
                "matcher_snapshot_failed", shard=self.shard, seq=pending.row.seq, error=str(exc)
            )

    # -- the loop ---------------------------------------------------------------------------

    def step(self) -> int:
        """Take one batch off the stream and process it; return how many entries it held."""
        now = time.monotonic()
        if now - self._last_instrument_sync >= INSTRUMENT_SYNC_EVERY_S:
            self.sync_instruments()
        if self._traded_since_mark and now - self._last_mark >= MARK_TO_MARKET_EVERY_S:
            self.mark_to_market()
        deadline = self.engine.next_deadline_ns()
        if deadline is not None and time.time_ns() >= deadline:
            self.clock_tick()
        # After a restart, first the entries delivered to this consumer but never acknowledged.
        start_id = ">" if self._pending_drained else "0"
        if start_id == "0":
            # Which of them the journal holds is known only once nothing is in flight.
            self.settle()
        response: Any = self.redis.xreadgroup(
            keys.CONSUMER_GROUP,
            self.consumer,
            {self.stream: start_id},
            count=self.batch_size,
            block=None if start_id == "0" else self.block_ms,
        )
        entries = cast(StreamEntries, response[0][1] if response else [])
        if start_id == "0" and not entries:
            self._pending_drained = True
        batch: list[Incoming] = []
        already_journaled: list[str] = []
        for raw_id, fields in entries:
            stream_id = raw_id.decode()
            if stream_id_key(stream_id) <= self.last_stream_id:
                already_journaled.append(stream_id)
            else:
                batch.append(self._decode(stream_id, fields))
        if already_journaled:
            # Journaled before a crash but never acknowledged: acknowledge, do not re-apply.
            self.redis.xack(self.stream, keys.CONSUMER_GROUP, *already_journaled)
        if batch:
            self.process(batch)
        if time.monotonic() - self._last_heartbeat >= HEARTBEAT_EVERY_S:
            self.heartbeat()
        return len(entries)

    def step_or_recover(self, stop: threading.Event) -> None:
        """One step; on a lost Redis or database, wait it out without losing or doubling
        anything, and come back by itself."""
        try:
            self.step()
        except redis.RedisError as exc:
            # Nothing was acknowledged that was not journaled; unacknowledged entries stay
            # pending in the group and are read again once Redis is back.
            log.warning("redis_unavailable", shard=self.shard, error=str(exc))
            self._pending_drained = False
            self._wait_backoff(stop)
        except (DatabaseError, CommitFailed) as exc:
            # Fail closed: the engine may hold the effects of a batch the journal refused, so it
            # is thrown away and rebuilt from the journal once the database answers again.
            log.error("database_unavailable", shard=self.shard, error=str(exc))
            self._recover_database(stop)

    def _wait_backoff(self, stop: threading.Event) -> None:
        stop.wait(self._backoff_s)
        self._backoff_s = min(self._backoff_s * 2, MAX_BACKOFF_S)

    def _recover_database(self, stop: threading.Event) -> None:
        # Whatever became of the batch in flight, the engine is rebuilt from the journal below,
        # and the journal thread starts again on a new connection.
        with contextlib.suppress(CommitFailed):
            self.settle()
        self._close_journal_connection()
        while not stop.is_set():
            self._heartbeat_state("database_unavailable")
            self._wait_backoff(stop)
            try:
                db_connection.close()
                self.engine = Engine(self.shard, order_id_base=self.shard * ORDER_ID_SPAN)
                self.projector = ReadModelProjector(self.shard)
                self.head_hash = GENESIS_HASH
                # Handed over is not journaled: only what the journal holds counts now.
                self.last_stream_id = self._handed_stream_id = (0, 0)
                self.recover()
                # The halts as the journal has them, not as a batch that never landed did.
                self._restore_halts()
            except DatabaseError as exc:
                log.warning("database_still_unavailable", shard=self.shard, error=str(exc))
                continue
            except redis.RedisError:
                continue
            self._pending_drained = False
            self._backoff_s = MIN_BACKOFF_S
            log.info("database_recovered", shard=self.shard, seq=self.engine.seq)
            return

    def heartbeat(self) -> None:
        self._heartbeat_state("running")
        self._backoff_s = MIN_BACKOFF_S

    def _heartbeat_state(self, state: str) -> None:
        """Say that this matcher is alive, and whether it is taking commands (for /readyz)."""
        try:
            self.redis.set(
                keys.heartbeat(self.shard),
                json.dumps({"ts_ns": time.time_ns(), "state": state}),
                ex=60,
            )
        except redis.RedisError:
            return
        self._last_heartbeat = time.monotonic()

    def _clock_ns(self) -> int:
        # Stamped time never runs backwards within a shard, even if the wall clock does.
        self._last_ts_ns = max(self._last_ts_ns + 1, time.time_ns())
        return self._last_ts_ns

    def _decode(self, stream_id: str, fields: dict[bytes, bytes]) -> Incoming:
        request_id = fields.get(b"request_id", b"").decode(errors="replace")[:64]
        want_reply = fields.get(b"reply", b"") == b"1"
        ts_ns = self._clock_ns()
        raw: Any = None
        try:
            raw = json.loads(fields.get(b"command", b""))
            if not isinstance(raw, dict):
                raise MalformedCommand("the command is not an object")
            raw["ts_ns"] = ts_ns
            command = command_from_dict(raw)
            user_id = getattr(command, "user_id", None)
            # User 0 is the system (a scheduled reset, an entitlement given from a shell).
            if user_id and not self._user_known(user_id):
                raise MalformedCommand(f"user {user_id} is unknown")
        except (ValueError, MalformedCommand) as exc:
            user_id = raw.get("user_id") if isinstance(raw, dict) else None
            command_id = raw.get("command_id") if isinstance(raw, dict) else None
            try:
                command_id = checked_text("command_id", command_id)
            except MalformedCommand:
                command_id = stream_id
            command = Unparseable(
                command_id=command_id,
                ts_ns=ts_ns,
                user_id=user_id if type(user_id) is int and self._user_known(user_id) else 0,
                error=str(exc)[:200],
            )
        return Incoming(stream_id, command, request_id, want_reply)

    def _user_known(self, user_id: int) -> bool:
        """Whether the user exists (the read models refer to it); cached, asked on a miss."""
        if user_id in self._known_users:
            return True
        if not INT64_MIN <= user_id <= INT64_MAX or not User.objects.filter(pk=user_id).exists():
            return False
        self._known_users.add(user_id)
        return True

    def sync_instruments(self) -> None:
        """List or update the shard's instruments from the reference data, as commands."""
        self._last_instrument_sync = time.monotonic()
        batch = []
        for instrument in Instrument.objects.filter(shard=self.shard):
            self._instruments[instrument.symbol] = instrument
            self._instruments_by_id[instrument.pk] = instrument
            command = instrument_definition(instrument, self._clock_ns())
            state = self.engine.instruments.get(instrument.symbol)
            if state is None or definition_fields(command) != definition_fields(state):
                batch.append(Incoming("", command))
        if batch:
            self.process(batch)

    def sync_risk(self) -> None:
        """Bring the engine's limits, lists and breaker parameters to what the database says,
        as commands.

        Live edits reach the matcher as commands on the stream; this catches what could not
        (an edit while the matcher or Redis was down, entitlements given before the first
        start), so that the database is the one place limits are kept.
        """
        ts_ns = self._clock_ns()
        commands = risk_sync_commands(
            self.engine.risk.configuration(), desired_risk_configuration(), ts_ns
        ) + breaker_sync_commands(
            self.engine.breakers.configuration(), desired_breaker_parameters(), ts_ns
        )
        if commands:
            self.process([Incoming("", command) for command in commands])

    def clock_tick(self) -> None:
        """Sequenced time for the engine's timers (a limit state's 15 s, a pause's end): sent
        only when one is due, so an idle desk journals no ticks."""
        self.process([Incoming("", ClockTick(command_id=uuid.uuid4().hex, ts_ns=self._clock_ns()))])

    def mark_to_market(self) -> None:
        self._last_mark = time.monotonic()
        self._traded_since_mark = False
        command = MarkToMarket(command_id=uuid.uuid4().hex, ts_ns=self._clock_ns())
        self.process([Incoming("", command)])

    # -- one batch --------------------------------------------------------------------------

    def process(self, batch: list[Incoming]) -> None:
        """Apply `batch` and hand it to the journal thread once the batch before it is
        journaled (raises CommitFailed if that one failed)."""
        prepared = self._prepare(batch)
        self._settle_journal()
        journaled = self._journal_thread.submit(self._journal, prepared)
        self._in_flight = journaled
        self._publishing = self._publish_thread.submit(
            self._publish, prepared, journaled, self._publishing
        )
        if prepared.stream_ids:
            self._handed_stream_id = max(
                self._handed_stream_id, *map(stream_id_key, prepared.stream_ids)
            )
        self._commands_since_snapshot += len(batch)
        if self._commands_since_snapshot >= self.snapshot_every and (
            self._snapshotting is None or self._snapshotting.done()
        ):
            # Taken here, between batches, and stored on a thread and connection of its own
            # once this batch has committed: writing a day's state (1.2 MB after 150,000
            # orders) took 116 to 166 ms in bench_pipeline, which every order waited out
            # while the matcher's thread did it. (One that failed followed a batch that
            # failed, which the journal's own result reports.)
            self._snapshotting = self._snapshot_thread.submit(
                self._store_snapshot_once_journaled, self._take_snapshot(), journaled
            )

    def _prepare(self, batch: list[Incoming]) -> PreparedBatch:
        entries: list[LogEntry] = []
        outcomes: list[tuple[Incoming, Event, list[Event]]] = []
        all_events: list[Event] = []
        touched_books: dict[str, None] = {}
        for incoming in batch:
            events = self.engine.apply(incoming.command)
            command = incoming.command
            entries.append(
                LogEntry(
                    self.engine.last_command_seq,
                    command.ts_ns,
                    command.kind,
                    command.command_id,
                    command_to_dict(command),
                    incoming.stream_id,
                )
            )
            for e in events:
                entries.append(LogEntry(e.seq, e.ts_ns, e.kind, e.command_id, event_to_dict(e)))
                if isinstance(e, BookDelta):
                    touched_books[e.symbol] = None
                elif isinstance(e, Trade):
                    self._traded_since_mark = True
            outcomes.append((incoming, events[self.engine.outcome_index], events))
            all_events.extend(events)
        journal = journal_prepare(self.shard, entries, self.head_hash)
        self.head_hash = journal.head_hash
        orders, read_models = self.projector.fold(all_events)
        frames: Frames = []
        replies: list[tuple[str, bytes]] = []
        for incoming, outcome, events in outcomes:
            if incoming.want_reply:
                reply = orjson.dumps(self._reply(outcome, orders))
                replies.append((keys.reply(incoming.command.command_id), reply))
            for event in events:
                frames.extend(self._frames(event, incoming, orders))
        touched_accounts = self.engine.risk.drain_touched()
        risk_snapshot: dict[str, bytes] = {}
        if touched_accounts:
            risk_snapshot, risk_frames = self._risk_snapshot(touched_accounts)
            frames.extend(risk_frames)
        return PreparedBatch(
            journal=journal,
            read_models=read_models,
            stream_ids=[i.stream_id for i in batch if i.stream_id],
            book_snapshots=self._book_snapshots(touched_books),
            risk_snapshot=risk_snapshot,
            halts=self._changed_halts(),
            replies=replies,
            frames=Publisher.pack(frames),
        )

    def _journal(self, prepared: PreparedBatch) -> None:
        """On the journal thread: write the batch and commit."""
        # Journal before acknowledge: the log rows and the read models derived from them
        # commit together, and nothing is acknowledged or published unless they did.
        try:
            with transaction.atomic():
                journal_write(prepared.journal)
                self.projector.write(prepared.read_models)
        except DatabaseError:
            db_connection.close()  # this thread's; the next batch opens a new one
            raise
        if prepared.stream_ids:
            # Journaled: a restart must not apply these again, acknowledged or not.
            self.last_stream_id = max(self.last_stream_id, *map(stream_id_key, prepared.stream_ids))

    def _publish(
        self, prepared: PreparedBatch, journaled: Future[None], previous: Future[None] | None
    ) -> None:
        """On the publish thread: once the batch is journaled, acknowledge, answer and
        publish it. A batch before it that failed fails this one too, so that the last batch
        handed over always tells whether everything before it went out."""
        if previous is not None:
            previous.result()
        journaled.result()
        if prepared.stream_ids:
            self.redis.xack(self.stream, keys.CONSUMER_GROUP, *prepared.stream_ids)
        # Books first, then answers: a caller who has its answer reads a book that includes it.
        pipe = self.redis.pipeline(transaction=False)
        for key, snapshot in prepared.book_snapshots:
            pipe.set(key, snapshot)
        if prepared.risk_snapshot:
            pipe.hset(keys.risk_snapshot(self.shard), mapping=prepared.risk_snapshot)
        halts_key = keys.halts_snapshot(self.shard)
        for symbol, halt in prepared.halts:
            if halt is None:
                pipe.hdel(halts_key, symbol)
            else:
                pipe.hset(halts_key, symbol, halt)
        for reply_key, reply in prepared.replies:
            pipe.lpush(reply_key, reply)
            pipe.expire(reply_key, REPLY_TTL_S)
        pipe.execute()
        self.publisher.publish(prepared.frames)

    # -- presentation -----------------------------------------------------------------------

    def _price(self, symbol: str, ticks: int) -> str:
        return self._instruments[symbol].price_text(ticks)

    def _qty(self, symbol: str, lots: int) -> int:
        return self._instruments[symbol].lots_to_quantity(lots)

    def _order(self, order: OrderRow) -> dict[str, Any]:
        return order_as_dict(order, self._instruments_by_id[order.instrument_id])

    def _reply(self, outcome: Event, orders: dict[int, OrderRow]) -> dict[str, Any]:
        if isinstance(outcome, OrderAccepted):
            return {"status": 201, "order": self._order(orders[outcome.order_id])}
        if isinstance(outcome, OrderCancelled | OrderModified):
            return {"status": 200, "order": self._order(orders[outcome.order_id])}
        if isinstance(outcome, MassCancelDone):
            return {"status": 200, "cancelled_orders": outcome.cancelled_orders}
        if isinstance(outcome, OrderRejected | CancelRejected | ModifyRejected | CommandRejected):
            return {
                "status": REASON_STATUS.get(outcome.reason, 400),
                "code": str(outcome.reason),
                "message": outcome.message,
            }
        if outcome.kind in OUTCOME_KINDS:
            return {"status": 200, "event": event_to_dict(outcome)}
        return {"status": 200}

    def _frames(self, event: Event, incoming: Incoming, orders: dict[int, OrderRow]) -> Frames:
        request_id = incoming.request_id
        frame: dict[str, Any]
        if isinstance(event, OrderAccepted):
            frame = {"type": "order.accepted", "order": self._order(orders[event.order_id])}
            return [(keys.user_group(event.user_id), frame | {"request_id": request_id})]
        if isinstance(event, OrderRejected):
            frame = {
                "type": "order.rejected",
                "request_id": request_id,
                "client_order_id": event.client_order_id,
                "code": str(event.reason),
                "message": event.message,
            }
            frames: Frames = [(keys.user_group(event.user_id), frame)]
            if event.reason in RISK_REASONS:
                rejection = {
                    "account": event.account,
                    "user_id": event.user_id,
                    "symbol": event.symbol,
                    "client_order_id": event.client_order_id,
                    "code": str(event.reason),
                    "message": event.message,
                    "ts": ns_to_iso(event.ts_ns),
                }
                frames.append(
                    (keys.risk_group(), {"type": "risk.rejection", "rejection": rejection})
                )
            return frames
        if isinstance(event, RiskLimitChanged) and event.old_value == event.new_value:
            return []  # Journaled as its command's outcome; not news for the console.
        if isinstance(event, RiskListChanged) and event.member == event.was_member:
            return []
        if isinstance(event, RiskAlert | KillSwitchChanged | RiskLimitChanged | RiskListChanged):
            return [(keys.risk_group(), self._risk_frame(event))]
        if isinstance(event, CancelRejected | ModifyRejected | CommandRejected):
            frame = {
                "type": "error",
                "request_id": request_id,
                "code": str(event.reason),
                "message": event.message,
            }
            return [(keys.user_group(event.user_id), frame)]
        if isinstance(event, OrderCancelled):
            frame = {
                "type": "order.cancelled",
                "request_id": request_id,
                "order": self._order(orders[event.order_id]),
            }
            return [(keys.user_group(event.user_id), frame)]
        if isinstance(event, OrderModified):
            frame = {
                "type": "order.modified",
                "request_id": request_id,
                "order": self._order(orders[event.order_id]),
            }
            return [(keys.user_group(event.user_id), frame)]
        if isinstance(event, OrderReduced | StopTriggered):
            frame = {"type": "order.updated", "order": self._order(orders[event.order_id])}
            return [(keys.user_group(event.user_id), frame)]
        if isinstance(event, MassCancelDone):
            frame = {
                "type": "mass_cancel.done",
                "request_id": request_id,
                "cancelled_orders": event.cancelled_orders,
            }
            return [(keys.user_group(event.user_id), frame)]
        if isinstance(event, Trade):
            return self._trade_frames(event, orders)
        if isinstance(event, BookDelta):
            changes = [
                {
                    "side": c.side,
                    "price": self._price(event.symbol, c.price_ticks),
                    "quantity": self._qty(event.symbol, c.qty_lots),
                    "count": c.order_count,
                }
                for c in event.changes
            ]
            frame = {
                "type": "book.delta",
                "symbol": event.symbol,
                "seq": event.book_seq,
                "changes": changes,
            }
            return [(keys.book_group(event.symbol), frame)]
        if isinstance(event, HALT_EVENTS):
            return self._halt_frames(event)
        return []

    @staticmethod
    def _halt_view(
        symbol: str, kind: str, message: str, since_ns: int, until_ns: int, accepts_orders: bool
    ) -> dict[str, Any]:
        """A halt as the desks show it (`until` None: until resumed)."""
        return {
            "symbol": symbol,
            "kind": kind,
            "message": message,
            "since": ns_to_iso(since_ns),
            "until": ns_to_iso(until_ns) if until_ns else None,
            "accepts_orders": accepts_orders,
            "indicative": None,
        }

    def _indicative_view(
        self, symbol: str, price_ticks: int, paired_lots: int, imbalance_lots: int, side: str
    ) -> dict[str, Any]:
        """The reopening auction as it stands: price (None while nothing crosses), paired and
        imbalance quantities."""
        return {
            "price": self._price(symbol, price_ticks) if price_ticks else None,
            "paired": self._qty(symbol, paired_lots),
            "imbalance": self._qty(symbol, imbalance_lots),
            "imbalance_side": side,
        }

    def _halt_frames(self, event: Event) -> Frames:
        """Halts, pauses and what happens during them, for every desk; the current halts are
        kept in Redis for a page's first paint."""
        group = keys.halts_group()
        ts = ns_to_iso(event.ts_ns)
        if isinstance(event, TradingHalted):
            halt = self._halt_view(
                event.symbol,
                str(event.halt_kind),
                event.message,
                event.ts_ns,
                event.until_ns,
                event.accepts_orders,
            )
            self._halts[event.symbol] = halt
            self._halts_changed[event.symbol] = None
            return [(group, {"type": "halt", "halt": halt})]
        if isinstance(event, PauseExtended | AuctionIndicative):
            current = self._halts.get(event.symbol)
            if current is None:
                return []
            if isinstance(event, PauseExtended):
                current["until"] = ns_to_iso(event.until_ns)
                auction = self._price(event.symbol, event.auction_price_ticks)
                reference = self._price(event.symbol, event.reference_ticks)
                current["extension"] = (
                    f"Extended: the auction price {auction} was outside the collar around "
                    f"{reference}."
                )
            else:
                current["indicative"] = self._indicative_view(
                    event.symbol,
                    event.price_ticks,
                    event.paired_lots,
                    event.imbalance_lots,
                    event.imbalance_side,
                )
            self._halts_changed[event.symbol] = None
            return [(group, {"type": "halt", "halt": current})]
        if isinstance(event, TradingResumed):
            self._halts.pop(event.symbol, None)
            self._halts_changed[event.symbol] = None
            resume = {
                "type": "resume",
                "symbol": event.symbol,
                "auction_price": (
                    self._price(event.symbol, event.auction_price_ticks)
                    if event.auction_volume_lots
                    else None
                ),
                "auction_volume": self._qty(event.symbol, event.auction_volume_lots),
                "ts": ts,
            }
            return [(group, resume)]
        if isinstance(event, LimitStateEntered):
            frame = {
                "type": "limit_state",
                "symbol": event.symbol,
                "entered": True,
                "band_side": event.band_side,
                "lower": self._price(event.symbol, event.lower_band_ticks),
                "upper": self._price(event.symbol, event.upper_band_ticks),
                "pause_at": ns_to_iso(event.pause_at_ns),
            }
            return [(group, frame)]
        if isinstance(event, LimitStateExited):
            frame = {
                "type": "limit_state",
                "symbol": event.symbol,
                "entered": False,
                "band_side": "",
                "lower": None,
                "upper": None,
                "pause_at": None,
            }
            return [(group, frame)]
        if isinstance(event, MarketWideBreakerTriggered):
            frame = {
                "type": "market_wide",
                "level": event.level,
                "decline_pct": str(Decimal(event.decline_bps) / 100),
                "until": ns_to_iso(event.until_ns) if event.until_ns else None,
            }
            return [(group, frame)]
        if isinstance(event, VolumeSpikeDetected):
            frame = {
                "type": "volume_spike",
                "symbol": event.symbol,
                "window_quantity": self._qty(event.symbol, event.window_lots),
                "average_quantity": self._qty(event.symbol, event.average_lots),
                "pauses": event.pauses,
            }
            return [(group, frame)]
        return []

    def _restore_halts(self) -> None:
        """After recovery: the halts in force, as published, so that new desks see them."""
        self._halts = {}
        for symbol, halt in self.engine.halts().items():
            view = self._halt_view(
                symbol,
                str(halt["kind"]),
                halt["message"],
                halt["since_ns"],
                halt["until_ns"],
                halt["accepts_orders"],
            )
            indicative = halt["indicative"]
            if indicative:
                view["indicative"] = self._indicative_view(
                    symbol,
                    indicative["price_ticks"],
                    indicative["paired_lots"],
                    indicative["imbalance_lots"],
                    indicative["imbalance_side"],
                )
            self._halts[symbol] = view
        pipe = self.redis.pipeline(transaction=False)
        pipe.delete(keys.halts_snapshot(self.shard))
        for symbol, halt in self._halts.items():
            pipe.hset(keys.halts_snapshot(self.shard), symbol, json.dumps(halt))
        pipe.execute()

    def _changed_halts(self) -> list[tuple[str, str | None]]:
        """The halts changed since last asked, as stored for a desk's first paint."""
        changed = [
            (symbol, json.dumps(self._halts[symbol]) if symbol in self._halts else None)
            for symbol in self._halts_changed
        ]
        self._halts_changed.clear()
        return changed

    def _risk_frame(
        self, event: RiskAlert | KillSwitchChanged | RiskLimitChanged | RiskListChanged
    ) -> dict[str, Any]:
        ts = ns_to_iso(event.ts_ns)
        if isinstance(event, RiskAlert):
            alert = {"account": event.account, "alert": event.alert, "message": event.message}
            return {"type": "risk.alert", "alert": alert | {"ts": ts}}
        if isinstance(event, KillSwitchChanged):
            kill_switch = {
                "scope": str(event.scope),
                "account": event.account,
                "trader_user_id": event.trader_user_id,
                "engaged": event.engaged,
                "allow_risk_reducing": event.allow_risk_reducing,
                "reason": event.change_reason,
                "user_id": event.user_id,
                "cancelled_orders": event.cancelled_orders,
                "ts": ts,
            }
            return {"type": "risk.kill_switch", "kill_switch": kill_switch}
        if isinstance(event, RiskLimitChanged):
            change = {
                "limit": str(event.limit),
                "account": event.account,
                "symbol": event.symbol,
                "old_value": event.old_value,
                "new_value": event.new_value,
                "reason": event.change_reason,
                "user_id": event.user_id,
                "ts": ts,
            }
            return {"type": "risk.limit", "change": change}
        entry = {
            "list": str(event.risk_list),
            "account": event.account,
            "symbol": event.symbol,
            "trader_user_id": event.trader_user_id,
            "member": event.member,
            "reason": event.change_reason,
            "user_id": event.user_id,
            "ts": ts,
        }
        return {"type": "risk.list", "change": entry}

    def risk_view(self, account: str) -> dict[str, Any]:
        """An account's risk figures for the console: money in currency, quantities in units."""
        view = self.engine.risk.account_view(account)

        def amount(micros: int | None) -> str | None:
            return None if micros is None else str((Decimal(micros) / MICROS).quantize(CENT))

        def units(symbol: str, lots: int | None) -> int | None:
            return None if lots is None else self._qty(symbol, lots)

        kill = view["kill_switch"]
        return {
            "account": account,
            "credit_limit": amount(view["credit_limit_micros"]),
            "credit_used": amount(view["credit_used_micros"]),
            "loss_today": amount(-view["pnl_micros"]),
            "loss_warning": amount(view["loss_warning_micros"]),
            "loss_reduce_only": amount(view["loss_reduce_only_micros"]),
            "loss_kill": amount(view["loss_kill_micros"]),
            "loss_stage": view["loss_stage"],
            "kill_switch": None if kill is None else self._kill_view(kill),
            "positions": [
                {
                    "symbol": p["symbol"],
                    "position": units(p["symbol"], p["position_lots"]),
                    "max_long": units(p["symbol"], p["max_long_lots"]),
                    "max_short": units(p["symbol"], p["max_short_lots"]),
                    "working_buy": units(p["symbol"], p["working_buy_lots"]),
                    "working_sell": units(p["symbol"], p["working_sell_lots"]),
                }
                for p in view["positions"]
                if p["symbol"] in self._instruments
            ],
        }

    @staticmethod
    def _kill_view(kill: dict[str, Any]) -> dict[str, Any]:
        return {
            "engaged_by": kill["user_id"],
            "since": ns_to_iso(kill["since_ns"]),
            "reason": kill["reason"],
            "allow_risk_reducing": kill["allow_risk_reducing"],
            "automatic": kill["automatic"],
        }

    def _risk_snapshot(self, accounts: list[str]) -> tuple[dict[str, bytes], Frames]:
        """The touched accounts' figures (and the kill switches) as stored for a console's
        first paint, and the frames that tell the open consoles."""
        views = {account: self.risk_view(account) for account in accounts}
        switches = self.engine.risk.kill_switches_view()
        kill_switches = {
            "firm": self._kill_view(switches["firm"]) if switches["firm"] else None,
            "accounts": {a: self._kill_view(k) for a, k in switches["accounts"].items()},
            "traders": {u: self._kill_view(k) for u, k in switches["traders"].items()},
        }
        mapping = {account: orjson.dumps(view) for account, view in views.items()}
        mapping[keys.KILL_SWITCHES_FIELD] = orjson.dumps(kill_switches)
        frames: Frames = [
            (keys.risk_group(), {"type": "risk.account", "account": v}) for v in views.values()
        ]
        return mapping, frames

    def _store_risk_snapshot(self, accounts: list[str]) -> None:
        mapping, _ = self._risk_snapshot(accounts)
        self.redis.hset(keys.risk_snapshot(self.shard), mapping=mapping)

    def _trade_frames(self, trade: Trade, orders: dict[int, OrderRow]) -> Frames:
        symbol = trade.symbol
        price = self._price(symbol, trade.price_ticks)
        quantity = self._qty(symbol, trade.qty_lots)
        ts = ns_to_iso(trade.ts_ns)
        frames: Frames = [
            (
                keys.book_group(symbol),
                {
                    "type": "trade",
                    "symbol": symbol,
                    "price": price,
                    "quantity": quantity,
                    "aggressor_side": trade.aggressor_side,
                    "trade_id": trade.trade_id,
                    "ts": ts,
                },
            )
        ]
        for order_id, user_id, side, liquidity in (
            (trade.maker_order_id, trade.maker_user_id, trade.aggressor_side.opposite, "maker"),
            (trade.taker_order_id, trade.taker_user_id, trade.aggressor_side, "taker"),
        ):
            fill = {
                "trade_id": trade.trade_id,
                "order_id": order_id,
                "symbol": symbol,
                "side": side,
                "price": price,
                "quantity": quantity,
                "liquidity": liquidity,
                "ts": ts,
            }
            group = keys.user_group(user_id)
            frames.append((group, {"type": "fill", "fill": fill}))
            frames.append(
                (group, {"type": "order.updated", "order": self._order(orders[order_id])})
            )
        return frames

    def book_snapshot(self, symbol: str) -> dict[str, Any]:
        def levels(side: Side) -> list[list[Any]]:
            return [
                [self._price(symbol, price), self._qty(symbol, lots), count]
                for price, lots, count in self.engine.depth(symbol, side)
            ]

        return {
            "symbol": symbol,
            "seq": self.engine.book_seq(symbol),
            "bids": levels(Side.BUY),
            "asks": levels(Side.SELL),
        }

    def _store_snapshots(self, symbols: dict[str, Any]) -> None:
        snapshots = self._book_snapshots(symbols)
        if snapshots:
            self.redis.mset(dict(snapshots))

    def _book_snapshots(self, symbols: Iterable[str]) -> list[tuple[str, bytes]]:
        """The Redis keys and values of these books as they stand."""
        return [
            (keys.book_snapshot(self.shard, symbol), orjson.dumps(self.book_snapshot(symbol)))
            for symbol in symbols
        ]
