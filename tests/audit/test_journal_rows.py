"""What the journal writes: each row's hash covers the canonical JSON of its content, and the
row the matcher's group commit writes holds exactly the columns its payload gives."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.audit.models import EventRecord
from apps.audit.services import (
    GENESIS_HASH,
    RECORD_COLUMNS,
    LogEntry,
    canonical_json,
    entry_hash,
    hashed_body,
    journal_append,
    payload_canonical_json,
    record_columns,
)
from apps.audit.verify import chain_verify

SHARD = 3
T0_NS = 1_700_000_000_000_000_000

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@given(
    shard=st.integers(0, 32767),
    seq=st.integers(1, 2**62),
    ts_ns=st.integers(0, 2**63 - 1),
    kind=st.text(max_size=12),
    command_id=st.text(max_size=12),
    stream_id=st.text(max_size=12),
    payload=st.dictionaries(st.text(max_size=10), json_values, max_size=6),
)
def test_the_hashed_body_is_the_canonical_json_of_the_row(
    shard: int, seq: int, ts_ns: int, kind: str, command_id: str, stream_id: str,
    payload: dict[str, Any],
) -> None:  # fmt: skip
    entry = LogEntry(seq, ts_ns, kind, command_id, payload, stream_id)
    expected = canonical_json(
        {
            "shard": shard,
            "seq": seq,
            "ts_ns": ts_ns,
            "kind": kind,
            "command_id": command_id,
            "stream_id": stream_id,
            "payload": payload,
        }
    )
    assert hashed_body(shard, entry, canonical_json(payload)) == expected
    assert json.loads(expected)["payload"] == payload


@given(payload=st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_the_journal_spells_a_payload_as_the_verifier_does(payload: dict[str, Any]) -> None:
    # The journal encodes payloads with orjson and the verifier with the standard library:
    # a hash written one way must check the other.
    assert payload_canonical_json(payload) == canonical_json(payload)


@pytest.mark.django_db
def test_journaled_rows_hold_their_payload_columns_and_verify() -> None:
    entries = [
        LogEntry(
            1,
            T0_NS + 1,
            "new_order",
            "cmd-1",
            {
                "user_id": 7,
                "account": "ACC-1",
                "symbol": "AAPL",
                "side": "buy",
                "price_ticks": 10_000,
                "qty_lots": 5,
                "order_type": "limit",
                "time_in_force": "GTC",
                "client_order_id": "ticket-1",
                "note": 'Zürich "desk"',
            },
            "1700000000000-0",
        ),
        LogEntry(
            2,
            T0_NS + 2,
            "order_rejected",
            "cmd-1",
            {
                "user_id": 7,
                "account": "ACC-1",
                "symbol": "AAPL",
                "reason": "price_collar",
                "message": "Tab\there, newline\nthere, backslash \\ too.",
            },
        ),
        LogEntry(
            3,
            T0_NS + 3,
            "trade",
            "cmd-9",
            {
                "symbol": "AAPL",
                "price_ticks": 10_001,
                "qty_lots": 2,
                "taker_order_id": 12,
                "maker_order_id": 11,
                "taker_user_id": 8,
            },
        ),
    ]
    head = journal_append(SHARD, entries, GENESIS_HASH)

    rows = list(EventRecord.objects.filter(shard=SHARD).order_by("seq"))
    assert [row.seq for row in rows] == [1, 2, 3]
    prev_hash = GENESIS_HASH
    for entry, row in zip(entries, rows, strict=True):
        assert (row.ts_ns, row.kind, row.command_id, row.stream_id) == (
            entry.ts_ns,
            entry.kind,
            entry.command_id,
            entry.stream_id,
        )
        assert row.payload == entry.payload
        assert row.prev_hash == prev_hash
        assert row.hash == entry_hash(prev_hash, SHARD, entry)
        columns = record_columns(entry.payload)
        for name in RECORD_COLUMNS:
            default = EventRecord._meta.get_field(name).get_default()
            assert getattr(row, name) == columns.get(name, default), name
        prev_hash = row.hash
    assert head == rows[-1].hash
    assert (rows[2].order_id, rows[2].actor_user_id) == (12, 8)
    assert (rows[0].client_order_id, rows[1].reason) == ("ticket-1", "price_collar")
    result = chain_verify()
    assert (result.intact, result.heads[SHARD]) == (True, 3)


AWKWARD_TEXT = [
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "\\.",
    "ends with \\",
    'Zürich "desk" ✓',
    "control\x01character",
]


@pytest.mark.django_db
@pytest.mark.parametrize("text", AWKWARD_TEXT)
def test_text_that_copy_would_read_as_a_separator_or_escape_is_stored_as_given(text: str) -> None:
    # The matcher writes COPY's text format itself: a tab, a line break or a backslash in any
    # column must come back as it went in, and the chain must still verify.
    payload = {"account": text, "symbol": text[:16], "client_order_id": text, "note": text}
    entry = LogEntry(1, T0_NS, text, text, payload, text)
    journal_append(SHARD, [entry], GENESIS_HASH)

    row = EventRecord.objects.get(shard=SHARD, seq=1)
    assert (row.kind, row.command_id, row.stream_id) == (text, text, text)
    assert (row.account, row.symbol, row.client_order_id) == (text, text[:16], text)
    assert row.payload == payload
    assert chain_verify().intact
