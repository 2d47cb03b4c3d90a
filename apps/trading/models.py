"""Read models derived from the event log: orders and fills as traders see them.

Only the matcher writes these, in the same transaction as the log rows they derive from, so
they are never ahead of or behind the log.

The foreign keys of orders and fills are not constraints in the database (Django still
protects the rows they point to). The matcher accepts a command only from a known user and
for a listed instrument, and the rows can be rebuilt from the log; a key check on every row at
every commit cost about a third of the read models' write time in bench_pipeline's workload.
"""

from django.conf import settings
from django.db import models

from apps.instruments.models import Instrument


class Order(models.Model):
    class Status(models.TextChoices):
        NEW = "new"
        PARTIALLY_FILLED = "partially_filled"
        FILLED = "filled"
        CANCELLED = "cancelled"

    OPEN_STATUSES = (Status.NEW, Status.PARTIALLY_FILLED)

    order_id = models.BigIntegerField(unique=True)
    shard = models.PositiveSmallIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        db_constraint=False,
        db_index=False,  # order_user_status_idx starts with the user
    )
    account = models.CharField(max_length=32)
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="orders", db_constraint=False
    )
    client_order_id = models.CharField(max_length=64)
    side = models.CharField(max_length=4)
    order_type = models.CharField(max_length=16)
    time_in_force = models.CharField(max_length=4)
    price_ticks = models.BigIntegerField(help_text="Limit price; 0 for market and stop orders.")
    stop_price_ticks = models.BigIntegerField(default=0)
    display_qty_lots = models.BigIntegerField(default=0, help_text="Iceberg slice; 0 shows all.")
    post_only = models.BooleanField(default=False)
    qty_lots = models.BigIntegerField(help_text="Filled plus open, as last set by the trader.")
    filled_lots = models.BigIntegerField(default=0)
    leaves_lots = models.BigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    reason_code = models.CharField(max_length=40, blank=True)
    created_ts_ns = models.BigIntegerField()
    updated_ts_ns = models.BigIntegerField()

    class Meta:
        ordering = ["-order_id"]
        indexes = [
            models.Index(fields=["user", "status"], name="order_user_status_idx"),
            # A resubmitted client order id is answered from here.
            models.Index(fields=["account", "client_order_id"], name="order_account_coid_idx"),
        ]
        permissions = [
            ("submit_order", "Can submit orders for entitled accounts"),
            ("cancel_order", "Can cancel own orders"),
            ("view_all_orders", "Can view every account's orders"),
            ("cancel_any_order", "Can cancel any account's orders"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.side} {self.qty_lots}@{self.price_ticks} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Fill(models.Model):
    """One side of a trade, as the owner of the order sees it."""

    class Liquidity(models.TextChoices):
        MAKER = "maker"
        TAKER = "taker"

    trade_id = models.BigIntegerField()
    shard = models.PositiveSmallIntegerField()
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="fills", db_constraint=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="fills",
        db_constraint=False,
    )
    account = models.CharField(max_length=32)
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="fills", db_constraint=False
    )
    side = models.CharField(max_length=4)
    price_ticks = models.BigIntegerField()
    qty_lots = models.BigIntegerField()
    liquidity = models.CharField(max_length=5, choices=Liquidity.choices)
    ts_ns = models.BigIntegerField()

    class Meta:
        ordering = ["-ts_ns", "-trade_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shard", "trade_id", "liquidity"], name="fill_trade_side_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.trade_id} {self.side} {self.qty_lots}@{self.price_ticks}"


class Position(models.Model):
    """An account's net position in an instrument, from its fills.

    Integers throughout: `cost_ticks` is the open position's cost (sum of price ticks * lots
    of the lots still open), so the average price is cost / |qty|; `realised_pnl_ticks` is in
    tick-lots (* tick size * lot size = currency). Closing lots take their share of the cost
    with integer division and the remainder stays in the cost, so no fraction of a tick is lost.
    """

    account = models.CharField(max_length=32)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="positions")
    qty_lots = models.BigIntegerField(default=0, help_text="Signed: long > 0, short < 0.")
    cost_ticks = models.BigIntegerField(default=0)
    realised_pnl_ticks = models.BigIntegerField(default=0)
    bought_lots = models.BigIntegerField(default=0)
    sold_lots = models.BigIntegerField(default=0)
    updated_ts_ns = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["account", "instrument__symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "instrument"], name="position_account_instrument_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.instrument_id} {self.qty_lots}"

    def apply_fill(self, side: str, price_ticks: int, qty_lots: int, ts_ns: int) -> None:
        signed = qty_lots if side == "buy" else -qty_lots
        if side == "buy":
            self.bought_lots += qty_lots
        else:
            self.sold_lots += qty_lots
        self.updated_ts_ns = ts_ns
        if self.qty_lots == 0 or (self.qty_lots > 0) == (signed > 0):
            self.qty_lots += signed
            self.cost_ticks += price_ticks * qty_lots
            return
        held = abs(self.qty_lots)
        closing = min(qty_lots, held)
        cost_closed = self.cost_ticks * closing // held
        direction = 1 if self.qty_lots > 0 else -1
        self.realised_pnl_ticks += direction * (price_ticks * closing - cost_closed)
        self.cost_ticks -= cost_closed
        self.qty_lots += signed
        if closing < qty_lots:
            # The fill went through flat: the rest opens a position the other way.
            self.cost_ticks = price_ticks * (qty_lots - closing)
