"""Pipeline benchmark: the whole order path, measured from the client's side.

A seeded stream of orders and cancels (bench_engine's mixed workload) goes through the real
Redis stream, a real matcher process (`run_matcher`) and the journal on PostgreSQL. Figures:

* sustained throughput: the client keeps the matcher's queue full, but bounded, for a while;
  commands journaled and acknowledged on the stream per second;
* acknowledgement latency, open loop at a target rate: from the client's XADD to the reply the
  client sees. One command in N asks for a reply, as a REST client's order does; the others
  are sent as the desk's WebSocket orders are, without one. If the pipeline cannot sustain the
  rate, the run is cut once the backlog is a few seconds deep, and says so;
* the same latency at half the measured throughput: what the pipeline does sustain.

It never touches the desk's own database or keys. It creates its own database (dropped and
created fresh, and dropped again at the end) and its own Redis key prefix (deleted at the end).
Django's settings are fixed per process, so the measuring half runs in a child process pointed
at that database; this process prepares the database, runs the child and cleans up.
"""

import bisect
import json
import math
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any, cast

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from apps.matching import keys
from apps.matching.codec import command_to_dict
from apps.matching.management.commands.bench_engine import (
    ACCOUNTS,
    MID_TICKS,
    SYMBOL,
    WorkloadBuilder,
)
from apps.matching.redis import redis_client
from project.benchdb import ScratchDatabase as Database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cwts_bench"
SHARD = 0
READY_TEXT = "matcher_started"
START_TIMEOUT_S = 60.0
# The longest wait for a backlog to drain or for the last replies to arrive.
DRAIN_TIMEOUT_S = 120.0
WARM_UP_COMMANDS = 500
# Built before the matcher starts; the workload grows as the runs need more.
INITIAL_WORKLOAD = 20_000
# XADDs per pipeline round trip when the client sends as fast as it can.
SEND_CHUNK = 500
# Reply keys the reader waits on at once; replies come nearly in stream order.
READER_WINDOW = 64
# An open-loop run is cut once its backlog would take this long to drain at the measured
# throughput: past that point it measures only the queue it built, which grows without end.
CUT_BACKLOG_S = 3.0
# A rate is sustained if the run ends with less than this much of it still queued: a queue
# that keeps growing is a rate the pipeline does not keep up with, cut or not.
SUSTAINED_BACKLOG_S = 0.25
MIN_CUT_BACKLOG = 2000
# While the client keeps the queue full it looks at the group's progress this often.
FLOOD_POLL_S = 0.005


# -- the database of the benchmark ------------------------------------------------------------


# -- the client -------------------------------------------------------------------------------


class Workload:
    """bench_engine's workload as the client puts it on the stream, encoded ahead of sending so
    that the client spends its time sending, not building. It grows on demand: between runs,
    and while the client waits on a full queue."""

    def __init__(
        self, seed: int, user_ids: Sequence[int], reply_every: int, reply_keys_out: "Queue[Any]"
    ) -> None:
        self._builder = WorkloadBuilder(seed)
        self._taken = 1  # the builder's first command lists the instrument: the matcher does
        self._user_ids = user_ids
        self._reply_every = reply_every
        self._reply_keys_out = reply_keys_out
        self.envelopes: list[dict[str, str]] = []
        # Positions (in `envelopes`) of the commands that ask for a reply.
        self.sampled: list[int] = []

    def extend(self, count: int) -> None:
        commands = self._builder.build(count)[self._taken :]
        self._taken += len(commands)
        reply_keys = []
        for command in commands:
            position = len(self.envelopes)
            fields = command_to_dict(command)
            # The workload numbers its traders 1..ACCOUNTS; here they are real users.
            fields["user_id"] = self._user_ids[fields["user_id"] - 1]
            fields["ts_ns"] = 0  # the matcher stamps the time when it takes the command
            want_reply = position % self._reply_every == 0
            self.envelopes.append(
                {
                    "command": json.dumps(fields),
                    "request_id": "",
                    "reply": "1" if want_reply else "",
                }
            )
            if want_reply:
                self.sampled.append(position)
                reply_keys.append(keys.reply(command.command_id))
        self._reply_keys_out.put(reply_keys)

    def ensure(self, unsent_from: int, count: int) -> None:
        missing = unsent_from + count - len(self.envelopes)
        if missing > 0:
            self.extend(missing)


