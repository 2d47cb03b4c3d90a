import json
import zlib
from typing import Any

import orjson
from django.db import models


def pack_state(state: dict[str, Any]) -> bytes:
    """An engine state as stored: its JSON, compressed. orjson writes it (the standard encoder
    holds the interpreter for tens of ms over a day's megabytes) unless it holds an integer
    beyond 64 bits, which only the standard one takes. zlib's fastest level runs without the
    interpreter lock; the database then stores bytes instead of parsing and compressing JSON
    on the journal's cores: 1.05 MB of bench_pipeline's state is 0.28 MB, in about 5 ms."""
    try:
        text = orjson.dumps(state)
    except TypeError:
        text = json.dumps(state, separators=(",", ":")).encode()
    return zlib.compress(text, 1)


def unpack_state(data: bytes) -> dict[str, Any]:
    # The standard parser: orjson would read an integer beyond 64 bits as a float.
    state: dict[str, Any] = json.loads(zlib.decompress(data))
    return state


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
    client_order_ids_since_seq = models.BigIntegerField(
        default=0,
        help_text="The session of the client order ids the state counts: the seq of the event "
        "that began it. Its pages up to `seq` hold the ids.",
    )
    state_zlib = models.BinaryField(help_text="The state: pack_state's compressed JSON.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shard", "seq"], name="enginesnapshot_shard_seq_unique")
        ]
        ordering = ["shard", "-seq"]

    def __str__(self) -> str:
        return f"shard {self.shard} at seq {self.seq}"

    @property
    def state(self) -> dict[str, Any]:
        return unpack_state(bytes(self.state_zlib))


class ClientOrderIdPage(models.Model):
    """The client order ids a shard's accounts used in one session between two snapshots.

    A snapshot leaves the session's ids out (they grow all day, and storing them all every
    50,000 commands made each snapshot cost more than the last); each id is stored once, in
    the page written with the first snapshot after its use. `ids` maps an account to
    `[start, [id, …]]`: the ids it used from its `start`-th of the session on, in order. The
    pages of a session up to a snapshot's seq, read in seq order, give back every id.
    """

    shard = models.PositiveSmallIntegerField()
    session_seq = models.BigIntegerField(
        help_text="The seq of the event that began the session (0: the engine's first)."
    )
    seq = models.BigIntegerField(help_text="The seq of the snapshot stored with the page.")
    ids_zlib = models.BinaryField(help_text="The ids: pack_state's compressed JSON.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shard", "session_seq", "seq"], name="clientorderidpage_unique"
            )
        ]
        ordering = ["shard", "session_seq", "seq"]

    def __str__(self) -> str:
        return f"shard {self.shard}, session from seq {self.session_seq}, up to seq {self.seq}"

    @property
    def ids(self) -> dict[str, list[Any]]:
        ids: dict[str, list[Any]] = unpack_state(bytes(self.ids_zlib))
        return ids
