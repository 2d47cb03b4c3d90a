"""Past halts, read back from the event log as the matcher journals them: each halt paired with
what ended it, with the risk manager's reasons for halts and resumes by hand."""

import json
from typing import Any

import pytest
from django.db import transaction

from apps.accounts.models import User
from apps.audit.services import GENESIS_HASH, LogEntry, journal_append
from apps.breakers.selectors import halts_history
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.codec import command_to_dict, event_to_dict
from apps.matching.engine import (
    ClockAdvanced,
    ClockTick,
    HaltInstrument,
    HaltKind,
    HaltRequestDone,
    PauseExtended,
    TradingHalted,
    TradingResumed,
)
from apps.matching.engine.events import Event
from apps.matching.redis import redis_client
from tests.breakers.helpers import BREAKERS, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instruments")]

T0 = 1_782_912_600 * 10**9  # 2026-07-01T13:30:00Z
SECOND = 10**9


class ShardLog:
    """Commands and the events they caused, journaled as the matcher journals them."""

    def __init__(self, shard: int = 0) -> None:
        self.shard = shard
        self.seq = 0
        self.head = GENESIS_HASH
        self.commands = 0

    def _journal(self, command: Any, make_events: list[Any]) -> None:
        self.seq += 1
        entries = [
            LogEntry(
                self.seq, command.ts_ns, command.kind, command.command_id, command_to_dict(command)
            )
        ]
        for make in make_events:
            self.seq += 1
            event: Event = make(self.seq)
            entries.append(
                LogEntry(event.seq, event.ts_ns, event.kind, event.command_id, event_to_dict(event))
            )
        with transaction.atomic():
            self.head = journal_append(self.shard, entries, self.head)

    def _command_id(self) -> str:
        self.commands += 1
        return f"s{self.shard}-c{self.commands}"

    def manual(
        self,
        at_s: int,
        user: User,
        halt: bool,
        symbol: str,
        reason: str,
        auction: tuple[int, int] = (0, 0),
    ) -> None:
        ts = T0 + at_s * SECOND
        cid = self._command_id()
        command = HaltInstrument(cid, ts, user.pk, reason, halt, symbol)
        events: list[Any] = [
            lambda seq: HaltRequestDone(seq, ts, cid, user.pk, halt, symbol, 1, reason)
        ]
        if halt:
            events.append(
                lambda seq: TradingHalted(
                    seq,
                    ts,
                    cid,
                    symbol,
                    HaltKind.MANUAL,
                    f"Halted by a risk manager: {reason}",
                    0,
                    True,
                    user.pk,
                )
            )
        else:
            events.append(lambda seq: TradingResumed(seq, ts, cid, symbol, *auction))
        self._journal(command, events)

    def tick(self, at_s: int, *makers: Any) -> None:
        ts = T0 + at_s * SECOND
        cid = self._command_id()
        events = [lambda seq: ClockAdvanced(seq, ts, cid)]
        events += [lambda seq, m=m: m(seq, ts, cid) for m in makers]
        self._journal(ClockTick(cid, ts), events)


def pause(symbol: str, until_s: int, accepts: bool = True) -> Any:
    return lambda seq, ts, cid: TradingHalted(
        seq,
        ts,
        cid,
        symbol,
        HaltKind.LULD_PAUSE,
        "Limit state for 15 s: a 5-minute trading pause.",
        T0 + until_s * SECOND,
        accepts,
    )


def extended(symbol: str, until_s: int) -> Any:
    return lambda seq, ts, cid: PauseExtended(
        seq, ts, cid, symbol, 2500, 2135, T0 + until_s * SECOND, 1000
    )


def resumed(symbol: str, price_ticks: int, lots: int) -> Any:
    return lambda seq, ts, cid: TradingResumed(seq, ts, cid, symbol, price_ticks, lots)


def test_a_manual_halt_is_paired_with_its_resume_and_both_reasons(risk_manager: User) -> None:
    log = ShardLog()
    log.manual(0, risk_manager, True, "AAPL", "News pending")
    log.manual(60, risk_manager, False, "AAPL", "News out", auction=(23240, 300))
    (halt,) = halts_history()
    assert halt == {
        "symbol": "AAPL",
        "shard": 0,
        "seq": 3,
        "kind": "manual",
        "message": "Halted by a risk manager: News pending",
        "reason": "News pending",
        "halted_by": "rita",
        "since": "2026-07-01T13:30:00Z",
        "until": None,
        "accepts_orders": True,
        "extensions": 0,
        "active": False,
        "ended_at": "2026-07-01T13:31:00Z",
        "ended_by": "resume_request",
        "resumed_by": "rita",
        "resume_reason": "News out",
        "auction_price": "232.40",
        "auction_volume": 300,
    }


