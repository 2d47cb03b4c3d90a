from django.db import models


class EngineSnapshot(models.Model):
    """A matcher's whole engine state as of `seq`, so that recovery replays only the log's tail.

    `head_hash` and `last_stream_id` are the journal's head and the last stream entry the
    snapshot covers; recovery resumes the hash chain and the stream from them.
    """

    shard = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    last_stream_id = models.CharField(max_length=40, blank=True)
    last_ts_ns = models.BigIntegerField()
    state = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shard", "seq"], name="enginesnapshot_shard_seq_unique")
        ]
        ordering = ["shard", "-seq"]

    def __str__(self) -> str:
        return f"shard {self.shard} at seq {self.seq}"
