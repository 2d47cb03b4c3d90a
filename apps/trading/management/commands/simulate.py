import random
import signal
import threading
from typing import Any

import structlog
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.trading.errors import OrderRejected
from apps.trading.models import Order
from apps.trading.services import OrderRequest, order_cancel, order_submit

log = structlog.get_logger(__name__)


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
            order_submit(
                taker if crosses else user,
                OrderRequest(
                    symbol=symbol,
                    side=side,
                    order_type="limit",
                    price=instrument.ticks_to_price(max(1, price_ticks)),
                    quantity=instrument.lot_size * rng.choice((10, 25, 50, 100, 200)),
                    # Left resting, the taker's rest would cross the quotes later: it never rests.
                    time_in_force="IOC" if crosses else "GTC",
                    client_order_id=f"sim-{n}-{rng.getrandbits(32):08x}",
                ),
            )
        except OrderRejected as exc:
            log.warning(
                "simulated_order_rejected", symbol=symbol, code=exc.code, reason=exc.message
            )
