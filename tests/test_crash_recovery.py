"""The crash test: the matcher is killed with SIGKILL at seeded random instants while a client
streams orders, cancels and garbage at it, and is restarted each time.

Afterwards the event log, the read models, the replies the client received and the books must
tell one story: every entry put on the stream has exactly one journaled command and exactly one
outcome, nothing was answered before it was durable, the log is gapless and its hash chain
links, replaying the log rebuilds the books the restarted matcher shows, and those books equal
the books of a run that was never interrupted.

The matcher runs as `manage.py run_matcher` in a child process on the test database, as in
production, so that SIGKILL really ends it at an arbitrary instruction: in the middle of a
batch, between the journal commit and the stream acknowledgement, in the replies, or while it is
still starting up and replaying the log. After one of the kills Redis is also made to forget
the last acknowledgements, so that journaled entries are delivered again.
"""

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, cast

import pytest
from django.conf import LazySettings
from django.db import connection

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.audit.services import GENESIS_HASH, LogEntry, entry_hash
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.codec import command_from_dict, command_to_dict, event_to_dict
from apps.matching.engine import (
    COMMAND_TYPES,
    OUTCOME_KINDS,
    CancelOrder,
    Command,
    DefineInstrument,
    Engine,
    NewOrder,
    OrderType,
    Side,
    TimeInForce,
)
from apps.matching.redis import redis_client
from apps.matching.worker import ORDER_ID_SPAN
from apps.risk.models import FirmRiskPolicy
from apps.trading.models import Fill, Order
from apps.trading.services import command_send

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[1]
SEED = 20_260_401
KILLS = 5
# Open loop, commands per second: enough that every incarnation of the matcher has a backlog
# in hand when it is killed, few enough that the whole test stays under a minute.
CLIENT_RATE = 100
# Most kills come a random while after the matcher says it has started; the others a random
# while after it was spawned, which often lands in start-up (recovery, instrument listing).
KILL_DURING_START_UP_CHANCE = 0.25
CRASH_SHARD = 0
# The uninterrupted run has the same database, so it needs its own event log: another shard.
REFERENCE_SHARD = 1
# Snapshots every few thousand commands, so that restarts recover from a snapshot plus the
# tail of the log as well as from the log alone.
SNAPSHOT_EVERY = 2500
# Small batches: several journal commits per incarnation, so that the kills land in every
# phase of a batch (applying, committing, acknowledging, answering), not only in the first.
MATCHER_BATCH_SIZE = 40
REFERENCE_BATCH_SIZE = 500
READY_TEXT = "matcher_started"
START_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 60.0

# Which outcome kinds answer which command kind. An IOC remainder or a self-trade prevention
# cancel is an `order_cancelled` too, but as a consequence of a new order, not its outcome.
OUTCOMES_OF_COMMAND = {
    "new_order": frozenset({"order_accepted", "order_rejected"}),
    "cancel_order": frozenset({"order_cancelled", "cancel_rejected"}),
    "modify_order": frozenset({"order_modified", "modify_rejected"}),
    "mass_cancel": frozenset({"mass_cancel_done"}),
    "expire_orders": frozenset({"orders_expired"}),
    "define_instrument": frozenset({"instrument_defined"}),
    "unparseable": frozenset({"command_rejected"}),
    "set_risk_limit": frozenset({"risk_limit_changed", "command_rejected"}),
    "set_risk_list_entry": frozenset({"risk_list_changed", "command_rejected"}),
    "mark_to_market": frozenset({"marked_to_market"}),
    "clock_tick": frozenset({"clock_advanced"}),
    "set_breaker_parameter": frozenset({"breaker_parameter_changed", "command_rejected"}),
}
# Control commands the desk itself sends (entitlements given to the test's traders, the risk
# configuration synced at start), beside the client's orders.
CONTROL_KINDS = frozenset({"set_risk_limit", "set_risk_list_entry"})


def is_control(fields: dict[bytes, bytes]) -> bool:
    try:
        return json.loads(fields.get(b"command", b"")).get("kind") in CONTROL_KINDS
    except (ValueError, AttributeError):
        return False


# -- the client side --------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class Outgoing:
    """One entry the client puts on the stream: a command through the gateway, or raw fields
    that are not a valid command. `command_id` is None when the entry names none that the
    matcher can read, and then the stream entry id names it."""

    command: Command | None
    raw_fields: dict[str, str] | None
    command_id: str | None
    want_reply: bool


