from django.db import models


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
            models.Index(fields=["order_id"], name="eventrecord_order_idx"),
        ]
        ordering = ["shard", "seq"]

    def __str__(self) -> str:
        return f"{self.shard}:{self.seq} {self.kind}"
