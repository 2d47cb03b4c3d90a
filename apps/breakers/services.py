"""Halting and resuming trading, changing the breaker settings, starting the session: the only
writes of apps.breakers.

The admin, the REST API, the halts page and the management command all call these. Settings
changes are saved, and once they have committed, one control command per changed parameter goes
to every shard's stream: the matcher applies it in sequence with the orders around it, journals
it with the risk manager, the old value, the new value and the reason, and replays it on
recovery. Halts and resumes change nothing in the database: they are commands on the stream
alone, and the matcher's journal is their record. A call made outside any transaction (the API)
waits for the matchers' answers and returns them; one made inside a longer transaction (the
admin's) returns before they are sent, since nothing is sent until that transaction commits.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import structlog
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models, transaction

from apps.accounts.models import User
from apps.audit.services import web_event_record
from apps.breakers.models import BreakerSettings
from apps.breakers.parameters import PARAMETER_FIELDS, SETTINGS_FIELDS, engine_value
from apps.breakers.selectors import SessionTimes, breaker_settings, session_times
from apps.instruments.models import Instrument
from apps.instruments.services import instrument_definition
from apps.matching.engine import Command, HaltInstrument, SetBreakerParameter, StartSession
from apps.trading.control import (
    SYSTEM_USER_ID,
    ShardDispatch,
    control_reason,
    instrument_shards,
    require_permission,
)
from apps.trading.services import command_send
from project.api_errors import Rejection

log = structlog.get_logger(__name__)

HALT_TRADING = "breakers.halt_trading"
CHANGE_BREAKERS = "breakers.change_breakers"
# The Instrument fields that are circuit-breaker settings.
INSTRUMENT_FIELDS = (
    "luld_tier",
    "halted_accepts_orders",
    "index_weight",
    "previous_close",
    "spike_pauses",
)


# -- checks at the edge ---------------------------------------------------------------------


def can_halt(user: User | AnonymousUser) -> bool:
    return bool(user.is_active and user.has_perm(HALT_TRADING))


def can_change_breakers(user: User | AnonymousUser) -> bool:
    return bool(user.is_active and user.has_perm(CHANGE_BREAKERS))


def _instrument(instrument: Instrument | str) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    found = (
        Instrument.objects.filter(symbol=instrument).first()
        if isinstance(instrument, str)
        else None
    )
    if found is None:
        raise Rejection("unknown_instrument", f"Instrument {instrument!r} is not listed.")
    return found


def _unknown_fields(changes: Mapping[str, Any], known: Iterable[str]) -> None:
    names = sorted(set(known))
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise Rejection(
            "unknown_field", f"{unknown[0]!r} is not one of these settings: {', '.join(names)}."
        )


def _validated(row: models.Model, exclude: Iterable[str] = ()) -> None:
    """The row's own rules (ranges, digits, the order of the levels), as a rejection."""
    try:
        row.full_clean(exclude=list(exclude), validate_unique=False)
    except TypeError:
        # A value of a type no field reads (a list for a time, say): only code sends these.
        raise Rejection("invalid_setting", "A setting has a value of the wrong type.") from None
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        name, problems = next(iter(messages.items()))
        prefix = f"{name}: " if name and name != "__all__" else ""
        raise Rejection("invalid_setting", f"{prefix}{problems[0].rstrip('.')}.") from None


@dataclass(slots=True, frozen=True)
class BreakerChange:
    """What a settings change did: the row as saved, the names of the settings that changed,
    and the matcher's outcome events (None: sent when the enclosing transaction commits)."""

    row: models.Model
    changed: list[str]
    events: list[dict[str, Any]] | None


@dataclass(slots=True, frozen=True)
class HaltOutcome:
    """What a halt or resume did: the matcher's HaltRequestDone per shard, how many
    instruments changed, and a sentence for the operator."""

    halt: bool
    symbol: str
    instruments: int
    message: str
    events: list[dict[str, Any]]


# -- halts ----------------------------------------------------------------------------------


