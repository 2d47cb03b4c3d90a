"""Appending to the event log. Only the matcher of a shard writes that shard's rows."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from apps.audit.models import EventRecord

GENESIS_HASH = "0" * 64
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


@dataclass(slots=True, frozen=True)
class LogEntry:
    seq: int
    ts_ns: int
    kind: str
    command_id: str
    payload: dict[str, Any]
    stream_id: str = ""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, shard: int, entry: LogEntry) -> str:
    body = canonical_json(
        {
            "shard": shard,
            "seq": entry.seq,
            "ts_ns": entry.ts_ns,
            "kind": entry.kind,
            "command_id": entry.command_id,
            "stream_id": entry.stream_id,
            "payload": entry.payload,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def last_hash(shard: int) -> str:
    last = EventRecord.objects.filter(shard=shard).order_by("-seq").values_list("hash", flat=True)
    return last.first() or GENESIS_HASH


def journal_append(shard: int, entries: Iterable[LogEntry], prev_hash: str) -> str:
    """Append `entries` (in seq order) after `prev_hash`; return the new head hash.

    The caller holds the transaction; rows are written in one bulk insert.
    """
    rows = []
    for entry in entries:
        digest = entry_hash(prev_hash, shard, entry)
        payload = entry.payload
        actor = payload.get("user_id", payload.get("taker_user_id"))
        indexed = {name: payload[name] for name in _INDEXED if payload.get(name) is not None}
        if "order_id" not in indexed and "taker_order_id" in payload:
            indexed["order_id"] = payload["taker_order_id"]
        rows.append(
            EventRecord(
                shard=shard,
                seq=entry.seq,
                ts_ns=entry.ts_ns,
                kind=entry.kind,
                command_id=entry.command_id,
                stream_id=entry.stream_id,
                actor_user_id=actor,
                payload=payload,
                prev_hash=prev_hash,
                hash=digest,
                **indexed,
            )
        )
        prev_hash = digest
    EventRecord.objects.bulk_create(rows)
    return prev_hash
