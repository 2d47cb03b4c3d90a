"""Engine benchmark: commands per second, per-command latency, memory per resting order.

The workload is generated once by driving a scratch engine (so that cancels name orders that
are really live and marketable orders really cross one to three levels), then replayed on a
fresh engine, timed. Only the engine's public API is used.
"""

import gc
import json
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.matching.engine import (
    IMPLEMENTATION,
    CancelOrder,
    DefineInstrument,
    Engine,
    MarkToMarket,
    NewOrder,
    OrderAccepted,
    OrderType,
    RiskLimit,
    RiskList,
    SetRiskLimit,
    SetRiskListEntry,
    Side,
    TimeInForce,
)
from apps.matching.engine import Command as EngineCommand

SYMBOL = "BENCH"
MID_TICKS = 10_000
ACCOUNTS = 50
THROUGHPUT_PASSES = 5
# With the controls on, commands arrive 20 us apart (50,000 a second, 1,000 a second per
# trader), so the time windows of the throttle and the duplicate check hold real traffic.
CONTROLLED_SPACING_NS = 20_000
MARK_EVERY = 10_000
DOLLAR = 1_000_000


def risk_policy() -> list[EngineCommand]:
    """Every control configured and active, with limits wide enough that the workload still
    trades: each order meets every check, and few are refused."""
    commands: list[EngineCommand] = []

    def limit(name: RiskLimit, value: int, account: str = "", symbol: str = "") -> None:
        commands.append(
            SetRiskLimit(f"r{len(commands)}", 0, 0, "bench", name, value, account, symbol)
        )

    for name, value in (
        (RiskLimit.COLLAR_BPS, 1_000),
        (RiskLimit.COLLAR_MIN_MICROS, DOLLAR // 2),
        # The synthetic flow repeats price and size often at 1,000 orders a second per
        # trader; a 10 ms window keeps the check (and its pruning) busy without refusing
        # a fifth of the flow as duplicates.
        (RiskLimit.DUPLICATE_WINDOW_NS, 10_000_000),
        (RiskLimit.THROTTLE_WINDOW_NS, 3_000_000_000),
        (RiskLimit.THROTTLE_MESSAGES, 5_000),
        (RiskLimit.THROTTLE_CANCELS, 5_000),
        (RiskLimit.AUTHORISED_USERS_ONLY, 1),
    ):
        limit(name, value)
    limit(RiskLimit.MAX_ORDER_LOTS, 100_000, symbol=SYMBOL)
    limit(RiskLimit.MAX_ORDER_NOTIONAL_MICROS, 10_000_000 * DOLLAR, symbol=SYMBOL)
    for user in range(1, ACCOUNTS + 1):
        account = f"ACC-{user}"
        commands.append(
            SetRiskListEntry(
                f"r{len(commands)}", 0, 0, "bench", RiskList.AUTHORISED, True, account, "", user
            )
        )
        for name, value in (
            (RiskLimit.MAX_ORDER_LOTS, 50_000),
            (RiskLimit.MAX_ORDER_NOTIONAL_MICROS, 5_000_000 * DOLLAR),
            (RiskLimit.CREDIT_LIMIT_MICROS, 10**12 * DOLLAR),
            (RiskLimit.LOSS_WARNING_MICROS, 10**9 * DOLLAR),
            (RiskLimit.LOSS_REDUCE_ONLY_MICROS, 2 * 10**9 * DOLLAR),
            (RiskLimit.LOSS_KILL_MICROS, 3 * 10**9 * DOLLAR),
        ):
            limit(name, value, account)
        limit(RiskLimit.MAX_LONG_LOTS, 10**9, account, SYMBOL)
        limit(RiskLimit.MAX_SHORT_LOTS, 10**9, account, SYMBOL)
    return commands


def _define() -> DefineInstrument:
    return DefineInstrument(
        command_id="define",
        ts_ns=0,
        symbol=SYMBOL,
        max_qty_lots=10_000_000,
        protection_bps=1000,
        reference_price_ticks=MID_TICKS,
    )


def _limit(
    n: int, side: Side, price: int, qty: int, tif: TimeInForce = TimeInForce.GTC, spacing: int = 1
) -> NewOrder:
    user = n % ACCOUNTS + 1
    return NewOrder(
        command_id=f"c{n}",
        ts_ns=n * spacing,
        user_id=user,
        account=f"ACC-{user}",
        symbol=SYMBOL,
        side=side,
        order_type=OrderType.LIMIT,
        time_in_force=tif,
        price_ticks=price,
        qty_lots=qty,
        client_order_id=f"o{n}",
    )


class WorkloadBuilder:
    """60 % passive limits near the touch, 25 % cancels of live orders, 15 % marketable
    orders crossing one to three levels."""

    def __init__(self, seed: int, controls: bool = False) -> None:
        self.rng = random.Random(seed)
        self.engine = Engine()
        self.commands: list[EngineCommand] = []
        self.live: list[int] = []
        self.n = 0
        self.controls = controls
        self.spacing = CONTROLLED_SPACING_NS if controls else 1
        self._apply(_define())
        if controls:
            for command in risk_policy():
                self._apply(command)

    def _apply(self, command: EngineCommand) -> None:
        if self.controls and self.n % MARK_EVERY == 0 and isinstance(command, NewOrder):
            # The matcher's mark-to-market beat, which revalues every account.
            mark = MarkToMarket(f"m{self.n}", self.n * self.spacing)
            self.commands.append(mark)
            self.engine.apply(mark)
        self.commands.append(command)
        outcome = self.engine.apply(command)[self.engine.outcome_index]
        if isinstance(outcome, OrderAccepted) and outcome.order_id in self.engine.orders:
            self.live.append(outcome.order_id)

    def _touch(self, side: Side) -> int | None:
        depth = self.engine.depth(SYMBOL, side, 1)
        return depth[0][0] if depth else None

    def passive(self, spread_ticks: int = 5) -> None:
        rng = self.rng
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        bid, ask = self._touch(Side.BUY), self._touch(Side.SELL)
        if side is Side.BUY:
            top = (ask - 1) if ask is not None else (bid if bid is not None else MID_TICKS)
            price = top - rng.randint(0, spread_ticks)
        else:
            bottom = (bid + 1) if bid is not None else (ask if ask is not None else MID_TICKS + 1)
            price = bottom + rng.randint(0, spread_ticks)
        self.n += 1
        self._apply(_limit(self.n, side, price, rng.randint(1, 20) * 10, spacing=self.spacing))

    def cancel(self) -> None:
        rng, live, orders = self.rng, self.live, self.engine.orders
        while live:
            index = rng.randrange(len(live))
            order_id = live[index]
            live[index] = live[-1]
            live.pop()
            order = orders.get(order_id)
            if order is not None:
                self.n += 1
                self._apply(
                    CancelOrder(
                        command_id=f"x{self.n}",
                        ts_ns=self.n * self.spacing,
                        user_id=order.user_id,
                        order_id=order_id,
                    )
                )
                return
        self.passive()

    def marketable(self) -> None:
        rng = self.rng
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        levels = self.engine.depth(SYMBOL, side.opposite, rng.randint(1, 3))
        if not levels:
            self.passive()
            return
        qty = sum(lots for _, lots, _ in levels)
        self.n += 1
        self._apply(_limit(self.n, side, levels[-1][0], qty, TimeInForce.IOC, spacing=self.spacing))

    def build(self, count: int) -> list[EngineCommand]:
        steps: list[Callable[[], None]] = (
            [self.passive] * 12 + [self.cancel] * 5 + [self.marketable] * 3
        )
        for _ in range(count):
            self.rng.choice(steps)()
        return self.commands

    def deepen(self, resting: int, levels: int) -> None:
        """Rest `resting` orders spread over `levels` prices a side, away from the touch."""
        for i in range(resting):
            side = Side.BUY if i % 2 == 0 else Side.SELL
            offset = 10 + (i // 2) % levels
            price = MID_TICKS - offset if side is Side.BUY else MID_TICKS + offset
            self.n += 1
            self._apply(_limit(self.n, side, price, 100))


def _throughput_pass(commands: list[EngineCommand], warm: int) -> float:
    """Seconds to apply `commands[warm:]` on a fresh engine warmed with the rest."""
    engine = Engine()
    apply = engine.apply
    for command in commands[:warm]:
        apply(command)
    gc.collect()
    gc.disable()  # collection pauses are real, but are measured in the latency pass below
    started = time.perf_counter()
    for command in commands[warm:]:
        apply(command)
    elapsed = time.perf_counter() - started
    gc.enable()
    return elapsed


def _timed(commands: list[EngineCommand], warm: int) -> dict[str, float]:
    """Replay on fresh engines: throughput passes (their median: one pass lasts a fraction
    of a second, and the machine's other work moves it by several percent), then one pass
    for per-command latency."""
    elapsed = statistics.median(_throughput_pass(commands, warm) for _ in range(THROUGHPUT_PASSES))

    engine = Engine()
    apply = engine.apply
    clock = time.perf_counter_ns
    for command in commands[:warm]:
        apply(command)
    # As the matcher does after recovery: the warm book leaves the cyclic collector's scans.
    gc.collect()
    gc.freeze()
    latencies = []
    for command in commands[warm:]:
        before = clock()
        apply(command)
        latencies.append(clock() - before)
    gc.unfreeze()
    cuts = statistics.quantiles(latencies, n=1000)
    measured = len(commands) - warm
    return {
        "commands": measured,
        "commands_per_sec": round(measured / elapsed),
        "p50_us": round(cuts[499] / 1e3, 2),
        "p99_us": round(cuts[989] / 1e3, 2),
        "p999_us": round(cuts[998] / 1e3, 2),
        "max_us": round(max(latencies) / 1e3, 2),
    }


def _bytes_per_resting_order(count: int) -> float:
    commands: list[EngineCommand] = [_define()]
    for i in range(count):
        side = Side.BUY if i % 2 == 0 else Side.SELL
        offset = 1 + (i // 2) % 2000
        price = MID_TICKS - offset if side is Side.BUY else MID_TICKS + offset
        commands.append(_limit(i + 1, side, price, 100))
    gc.collect()
    tracemalloc.start()
    engine = Engine()
    before = tracemalloc.get_traced_memory()[0]
    for command in commands:
        engine.apply(command)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(engine.orders) == count
    return (after - before) / count


class Command(BaseCommand):
    help = "Measure the engine alone: commands/s, latency percentiles, bytes per resting order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--commands", type=int, default=300_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--memory-orders", type=int, default=1_000_000)

    def handle(
        self, *args: Any, commands: int, seed: int, memory_orders: int, **options: Any
    ) -> None:
        # Compiled by mypyc or plain Python: see apps/matching/engine/__init__.py.
        self.stdout.write(f"engine: {IMPLEMENTATION}")
        shallow = WorkloadBuilder(seed)
        shallow_commands = shallow.build(commands)
        shallow_figures = _timed(shallow_commands, warm=len(shallow_commands) // 10)
        self._print("mixed workload, shallow book", shallow_figures, len(shallow.engine.orders))

        controlled = WorkloadBuilder(seed, controls=True)
        controlled_commands = controlled.build(commands)
        controlled_figures = _timed(controlled_commands, warm=len(controlled_commands) // 10)
        self._print(
            "mixed workload, shallow book, every risk control configured and active",
            controlled_figures,
            len(controlled.engine.orders),
        )

        deep = WorkloadBuilder(seed)
        deep.deepen(200_000, levels=1000)
        warm = len(deep.commands)
        deep_commands = deep.build(commands)
        deep_figures = _timed(deep_commands, warm=warm)
        self._print(
            "mixed workload, deep book (200,000 resting, 1,000 levels a side)",
            deep_figures,
            len(deep.engine.orders),
        )

        bytes_per_order = _bytes_per_resting_order(memory_orders)
        self.stdout.write(
            f"memory: {bytes_per_order:.0f} bytes per resting order ({memory_orders:,} resting)"
        )
        self.stdout.write(
            json.dumps(
                {
                    "engine": IMPLEMENTATION,
                    "commands_per_sec": shallow_figures["commands_per_sec"],
                    "p50_us": shallow_figures["p50_us"],
                    "p99_us": shallow_figures["p99_us"],
                    "p999_us": shallow_figures["p999_us"],
                    "controls_commands_per_sec": controlled_figures["commands_per_sec"],
                    "controls_p50_us": controlled_figures["p50_us"],
                    "controls_p99_us": controlled_figures["p99_us"],
                    "deep_commands_per_sec": deep_figures["commands_per_sec"],
                    "deep_p99_us": deep_figures["p99_us"],
                    "bytes_per_resting_order": round(bytes_per_order),
                }
            )
        )

    def _print(self, title: str, figures: dict[str, float], resting: int) -> None:
        self.stdout.write(
            f"{title}: {figures['commands']:,.0f} commands, "
            f"{figures['commands_per_sec']:,.0f} commands/s; latency p50 {figures['p50_us']}us "
            f"p99 {figures['p99_us']}us p99.9 {figures['p999_us']}us max {figures['max_us']}us; "
            f"{resting:,} resting at the end"
        )
