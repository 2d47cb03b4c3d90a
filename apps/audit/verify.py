"""Proving the event log unaltered: walk each shard's chain and recompute every hash.

A shard's chain starts at its retention checkpoint when a purge has removed its oldest rows
(the first remaining row must link to the checkpoint's hash), else at seq 1 after the genesis
hash. Each row must have the next seq, name the previous row's hash, hash to its stored hash
exactly as `journal_append` computed it, and hold the searchable columns its payload gives.
"""

from dataclasses import dataclass, field
from typing import Any

from apps.audit.models import EventRecord, RetentionCheckpoint
from apps.audit.services import (
    GENESIS_HASH,
    RECORD_COLUMNS,
    LogEntry,
    entry_hash,
    record_columns,
    web_event_record,
)

CHUNK_ROWS = 5000
# A purge that commits while a shard is being walked moves the checkpoint under the walk;
# the walk then starts again from the new checkpoint, a bounded number of times.
CHECKPOINT_RACE_RETRIES = 3

_HASHED_FIELDS = ("seq", "ts_ns", "kind", "command_id", "stream_id", "payload", "prev_hash", "hash")
_ROW_FIELDS = (*_HASHED_FIELDS, *RECORD_COLUMNS)
# What a column holds when the payload does not give it: "" for text, NULL for numbers.
_COLUMN_DEFAULTS: dict[str, Any] = {
    field.name: field.get_default()
    for field in EventRecord._meta.concrete_fields
    if field.name in RECORD_COLUMNS
}


@dataclass(slots=True, frozen=True)
class BadRow:
    shard: int
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"shard {self.shard} seq {self.seq} does not verify: {self.reason}"


@dataclass(slots=True)
class VerifyResult:
    intact: bool
    checked: int
    # Shard → the last seq that verified (the checkpoint's seq if no row after it did).
    heads: dict[int, int]
    first_bad: BadRow | None
    # Shard → its first bad row, for every broken shard (first_bad is the lowest shard's).
    bad_rows: dict[int, BadRow] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class ChainStart:
    seq: int
    hash: str
    described: str

    @classmethod
    def of_shard(cls, shard: int) -> "ChainStart":
        checkpoint = RetentionCheckpoint.objects.filter(shard=shard).first()
        if checkpoint is None:
            return cls(0, GENESIS_HASH, "the genesis hash")
        return cls(
            checkpoint.seq,
            checkpoint.hash,
            f"the hash of the retention checkpoint at seq {checkpoint.seq}",
        )


@dataclass(slots=True, frozen=True)
class ShardWalk:
    """How far a shard's chain verified: rows checked, the last good row, the first bad."""

    shard: int
    checked: int
    head_seq: int
    head_hash: str
    bad: BadRow | None


def _missing(after_seq: int, found_seq: int) -> str:
    if found_seq - after_seq == 2:
        return f"seq {after_seq + 1} is missing"
    return f"seqs {after_seq + 1} to {found_seq - 1} are missing"


def _row_fault(
    shard: int, row: dict[str, Any], prev_seq: int, prev_hash: str, prev_described: str
) -> str | None:
    """Why `row` does not follow (prev_seq, prev_hash), or None if it does."""
    seq = row["seq"]
    if seq != prev_seq + 1:
        if prev_seq == 0:
            return f"it is the first row, but {_missing(0, seq)} and no checkpoint covers them"
        return f"it follows seq {prev_seq}: {_missing(prev_seq, seq)}"
    if row["prev_hash"] != prev_hash:
        return f"its prev_hash does not match {prev_described}"
    entry = LogEntry(
        seq=seq,
        ts_ns=row["ts_ns"],
        kind=row["kind"],
        command_id=row["command_id"],
        payload=row["payload"],
        stream_id=row["stream_id"],
    )
    if entry_hash(prev_hash, shard, entry) != row["hash"]:
        return "its stored hash does not match its content"
    derived = record_columns(row["payload"])
    for name in RECORD_COLUMNS:
        expected = derived.get(name, _COLUMN_DEFAULTS[name])
        if row[name] != expected:
            return f"its {name} column ({row[name]!r}) does not match its payload ({expected!r})"
    return None