class OrderFlow:
    """The seeded client: two traders on two instruments, limit orders around the middle (so
    that some cross), cancels of earlier orders and now and then a malformed entry.

    A shadow engine, fed the same commands, tells it which orders still rest, so that most
    cancels name live orders; the test never relies on the shadow being right.
    """

    def __init__(
        self, seed: int, traders: list[tuple[int, str]], instruments: list[Instrument]
    ) -> None:
        self.rng = random.Random(seed)
        self.traders = traders
        self.symbols = [i.symbol for i in instruments]
        self.middle_ticks = {
            i.symbol: i.price_to_ticks(i.reference_price) or 1 for i in instruments
        }
        self.shadow = Engine(CRASH_SHARD, order_id_base=CRASH_SHARD * ORDER_ID_SPAN)
        for instrument in instruments:
            self.shadow.apply(
                DefineInstrument(
                    command_id=f"define-{instrument.symbol}",
                    ts_ns=0,
                    symbol=instrument.symbol,
                    min_qty_lots=instrument.min_qty_lots,
                    max_qty_lots=instrument.max_qty_lots,
                )
            )
        self.count = 0

    def _next_id(self) -> str:
        self.count += 1
        return f"crash-{self.count}"

    def next_entry(self) -> Outgoing:
        draw = self.rng.random()
        if draw < 0.04:
            return self._malformed()
        if draw < 0.24 and self.shadow.orders:
            return self._cancel()
        return self.new_order(want_reply=self.rng.random() < 0.3)

    def new_order(self, *, want_reply: bool) -> Outgoing:
        rng = self.rng
        user_id, account = rng.choice(self.traders)
        symbol = rng.choice(self.symbols)
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        middle = self.middle_ticks[symbol]
        # Buyers bid a little below the middle and sellers offer a little above it, with an
        # overlap: some orders rest, some cross one or more levels.
        offset = rng.randint(-6, 2)
        price = middle + offset if side is Side.BUY else middle - offset
        command_id = self._next_id()
        command = NewOrder(
            command_id=command_id,
            ts_ns=0,
            user_id=user_id,
            account=account,
            symbol=symbol,
            side=side,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.IOC if rng.random() < 0.1 else TimeInForce.GTC,
            price_ticks=price,
            qty_lots=rng.randint(1, 40),
            client_order_id=f"c-{command_id}",
        )
        self.shadow.apply(command)
        return Outgoing(command, None, command_id, want_reply)

    def _cancel(self) -> Outgoing:
        rng = self.rng
        live = list(self.shadow.orders.values())
        draw = rng.random()
        if draw < 0.85:
            # The owner cancels one of their working orders.
            order = rng.choice(live)
            user_id, order_id = order.user_id, order.order_id
        elif draw < 0.95:
            # An order that may long be filled or cancelled, by whoever.
            user_id = rng.choice(self.traders)[0]
            order_id = CRASH_SHARD * ORDER_ID_SPAN + rng.randint(1, self.count)
        else:
            # Someone else's order.
            order = rng.choice(live)
            others = [t[0] for t in self.traders if t[0] != order.user_id]
            user_id, order_id = rng.choice(others or [order.user_id]), order.order_id
        command_id = self._next_id()
        command = CancelOrder(command_id=command_id, ts_ns=0, user_id=user_id, order_id=order_id)
        self.shadow.apply(command)
        return Outgoing(command, None, command_id, self.rng.random() < 0.3)

    def _malformed(self) -> Outgoing:
        command_id = self._next_id()
        user_id = self.rng.choice(self.traders)[0]
        variant = self.rng.randrange(5)
        envelope = {"request_id": f"r-{command_id}", "reply": ""}
        named: str | None = None
        if variant == 0:
            envelope["command"] = "{this is not json"
        elif variant == 1:
            envelope["command"] = json.dumps(["new_order", 1, 2])
        elif variant == 2:
            del envelope["request_id"]  # no command field at all
        elif variant == 3:
            named = command_id
            envelope["command"] = json.dumps(
                {"kind": "new_order", "command_id": named, "user_id": user_id, "price_ticks": "x"}
            )
        else:
            named = command_id
            envelope["command"] = json.dumps(
                {"kind": "teleport_order", "command_id": named, "user_id": user_id}
            )
        want_reply = named is not None and self.rng.random() < 0.5
        if want_reply:
            envelope["reply"] = "1"
        return Outgoing(None, envelope, named, want_reply)


class ReceivedReply(NamedTuple):
    command_id: str
    reply: dict[str, Any]
    # The command's outcome as the journal held it the moment the reply arrived (None: absent).
    outcome_at_receipt: tuple[str, dict[str, Any]] | None


def journaled_outcome(shard: int, command_id: str) -> tuple[str, dict[str, Any]] | None:
    row = (
        EventRecord.objects.filter(shard=shard, command_id=command_id)
        .exclude(kind__in=list(COMMAND_TYPES))
        .order_by("seq")
        .values_list("kind", "payload")
        .first()
    )
    return None if row is None else (row[0], row[1])


