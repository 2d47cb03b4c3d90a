from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast


class EventRecord(models.Model):
    """One row of the append-only event log: a command the matcher took off its stream, or an
    event it produced. Gapless `seq` per shard; `hash` covers the row and the previous hash."""

    shard = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()
    ts_ns = models.BigIntegerField(help_text="Integer nanoseconds since the epoch, UTC.")
    kind = models.CharField(max_length=40)
    command_id = models.CharField(max_length=64, blank=True)
    stream_id = models.CharField(max_length=40, blank=True, help_text="Stream entry, for commands.")
    actor_user_id = models.BigIntegerField(null=True)
    account = models.CharField(max_length=32, blank=True)
    symbol = models.CharField(max_length=16, blank=True)
    order_id = models.BigIntegerField(null=True)
    client_order_id = models.CharField(max_length=64, blank=True)
    side = models.CharField(max_length=4, blank=True)
    price_ticks = models.BigIntegerField(null=True)
    qty_lots = models.BigIntegerField(null=True)
    order_type = models.CharField(max_length=16, blank=True)
    time_in_force = models.CharField(max_length=4, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    payload = models.JSONField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shard", "seq"], name="eventrecord_shard_seq_unique")
        ]
        indexes = [
            models.Index(fields=["shard", "command_id"], name="eventrecord_command_idx"),
            # Partial where many rows hold nothing (a book delta has no order, account or
            # actor): a row skips the indexes that could never find it, which the journal's
            # COPY measured about 9 % faster for.
            models.Index(
                fields=["order_id"],
                condition=Q(order_id__isnull=False),
                name="eventrecord_order_idx",
            ),
            # The auditors' search: each filter, in the search's order (time, shard, seq), so
            # that a page over millions of rows is an index range scan, not a table scan.
            models.Index(fields=["ts_ns", "shard", "seq"], name="eventrecord_time_idx"),
            models.Index(
                fields=["symbol", "ts_ns", "shard", "seq"], name="eventrecord_symbol_time_idx"
            ),
            models.Index(
                fields=["account", "ts_ns", "shard", "seq"],
                condition=~Q(account=""),
                name="eventrecord_account_time_idx",
            ),
            models.Index(
                fields=["actor_user_id", "ts_ns", "shard", "seq"],
                condition=Q(actor_user_id__isnull=False),
                name="eventrecord_actor_time_idx",
            ),
            models.Index(
                fields=["kind", "ts_ns", "shard", "seq"], name="eventrecord_kind_time_idx"
            ),
            models.Index(
                fields=["reason", "ts_ns", "shard", "seq"],
                condition=~Q(reason=""),
                name="eventrecord_reason_time_idx",
            ),
            models.Index(
                fields=["client_order_id"],
                condition=~Q(client_order_id=""),
                name="eventrecord_client_order_idx",
            ),
            # A maker's trades carry its order id only in the payload.
            models.Index(
                Cast(KeyTextTransform("maker_order_id", "payload"), models.BigIntegerField()),
                condition=Q(kind="trade"),
                name="eventrecord_trade_maker_idx",
            ),
        ]
        ordering = ["shard", "seq"]

    def __str__(self) -> str:
        return f"{self.shard}:{self.seq} {self.kind}"


class ChainLock(models.Model):
    """One row per chain that several processes append to (the web-side chain): writers lock
    the row for the length of their transaction, so that seq stays gapless and each row links
    to the hash of the row before it."""

    shard = models.PositiveSmallIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"chain lock {self.shard}"


class PurgeGrant(models.Model):
    """Permission for the database to delete event-log rows of one shard up to `through_seq`.

    The append-only triggers refuse every DELETE unless a grant covers the row. The purge
    writes its grant and removes it again inside one transaction, so no other transaction
    ever sees a grant (PostgreSQL), or can run beside it at all (SQLite)."""

    shard = models.PositiveSmallIntegerField(primary_key=True)
    through_seq = models.BigIntegerField()

    def __str__(self) -> str:
        return f"purge grant {self.shard}:{self.through_seq}"


class RetentionCheckpoint(models.Model):
    """The last purged row of a shard: its seq and hash. The first remaining row's prev_hash
    must equal `hash`, so the rest of the chain verifies without the purged prefix."""

    shard = models.PositiveSmallIntegerField(unique=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    ts_ns = models.BigIntegerField(help_text="Time of the last purged row, integer ns UTC.")
    purged_at = models.DateTimeField()

    class Meta:
        ordering = ["shard"]

    def __str__(self) -> str:
        return f"checkpoint {self.shard}:{self.seq}"


class LegalHold(models.Model):
    """Rows that must outlive their retention period: those of an account, an instrument or a
    time range (any combination; a blank criterion matches everything). While a hold is not
    released, the purge stops before the first row it matches on every shard."""

    account = models.CharField(max_length=32, blank=True)
    symbol = models.CharField(max_length=16, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Inclusive; blank: open.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Exclusive; blank: open.")
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="legal_holds_placed"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds_released",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        scope = " ".join(part for part in (self.account, self.symbol) if part) or "all rows"
        return f"hold on {scope}: {self.reason}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The hold must end after it starts."})
