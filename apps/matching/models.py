import json
from typing import Any

import orjson
from django.db import models


class StateEncoder(json.JSONEncoder):
    """Writes a snapshot's state with orjson. A day's state runs to megabytes, and the
    standard encoder holds the interpreter for the whole of it (tens of ms) while the matcher
    waits; the state is plain data (string keys, integers, text), which both write alike."""

    def encode(self, o: Any) -> str:
        try:
            return orjson.dumps(o).decode()
        except TypeError:
            return super().encode(o)


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
    state = models.JSONField(encoder=StateEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shard", "seq"], name="enginesnapshot_shard_seq_unique")
        ]
        ordering = ["shard", "-seq"]

    def __str__(self) -> str:
        return f"shard {self.shard} at seq {self.seq}"
