"""Event log rows as auditors receive them: JSON objects, and the lines of a CSV export."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from apps.audit.api.selectors import ROW_FIELDS, Row

# Where the CSV adds a column (the ISO time before ts_ns, the username after the actor's id)
# and rewrites one (the payload, as canonical JSON), by position in ROW_FIELDS.
_TS_NS = ROW_FIELDS.index("ts_ns")
_ACTOR = ROW_FIELDS.index("actor_user_id")
_PAYLOAD = ROW_FIELDS.index("payload")

# The columns auditors see, in the JSON rows and the CSV alike: the log's, with the time also
# in ISO beside ts_ns and the actor's username beside the id.
SHOWN_COLUMNS = (
    *ROW_FIELDS[:_TS_NS],
    "ts",
    *ROW_FIELDS[_TS_NS : _ACTOR + 1],
    "actor",
    *ROW_FIELDS[_ACTOR + 1 :],
)
# Text that a spreadsheet would run as a formula. Such cells are written with a leading
# apostrophe (the OWASP advice): client order ids and accounts come from users.
_FORMULA_START = "=+-@\t\r"
# How many rows go into one chunk of the streamed export: large enough that the per-chunk
# cost (a thread hop under ASGI) vanishes, small enough to keep memory flat.
CSV_ROWS_PER_CHUNK = 500


def iso_from_ns(ts_ns: int) -> str:
    """ISO 8601 UTC with all nine digits: the log's nanoseconds are the record."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def event_row(row: Row, usernames: dict[int, str]) -> dict[str, Any]:
    """A row as the API shows it: the log's columns plus `ts` and `actor`, in CSV order."""
    actor_id = row["actor_user_id"]
    derived = {
        "ts": iso_from_ns(row["ts_ns"]),
        "actor": usernames.get(actor_id) if actor_id is not None else None,
    }
    return {name: derived[name] if name in derived else row[name] for name in SHOWN_COLUMNS}


def canonical_payload(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def csv_cells(row: tuple[Any, ...], usernames: dict[int, str]) -> list[Any]:
    """One CSV line from a row read in ROW_FIELDS order (a tuple: the export reads millions
    of them, and this is the per-row cost)."""
    actor_id = row[_ACTOR]
    cells = [
        *row[:_TS_NS],
        iso_from_ns(row[_TS_NS]),
        *row[_TS_NS : _ACTOR + 1],
        usernames.get(actor_id) if actor_id is not None else None,
        *row[_ACTOR + 1 : _PAYLOAD],
        canonical_payload(row[_PAYLOAD]),
        *row[_PAYLOAD + 1 :],
    ]
    # csv writes None as an empty cell; only text can be a formula.
    return [
        "'" + cell if cell.__class__ is str and cell and cell[0] in _FORMULA_START else cell
        for cell in cells
    ]


def csv_chunks(lines: Iterable[list[Any]]) -> Iterator[str]:
    """The header line, then the lines, a few hundred per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SHOWN_COLUMNS)
    waiting = 0
    for line in lines:
        writer.writerow(line)
        waiting += 1
        if waiting == CSV_ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            waiting = 0
    yield buffer.getvalue()


# -- the documented shapes (OpenAPI) -------------------------------------------------------------


class EventRowSerializer(serializers.Serializer[None]):
    shard = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="Gapless sequence number within the shard.")
    ts = serializers.CharField(help_text="ISO 8601 UTC with nanoseconds.")
    ts_ns = serializers.IntegerField(help_text="Integer nanoseconds since the epoch, UTC.")
    kind = serializers.CharField(help_text="Event or command type, e.g. order_accepted.")
    command_id = serializers.CharField()
    stream_id = serializers.CharField()
    actor_user_id = serializers.IntegerField(allow_null=True)
    actor = serializers.CharField(allow_null=True, help_text="The actor's username.")
    account = serializers.CharField()
    symbol = serializers.CharField()
    order_id = serializers.IntegerField(allow_null=True)
    client_order_id = serializers.CharField()
    side = serializers.CharField()
    price_ticks = serializers.IntegerField(allow_null=True)
    qty_lots = serializers.IntegerField(allow_null=True)
    order_type = serializers.CharField()
    time_in_force = serializers.CharField()
    reason = serializers.CharField()
    payload = serializers.JSONField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


class EventPageSerializer(serializers.Serializer[None]):
    results = EventRowSerializer(many=True)
    next = serializers.CharField(
        allow_null=True, help_text="Pass as `after` for the next page; null on the last page."
    )


class OrderLifeSerializer(serializers.Serializer[None]):
    order_id = serializers.IntegerField()
    events = EventRowSerializer(many=True, help_text="Every event naming the order, in seq order.")
    commands = EventRowSerializer(
        many=True, help_text="The commands that caused those events, in seq order."
    )


class FirstBadRowSerializer(serializers.Serializer[None]):
    shard = serializers.IntegerField()
    seq = serializers.IntegerField()
    reason = serializers.CharField()


class ChainVerifySerializer(serializers.Serializer[None]):
    intact = serializers.BooleanField()
    checked = serializers.IntegerField(help_text="Rows checked.")
    heads = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='Shard → the last seq that verified, e.g. {"0": 812}.',
    )
    first_bad = FirstBadRowSerializer(allow_null=True)