class ReplyCollector(threading.Thread):
    """Waits for the replies the client asked for, as the gateway does (BLPOP on the reply
    keys), and at the instant one arrives looks the outcome up in the journal: journal before
    acknowledge means it is always there already."""

    def __init__(self, shard: int) -> None:
        super().__init__(name="reply-collector", daemon=True)
        self.shard = shard
        self.expected: queue.Queue[str] = queue.Queue()
        self.received: dict[str, ReceivedReply] = {}
        self.failure: BaseException | None = None
        self._finish = threading.Event()

    def expect(self, command_id: str) -> None:
        self.expected.put(command_id)

    def finish(self) -> None:
        """Collect what has arrived by now without waiting further, then end."""
        self._finish.set()

    def run(self) -> None:
        client = redis_client()
        waiting: dict[str, str] = {}  # reply key -> command id
        try:
            while True:
                while not self.expected.empty():
                    command_id = self.expected.get_nowait()
                    waiting[keys.reply(command_id)] = command_id
                if self._finish.is_set():
                    for key, command_id in list(waiting.items()):
                        raw = cast(bytes | None, client.lpop(key))
                        if raw is not None:
                            self._receive(command_id, raw)
                    return
                if not waiting:
                    # Nothing outstanding: block on the client's next request for a reply.
                    try:
                        command_id = self.expected.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    waiting[keys.reply(command_id)] = command_id
                    continue
                answer = cast(tuple[bytes, bytes] | None, client.blpop(list(waiting), timeout=0.1))
                if answer is not None:
                    answered_key, raw = answer
                    self._receive(waiting.pop(answered_key.decode()), raw)
        except BaseException as exc:  # surfaced by the test
            self.failure = exc
        finally:
            connection.close()

    def _receive(self, command_id: str, raw: bytes) -> None:
        outcome = journaled_outcome(self.shard, command_id)
        self.received[command_id] = ReceivedReply(command_id, json.loads(raw), outcome)


class Client(threading.Thread):
    """Streams the flow onto the matcher's stream at a steady rate (open loop: it does not wait
    for the matcher), through the gateway's `command_send`, or raw for the malformed entries."""

    def __init__(self, flow: OrderFlow, collector: ReplyCollector, rate: int) -> None:
        super().__init__(name="client", daemon=True)
        self.flow = flow
        self.collector = collector
        self.interval_s = 1 / rate
        self.sent: list[Outgoing] = []
        self.failure: BaseException | None = None
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        try:
            due = time.monotonic()
            while not self._halt.is_set():
                self.send(self.flow.next_entry())
                due += self.interval_s
                ahead_s = due - time.monotonic()
                if ahead_s > 0:
                    # The client's pace, and its stop signal.
                    self._halt.wait(ahead_s)
        except BaseException as exc:  # surfaced by the test
            self.failure = exc

    def send(self, outgoing: Outgoing, *, collect_reply: bool = True) -> None:
        if collect_reply and outgoing.want_reply and outgoing.command_id is not None:
            self.collector.expect(outgoing.command_id)
        if outgoing.command is not None:
            command_send(
                CRASH_SHARD,
                outgoing.command,
                request_id=f"r-{outgoing.command_id}",
                want_reply=outgoing.want_reply,
            )
        else:
            assert outgoing.raw_fields is not None
            redis_client().xadd(keys.command_stream(CRASH_SHARD), outgoing.raw_fields)  # type: ignore[arg-type]
        self.sent.append(outgoing)


# -- the matcher process ----------------------------------------------------------------------


def database_url() -> str:
    """The pytest test database, as a DATABASE_URL for a child process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def matcher_env(key_prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        "SECRET_KEY": "crash-test",
        "DEBUG": "false",
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": database_url(),
        "MATCHER_KEY_PREFIX": key_prefix,
        "CHANNEL_LAYER_PREFIX": f"{key_prefix}:asgi",
        "MATCHER_SNAPSHOT_EVERY": str(SNAPSHOT_EVERY),
        "PYTHONUNBUFFERED": "1",
    }


class MatcherProcess:
    """`manage.py run_matcher` in a child process; its output is read line by line, which
    says when it has started and is kept for failure messages."""

    def __init__(self, shard: int, env: dict[str, str], batch_size: int) -> None:
        self.lines: list[str] = []
        self.started = threading.Event()
        self.ended = threading.Event()
        # Set by whichever comes first: the child says it started, or its output ends.
        self._settled = threading.Event()
        self.spawned_at = time.monotonic()
        self.start_up_s = 0.0
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_matcher",
                "--shard",
                str(shard),
                "--batch-size",
                str(batch_size),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if READY_TEXT in line and not self.started.is_set():
                self.start_up_s = time.monotonic() - self.spawned_at
                self.started.set()
                self._settled.set()
        self.ended.set()
        self._settled.set()

    def output(self) -> str:
        return "".join(self.lines[-60:])

    def wait_started(self) -> None:
        self._settled.wait(START_TIMEOUT_S)
        if not self.started.is_set():
            self.kill()
            raise AssertionError(f"the matcher did not start:\n{self.output()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(15)
        self._reader.join(15)

    def stop(self) -> int:
        """SIGTERM: the matcher finishes the batch in hand and leaves; its exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the matcher did not stop on SIGTERM:\n{self.output()}") from None
        self._reader.join(15)
        return code