def shard_walk(
    shard: int, start_seq: int, start_hash: str, start_described: str, through_seq: int | None
) -> ShardWalk:
    """Verify `shard`'s rows after `start_seq` (up to `through_seq`), streaming in seq order."""
    rows = EventRecord.objects.filter(shard=shard, seq__gt=start_seq).order_by("seq")
    if through_seq is not None:
        rows = rows.filter(seq__lte=through_seq)
    prev_seq, prev_hash, prev_described = start_seq, start_hash, start_described
    checked = 0
    for row in rows.values(*_ROW_FIELDS).iterator(chunk_size=CHUNK_ROWS):
        fault = _row_fault(shard, row, prev_seq, prev_hash, prev_described)
        if fault is not None:
            return ShardWalk(shard, checked, prev_seq, prev_hash, BadRow(shard, row["seq"], fault))
        checked += 1
        prev_seq, prev_hash = row["seq"], row["hash"]
        prev_described = f"the hash of seq {prev_seq}"
    return ShardWalk(shard, checked, prev_seq, prev_hash, None)


def shard_verify(shard: int, through_seq: int | None = None) -> ShardWalk:
    """Verify one shard from its retention checkpoint (or genesis)."""
    for _ in range(CHECKPOINT_RACE_RETRIES):
        start = ChainStart.of_shard(shard)
        walk = shard_walk(shard, start.seq, start.hash, start.described, through_seq)
        if walk.bad is None or ChainStart.of_shard(shard) == start:
            return walk
    return walk


def shards_present() -> list[int]:
    """Every shard with rows or a checkpoint, one index seek per shard."""
    shards: set[int] = set(RetentionCheckpoint.objects.values_list("shard", flat=True))
    after = -1
    while True:
        next_shard = (
            EventRecord.objects.filter(shard__gt=after)
            .order_by("shard", "seq")
            .values_list("shard", flat=True)
            .first()
        )
        if next_shard is None:
            return sorted(shards)
        shards.add(next_shard)
        after = next_shard


def chain_verify(shard: int | None = None) -> VerifyResult:
    """Verify one shard's chain, or every shard's."""
    shards = [shard] if shard is not None else shards_present()
    result = VerifyResult(intact=True, checked=0, heads={}, first_bad=None)
    for each in shards:
        walk = shard_verify(each)
        result.checked += walk.checked
        result.heads[each] = walk.head_seq
        if walk.bad is not None:
            result.bad_rows[each] = walk.bad
            result.intact = False
            if result.first_bad is None:
                result.first_bad = walk.bad
    return result


def result_lines(result: VerifyResult) -> list[str]:
    """One sentence per shard, as the command prints them and the audit page shows them."""
    if not result.heads:
        return ["the event log has no rows to verify"]
    lines = []
    for shard, head in result.heads.items():
        bad = result.bad_rows.get(shard)
        if bad is not None:
            lines.append(f"{bad} (chain intact up to seq {head})")
        else:
            lines.append(f"chain intact up to seq {head} on shard {shard}")
    return lines


def result_as_dict(result: VerifyResult) -> dict[str, Any]:
    """The result in JSON-ready form (keys are strings), for the log and the API."""
    return {
        "intact": result.intact,
        "checked": result.checked,
        "heads": {str(shard): head for shard, head in result.heads.items()},
        "first_bad": None
        if result.first_bad is None
        else {
            "shard": result.first_bad.shard,
            "seq": result.first_bad.seq,
            "reason": result.first_bad.reason,
        },
    }


def verification_record(result: VerifyResult, *, actor_user_id: int | None) -> EventRecord:
    """Log a verification on the web-side chain, so that auditors see when it ran and what
    it found (the API, the command and the nightly task all record theirs)."""
    return web_event_record(
        "audit.verified",
        actor_user_id=actor_user_id,
        payload=result_as_dict(result),
        reason="" if result.intact else "chain_broken",
    )