def _halt(actor: User, symbol: str | None, reason: str, halt: bool) -> HaltOutcome:
    verb = "halt" if halt else "resume"
    require_permission(actor, HALT_TRADING, "halt or resume trading")
    reason = control_reason(reason)
    if symbol is not None and not isinstance(symbol, str):
        raise Rejection("invalid_symbol", "The symbol must be a string (or absent, for all).")
    if symbol:
        instrument = Instrument.objects.filter(symbol=symbol, is_active=True).first()
        if instrument is None:
            raise Rejection("unknown_instrument", f"Instrument {symbol!r} is not listed.")
        shards = [instrument.shard]
    else:
        symbol = ""
        shards = sorted(
            set(Instrument.objects.filter(is_active=True).values_list("shard", flat=True))
        )
        if not shards:
            raise Rejection("no_instruments", f"There is no listed instrument to {verb}.", 409)
    template = HaltInstrument(
        command_id="",
        ts_ns=0,
        user_id=actor.pk,
        change_reason=reason,
        halt=halt,
        symbol=symbol,
    )
    # An emergency, like a kill switch: the caller learns that every shard has acted.
    dispatch = ShardDispatch(
        [(shard, template) for shard in shards],
        "breaker_control_unsent",
        wait_all=True,
        unanswered="The request is queued, but the matcher did not answer in time; "
        "check the halts page before sending it again.",
    )
    dispatch.send()
    events = dispatch.answers(saved=False) or []
    count = sum(int(e.get("instruments", 0)) for e in events)
    return HaltOutcome(halt, symbol, count, _halt_message(halt, symbol, count), events)


def _halt_message(halt: bool, symbol: str, count: int) -> str:
    what = symbol or "every instrument"
    if halt:
        if count == 0:
            return f"Nothing changed: {what} was already halted."
        return f"Halted {symbol}." if symbol else f"Halted {count} instruments."
    if count == 0:
        return f"Nothing to resume: {what} is not halted."
    if symbol:
        return f"Resumed {symbol}: it reopens with an auction."
    return f"Resumed {count} instruments: each reopens with an auction."


def halt_request(actor: User, symbol: str | None, reason: str) -> HaltOutcome:
    """Stop trading in `symbol` (every instrument of every shard when None) until resumed by
    hand. Cancels are still taken; new orders as each instrument is configured."""
    return _halt(actor, symbol, reason, True)


def resume_request(actor: User, symbol: str | None, reason: str) -> HaltOutcome:
    """Reopen `symbol` (every halted instrument when None) with a call auction."""
    return _halt(actor, symbol, reason, False)


# -- settings -------------------------------------------------------------------------------


def _session_fields(row: BreakerSettings) -> dict[str, str]:
    return {
        "session_open": row.session_open.isoformat(),
        "session_close": row.session_close.isoformat(),
        "session_timezone": row.session_timezone,
    }


def _session_command(times: SessionTimes, user_id: int) -> StartSession:
    return StartSession(
        command_id="",
        ts_ns=0,
        user_id=user_id,
        open_ns=times.open_ns,
        close_ns=times.close_ns,
    )


def breaker_settings_update(actor: User, changes: Mapping[str, Any], reason: str) -> BreakerChange:
    """Change firm-wide breaker parameters and the session's times. Each changed parameter
    becomes a SetBreakerParameter on every shard; new session times are journaled on the web
    chain with the reason and sent at once as today's StartSession."""
    require_permission(actor, CHANGE_BREAKERS, "change circuit-breaker settings")
    reason = control_reason(reason)
    _unknown_fields(changes, SETTINGS_FIELDS)
    with transaction.atomic():
        # The row lock makes concurrent edits take turns, so each one's commands carry the
        # values its own transaction saved.
        BreakerSettings.objects.get_or_create(pk=BreakerSettings.SINGLETON_PK)
        row = BreakerSettings.objects.select_for_update().get(pk=BreakerSettings.SINGLETON_PK)
        before = {f.field: engine_value(row, f) for f in PARAMETER_FIELDS}
        session_before = _session_fields(row)
        for name, value in changes.items():
            setattr(row, name, value)
        _validated(row)
        changed = [f for f in PARAMETER_FIELDS if engine_value(row, f) != before[f.field]]
        session_after = _session_fields(row)
        session_changed = [n for n in session_after if session_after[n] != session_before[n]]
        row.save()
        shards = instrument_shards()
        targets: list[tuple[int, Command]] = [
            (
                shard,
                SetBreakerParameter(
                    command_id="",
                    ts_ns=0,
                    user_id=actor.pk,
                    change_reason=reason,
                    parameter=f.parameter,
                    value=engine_value(row, f),
                ),
            )
            for shard in shards
            for f in changed
        ]
        if session_changed:
            web_event_record(
                "breakers.session_changed",
                actor_user_id=actor.pk,
                payload={
                    "change_reason": reason,
                    "old": session_before,
                    "new": session_after,
                },
            )
            today = _session_command(session_times(row), actor.pk)
            targets += [(shard, today) for shard in shards]
        # Grouped by shard, so that the first shard's answers are the awaited ones.
        targets.sort(key=lambda target: target[0])
        dispatch = ShardDispatch(targets, "breaker_control_unsent")
        dispatch.send_on_commit()
    return BreakerChange(
        row, [f.field for f in changed] + session_changed, dispatch.answers(saved=True)
    )