def read_replies(
    redis_url: str,
    reply_keys_in: "Queue[Any]",
    stop: ProcessEvent,
    received: "Synchronized[int]",
    results: Connection,
) -> None:
    """The client's reply reader, in a process of its own so that the sender never delays the
    moment a reply is seen. Sends back, per sampled command (in workload order), the monotonic
    ns at which its reply arrived."""
    client = redis.Redis.from_url(redis_url)
    reply_keys: list[str] = []
    arrivals: dict[int, int] = {}
    window: dict[bytes, int] = {}
    upcoming = 0
    while not stop.is_set():
        if not window and upcoming == len(reply_keys):
            # Nothing to wait for: block on the next keys the workload hands over.
            try:
                reply_keys.extend(reply_keys_in.get(timeout=0.2))
            except queue.Empty:
                continue
        while not reply_keys_in.empty():
            reply_keys.extend(reply_keys_in.get_nowait())
        while len(window) < READER_WINDOW and upcoming < len(reply_keys):
            window[reply_keys[upcoming].encode()] = upcoming
            upcoming += 1
        answer = cast(tuple[bytes, bytes] | None, client.blpop(list(window), timeout=0.2))
        if answer is not None:
            arrivals[window.pop(answer[0])] = time.monotonic_ns()
            with received.get_lock():
                received.value += 1
    results.send(arrivals)
    results.close()


def stream_id_key(stream_id: bytes) -> tuple[int, int]:
    ms, _, seq = stream_id.partition(b"-")
    return int(ms), int(seq or 0)


class Sender:
    """Puts the workload on the stream, in order, and watches the consumer group's progress."""

    def __init__(self, workload: Workload) -> None:
        self.client = redis_client()
        self.stream = keys.command_stream(SHARD)
        self.workload = workload
        self.sent = 0
        self.sent_at_ns: list[int] = []
        self._stream_ids: list[tuple[int, int]] = []

    def send(self, count: int) -> None:
        """XADD the next `count` commands in one round trip; all are stamped with its start."""
        self.workload.ensure(self.sent, count)
        chunk = self.workload.envelopes[self.sent : self.sent + count]
        pipe = self.client.pipeline(transaction=False)
        for envelope in chunk:
            pipe.xadd(self.stream, envelope)  # type: ignore[arg-type]
        started = time.monotonic_ns()
        ids = cast(list[bytes], pipe.execute())
        self.sent_at_ns.extend([started] * len(chunk))
        self._stream_ids.extend(map(stream_id_key, ids))
        self.sent += len(chunk)

    def acknowledged(self) -> int:
        """How many of the sent commands the matcher has journaled and acknowledged."""
        pending = cast(dict[str, Any], self.client.xpending(self.stream, keys.CONSUMER_GROUP))
        groups = cast(list[dict[str, Any]], self.client.xinfo_groups(self.stream))
        group = next(g for g in groups if g["name"] == keys.CONSUMER_GROUP.encode())
        delivered = bisect.bisect_right(self._stream_ids, stream_id_key(group["last-delivered-id"]))
        return delivered - int(pending["pending"])

    def wait_drained(self) -> bool:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while self.acknowledged() < self.sent:
            if time.monotonic() > deadline:
                return False
            time.sleep(FLOOD_POLL_S)
        return True

    def flood(self, seconds: float, max_backlog: int) -> tuple[int, float, int]:
        """Keep up to `max_backlog` commands queued for `seconds`. Returns how many the matcher
        acknowledged in that time, the time, and how often the client found the queue empty
        (then the client, not the matcher, was the limit)."""
        started = time.monotonic()
        acknowledged_before = self.acknowledged()
        starved = 0
        while time.monotonic() - started < seconds:
            backlog = self.sent - self.acknowledged()
            if backlog == 0 and self.sent > acknowledged_before:
                starved += 1
            if backlog < max_backlog:
                self.send(min(max_backlog - backlog, SEND_CHUNK))
            elif len(self.workload.envelopes) - self.sent < max_backlog:
                # The queue is full: time to build what comes next.
                self.workload.extend(SEND_CHUNK)
            else:
                time.sleep(FLOOD_POLL_S)
        acknowledged = self.acknowledged() - acknowledged_before
        return acknowledged, time.monotonic() - started, starved

    def open_loop(
        self, rate: float, seconds: float, cut_backlog: int
    ) -> tuple[int, float, bool, int]:
        """Send at `rate` commands/s whatever the matcher does, for `seconds` or until the
        backlog passes `cut_backlog`. Returns the first position sent, the time spent sending,
        whether the run was cut, and the backlog it left."""
        first = self.sent
        self.workload.ensure(first, math.ceil(rate * seconds) + 1)
        started = time.monotonic()
        next_look = started
        cut = False
        while True:
            now = time.monotonic()
            elapsed = now - started
            if elapsed >= seconds:
                break
            if now >= next_look:
                next_look = now + 0.01
                if self.sent - self.acknowledged() > cut_backlog:
                    cut = True
                    break
            due = first + int(elapsed * rate) + 1
            if due > self.sent:
                self.send(min(due - self.sent, SEND_CHUNK))
            else:
                time.sleep(min(1 / rate, 0.001))
        return first, time.monotonic() - started, cut, self.sent - self.acknowledged()


