"""Appending to the event log.

Each shard's matcher is the only writer of that shard's rows (`journal_prepare` hashes a
batch, `journal_write` stores it; `journal_append` does both). Web-side
events (logins, role and entitlement changes, audit searches and exports, verifications,
purges) have their own chain, shard WEB_SHARD, which many processes append to through
`web_event_record`.
"""

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connections, router, transaction

from apps.audit.models import ChainLock, EventRecord, RetentionCheckpoint

GENESIS_HASH = "0" * 64
# The web tier's chain. Matcher shards are small numbers; this is the largest value the
# shard column holds on every database, so the two can never meet.
WEB_SHARD = 32767
# Columns copied out of the payload so that auditors can search on them.
_INDEXED = (
    "account",
    "symbol",
    "order_id",
    "client_order_id",
    "side",
    "price_ticks",
    "qty_lots",
    "order_type",
    "time_in_force",
    "reason",
)
# Every column that `record_columns` derives from a payload.
RECORD_COLUMNS = (*_INDEXED, "actor_user_id")

# The user on whose behalf the current code runs, for events a signal records without a
# request in hand (a role change made in the admin, say). Set it with `acting_user`.
acting_user_id: ContextVar[int | None] = ContextVar("audit_acting_user_id", default=None)


@dataclass(slots=True, frozen=True)
class LogEntry:
    seq: int
    ts_ns: int
    kind: str
    command_id: str
    payload: dict[str, Any]
    stream_id: str = ""


@dataclass(slots=True, frozen=True)
class ChainTail:
    """Where a shard's chain ends: the seq, hash and time of its last row (or of the retention
    checkpoint when every row has been purged; seq 0 and the genesis hash when it is new)."""

    seq: int
    hash: str
    ts_ns: int


# Built once: `json.dumps` with these options would build an encoder on every call, and the
# journal calls this for every row.
_canonical_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    return _canonical_encoder.encode(value)


