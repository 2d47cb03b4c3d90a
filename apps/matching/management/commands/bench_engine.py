import random
import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.matching.engine import (
    CancelOrder,
    DefineInstrument,
    Engine,
    NewOrder,
    OrderAccepted,
    OrderType,
    Side,
    TimeInForce,
)
from apps.matching.engine import (
    Command as EngineCommand,
)


def order_stream(count: int, seed: int) -> list[EngineCommand]:
    """A seeded mix a busy book sees: passive quotes near the touch, some crossing orders,
    and cancels of resting orders (roughly 60 / 20 / 20)."""
    rng = random.Random(seed)
    commands: list[EngineCommand] = [DefineInstrument(command_id="def", ts_ns=0, symbol="BENCH")]
    issued = 0
    for n in range(1, count + 1):
        roll = rng.random()
        if roll < 0.2 and issued:
            commands.append(
                CancelOrder(command_id=f"x{n}", ts_ns=n, user_id=1, order_id=rng.randint(1, issued))
            )
            continue
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        offset = rng.randint(1, 20) if roll < 0.8 else -rng.randint(0, 5)
        price = 10_000 - offset if side is Side.BUY else 10_000 + offset
        issued += 1
        commands.append(
            NewOrder(
                command_id=f"c{n}",
                ts_ns=n,
                user_id=1,
                account="BENCH",
                symbol="BENCH",
                side=side,
                order_type=OrderType.LIMIT,
                time_in_force=TimeInForce.GTC,
                price_ticks=price,
                qty_lots=rng.randint(1, 50),
                client_order_id=f"o{n}",
            )
        )
    return commands


class Command(BaseCommand):
    help = "Measure the engine alone: commands per second and per-command latency percentiles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--commands", type=int, default=200_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, commands: int, seed: int, **options: Any) -> None:
        stream = order_stream(commands, seed)
        engine = Engine()
        latencies_ns: list[int] = []
        accepted = 0
        clock = time.perf_counter_ns
        started = clock()
        for command in stream:
            before = clock()
            events = engine.apply(command)
            latencies_ns.append(clock() - before)
            accepted += isinstance(events[0], OrderAccepted)
        elapsed_s = (clock() - started) / 1e9
        cuts = statistics.quantiles(latencies_ns, n=1000)
        self.stdout.write(
            f"bench_engine: {len(stream)} commands ({accepted} orders accepted) in "
            f"{elapsed_s:.2f}s = {len(stream) / elapsed_s:,.0f} commands/s; latency "
            f"p50 {cuts[499] / 1e3:.1f}us p99 {cuts[989] / 1e3:.1f}us "
            f"p99.9 {cuts[998] / 1e3:.1f}us max {max(latencies_ns) / 1e3:.1f}us"
        )
