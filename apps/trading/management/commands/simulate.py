import random
import signal
import threading
import time
from typing import Any

import structlog
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.trading.errors import OrderRejected
from apps.trading.models import Order
from apps.trading.services import OrderRequest, order_cancel, order_submit

log = structlog.get_logger(__name__)

QUANTITIES_IN_LOTS = (10, 25, 50, 100, 200)
# The firm's duplicate-order check refuses an identical order (account, symbol, side, price,
# quantity) within its window, one second by default: a well-behaved algorithm varies its size.
REPEAT_WINDOW_S = 2.0


class Command(BaseCommand):
    help = (
        "Trade a few instruments as a named algorithm, through the same gateway a person uses, "
        "so that a new desk shows a live book."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", default="sim-mm", help="Quotes passively.")
        parser.add_argument(
            "--taker", default="sim-taker", help="Crosses the spread (the quoting user if absent)."
        )
        parser.add_argument("--symbols", default="AAPL,MSFT,AMZN,GOOG,INTC")
        parser.add_argument("--rate", type=float, default=10.0, help="Orders per second.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--max-open", type=int, default=12, help="Working orders per symbol.")
        parser.add_argument("--count", type=int, default=0, help="Stop after N orders (0: run on).")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user {options['user']!r}: run `manage.py seed_demo` first.")
        taker = User.objects.filter(username=options["taker"]).first() or user
        symbols = options["symbols"].split(",")
        instruments = list(Instrument.objects.filter(symbol__in=symbols, is_active=True))
        if not instruments:
            raise CommandError(f"None of {symbols} is listed.")
        rng = random.Random(options["seed"])
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        # A mid price per symbol that wanders in whole ticks around the reference price.
        mid_ticks = {i.symbol: i.price_to_ticks(i.reference_price) or 100 for i in instruments}
        self._recent: dict[tuple[str, str, int, int], float] = {}
        sent = 0
        while not stop.is_set() and (options["count"] == 0 or sent < options["count"]):
            instrument = rng.choice(instruments)
            self._step(user, taker, instrument, mid_ticks, rng, options["max_open"], sent)
            sent += 1
            stop.wait(1.0 / options["rate"])

    def _step(
        self,
        user: User,
        taker: User,
        instrument: Instrument,
        mid_ticks: dict[str, int],
        rng: random.Random,
        max_open: int,
        n: int,
    ) -> None:
        symbol = instrument.symbol
        mid_ticks[symbol] = max(1, mid_ticks[symbol] + rng.choice((-1, 0, 0, 1)))
        working = list(
            Order.objects.filter(user=user, instrument=instrument, status__in=Order.OPEN_STATUSES)
            .order_by("order_id")
            .values_list("order_id", flat=True)
        )
        try:
            if len(working) >= max_open:
                order_cancel(user, working[0])
                return
            side = rng.choice(("buy", "sell"))
            # Mostly passive quotes a few ticks from the mid; about one in three crosses the
            # spread, sent by the taker so that it meets the quotes and prints.
            crosses = rng.random() < 0.3
            offset = -rng.randint(0, 2) if crosses else rng.randint(1, 6)
            price_ticks = (
                mid_ticks[symbol] - offset if side == "buy" else mid_ticks[symbol] + offset
            )
            price_ticks = max(1, price_ticks)
            lots = self._fresh_size(symbol, side, price_ticks, rng.choice(QUANTITIES_IN_LOTS))
            order_submit(
                taker if crosses else user,
                OrderRequest(
                    symbol=symbol,
                    side=side,
                    order_type="limit",
                    price=instrument.ticks_to_price(price_ticks),
                    quantity=instrument.lot_size * lots,
                    # Left resting, the taker's rest would cross the quotes later: it never rests.
                    time_in_force="IOC" if crosses else "GTC",
                    client_order_id=f"sim-{n}-{rng.getrandbits(32):08x}",
                ),
            )
        except OrderRejected as exc:
            log.warning(
                "simulated_order_rejected", symbol=symbol, code=exc.code, reason=exc.message
            )

    def _fresh_size(self, symbol: str, side: str, price_ticks: int, lots: int) -> int:
        """`lots`, or the next size that this price and side have not been sent with lately."""
        now = time.monotonic()
        self._recent = {k: t for k, t in self._recent.items() if now - t < REPEAT_WINDOW_S}
        start = QUANTITIES_IN_LOTS.index(lots)
        for step in range(len(QUANTITIES_IN_LOTS) + 1):
            if step < len(QUANTITIES_IN_LOTS):
                candidate = QUANTITIES_IN_LOTS[(start + step) % len(QUANTITIES_IN_LOTS)]
            else:
                # Every listed size was used lately: one lot more than the largest.
                candidate = QUANTITIES_IN_LOTS[-1] + 1 + len(self._recent)
            if (symbol, side, price_ticks, candidate) not in self._recent:
                break
        self._recent[(symbol, side, price_ticks, candidate)] = now
        return candidate
