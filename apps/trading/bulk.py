"""Bulk writes of model rows as single statements, for the matcher's read models.

Django's `bulk_create` and `bulk_update` prepare every field of every object in Python, and
`bulk_update` sends one CASE expression per field, which PostgreSQL evaluates by scanning its
branches for every row. The matcher writes hundreds of rows per batch inside the journal's
transaction, so on PostgreSQL the rows go as one array per column: `unnest` turns the arrays
into rows server-side. Each array is sent as its literal text, written here with joins: the
driver's list adaptation walks every element in Python, which measured 3.8 ms of CPU for 19
columns of 500 rows against 0.8 ms for the literals (and holds the interpreter the matcher's
thread needs). The statements of a batch are sent together in the driver's pipeline mode: one
round trip for all of them, not one each. Other databases (SQLite, the embedded default) use
Django's bulk methods.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    # One array literal per column ("{1,2}", '{"a","b"}'), cast to the column's array type.
    arrays: list[str]


def _database(model: type[Model]) -> BaseDatabaseWrapper:
    return connections[router.db_for_write(model)]


def uses_arrays(model: type[Model]) -> bool:
    """Whether `model`'s database takes the array statements below."""
    return _database(model).vendor == "postgresql"


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    # By name or attname ("user_id" for the foreign key `user`); all are concrete.
    return cast("Field[Any, Any]", model._meta.get_field(name))


@functools.cache
def _columns(
    model: type[Model], names: tuple[str, ...]
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The quoted table name, the quoted columns of `names` and the array types their values
    are sent as. The same few statements run on every batch: this is worked out once."""
    database = _database(model)
    fields = [_field(model, name) for name in names]
    return (
        database.ops.quote_name(model._meta.db_table),
        tuple(database.ops.quote_name(field.column) for field in fields),
        tuple(f"{field.db_type(database)}[]" for field in fields),
    )


def _quoted(value: str | None) -> str:
    if value is None:
        return "NULL"
    # Inside double quotes only the quote and the backslash are special.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(value: int | None) -> str:
    return "NULL" if value is None else str(value)


def _boolean(value: bool | None) -> str:
    return "NULL" if value is None else ("t" if value else "f")


def _array_literal(array_type: str, column: Sequence[Any]) -> str:
    """`column` as the text of a PostgreSQL array of `array_type`."""
    if array_type.startswith(("bigint", "integer", "smallint")):
        if None in column:
            return "{" + ",".join(map(_number, column)) + "}"
        return "{" + ",".join(map(str, column)) + "}"
    if array_type.startswith("bool"):
        return "{" + ",".join(map(_boolean, column)) + "}"
    if array_type.startswith(("varchar", "text")):
        return "{" + ",".join(map(_quoted, column)) + "}"
    raise TypeError(f"no array literal is written for {array_type} columns")


def _arrays(types: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    return [
        _array_literal(array_type, column)
        for array_type, column in zip(types, zip(*rows, strict=True), strict=True)
    ]


def _unnest(types: Sequence[str]) -> str:
    aliases = ", ".join(f"c{i}" for i in range(len(types)))
    return f"unnest({', '.join(f'%s::{array_type}' for array_type in types)}) AS v({aliases})"


def insert(
    model: type[Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    resolve: tuple[str, type[Model], str] | None = None,
) -> Statement | None:
    """Insert `rows` (values in the order of `names`, as the database stores them).

    `resolve` (column, model, unique field) fills a foreign key whose rows give the target's
    unique field instead of its primary key: the key is looked up in the same statement."""
    if not rows:
        return None
    table, quoted, types = _columns(model, tuple(names))
    values = [f"v.c{i}" for i in range(len(names))]
    if resolve is not None:
        column, target, unique = resolve
        index = list(names).index(column)
        target_table, (target_unique,), target_types = _columns(target, (unique,))
        target_pk = _database(target).ops.quote_name(target._meta.pk.column)
        values[index] = (
            f"(SELECT {target_pk} FROM {target_table} WHERE {target_unique} = v.c{index})"  # noqa: S608 - identifiers from the model
        )
        types = (*types[:index], target_types[0], *types[index + 1 :])
    sql = (
        f"INSERT INTO {table} ({', '.join(quoted)}) "  # noqa: S608 - identifiers from the model, values as parameters
        f"SELECT {', '.join(values)} FROM {_unnest(types)}"
    )
    return Statement(sql, _arrays(types, rows))


def upsert(
    model: type[Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    unique: Sequence[str],
    updated: Sequence[str],
) -> Statement | None:
    """Insert `rows`, or where one with the same `unique` columns exists, set its `updated`
    columns to the new values."""
    if not rows:
        return None
    table, quoted, types = _columns(model, tuple(names))
    _, conflict, _ = _columns(model, tuple(unique))
    _, assigned, _ = _columns(model, tuple(updated))
    sql = (
        f"INSERT INTO {table} ({', '.join(quoted)}) SELECT * FROM {_unnest(types)} "  # noqa: S608 - identifiers from the model, values as parameters
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in assigned)
    )
    return Statement(sql, _arrays(types, rows))


def update(
    model: type[Model], key: str, names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Statement | None:
    """Set the columns `names` of the rows whose unique column `key` equals each row's first
    value (the rest in the order of `names`)."""
    if not rows:
        return None
    table, quoted, types = _columns(model, (key, *names))
    assignments = ", ".join(f"{column} = v.c{i}" for i, column in enumerate(quoted) if i)
    sql = f"UPDATE {table} AS t SET {assignments} FROM {_unnest(types)} WHERE t.{quoted[0]} = v.c0"  # noqa: S608 - identifiers from the model, values as parameters
    return Statement(sql, _arrays(types, rows))


def execute(model: type[Model], statements: Sequence[Statement | None]) -> None:
    """Run the statements in order, in one round trip, with the array literals as bound
    parameters (Django's cursors bind on the client, quoting each into the SQL text).
    PostgreSQL only; the caller holds the transaction."""
    database = _database(model)
    database.ensure_connection()
    connection = database.connection
    with (
        database.wrap_database_errors,
        connection.pipeline(),
        psycopg.Cursor(connection) as cursor,
    ):
        for statement in statements:
            if statement is not None:
                cursor.execute(statement.sql, statement.arrays)