def test_a_luld_pause_ends_when_its_time_runs_out_and_counts_its_extensions() -> None:
    log = ShardLog()
    log.tick(0, pause("INTC", 300, accepts=False))
    log.tick(300, extended("INTC", 600))
    log.tick(600, resumed("INTC", 2200, 50))
    (halt,) = halts_history()
    assert halt["kind"] == "luld_pause"
    assert (halt["reason"], halt["halted_by"]) == ("", None)
    assert halt["message"].startswith("Limit state")
    assert halt["accepts_orders"] is False
    assert (halt["extensions"], halt["until"]) == (1, "2026-07-01T13:40:00Z")
    assert (halt["ended_by"], halt["resumed_by"], halt["resume_reason"]) == ("pause_end", None, "")
    assert (halt["auction_price"], halt["auction_volume"]) == ("22.00", 50)


def test_a_halt_nothing_ended_yet_is_active(risk_manager: User) -> None:
    ShardLog().manual(0, risk_manager, True, "AAPL", "Investigating")
    (halt,) = halts_history()
    assert halt["active"] is True
    assert (halt["ended_at"], halt["ended_by"]) == (None, None)


def test_a_reopening_with_nothing_crossed_has_no_auction_price(risk_manager: User) -> None:
    log = ShardLog()
    log.manual(0, risk_manager, True, "AAPL", "x")
    log.manual(5, risk_manager, False, "AAPL", "y", auction=(0, 0))
    (halt,) = halts_history()
    assert (halt["auction_price"], halt["auction_volume"]) == (None, 0)


def test_a_manual_halt_over_a_pause_supersedes_it(risk_manager: User) -> None:
    log = ShardLog()
    log.tick(0, pause("AAPL", 300))
    log.manual(10, risk_manager, True, "AAPL", "Hold it")
    log.manual(20, risk_manager, False, "AAPL", "Go", auction=(23250, 10))
    manual, paused = halts_history()
    assert (paused["kind"], paused["ended_by"], paused["ended_at"]) == (
        "luld_pause",
        "superseded",
        "2026-07-01T13:30:10Z",
    )
    assert (manual["kind"], manual["ended_by"], manual["resume_reason"]) == (
        "manual",
        "resume_request",
        "Go",
    )


def test_halts_come_newest_first_limited_and_filtered_by_symbol(risk_manager: User) -> None:
    log = ShardLog()
    log.tick(0, pause("AAPL", 300))
    log.tick(1, pause("INTC", 301))
    log.tick(300, resumed("AAPL", 23300, 1))
    log.manual(400, risk_manager, True, "AAPL", "again")
    assert [(h["symbol"], h["kind"]) for h in halts_history()] == [
        ("AAPL", "manual"),
        ("INTC", "luld_pause"),
        ("AAPL", "luld_pause"),
    ]
    assert [h["symbol"] for h in halts_history(limit=1)] == ["AAPL"]
    aapl = halts_history(symbol="AAPL")
    assert [(h["kind"], h["active"]) for h in aapl] == [("manual", True), ("luld_pause", False)]
    assert aapl[1]["ended_by"] == "pause_end"


def test_shards_keep_their_own_halts(risk_manager: User) -> None:
    Instrument.objects.filter(symbol="INTC").update(shard=1)
    zero, one = ShardLog(0), ShardLog(1)
    zero.manual(0, risk_manager, True, "AAPL", "zero")
    one.manual(1, risk_manager, True, "INTC", "one")
    one.manual(2, risk_manager, False, "INTC", "one back", auction=(2135, 5))
    intc, aapl = halts_history()
    assert (intc["shard"], intc["active"], intc["resume_reason"]) == (1, False, "one back")
    assert (aapl["shard"], aapl["active"], aapl["reason"]) == (0, True, "zero")


def test_the_api_lists_current_halts_as_published_and_past_halts_from_the_log(
    trader: User, risk_manager: User
) -> None:
    log = ShardLog()
    log.manual(0, risk_manager, True, "AAPL", "News pending")
    published = {
        "symbol": "AAPL",
        "kind": "manual",
        "message": "Halted by a risk manager: News pending",
        "since": "2026-07-01T13:30:00Z",
        "until": None,
        "accepts_orders": True,
        "indicative": {"price": "232.10", "paired": 100, "imbalance": 0, "imbalance_side": ""},
    }
    redis_client().hset(keys.halts_snapshot(0), "AAPL", json.dumps(published))
    body = client_for(trader).get(BREAKERS + "halts/").json()
    assert body["current"] == [published]
    assert [(h["symbol"], h["reason"], h["active"]) for h in body["halts"]] == [
        ("AAPL", "News pending", True)
    ]
    assert client_for(trader).get(BREAKERS + "halts/", {"symbol": "INTC"}).json() == {
        "current": [],
        "halts": [],
    }


def test_without_the_cache_past_halts_are_still_listed(
    trader: User, risk_manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    ShardLog().manual(0, risk_manager, True, "AAPL", "x")

    def down() -> list[dict[str, Any]]:
        raise redis.ConnectionError("down")

    monkeypatch.setattr("apps.breakers.selectors.halts_current", down)
    body = client_for(trader).get(BREAKERS + "halts/").json()
    assert body["current"] is None
    assert len(body["halts"]) == 1