# -- reading the journal back ---------------------------------------------------------------


class LogRow(NamedTuple):
    seq: int
    ts_ns: int
    kind: str
    command_id: str
    stream_id: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(slots=True)
class CommandBlock:
    """A journaled command and the events journaled right after it."""

    command: LogRow
    events: list[LogRow] = field(default_factory=list)


def journal(shard: int) -> list[LogRow]:
    return [
        LogRow(*row)
        for row in EventRecord.objects.filter(shard=shard)
        .order_by("seq")
        .values_list(
            "seq", "ts_ns", "kind", "command_id", "stream_id", "payload", "prev_hash", "hash"
        )
        .iterator(chunk_size=5000)
    ]


def assert_gapless_and_chained(shard: int, rows: list[LogRow]) -> None:
    previous = GENESIS_HASH
    for expected_seq, row in enumerate(rows, start=1):
        assert row.seq == expected_seq, f"shard {shard}: seq {expected_seq} is missing"
        assert row.prev_hash == previous, f"shard {shard}: the chain breaks at seq {row.seq}"
        digest = entry_hash(
            previous,
            shard,
            LogEntry(row.seq, row.ts_ns, row.kind, row.command_id, row.payload, row.stream_id),
        )
        assert row.hash == digest, f"shard {shard}: seq {row.seq} does not hash to its hash"
        previous = row.hash


def command_blocks(rows: list[LogRow]) -> list[CommandBlock]:
    blocks: list[CommandBlock] = []
    for row in rows:
        if row.kind in COMMAND_TYPES:
            blocks.append(CommandBlock(row))
            continue
        assert blocks, f"event at seq {row.seq} precedes every command"
        owner = blocks[-1].command
        assert row.command_id == owner.command_id, (
            f"event {row.kind} at seq {row.seq} is for command {row.command_id!r} but follows "
            f"command {owner.command_id!r} (seq {owner.seq})"
        )
        blocks[-1].events.append(row)
    return blocks


def as_logged(value: Any) -> Any:
    """Through JSON, as the log stores it, so that enums and tuples compare alike."""
    return json.loads(json.dumps(value))


@dataclass(slots=True)
class ExpectedOrder:
    status: str
    filled_lots: int
    leaves_lots: int


@dataclass(slots=True)
class Replayed:
    engine: Engine
    orders: dict[int, ExpectedOrder]
    trades: int


def replay(shard: int, blocks: list[CommandBlock]) -> Replayed:
    """Feed the journaled commands, in journal order, through a fresh engine; every command
    must regenerate exactly the events journaled after it. Fold the events into the state each
    order must have, independently of the read-model projector."""
    engine = Engine(shard, order_id_base=shard * ORDER_ID_SPAN)
    orders: dict[int, ExpectedOrder] = {}
    trades = 0
    for block in blocks:
        events = engine.apply(command_from_dict(block.command.payload))
        assert engine.last_command_seq == block.command.seq
        regenerated = as_logged([[e.seq, e.kind, event_to_dict(e)] for e in events])
        logged = [[r.seq, r.kind, r.payload] for r in block.events]
        assert regenerated == logged, (
            f"replaying command {block.command.command_id!r} (seq {block.command.seq}) "
            f"regenerates {regenerated!r}, the log holds {logged!r}"
        )
        for event in block.events:
            payload = event.payload
            if event.kind == "order_accepted":
                orders[payload["order_id"]] = ExpectedOrder("new", 0, payload["qty_lots"])
            elif event.kind == "trade":
                trades += 1
                for role in ("maker", "taker"):
                    order = orders[payload[f"{role}_order_id"]]
                    order.filled_lots += payload["qty_lots"]
                    order.leaves_lots = payload[f"{role}_leaves_lots"]
                    order.status = "filled" if order.leaves_lots == 0 else "partially_filled"
            elif event.kind == "order_reduced":
                orders[payload["order_id"]].leaves_lots = payload["leaves_lots"]
            elif event.kind == "order_cancelled":
                order = orders[payload["order_id"]]
                order.status, order.leaves_lots = "cancelled", 0
    return Replayed(engine, orders, trades)