def payload_canonical_json(payload: dict[str, Any]) -> str:
    """`canonical_json` of a matcher's payload, byte for byte (a property test holds it to
    that), several times faster. Payloads hold no floats, whose spelling orjson and the
    standard library do not share (money and quantities are integers)."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        # An integer beyond 64 bits, or a key that is not a string: orjson refuses both.
        return canonical_json(payload)


_dumps_text = json.JSONEncoder(ensure_ascii=False).encode


def hashed_body(shard: int, entry: LogEntry, payload_json: str) -> str:
    """The canonical JSON of a row's hashed content: exactly `canonical_json` of the object
    {shard, seq, ts_ns, kind, command_id, stream_id, payload}, keys in sorted order, assembled
    around the payload's own canonical JSON (`payload_json`) so that the payload, the bulk of
    the row, is encoded once for both the hash and the insert."""
    return (
        f'{{"command_id":{_dumps_text(entry.command_id)},"kind":{_dumps_text(entry.kind)},'
        f'"payload":{payload_json},"seq":{int(entry.seq)},"shard":{int(shard)},'
        f'"stream_id":{_dumps_text(entry.stream_id)},"ts_ns":{int(entry.ts_ns)}}}'
    )


def entry_hash(prev_hash: str, shard: int, entry: LogEntry, payload_json: str = "") -> str:
    body = hashed_body(shard, entry, payload_json or canonical_json(entry.payload))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record_columns(payload: dict[str, Any]) -> dict[str, Any]:
    """The searchable columns of a row, derived from its payload.

    The hash covers the payload, not these columns; verification derives them again with this
    same function, so a column edited on its own does not go unnoticed."""
    columns: dict[str, Any] = {
        name: payload[name] for name in _INDEXED if payload.get(name) is not None
    }
    if "order_id" not in columns and "taker_order_id" in payload:
        columns["order_id"] = payload["taker_order_id"]
    columns["actor_user_id"] = payload.get("user_id", payload.get("taker_user_id"))
    return columns


def _record(shard: int, entry: LogEntry, prev_hash: str) -> EventRecord:
    return EventRecord(
        shard=shard,
        seq=entry.seq,
        ts_ns=entry.ts_ns,
        kind=entry.kind,
        command_id=entry.command_id,
        stream_id=entry.stream_id,
        payload=entry.payload,
        prev_hash=prev_hash,
        hash=entry_hash(prev_hash, shard, entry),
        **record_columns(entry.payload),
    )


def chain_tail(shard: int) -> ChainTail:
    last = (
        EventRecord.objects.filter(shard=shard)
        .order_by("-seq")
        .values_list("seq", "hash", "ts_ns")
        .first()
    )
    if last is not None:
        return ChainTail(*last)
    checkpoint = RetentionCheckpoint.objects.filter(shard=shard).first()
    if checkpoint is not None:
        return ChainTail(checkpoint.seq, checkpoint.hash, checkpoint.ts_ns)
    return ChainTail(0, GENESIS_HASH, 0)


def last_hash(shard: int) -> str:
    return chain_tail(shard).hash


# Every stored column but the row id: the order the journal COPYs them in and the order the
# auditors' CSV export writes them in.
STORED_COLUMNS = (
    "shard",
    "seq",
    "ts_ns",
    "kind",
    "command_id",
    "stream_id",
    "actor_user_id",
    *_INDEXED,
    "payload",
    "prev_hash",
    "hash",
)
_RECORD_FIELDS = {field.name: field for field in EventRecord._meta.concrete_fields}
# What a searchable column holds when the payload does not give it ("" for text, NULL for
# numbers), as the model's defaults say.
_INDEXED_DEFAULTS: tuple[tuple[str, Any], ...] = tuple(
    (name, _RECORD_FIELDS[name].get_default()) for name in _INDEXED
)


@dataclass(slots=True)
class JournalBatch:
    """A batch of log rows, hashed and ready to append: COPY data (rows of STORED_COLUMNS in
    COPY's text format) on PostgreSQL, model instances elsewhere."""

    copy_data: bytes
    records: list[EventRecord]
    head_hash: str


def _journal_database() -> Any:
    return connections[router.db_for_write(EventRecord)]


# COPY's text format: a backslash, and the characters that would end a field or a row, are
# written as backslash escapes; NULL is \N.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Stands for NULL while a row is assembled: a control character, which the matcher's text
# refuses and JSON escapes.
_NULL = "\x01"


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return str(value).translate(_COPY_ESCAPES)
    return f"{value:d}"  # the other columns are integers


def copy_line(values: list[Any]) -> str:
    """One row in COPY's text format: integers, text and NULLs."""
    line = "\t".join([_NULL if value is None else str(value) for value in values])
    # Nearly every row needs no escape at all, which a few scans of the joined row tell.
    if (
        line.count("\t") == len(values) - 1
        and "\\" not in line
        and "\n" not in line
        and "\r" not in line
        and line.count(_NULL) == values.count(None)
    ):
        return line.replace(_NULL, "\\N")
    return "\t".join([_copy_text(value) for value in values])


def journal_prepare(shard: int, entries: Iterable[LogEntry], prev_hash: str) -> JournalBatch:
    """Hash `entries` (in seq order) onto the chain after `prev_hash`. Pure computation: the
    matcher prepares a batch while the one before it is being written."""
    if _journal_database().vendor != "postgresql":
        records = []
        for entry in entries:
            record = _record(shard, entry, prev_hash)
            records.append(record)
            prev_hash = record.hash
        return JournalBatch(b"", records, prev_hash)
    lines = []
    sha256 = hashlib.sha256
    for entry in entries:
        payload_json = payload_canonical_json(entry.payload)
        body = hashed_body(shard, entry, payload_json)
        row_hash = sha256((prev_hash + body).encode()).hexdigest()
        columns = record_columns(entry.payload)
        lines.append(
            copy_line(
                [
                    shard,
                    entry.seq,
                    entry.ts_ns,
                    entry.kind,
                    entry.command_id,
                    entry.stream_id,
                    columns["actor_user_id"],
                    *[columns.get(name, default) for name, default in _INDEXED_DEFAULTS],
                    payload_json,
                    prev_hash,
                    row_hash,
                ]
            )
        )
        prev_hash = row_hash
    lines.append("")
    return JournalBatch("\n".join(lines).encode(), [], prev_hash)


def journal_write(batch: JournalBatch) -> None:
    """Write a prepared batch; the caller holds the transaction. On PostgreSQL the rows go in
    with one COPY of data formatted beforehand (the matcher's group commit: several times
    faster than a multi-row INSERT, whose parameters the driver would quote one by one);
    elsewhere with one bulk insert."""
    if batch.records:
        EventRecord.objects.bulk_create(batch.records)
    if not batch.copy_data:
        return
    database = _journal_database()
    table = database.ops.quote_name(EventRecord._meta.db_table)
    names = ", ".join(
        database.ops.quote_name(_RECORD_FIELDS[name].column) for name in STORED_COLUMNS
    )
    # The driver's own cursor raises the driver's errors: wrapped, they are Django's
    # DatabaseError, which the matcher handles by failing closed.
    with (
        database.wrap_database_errors,
        database.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        copy.write(batch.copy_data)


def journal_append(shard: int, entries: Iterable[LogEntry], prev_hash: str) -> str:
    """Append `entries` (in seq order) after `prev_hash`; return the new head hash. The
    caller holds the transaction."""
    batch = journal_prepare(shard, entries, prev_hash)
    journal_write(batch)
    return batch.head_hash


def _chain_lock(shard: int) -> None:
    """Hold the right to append to `shard` until the current transaction ends."""
    # The lock row is created on first use (a flush or a fresh database has none); with
    # ON CONFLICT DO NOTHING / INSERT OR IGNORE two first writers cannot both fail.
    ChainLock.objects.bulk_create([ChainLock(shard=shard)], ignore_conflicts=True)
    # PostgreSQL: the row lock queues every other writer of this chain behind us until we
    # commit, so no two of them read the same tail. SQLite ignores FOR UPDATE, but the
    # insert above has already taken the database's single write lock, which it holds to
    # commit as well, so the tail read below is just as exclusive.
    ChainLock.objects.select_for_update().get(shard=shard)


def web_event_record(
    kind: str,
    *,
    actor_user_id: int | None,
    payload: dict[str, Any],
    account: str = "",
    symbol: str = "",
    order_id: int | None = None,
    client_order_id: str = "",
    reason: str = "",
) -> EventRecord:
    """Append one web-side event to the WEB_SHARD chain and return its row.

    The row's payload holds the searchable fields (so that the hash covers them) and the
    caller's `payload` under "detail". It commits or rolls back with the caller's transaction.
    """
    hashed_payload: dict[str, Any] = {
        name: value
        for name, value in (
            ("user_id", actor_user_id),
            ("account", account),
            ("symbol", symbol),
            ("order_id", order_id),
            ("client_order_id", client_order_id),
            ("reason", reason),
        )
        if value not in (None, "")
    }
    # Through JSON and back, so that the hash covers exactly what the database will return
    # (tuples become lists, keys strings).
    hashed_payload["detail"] = json.loads(canonical_json(payload))
    with transaction.atomic():
        _chain_lock(WEB_SHARD)
        tail = chain_tail(WEB_SHARD)
        entry = LogEntry(
            seq=tail.seq + 1,
            # Time never runs backwards along the chain, even when the wall clock does.
            ts_ns=max(time.time_ns(), tail.ts_ns + 1),
            kind=kind,
            command_id=uuid.uuid4().hex,
            payload=hashed_payload,
        )
        row = _record(WEB_SHARD, entry, tail.hash)
        row.save(force_insert=True)
    return row


@contextmanager
def acting_user(user_id: int | None) -> Iterator[None]:
    """Attribute the web-side events recorded inside the block to `user_id`."""
    token = acting_user_id.set(user_id)
    try:
        yield
    finally:
        acting_user_id.reset(token)
