"""The breaker stage over random days (Hypothesis): orders of every kind around a banded
instrument's band, cancels, modifies, the clock running through limit states and pauses,
manual halts and resumes, volume-spike pauses.

After every command: one outcome first, gapless sequence numbers, no crossed book outside a
halt (tests/engine/test_halts.py checks those), no print outside the band in force outside a
reopening auction, no print at all while halted, and every order's lots and the risk stage's
working quantities agree with the events. At the end, a snapshot taken halfway replays the
rest to identical events.
"""

import json
import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.matching.engine import (
    BreakerParameter,
    CancelOrder,
    ClockTick,
    Command,
    DefineInstrument,
    Engine,
    Event,
    HaltInstrument,
    ModifyOrder,
    NewOrder,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderType,
    SetBreakerParameter,
    Side,
    TimeInForce,
    Trade,
    TradingHalted,
    TradingResumed,
)
from tests.engine.test_halts import check_command_events

SECOND = 1_000_000_000
SYMBOL = "AAPL"
REFERENCE = 10_000

WAITS_NS = (0, SECOND, 10 * SECOND, 16 * SECOND, 60 * SECOND, 301 * SECOND)


def script_of(rng: random.Random, length: int) -> list[tuple[Any, ...]]:
    """A day's steps: mostly orders priced on both sides of the band, some cancels and
    modifies, the clock running (sometimes without a tick, so that the next command finds the
    timers due), now and then a manual halt or resume."""
    script: list[tuple[Any, ...]] = []
    for _ in range(length):
        roll = rng.random()
        if roll < 0.65:
            how = rng.choices(["GTC", "DAY", "IOC", "FOK", "MARKET"], [35, 10, 25, 10, 20])[0]
            side = rng.choice([Side.BUY, Side.SELL])
            price = REFERENCE + 50 * rng.randint(-24, 24)
            script.append(("order", rng.randint(1, 3), side, how, price, rng.randint(1, 40)))
        elif roll < 0.75:
            script.append(("cancel", rng.randrange(1_000)))
        elif roll < 0.82:
            price = REFERENCE + 50 * rng.randint(-24, 24)
            script.append(("modify", rng.randrange(1_000), price, rng.randint(1, 40)))
        elif roll < 0.97:
            script.append(("wait", rng.choice(WAITS_NS), rng.random() < 0.7))
        else:
            script.append(("halt", rng.random() < 0.5))
    return script