def book_levels(instrument: Instrument, engine: Engine, side: Side) -> list[list[Any]]:
    """A side of the engine's book as the matcher's book snapshot writes it."""
    return [
        [str(instrument.ticks_to_price(price)), instrument.lots_to_quantity(lots), count]
        for price, lots, count in engine.depth(instrument.symbol, side)
    ]


def stored_book(shard: int, symbol: str) -> dict[str, Any]:
    raw = redis_client().get(keys.book_snapshot(shard, symbol))
    assert raw is not None, f"the matcher stored no book snapshot of {symbol}"
    book: dict[str, Any] = json.loads(cast(bytes, raw))
    return {name: book[name] for name in ("seq", "bids", "asks")}


def open_order_levels(shard: int, symbol: str, side: Side) -> list[tuple[int, int, int]]:
    """The read model's open orders of one book side, per price: (price, lots, count), best
    first, as the engine's depth reports them (no icebergs here, so all lots are shown)."""
    lots: dict[int, int] = defaultdict(int)
    count: Counter[int] = Counter()
    for price, leaves in Order.objects.filter(
        shard=shard, instrument__symbol=symbol, side=side, status__in=Order.OPEN_STATUSES
    ).values_list("price_ticks", "leaves_lots"):
        lots[price] += leaves
        count[price] += 1
    return [(price, lots[price], count[price]) for price in sorted(lots, reverse=side is Side.BUY)]


def stream_entries(shard: int) -> list[tuple[str, dict[bytes, bytes]]]:
    entries = cast(
        list[tuple[bytes, dict[bytes, bytes]]],
        redis_client().xrange(keys.command_stream(shard), "-", "+"),
    )
    return [(raw_id.decode(), fields) for raw_id, fields in entries]


def last_journaled_stream_id(shard: int) -> tuple[int, int]:
    stream_id = (
        EventRecord.objects.filter(shard=shard)
        .exclude(stream_id="")
        .order_by("-seq")
        .values_list("stream_id", flat=True)
        .first()
    )
    return stream_id_key(stream_id or "0-0")