def _json_value(instrument: Instrument, value: object) -> object:
    """A setting as the journal keeps it: prices as decimal text on the instrument's tick."""
    if isinstance(value, Decimal):
        return str(value.quantize(instrument.ticks_to_price(1)))
    return value


def instrument_breakers_update(
    actor: User, instrument: Instrument | str, changes: Mapping[str, Any], reason: str
) -> BreakerChange:
    """Change an instrument's breaker settings (tier, orders while halted, index weight,
    previous close, spike pauses); its DefineInstrument goes to its shard once saved, and the
    change is journaled on the web chain with who and why (DefineInstrument carries neither)."""
    require_permission(actor, CHANGE_BREAKERS, "change circuit-breaker settings")
    reason = control_reason(reason)
    _unknown_fields(changes, INSTRUMENT_FIELDS)
    instrument = _instrument(instrument)
    with transaction.atomic():
        # Concurrent edits of one instrument take turns on its row.
        row = Instrument.objects.select_for_update().get(pk=instrument.pk)
        before = {name: getattr(row, name) for name in INSTRUMENT_FIELDS}
        for name, value in changes.items():
            setattr(row, name, value)
        other_fields = [f.name for f in Instrument._meta.fields if f.name not in INSTRUMENT_FIELDS]
        _validated(row, exclude=other_fields)
        close = row.previous_close
        if close is not None and (close <= 0 or row.price_to_ticks(close) is None):
            raise Rejection(
                "invalid_setting",
                f"previous_close: {close} is not a positive price on {row.symbol}'s tick "
                f"{row.ticks_to_price(1)}.",
            )
        changed = [name for name in INSTRUMENT_FIELDS if getattr(row, name) != before[name]]
        targets: list[tuple[int, Command]] = []
        if changed:
            row.save(update_fields=changed)
            web_event_record(
                "breakers.instrument_changed",
                actor_user_id=actor.pk,
                symbol=row.symbol,
                payload={
                    "change_reason": reason,
                    "changes": {
                        name: [_json_value(row, before[name]), _json_value(row, getattr(row, name))]
                        for name in changed
                    },
                },
            )
            targets.append((row.shard, instrument_definition(row)))
        dispatch = ShardDispatch(targets, "breaker_control_unsent")
        dispatch.send_on_commit()
    return BreakerChange(row, changed, dispatch.answers(saved=True))


# -- the session ----------------------------------------------------------------------------


def session_send(open_ns: int, close_ns: int, user_id: int = SYSTEM_USER_ID) -> None:
    """Tell every shard today's session: open and close, ns UTC (a sequenced command, so that
    band doubling and the market-wide cut-off replay exactly)."""
    if not 0 < open_ns < close_ns:
        raise Rejection("invalid_session", "The session must close after it opens.")
    for shard in instrument_shards():
        command = StartSession(
            command_id=uuid.uuid4().hex,
            ts_ns=0,
            user_id=user_id,
            open_ns=open_ns,
            close_ns=close_ns,
        )
        command_send(shard, command, want_reply=False)


def session_start(actor: User | None = None, day: date | None = None) -> SessionTimes:
    """Start the session of `day` (today in the session's time zone when None) on every shard,
    with the open and close the settings give. No actor: the scheduled start at the open."""
    if actor is not None:
        require_permission(actor, CHANGE_BREAKERS, "start the session")
    times = session_times(breaker_settings(), day)
    session_send(times.open_ns, times.close_ns, actor.pk if actor is not None else SYSTEM_USER_ID)
    log.info("session_started", day=times.day.isoformat(), open_ns=times.open_ns)
    return times
