"""Read-model rows carry the trader's own text (accounts, client order ids) exactly as given,
whatever it holds: on PostgreSQL they are written as array literals the desk quotes itself."""

import pytest
from django.db import transaction

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching.engine import (
    DefineInstrument,
    Engine,
    Event,
    NewOrder,
    OrderType,
    Side,
    TimeInForce,
)
from apps.trading.models import Fill, Order, Position
from apps.trading.projection import ReadModelProjector

T0_NS = 1_700_000_000_000_000_000
PRICE_TICKS = 23_250
# What an array literal would otherwise read as a separator, a quote, an escape or a null.
AWKWARD_TEXT = [
    'say "hi"',
    "back\\slash",
    "ends with \\",
    "{braces},comma",
    "NULL",
    " pad ",
    "Zürich ✓",
]


@pytest.mark.django_db
def test_accounts_and_client_order_ids_are_stored_as_given(
    instruments: dict[str, Instrument], trader: User, second_trader: User
) -> None:
    engine = Engine()
    events: list[Event] = engine.apply(
        DefineInstrument("define", T0_NS, "AAPL", reference_price_ticks=PRICE_TICKS)
    )
    for n, text in enumerate(AWKWARD_TEXT):
        # Each pair a tick below the last, so that each buy meets its own sell.
        price = PRICE_TICKS - n
        for user, side, qty in ((trader, Side.SELL, 10), (second_trader, Side.BUY, 4)):
            tag = f"{side} {text}"
            terms = ("AAPL", side, OrderType.LIMIT, TimeInForce.GTC, price, qty, tag)
            events += engine.apply(NewOrder(f"c{n}{side}", T0_NS + n, user.pk, tag, *terms))

    with transaction.atomic():
        ReadModelProjector(0).apply(events)

    for text in AWKWARD_TEXT:
        sell = Order.objects.get(account=f"sell {text}")
        buy = Order.objects.get(account=f"buy {text}")
        assert (sell.client_order_id, buy.client_order_id) == (f"sell {text}", f"buy {text}")
        assert (sell.status, sell.filled_lots, sell.leaves_lots) == ("partially_filled", 4, 6)
        assert (buy.status, buy.filled_lots, buy.leaves_lots) == ("filled", 4, 0)
        assert sorted(
            Fill.objects.filter(order__in=[sell, buy]).values_list("account", flat=True)
        ) == [
            f"buy {text}",
            f"sell {text}",
        ]
        assert Position.objects.get(account=f"buy {text}").qty_lots == 4
        assert Position.objects.get(account=f"sell {text}").qty_lots == -4