def stream_id_key(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(slots=True, frozen=True)
class KillReport:
    """What one SIGKILL left behind: entries journaled but not acknowledged (the restart must
    acknowledge them without applying them again), entries delivered but not journaled (the
    restart must apply them), and entries delivered again because the test made Redis forget
    acknowledgements (the restart must skip them)."""

    number: int
    start_up_s: float
    after_s: float
    while_starting: bool
    journal_head_seq: int
    journaled_unacknowledged: int
    delivered_unjournaled: int
    redelivered: int = 0


def forget_acknowledgements(shard: int, entries_back: int) -> int:
    """Rewind the consumer group by `entries_back` journaled entries, as a Redis restarted from
    a slightly old snapshot would: entries the matcher journaled and acknowledged are delivered
    to it again, as new. Returns how many; the matcher must acknowledge them unapplied."""
    client = redis_client()
    stream = keys.command_stream(shard)
    journaled_up_to = "{}-{}".format(*last_journaled_stream_id(shard))
    newest_first = cast(
        list[tuple[bytes, Any]], client.xrevrange(stream, journaled_up_to, "-", entries_back + 1)
    )
    if len(newest_first) < 2:
        return 0
    # The group delivers everything after this id again.
    client.xgroup_setid(stream, keys.CONSUMER_GROUP, newest_first[-1][0])
    return len(newest_first) - 1


def kill_report(number: int, after_s: float, matcher: MatcherProcess) -> KillReport:
    client = redis_client()
    pending = cast(
        list[dict[str, Any]],
        client.xpending_range(
            keys.command_stream(CRASH_SHARD), keys.CONSUMER_GROUP, "-", "+", 100_000
        ),
    )
    journaled_up_to = last_journaled_stream_id(CRASH_SHARD)
    journaled = sum(
        1 for p in pending if stream_id_key(p["message_id"].decode()) <= journaled_up_to
    )
    head = EventRecord.objects.filter(shard=CRASH_SHARD).order_by("-seq").first()
    return KillReport(
        number,
        round(matcher.start_up_s, 2),
        round(after_s, 2),
        not matcher.started.is_set(),
        head.seq if head else 0,
        journaled,
        len(pending) - journaled,
    )


def wait_for_reply(command_id: str, timeout_s: float) -> dict[str, Any]:
    """Block on a reply as the gateway does, for as long as a backlog may take to drain."""
    answer = cast(
        tuple[bytes, bytes] | None,
        redis_client().blpop([keys.reply(command_id)], timeout=timeout_s),
    )
    assert answer is not None, f"no reply to {command_id} within {timeout_s}s"
    reply: dict[str, Any] = json.loads(answer[1])
    return reply


def stream_fully_acknowledged(shard: int) -> tuple[bool, str]:
    client = redis_client()
    stream = keys.command_stream(shard)
    pending = cast(dict[str, Any], client.xpending(stream, keys.CONSUMER_GROUP))
    groups = cast(list[dict[str, Any]], client.xinfo_groups(stream))
    last_delivered = next(
        g["last-delivered-id"] for g in groups if g["name"] == keys.CONSUMER_GROUP.encode()
    )
    last_id = cast(dict[str, Any], client.xinfo_stream(stream))["last-generated-id"]
    state = f"pending {pending['pending']}, last delivered {last_delivered!r}, last {last_id!r}"
    return pending["pending"] == 0 and last_delivered == last_id, state


# -- the test ---------------------------------------------------------------------------------


@pytest.fixture
def crash_instruments(instruments: dict[str, Instrument]) -> list[Instrument]:
    # The run is compared command by command with an uninterrupted one, whose commands are
    # stamped at other instants: controls that count time (the message throttle, the
    # duplicate window) would rightly decide differently. They have their own tests.
    FirmRiskPolicy.objects.update_or_create(
        pk=FirmRiskPolicy.SINGLETON_PK,
        defaults={"throttle_messages": None, "throttle_cancels": None, "duplicate_window_ms": None},
    )
    return [instruments[symbol] for symbol in sorted(instruments)]


def test_sigkill_at_random_instants_loses_nothing_and_doubles_nothing(
    crash_instruments: list[Instrument],
    trader: User,
    second_trader: User,
    isolated_redis_keys: str,
    settings: LazySettings,
) -> None:
    began = time.monotonic()
    chaos = random.Random(SEED)
    env = matcher_env(isolated_redis_keys)
    flow = OrderFlow(SEED, [(trader.pk, "ACC-1"), (second_trader.pk, "ACC-2")], crash_instruments)
    collector = ReplyCollector(CRASH_SHARD)
    client = Client(flow, collector, CLIENT_RATE)
    kills: list[KillReport] = []
    # After one of the kills Redis also forgets the last acknowledgements it was given.
    forgetful_kill = chaos.randint(2, KILLS)
    matcher = MatcherProcess(CRASH_SHARD, env, MATCHER_BATCH_SIZE)
    try:
        # The client starts once the matcher has listed the instruments, as the desk would.
        matcher.wait_started()
        collector.start()
        client.start()
        for number in range(1, KILLS + 1):
            if chaos.random() >= KILL_DURING_START_UP_CHANCE:
                matcher.wait_started()
            after_s = chaos.uniform(0.1, 2.5)
            # The kill instant is this seeded random delay: the point of the test, not a
            # synchronisation. The wait ends early only if the matcher dies by itself, which
            # is a failure.
            if matcher.ended.wait(after_s):
                raise AssertionError(f"the matcher died by itself:\n{matcher.output()}")
            matcher.kill()
            report = kill_report(number, after_s, matcher)
            if number == forgetful_kill:
                report = replace(report, redelivered=forget_acknowledgements(CRASH_SHARD, 30))
            kills.append(report)
            assert client.failure is None, f"the client failed: {client.failure!r}"
            matcher = MatcherProcess(CRASH_SHARD, env, MATCHER_BATCH_SIZE)
        matcher.wait_started()
        client.stop()
        client.join(10)
        assert client.failure is None, f"the client failed: {client.failure!r}"
        # The last entry asks for a reply. The stream is applied in order, so once its reply
        # arrives everything before it has been journaled.
        last = flow.new_order(want_reply=True)
        client.send(last, collect_reply=False)
        assert last.command_id is not None
        last_reply = wait_for_reply(last.command_id, DRAIN_TIMEOUT_S)
        last_outcome = journaled_outcome(CRASH_SHARD, last.command_id)
        collector.finish()
        collector.join(10)
        assert collector.failure is None, f"the reply collector failed: {collector.failure!r}"
        acknowledged, stream_state = stream_fully_acknowledged(CRASH_SHARD)
        assert acknowledged, f"the stream is not fully acknowledged: {stream_state}"
        assert matcher.stop() == 0, f"the matcher did not stop cleanly:\n{matcher.output()}"
    finally:
        client.stop()
        collector.finish()
        matcher.kill()
        for thread in (client, collector):
            if thread.ident is not None:
                thread.join(10)
    crash_run_s = time.monotonic() - began

    sent = client.sent
    entries = [e for e in stream_entries(CRASH_SHARD) if not is_control(e[1])]
    assert len(entries) == len(sent), "the stream holds other entries than the client sent"

    rows = journal(CRASH_SHARD)
    assert_gapless_and_chained(CRASH_SHARD, rows)
    blocks = command_blocks(rows)

    # Exactly one journaled command per stream entry, in the order the entries arrived.
    duplicated = [c for c, n in Counter(b.command.command_id for b in blocks).items() if n > 1]
    assert not duplicated, f"commands journaled more than once: {duplicated[:10]}"
    from_stream = [b for b in blocks if b.command.stream_id and b.command.kind not in CONTROL_KINDS]
    journaled_ids = [b.command.stream_id for b in from_stream]
    sent_ids = [stream_id for stream_id, _ in entries]
    doubled = [i for i, n in Counter(journaled_ids).items() if n > 1]
    assert not doubled, f"stream entries journaled more than once: {doubled[:10]}"
    lost = sorted(set(sent_ids) - set(journaled_ids), key=stream_id_key)
    assert not lost, f"{len(lost)} stream entries were never journaled: {lost[:10]}"
    assert journaled_ids == sent_ids, "the journal holds the stream entries in another order"
    for block, (stream_id, _), outgoing in zip(from_stream, entries, sent, strict=True):
        assert block.command.command_id == (outgoing.command_id or stream_id)
        if outgoing.command is not None:
            assert block.command.payload | {"ts_ns": 0} == as_logged(
                command_to_dict(outgoing.command)
            ), f"command {outgoing.command_id} was journaled other than it was sent"
        else:
            assert block.command.kind == "unparseable"
    # The instruments were listed once, by the first start; the restarts recovered them.
    defined = [b.command.payload["symbol"] for b in blocks if b.command.kind == "define_instrument"]
    assert sorted(defined) == [i.symbol for i in crash_instruments]

    # Exactly one outcome per command, journaled first after it.
    for block in blocks:
        kind = block.command.kind
        outcomes = [e for e in block.events if e.kind in OUTCOMES_OF_COMMAND[kind]]
        assert len(outcomes) == 1, f"{kind} {block.command.command_id}: outcomes {outcomes}"
        assert block.events[0] is outcomes[0]
        assert block.events[0].kind in OUTCOME_KINDS

    # A fresh engine fed the journaled commands regenerates every journaled event.
    replayed = replay(CRASH_SHARD, blocks)
    engine = replayed.engine

    # The read models agree with the log: every order, its state, and the fills.
    stored_orders = {
        order_id: ExpectedOrder(status, filled, leaves)
        for order_id, status, filled, leaves in Order.objects.filter(shard=CRASH_SHARD).values_list(
            "order_id", "status", "filled_lots", "leaves_lots"
        )
    }
    assert stored_orders == replayed.orders
    assert Fill.objects.filter(shard=CRASH_SHARD).count() == 2 * replayed.trades

    # The books the restarted matcher stored equal the replayed engine's and the read model's.
    for instrument in crash_instruments:
        symbol = instrument.symbol
        assert stored_book(CRASH_SHARD, symbol) == {
            "seq": engine.book_seq(symbol),
            "bids": book_levels(instrument, engine, Side.BUY),
            "asks": book_levels(instrument, engine, Side.SELL),
        }, f"the matcher's book of {symbol} differs from the replayed log"
        for side in Side:
            assert open_order_levels(CRASH_SHARD, symbol, side) == engine.depth(symbol, side)

    # Every reply the client received was for a command already journaled when it arrived,
    # and says what the journal says.
    outcomes_by_command = {b.command.command_id: b.events[0] for b in blocks}
    received = [
        *collector.received.values(),
        ReceivedReply(last.command_id, last_reply, last_outcome),
    ]
    for answer in received:
        assert answer.outcome_at_receipt is not None, (
            f"the reply to {answer.command_id} arrived before its outcome was journaled"
        )
        outcome = outcomes_by_command[answer.command_id]
        assert answer.outcome_at_receipt == (outcome.kind, outcome.payload)
        assert_reply_matches(answer.reply, outcome, replayed)
    # A requested reply may be missing only when a kill came between journaling the command
    # and answering it: its command was in the last batch an incarnation journaled.
    asked = [o.command_id for o in [*sent, last] if o.want_reply and o.command_id]
    missing = [c for c in asked if c not in collector.received and c != last.command_id]
    command_seqs = [b.command.seq for b in blocks]
    for command_id in missing:
        seq = next(b.command.seq for b in blocks if b.command.command_id == command_id)
        assert any(
            seq <= kill.journal_head_seq
            and sum(1 for s in command_seqs if seq <= s <= kill.journal_head_seq)
            <= MATCHER_BATCH_SIZE
            for kill in kills
        ), f"no reply to {command_id} (seq {seq}), and no kill can explain it"

    reference_s = run_uninterrupted_and_compare(
        crash_instruments, settings, entries, blocks, replayed
    )

    print(
        f"\ncrash test: {len(sent)} stream entries, {len(rows)} log rows, "
        f"{sum(1 for b in blocks if b.command.kind == 'new_order')} orders, "
        f"{replayed.trades} trades, {len(received)} replies received, {len(missing)} "
        f"replies lost to kills; crash run {crash_run_s:.1f}s, uninterrupted run "
        f"{reference_s:.1f}s, total {time.monotonic() - began:.1f}s"
    )
    for kill in kills:
        print(f"  {kill}")


def assert_reply_matches(reply: dict[str, Any], outcome: LogRow, replayed: Replayed) -> None:
    payload = outcome.payload
    status = reply["status"]
    if outcome.kind in ("order_accepted", "order_cancelled"):
        assert status == (201 if outcome.kind == "order_accepted" else 200), reply
        order_id = payload["order_id"]
        assert reply["order"]["order_id"] == order_id, reply
        assert order_id in replayed.orders
        assert Order.objects.filter(order_id=order_id).exists()
        if outcome.kind == "order_cancelled":
            assert reply["order"]["status"] == "cancelled" == replayed.orders[order_id].status
        else:
            assert reply["order"]["client_order_id"] == payload["client_order_id"]
    else:
        assert outcome.kind in ("order_rejected", "cancel_rejected", "command_rejected")
        assert status >= 400, reply
        assert reply["code"] == payload["reason"], reply


def run_uninterrupted_and_compare(
    instruments: list[Instrument],
    settings: LazySettings,
    entries: list[tuple[str, dict[bytes, bytes]]],
    crash_blocks: list[CommandBlock],
    crash_replayed: Replayed,
) -> float:
    """The same unstamped entries, in the same order, through a matcher that is never killed.

    It runs on its own key prefix and, since the event log is per shard and the test database
    is shared, on another shard: the instruments move there as an operator would re-shard
    them. Order ids there start at ORDER_ID_SPAN, so cancels name their order that much higher.
    """
    began = time.monotonic()
    crash_books = {i.symbol: stored_book(CRASH_SHARD, i.symbol) for i in instruments}
    Instrument.objects.filter(pk__in=[i.pk for i in instruments]).update(shard=REFERENCE_SHARD)
    # The isolated prefix's clean-up removes this one too: it starts with it.
    settings.MATCHER_KEY_PREFIX = f"{settings.MATCHER_KEY_PREFIX}-uninterrupted"
    # Batches of any size give the same books: the matcher's usual size, for speed.
    matcher = MatcherProcess(
        REFERENCE_SHARD, matcher_env(settings.MATCHER_KEY_PREFIX), REFERENCE_BATCH_SIZE
    )
    try:
        matcher.wait_started()
        pipe = redis_client().pipeline(transaction=False)
        for _, fields in entries:
            pipe.xadd(keys.command_stream(REFERENCE_SHARD), rebased_cancel(fields))  # type: ignore[arg-type]
        pipe.execute()
        # The last entry asked for a reply: once it comes, the whole stream is journaled.
        wait_for_reply(crash_blocks[-1].command.command_id, DRAIN_TIMEOUT_S)
        assert matcher.stop() == 0, f"the uninterrupted matcher failed:\n{matcher.output()}"
    finally:
        matcher.kill()

    reference_rows = journal(REFERENCE_SHARD)
    assert_gapless_and_chained(REFERENCE_SHARD, reference_rows)
    reference_blocks = [b for b in command_blocks(reference_rows) if b.command.stream_id]
    crash_stream_blocks = [
        b for b in crash_blocks if b.command.stream_id and b.command.kind not in CONTROL_KINDS
    ]
    # Command by command, the same outcome and the same consequences.
    assert [[e.kind for e in b.events] for b in reference_blocks] == [
        [e.kind for e in b.events] for b in crash_stream_blocks
    ]
    # The same books, to the book sequence number.
    for instrument in instruments:
        assert stored_book(REFERENCE_SHARD, instrument.symbol) == crash_books[instrument.symbol]
    # The same orders in the same states.
    reference_orders = {
        order_id - REFERENCE_SHARD * ORDER_ID_SPAN + CRASH_SHARD * ORDER_ID_SPAN: ExpectedOrder(
            status, filled, leaves
        )
        for order_id, status, filled, leaves in Order.objects.filter(
            shard=REFERENCE_SHARD
        ).values_list("order_id", "status", "filled_lots", "leaves_lots")
    }
    assert reference_orders == crash_replayed.orders
    return time.monotonic() - began


def rebased_cancel(fields: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """The entry as the reference shard needs it: a cancel names its order on that shard."""
    try:
        command = json.loads(fields.get(b"command", b""))
    except ValueError:
        return fields
    if not (isinstance(command, dict) and command.get("kind") == "cancel_order"):
        return fields
    shift = (REFERENCE_SHARD - CRASH_SHARD) * ORDER_ID_SPAN
    return {
        **fields,
        b"command": json.dumps(command | {"order_id": command["order_id"] + shift}).encode(),
    }
