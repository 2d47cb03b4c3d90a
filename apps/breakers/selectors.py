"""Reads: the breaker settings as the firm set them, the halts in force as the matchers last
published them, and every halt of the past with its reason, from the event log."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db.models import Q

from apps.accounts.models import User
from apps.audit.models import EventRecord
from apps.breakers.models import BreakerSettings
from apps.breakers.parameters import PARAMETER_FIELDS, engine_value
from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.redis import redis_client
from apps.trading.control import matcher_shards
from apps.trading.selectors import ns_to_iso

# The event-log kinds a halt's life is told in, in the order they happen.
HALTED = "trading_halted"
EXTENDED = "pause_extended"
RESUMED = "trading_resumed"
REQUEST_DONE = "halt_request_done"
HISTORY_LIMIT_MAX = 500


def breaker_settings() -> BreakerSettings:
    """The firm's breaker settings: its row, or the defaults while none has been saved."""
    return BreakerSettings.objects.filter(pk=BreakerSettings.SINGLETON_PK).first() or (
        BreakerSettings(pk=BreakerSettings.SINGLETON_PK)
    )


def _decimal_text(value: Decimal) -> str:
    """5.000 → "5", 0.050 → "0.05": durations as people write them."""
    text = format(Decimal(value).normalize(), "f")
    return text


def _time_text(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def breaker_settings_as_dict(row: BreakerSettings) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for f in PARAMETER_FIELDS:
        value = getattr(row, f.field)
        if f.field.endswith("_percent"):
            shown[f.field] = f"{Decimal(value):.2f}"
        elif isinstance(value, Decimal):
            shown[f.field] = _decimal_text(value)
        else:
            shown[f.field] = value
    shown["session_open"] = _time_text(row.session_open)
    shown["session_close"] = _time_text(row.session_close)
    shown["session_timezone"] = row.session_timezone
    shown["parameters"] = {str(f.parameter): engine_value(row, f) for f in PARAMETER_FIELDS}
    shown["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
    return shown


def instrument_breakers_as_dict(instrument: Instrument) -> dict[str, Any]:
    close = instrument.previous_close
    return {
        "symbol": instrument.symbol,
        "luld_tier": instrument.luld_tier,
        "halted_accepts_orders": instrument.halted_accepts_orders,
        "index_weight": instrument.index_weight,
        "previous_close": (
            None if close is None else str(close.quantize(instrument.ticks_to_price(1)))
        ),
        "spike_pauses": instrument.spike_pauses,
        "shard": instrument.shard,
    }


# -- the session ----------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class SessionTimes:
    day: date
    open_ns: int
    close_ns: int


def _epoch_ns(moment: datetime) -> int:
    # Whole seconds from the datetime, then exact integer arithmetic: no float near a clock.
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def session_times(row: BreakerSettings, day: date | None = None) -> SessionTimes:
    """The session of `day` (today in the session's time zone when None) in ns UTC."""
    zone = ZoneInfo(row.session_timezone)
    if day is None:
        day = datetime.now(zone).date()
    opens = datetime.combine(day, row.session_open, tzinfo=zone)
    closes = datetime.combine(day, row.session_close, tzinfo=zone)
    return SessionTimes(day, _epoch_ns(opens), _epoch_ns(closes))


# -- halts in force -------------------------------------------------------------------------


def halts_current() -> list[dict[str, Any]]:
    """The halts in force, as the matchers last published them (symbol order); raises
    redis.RedisError when the cache is down."""
    client = redis_client()
    halts: list[dict[str, Any]] = []
    for shard in matcher_shards():
        published = cast(dict[bytes, bytes], client.hgetall(keys.halts_snapshot(shard)))
        for raw in published.values():
            try:
                halt = json.loads(raw)
            except ValueError:
                continue
            if isinstance(halt, dict):
                halts.append(halt)
    return sorted(halts, key=lambda h: str(h.get("symbol", "")))


# -- halts of the past, from the log --------------------------------------------------------


class _Prices:
    """Ticks and lots to the edge's decimals and quantities, per symbol."""

    def __init__(self, symbols: set[str]) -> None:
        self.instruments = {i.symbol: i for i in Instrument.objects.filter(symbol__in=symbols)}

    def price(self, symbol: str, ticks: int | None) -> str | None:
        if not ticks:
            return None
        instrument = self.instruments.get(symbol)
        return instrument.price_text(ticks) if instrument else str(ticks)

    def quantity(self, symbol: str, lots: int | None) -> int:
        instrument = self.instruments.get(symbol)
        return (lots or 0) * (instrument.lot_size if instrument else 1)


def _usernames(user_ids: set[int]) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))