# -- the desk's configuration ------------------------------------------------------------------

# Refused orders cost the pipeline less than accepted ones (no book, no read models): a run
# that refuses more than this share of its orders measures the wrong thing, and fails.
MAX_REJECTED_SHARE = 0.05


def seed_risk_configuration(user_ids: Sequence[int]) -> None:
    """Entitle trader n to the workload's account ACC-n and set the firm's controls wide
    enough that the flow trades. The matcher brings them in at start, as it does a desk's.

    The client derives its cancels' order ids from its own replay of the workload, which
    holds only while the matcher accepts exactly what that replay accepts. The duplicate
    check is therefore off: with real arrival times it would refuse a varying few of the
    synthetic flow's repeats, and every order id after the first refusal would shift.
    bench_engine measures that check's cost with synthetic times."""
    from apps.accounts.models import TradingAccount
    from apps.risk.models import FirmRiskPolicy

    for n, user_id in enumerate(user_ids, start=1):
        account = TradingAccount.objects.create(code=f"ACC-{n}")
        account.traders.add(user_id)
    FirmRiskPolicy.objects.update_or_create(
        pk=FirmRiskPolicy.SINGLETON_PK,
        defaults={
            "authorised_users_only": True,
            # 200 orders a second per trader at 10,000 a second: the throttle counts real
            # traffic without refusing the flow.
            "throttle_messages": 5_000,
            "throttle_cancels": 5_000,
            "duplicate_window_ms": None,
        },
    )


# The workload's commands and the outcomes that tell whether they did what it meant.
WORKLOAD_KINDS = ("new_order", "cancel_order")
OUTCOME_KINDS = ("order_accepted", "order_rejected", "order_cancelled", "cancel_rejected")


def outcome_counts() -> dict[tuple[str, str], int]:
    """The journaled outcomes of the workload's orders and cancels, by kind and reason."""
    from django.db.models import Count

    from apps.audit.models import EventRecord

    rows = (
        EventRecord.objects.filter(shard=SHARD, kind__in=OUTCOME_KINDS)
        .values_list("kind", "reason")
        .annotate(n=Count("id"))
    )
    return {(kind, reason): n for kind, reason, n in rows}


# -- the matcher process ----------------------------------------------------------------------