@dataclass
class Day:
    engine: Engine = field(default_factory=Engine)
    now: int = SECOND
    count: int = 0
    commands: list[Command] = field(default_factory=list)
    outcomes: list[list[Event]] = field(default_factory=list)
    # Every order's lots left, as the events tell it, and its account and side.
    leaves: dict[int, int] = field(default_factory=dict)
    owners: dict[int, tuple[int, str, Side]] = field(default_factory=dict)

    def next_id(self) -> str:
        self.count += 1
        return f"c{self.count}"

    def send(self, command: Command) -> list[Event]:
        engine = self.engine
        instrument = engine.instruments.get(SYMBOL)
        halted_before = SYMBOL in engine.halts()
        band = None
        if instrument is not None and instrument.luld_tier:
            # The band the command will see: the same question asked at its time.
            stage = engine.breakers
            band = stage.band(instrument, max(command.ts_ns, stage.now_ns), peek=True)
        events = engine.apply(command)
        self.commands.append(command)
        self.outcomes.append(events)
        check_command_events(engine, events)
        trades = [e for e in events if isinstance(e, Trade)]
        reopened = any(isinstance(e, TradingResumed) for e in events)
        # Walk the events in order: a command that finds a pause's timer due reopens by
        # auction (whose prints follow TradingResumed) before its own halt applies.
        halted = halted_before
        for event in events:
            if isinstance(event, TradingResumed):
                halted = False
            elif isinstance(event, TradingHalted):
                halted = True
            elif isinstance(event, Trade):
                assert not halted, f"a trade while halted: {event}"
        if band is not None and not reopened:
            for trade in trades:
                assert band.lower_ticks <= trade.price_ticks <= band.upper_ticks
        self.follow(events)
        return events

    def follow(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, OrderAccepted):
                self.leaves[event.order_id] = event.qty_lots
                self.owners[event.order_id] = (event.user_id, event.account, event.side)
            elif isinstance(event, Trade):
                self.leaves[event.maker_order_id] = event.maker_leaves_lots
                self.leaves[event.taker_order_id] = event.taker_leaves_lots
            elif isinstance(event, OrderCancelled):
                self.leaves[event.order_id] = 0
            elif isinstance(event, OrderModified):
                self.leaves[event.order_id] = event.leaves_lots

    def check_ledger(self) -> None:
        engine = self.engine
        working = {oid: lots for oid, lots in self.leaves.items() if lots}
        assert {oid: o.leaves_lots for oid, o in engine.orders.items()} == working
        for account_code, account in engine.risk.accounts.items():
            holding = account.holdings.get(SYMBOL)
            if holding is None:
                continue
            for side, lots in ((Side.BUY, holding.working_buy_lots), (Side.SELL,
                               holding.working_sell_lots)):  # fmt: skip
                assert lots == sum(
                    left
                    for oid, left in working.items()
                    if self.owners[oid][1] == account_code and self.owners[oid][2] is side
                )
        assert sum(a.holdings[SYMBOL].position_lots for a in engine.risk.accounts.values()) == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tier=st.sampled_from([1, 2]),
    accepts=st.booleans(),
    spike_pauses=st.booleans(),
    rng=st.randoms(use_true_random=False),
    length=st.integers(20, 120),
)
def test_random_days_keep_the_breaker_invariants_and_replay(
    tier: int, accepts: bool, spike_pauses: bool, rng: random.Random, length: int
) -> None:
    script = script_of(rng, length)
    day = Day()
    day.send(
        DefineInstrument(
            day.next_id(),
            day.now,
            SYMBOL,
            reference_price_ticks=REFERENCE,
            luld_tier=tier,
            halted_accepts_orders=accepts,
            spike_pauses=spike_pauses,
        )
    )
    day.send(
        SetBreakerParameter(
            day.next_id(), day.now, 9, "busy", BreakerParameter.SPIKE_MIN_LOTS, 60, SYMBOL
        )
    )
    accepted: list[int] = []
    for step in script:
        kind = step[0]
        if kind == "order":
            _, user, side, how, price, qty = step
            market = how == "MARKET"
            command_id = day.next_id()
            events = day.send(
                NewOrder(
                    command_id,
                    day.now,
                    user,
                    f"ACC-{user}",
                    SYMBOL,
                    side,
                    OrderType.MARKET if market else OrderType.LIMIT,
                    TimeInForce.IOC if market else TimeInForce(how),
                    0 if market else price,
                    qty,
                    command_id,
                )
            )
            outcome = events[day.engine.outcome_index]
            if isinstance(outcome, OrderAccepted):
                accepted.append(outcome.order_id)
        elif kind in ("cancel", "modify") and accepted:
            order_id = accepted[step[1] % len(accepted)]
            user = day.owners[order_id][0]
            if kind == "cancel":
                day.send(CancelOrder(day.next_id(), day.now, user, order_id))
            else:
                _, _, price, qty = step
                day.send(ModifyOrder(day.next_id(), day.now, user, order_id, price, qty))
        elif kind == "wait":
            _, wait_ns, tick = step
            day.now += wait_ns
            if tick:
                day.send(ClockTick(day.next_id(), day.now))
        elif kind == "halt":
            day.send(HaltInstrument(day.next_id(), day.now, 9, "drill", bool(step[1]), SYMBOL))
        day.check_ledger()

    half = len(day.commands) // 2
    first = Engine()
    for command in day.commands[:half]:
        first.apply(command)
    restored = Engine.restore(json.loads(json.dumps(first.snapshot())))
    assert [restored.apply(command) for command in day.commands[half:]] == day.outcomes[half:]
    assert restored.snapshot() == day.engine.snapshot()
