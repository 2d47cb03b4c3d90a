import functools
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models


# The matcher writes the same few hundred prices, near the touch, into every batch's frames.
@functools.lru_cache(maxsize=65536)
def _price_text(tick_size: Decimal, ticks: int) -> str:
    exponent = min(int(tick_size.normalize().as_tuple().exponent), 0)
    return str((tick_size * ticks).quantize(Decimal(1).scaleb(exponent)))


class Instrument(models.Model):
    """A listed instrument. Prices are whole ticks and quantities whole lots inside the engine;
    the conversions at the edge live here."""

    class LuldTier(models.IntegerChoices):
        NONE = 0, "No price bands (not an NMS stock)"
        TIER_1 = 1, "Tier 1 (S&P 500, Russell 1000, selected ETPs)"
        TIER_2 = 2, "Tier 2 (all other NMS stocks)"

    symbol = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200, blank=True)
    tick_size = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        default=Decimal("0.01"),
        validators=[MinValueValidator(Decimal("0.000001"))],
    )
    lot_size = models.PositiveIntegerField(default=1, help_text="Shares per lot.")
    reference_price = models.DecimalField(max_digits=18, decimal_places=6)
    luld_tier = models.PositiveSmallIntegerField(choices=LuldTier.choices, default=LuldTier.TIER_1)
    halted_accepts_orders = models.BooleanField(
        default=True,
        help_text="While halted or paused, take new limit orders to rest for the reopening "
        "auction (cancels are always taken).",
    )
    index_weight = models.PositiveIntegerField(
        default=0, help_text="Weight in the market-wide circuit breaker's index (0: not in it)."
    )
    previous_close = models.DecimalField(
        max_digits=18,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Yesterday's closing price, from which the market-wide breaker measures.",
    )
    spike_pauses = models.BooleanField(
        default=False, help_text="Pause trading when a volume spike is detected (else alert only)."
    )
    min_qty_lots = models.PositiveIntegerField(default=1)
    max_qty_lots = models.PositiveIntegerField(default=1_000_000)
    shard = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol

    def price_to_ticks(self, price: Decimal) -> int | None:
        """Whole ticks for `price`, or None when it is not on the tick."""
        ticks, remainder = divmod(price, self.tick_size)
        return int(ticks) if remainder == 0 else None

    def ticks_to_price(self, ticks: int) -> Decimal:
        """The price of `ticks`, with as many decimals as the tick has."""
        return Decimal(self.price_text(ticks))

    def price_text(self, ticks: int) -> str:
        """The price of `ticks` as the API and the desks write it: as many decimals as the
        tick has."""
        return _price_text(self.tick_size, ticks)

    def quantity_to_lots(self, quantity: int) -> int | None:
        lots, remainder = divmod(quantity, self.lot_size)
        return lots if remainder == 0 else None

    def lots_to_quantity(self, lots: int) -> int:
        return lots * self.lot_size