def halts_history(limit: int = 100, symbol: str = "") -> list[dict[str, Any]]:
    """The latest `limit` halts (newest first), each paired with what ended it.

    A halt is a `trading_halted` row; it ends at the next `trading_resumed` of the same symbol on
    the same shard (a resume by hand, or the reopening auction when a pause ran out), or is
    superseded by the next `trading_halted` of it (a manual halt over a pause); it is active
    while nothing has ended it. `pause_extended` rows between move its end. Reasons come from
    the halt requests (`halt_request_done`, same command) for halts and resumes by hand, and
    from the engine's message for the rest.
    """
    limit = max(1, min(limit, HISTORY_LIMIT_MAX))
    halted = EventRecord.objects.filter(kind=HALTED)
    if symbol:
        halted = halted.filter(symbol=symbol)
    starts = list(halted.order_by("-ts_ns", "-shard", "-seq")[:limit])
    if not starts:
        return []
    first_seq: dict[int, int] = {}
    for row in starts:
        first_seq[row.shard] = min(first_seq.get(row.shard, row.seq), row.seq)
    symbols = {row.symbol for row in starts}
    after = Q()
    for shard, seq in first_seq.items():
        after |= Q(shard=shard, seq__gte=seq)
    rows = list(
        EventRecord.objects.filter(after, kind__in=(HALTED, EXTENDED, RESUMED), symbol__in=symbols)
        .order_by("shard", "seq")
        .only("shard", "seq", "ts_ns", "kind", "command_id", "symbol", "payload")
    )
    requests = {
        (r.shard, r.command_id): r.payload
        for r in EventRecord.objects.filter(
            kind=REQUEST_DONE,
            command_id__in={r.command_id for r in rows if r.kind in (HALTED, RESUMED)},
        ).only("shard", "command_id", "payload")
    }
    wanted = {(row.shard, row.seq) for row in starts}
    prices = _Prices(symbols)
    entries: dict[tuple[int, int], dict[str, Any]] = {}
    open_entry: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        key = (row.shard, row.symbol)
        p = row.payload
        current = open_entry.get(key)
        if row.kind == HALTED:
            if current is not None:
                current.update(active=False, ended_at=ns_to_iso(row.ts_ns), ended_by="superseded")
            request = requests.get((row.shard, row.command_id)) or {}
            entry = {
                "symbol": row.symbol,
                "shard": row.shard,
                "seq": row.seq,
                "kind": p.get("halt_kind", ""),
                "message": p.get("message", ""),
                "reason": request.get("change_reason", ""),
                "halted_by_id": request.get("user_id") or p.get("user_id") or None,
                "since": ns_to_iso(row.ts_ns),
                "until": ns_to_iso(p["until_ns"]) if p.get("until_ns") else None,
                "accepts_orders": bool(p.get("accepts_orders", True)),
                "extensions": 0,
                "active": True,
                "ended_at": None,
                "ended_by": None,
                "resumed_by_id": None,
                "resume_reason": "",
                "auction_price": None,
                "auction_volume": None,
            }
            open_entry[key] = entry
            if (row.shard, row.seq) in wanted:
                entries[(row.shard, row.seq)] = entry
        elif current is None:
            continue
        elif row.kind == EXTENDED:
            current["extensions"] += 1
            current["until"] = ns_to_iso(p["until_ns"]) if p.get("until_ns") else None
        else:  # RESUMED
            request = requests.get((row.shard, row.command_id))
            volume = p.get("auction_volume_lots") or 0
            current.update(
                active=False,
                ended_at=ns_to_iso(row.ts_ns),
                ended_by="resume_request" if request is not None else "pause_end",
                resumed_by_id=(request or {}).get("user_id") or None,
                resume_reason=(request or {}).get("change_reason", ""),
                auction_price=(
                    prices.price(row.symbol, p.get("auction_price_ticks")) if volume else None
                ),
                auction_volume=prices.quantity(row.symbol, volume),
            )
            del open_entry[key]
    names = _usernames(
        {e["halted_by_id"] or 0 for e in entries.values()}
        | {e["resumed_by_id"] or 0 for e in entries.values()}
    )
    listed = []
    for row in starts:  # newest first
        entry = entries[(row.shard, row.seq)]
        entry["halted_by"] = names.get(entry.pop("halted_by_id") or 0)
        entry["resumed_by"] = names.get(entry.pop("resumed_by_id") or 0)
        listed.append(entry)
    return listed
