"""Commands and events to and from JSON-ready dicts, for the stream and the journal."""

import dataclasses
import operator
from collections.abc import Callable
from typing import Any

from apps.matching.engine import (
    COMMAND_TYPES,
    EVENT_TYPES,
    BookDelta,
    BreakerParameter,
    Command,
    Event,
    HaltKind,
    KillScope,
    LevelChange,
    OrderType,
    Reason,
    RiskLimit,
    RiskList,
    Side,
    StpMode,
    TimeInForce,
)

_ENUM_FIELDS: dict[str, Any] = {
    "side": Side,
    "order_type": OrderType,
    "time_in_force": TimeInForce,
    "stp_mode": StpMode,
    "limit": RiskLimit,
    "risk_list": RiskList,
    "scope": KillScope,
    "parameter": BreakerParameter,
}
_OPTIONAL_INT = int | None


class MalformedCommand(ValueError):
    """A stream entry that does not describe a valid command."""


# What the journal's columns hold: a value outside these never reaches the database, where it
# would fail the whole batch; it makes its command unparseable instead.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
TEXT_MAX_LENGTH = {
    "command_id": 64,
    "account": 32,
    "symbol": 16,
    "client_order_id": 64,
    "stp_group": 32,
}
DEFAULT_TEXT_MAX_LENGTH = 200


def checked_text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise MalformedCommand(f"{name} must be a string")
    if len(value) > TEXT_MAX_LENGTH.get(name, DEFAULT_TEXT_MAX_LENGTH):
        raise MalformedCommand(f"{name} is too long")
    if not value.isprintable():
        raise MalformedCommand(f"{name} holds control characters")
    return value


# Each command type's fields, by name: commands hold only scalars, so a command's dict is its
# fields' values (what `dataclasses.asdict` gives, without its deep copy, on the hot path).
_COMMAND_FIELDS: dict[type, dict[str, dataclasses.Field[Any]]] = {
    command_type: {f.name: f for f in dataclasses.fields(command_type)}
    for command_type in COMMAND_TYPES.values()
}


def command_to_dict(command: Command) -> dict[str, Any]:
    return {name: getattr(command, name) for name in _COMMAND_FIELDS[type(command)]}


def _reader(name: str, field: "dataclasses.Field[Any]") -> Callable[[Any], Any]:
    """What a field's value must be, as a function that returns it (an enum member for an
    enum's value) or raises MalformedCommand."""
    enum = _ENUM_FIELDS.get(name)
    optional = field.default is None
    if enum is not None:

        def read_enum(value: Any) -> Any:
            if value is None and optional:
                return None
            try:
                return enum(value)
            except ValueError as exc:
                raise MalformedCommand(f"bad {name} {value!r}") from exc

        return read_enum
    if field.type in ("int", int, _OPTIONAL_INT):
        nullable = field.type == _OPTIONAL_INT

        def read_int(value: Any) -> Any:
            if value is None and nullable:
                return None
            if type(value) is not int:
                raise MalformedCommand(f"{name} must be an integer")
            if not INT64_MIN <= value <= INT64_MAX:
                raise MalformedCommand(f"{name} is out of range")
            return value

        return read_int
    if field.type in ("bool", bool):

        def read_bool(value: Any) -> Any:
            if type(value) is not bool:
                raise MalformedCommand(f"{name} must be true or false")
            return value

        return read_bool
    if field.type in ("str", str):
        return lambda value: checked_text(name, value)
    return lambda value: value


# Per command type, per field: its name, whether it must be given, and its reader; built once,
# since every stream entry goes through here.
_COMMAND_READERS: dict[type, tuple[tuple[str, bool, Callable[[Any], Any]], ...]] = {
    command_type: tuple(
        (name, field.default is dataclasses.MISSING, _reader(name, field))
        for name, field in fields.items()
    )
    for command_type, fields in _COMMAND_FIELDS.items()
}


def command_from_dict(fields: dict[str, Any]) -> Command:
    kind = fields.get("kind")
    command_type = COMMAND_TYPES.get(kind) if isinstance(kind, str) else None
    if command_type is None:
        raise MalformedCommand(f"unknown command kind {kind!r}")
    unknown = fields.keys() - _COMMAND_FIELDS[command_type].keys()
    if unknown:
        raise MalformedCommand(f"unexpected fields {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, required, read in _COMMAND_READERS[command_type]:
        if name in fields:
            values[name] = read(fields[name])
        elif required:
            raise MalformedCommand(f"missing field {name!r}")
    return command_type(**values)


def _field_reader(event_type: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    names = tuple(field.name for field in dataclasses.fields(event_type))
    return names, operator.attrgetter(*names)


# Per event type: its field names in order, and one call that reads them all.
_EVENT_READERS = {event_type: _field_reader(event_type) for event_type in EVENT_TYPES.values()}
_CHANGE_NAMES, _read_change = _field_reader(LevelChange)


def event_to_dict(event: Event) -> dict[str, Any]:
    names, read = _EVENT_READERS[type(event)]
    fields = dict(zip(names, read(event), strict=True))
    if isinstance(event, BookDelta):
        fields["changes"] = [
            dict(zip(_CHANGE_NAMES, _read_change(change), strict=True)) for change in event.changes
        ]
    return fields


_EVENT_ENUM_FIELDS: dict[str, Any] = {
    "side": Side,
    "aggressor_side": Side,
    "order_type": OrderType,
    "time_in_force": TimeInForce,
    "stp_mode": StpMode,
    "reason": Reason,
    "limit": RiskLimit,
    "risk_list": RiskList,
    "scope": KillScope,
    "parameter": BreakerParameter,
    "halt_kind": HaltKind,
}


def event_from_dict(fields: dict[str, Any]) -> Event:
    """An event back from its logged form (the inverse of `event_to_dict`)."""
    event_type = EVENT_TYPES[fields["kind"]]
    values = {
        name: _EVENT_ENUM_FIELDS[name](value) if name in _EVENT_ENUM_FIELDS else value
        for name, value in fields.items()
    }
    if event_type is BookDelta:
        values["changes"] = tuple(
            LevelChange(Side(c["side"]), c["price_ticks"], c["qty_lots"], c["order_count"])
            for c in fields["changes"]
        )
    event: Event = event_type(**values)
    return event