class MatcherProcess:
    def __init__(self, batch_size: int) -> None:
        env = {**os.environ, "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
        self.lines: list[str] = []
        self.settled = threading.Event()
        self.started = False
        self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, this project's manage.py
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "run_matcher",
                "--shard",
                str(SHARD),
                "--batch-size",
                str(batch_size),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.settled.wait(START_TIMEOUT_S)
        if not self.started:
            self.proc.kill()
            raise CommandError("the matcher did not start:\n" + "".join(self.lines[-30:]))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines = [*self.lines[-200:], line]
            if READY_TEXT in line and not self.started:
                self.started = True
                self.settled.set()
        self.settled.set()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


# -- figures ----------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN: no figure is null."""
    return None if math.isnan(value) else value


@dataclass(slots=True, frozen=True)
class LatencyRun:
    rate: float
    sent: int
    sent_s: float
    cut: bool
    first: int
    last: int  # one past the last position sent
    backlog: int  # queued when the sending stopped

    @property
    def sustained(self) -> bool:
        return not self.cut and self.backlog <= self.rate * SUSTAINED_BACKLOG_S


@dataclass(slots=True, frozen=True)
class Latencies:
    samples: int
    missing: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def latencies(
    run: LatencyRun, workload: Workload, sender: Sender, arrivals: dict[int, int]
) -> Latencies:
    low = bisect.bisect_left(workload.sampled, run.first)
    high = bisect.bisect_left(workload.sampled, run.last)
    values = sorted(
        (arrivals[index] - sender.sent_at_ns[workload.sampled[index]]) / 1e6
        for index in range(low, high)
        if index in arrivals
    )
    return Latencies(
        samples=len(values),
        missing=(high - low) - len(values),
        p50_ms=round(percentile(values, 0.50), 2),
        p90_ms=round(percentile(values, 0.90), 2),
        p99_ms=round(percentile(values, 0.99), 2),
        max_ms=round(values[-1], 2) if values else float("nan"),
    )


class Command(BaseCommand):
    help = (
        "Measure the order pipeline (Redis stream, matcher, journal on PostgreSQL): sustained "
        "orders/s and acknowledgement latency. Uses its own database and Redis keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database-url",
            default=DEFAULT_DATABASE_URL,
            help="PostgreSQL database of the benchmark; dropped and created fresh, so its name "
            "must contain 'bench'.",
        )
        parser.add_argument("--rate", type=float, default=10_000, help="open-loop commands/s")
        parser.add_argument("--latency-seconds", type=float, default=5.0)
        parser.add_argument("--saturation-seconds", type=float, default=10.0)
        parser.add_argument("--reply-every", type=int, default=10, help="1 in N asks a reply")
        parser.add_argument("--batch-size", type=int, default=500, help="the matcher's")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--keep-database", action="store_true")
        # The measuring half, run by this command in a child process on the bench database.
        parser.add_argument("--measure", action="store_true", help="internal")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["measure"]:
            self._measure(options)
        else:
            self._orchestrate(options)

    # -- this process: the database, the child, the clean-up --------------------------------

    def _orchestrate(self, options: dict[str, Any]) -> None:
        database = Database.from_url(options["database_url"])
        prefix = f"bench-{uuid.uuid4().hex[:10]}"
        database.recreate()  # says clearly, and fails, if PostgreSQL is not reachable
        self.stdout.write(
            f"pipeline benchmark: database {database.name} on {database.host}:{database.port} "
            f"(created fresh), Redis key prefix {prefix}, matcher batch {options['batch_size']}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": database.url,
            "MATCHER_KEY_PREFIX": prefix,
            "CHANNEL_LAYER_PREFIX": f"{prefix}:asgi",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        figures = ""
        try:
            migrated = subprocess.run(  # noqa: S603 - this interpreter, this project's manage.py
                [sys.executable, manage, "migrate", "--no-input", "-v", "0"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if migrated.returncode != 0:
                raise CommandError("migrating the benchmark database failed:\n" + migrated.stderr)
            forwarded = [
                f"--{name.replace('_', '-')}={options[name]}"
                for name in (
                    "rate",
                    "latency_seconds",
                    "saturation_seconds",
                    "reply_every",
                    "batch_size",
                    "seed",
                )
            ]
            child = subprocess.Popen(  # noqa: S603 - this interpreter, this project's manage.py
                [sys.executable, manage, "bench_pipeline", "--measure", *forwarded],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert child.stdout is not None
            for line in child.stdout:
                # The figures' JSON goes last, after the clean-up below.
                if line.startswith("{"):
                    figures = line.strip()
                else:
                    self.stdout.write(line.rstrip("\n"))
            if child.wait() != 0 or not figures:
                raise CommandError("the measuring process failed (see above)")
        finally:
            client = redis_client()
            stale = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if stale:
                client.delete(*stale)
            if not options["keep_database"]:
                database.drop()
        self.stdout.write(figures)

    # -- the child: seed, run the matcher, measure ------------------------------------------

    def _measure(self, options: dict[str, Any]) -> None:
        from decimal import Decimal

        from apps.accounts.models import User
        from apps.audit.models import EventRecord
        from apps.instruments.models import Instrument

        batch_size: int = options["batch_size"]
        Instrument.objects.create(
            symbol=SYMBOL,
            name="Benchmark instrument",
            tick_size=Decimal("0.01"),
            lot_size=1,
            reference_price=Decimal(MID_TICKS) / 100,
            max_qty_lots=10_000_000,
        )
        User.objects.bulk_create(User(username=f"bench{n:02d}") for n in range(1, ACCOUNTS + 1))
        user_ids = list(
            User.objects.filter(username__startswith="bench")
            .order_by("username")
            .values_list("pk", flat=True)
        )
        seed_risk_configuration(user_ids)

        # The reply reader is forked before this process starts any thread or connection.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        reply_keys: Queue[Any] = context.Queue()
        # Keys the reader never took must not hold this process up when it exits.
        reply_keys.cancel_join_thread()
        stop_reading = context.Event()
        received = cast("Synchronized[int]", context.Value("q", 0))
        results, results_sender = context.Pipe(duplex=False)
        reader = context.Process(
            target=read_replies,
            args=(settings.REDIS_URL, reply_keys, stop_reading, received, results_sender),
            daemon=True,
        )
        reader.start()

        workload = Workload(options["seed"], user_ids, options["reply_every"], reply_keys)
        workload.extend(INITIAL_WORKLOAD)
        self.stdout.write(
            "workload: bench_engine's mix (60% passive limits, 25% cancels, 15% marketable), "
            f"1 command in {options['reply_every']} asks for a reply"
        )
        matcher = MatcherProcess(batch_size)
        sender = Sender(workload)
        try:
            sender.send(WARM_UP_COMMANDS)
            if not sender.wait_drained():
                raise CommandError("the warm-up did not drain")

            acknowledged, seconds, starved = sender.flood(
                options["saturation_seconds"], max_backlog=4 * batch_size
            )
            throughput = acknowledged / seconds if seconds else 0.0
            self.stdout.write(
                f"saturation: {acknowledged:,} commands journaled and acknowledged in "
                f"{seconds:.1f}s with the queue kept full: {throughput:,.0f} orders/s sustained"
                + (
                    f" (a lower bound: the client let the queue run dry {starved} times)"
                    if starved
                    else ""
                )
            )
            if not sender.wait_drained():
                raise CommandError("the saturation run did not drain")

            cut_backlog = max(MIN_CUT_BACKLOG, round(CUT_BACKLOG_S * throughput))
            target = self._open_loop(
                sender, options["rate"], options["latency_seconds"], cut_backlog
            )
            half = self._open_loop(
                sender, max(1.0, throughput / 2), options["latency_seconds"], cut_backlog
            )
            # The last replies follow the last acknowledgements closely.
            deadline = time.monotonic() + 10
            while received.value < bisect.bisect_left(workload.sampled, sender.sent):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
        finally:
            matcher.stop()
            stop_reading.set()
        arrivals: dict[int, int] = results.recv() if results.poll(10) else {}
        reader.join(10)

        at_target = latencies(target, workload, sender, arrivals)
        at_half = latencies(half, workload, sender, arrivals)
        for run, figures in ((target, at_target), (half, at_half)):
            if run.cut:
                verdict = (
                    f"cut after {run.sent_s:.1f}s, the backlog passed {cut_backlog:,}: this rate "
                    "is not sustained, the latency grows with the queue"
                )
            elif not run.sustained:
                verdict = (
                    f"sent for {run.sent_s:.1f}s, leaving {run.backlog:,} queued: this rate is "
                    "not sustained, the latency grows with the queue"
                )
            else:
                verdict = f"sent for {run.sent_s:.1f}s"
            self.stdout.write(
                f"open loop at {run.rate:,.0f} commands/s: {run.sent:,} sent, {verdict}; ack "
                f"latency over {figures.samples:,} replies: p50 {figures.p50_ms}ms p90 "
                f"{figures.p90_ms}ms p99 {figures.p99_ms}ms max {figures.max_ms}ms"
                + (f" ({figures.missing} replies never came)" if figures.missing else "")
            )
        journaled = (
            EventRecord.objects.filter(shard=SHARD, kind__in=WORKLOAD_KINDS)
            .exclude(stream_id="")
            .count()
        )
        rows = EventRecord.objects.filter(shard=SHARD).count()
        self.stdout.write(
            f"journal: {journaled:,} of {sender.sent:,} commands sent, {rows:,} log rows"
        )
        if journaled != sender.sent:
            raise CommandError("the journal does not hold every command sent")
        outcomes = outcome_counts()
        refusals = {
            f"{kind} {reason}": n
            for (kind, reason), n in outcomes.items()
            if kind in ("order_rejected", "cancel_rejected")
        }
        refused = sum(refusals.values())
        self.stdout.write(
            f"outcomes: {refused:,} of {journaled:,} orders and cancels refused"
            + "".join(f"; {what}: {n:,}" for what, n in sorted(refusals.items()))
        )
        if refused > MAX_REJECTED_SHARE * journaled:
            raise CommandError(
                f"the matcher refused more than {MAX_REJECTED_SHARE:.0%} of the workload: "
                "the run measured refusals, not trading"
            )
        self.stdout.write(
            json.dumps(
                {
                    "orders_per_sec": round(throughput),
                    "ack_p50_ms": finite_or_none(at_target.p50_ms),
                    "ack_p99_ms": finite_or_none(at_target.p99_ms),
                    "ack_rate": round(target.rate),
                    "ack_rate_sustained": target.sustained,
                    "ack_p99_ms_at_half_throughput": finite_or_none(at_half.p99_ms),
                }
            )
        )

    def _open_loop(
        self, sender: Sender, rate: float, seconds: float, cut_backlog: int
    ) -> LatencyRun:
        first, sent_s, cut, backlog = sender.open_loop(rate, seconds, cut_backlog)
        run = LatencyRun(rate, sender.sent - first, sent_s, cut, first, sender.sent, backlog)
        if not sender.wait_drained():
            raise CommandError(f"the open-loop run at {rate:,.0f}/s did not drain")
        return run
