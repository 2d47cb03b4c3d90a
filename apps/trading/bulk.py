"""Bulk writes of model rows as single statements, for the matcher's read models.

Django's `bulk_create` and `bulk_update` prepare every field of every object in Python, and
`bulk_update` sends one CASE expression per field, which PostgreSQL evaluates by scanning its
branches for every row. The matcher writes hundreds of rows per batch inside the journal's
transaction, so on PostgreSQL the rows go as one array per column: `unnest` turns the arrays
into rows server-side, and the driver adapts each array in C. Other databases (SQLite, the
embedded default) use Django's bulk methods.
"""

from collections.abc import Sequence
from typing import Any, cast

import psycopg
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model


def _database(model: type[Model]) -> BaseDatabaseWrapper:
    return connections[router.db_for_write(model)]


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    # By name or attname ("user_id" for the foreign key `user`), or "pk"; all are concrete.
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return cast("Field[Any, Any]", field)


def _columns(
    database: BaseDatabaseWrapper, model: type[Model], names: Sequence[str]
) -> tuple[list[str], list[str]]:
    """The quoted column names of `names` and the array types their values are sent as."""
    fields = [_field(model, name) for name in names]
    quoted = [database.ops.quote_name(field.column) for field in fields]
    types = [f"{field.db_type(database)}[]" for field in fields]
    return quoted, types


def _execute(database: BaseDatabaseWrapper, sql: str, arrays: list[list[Any]]) -> list[Any]:
    """Run `sql` with the arrays bound server-side: Django's cursors bind on the client, which
    would spell every element out as SQL text in Python. Returns the rows it gives, if any."""
    database.ensure_connection()
    with database.wrap_database_errors, psycopg.Cursor(database.connection) as cursor:
        cursor.execute(sql, arrays)
        return cursor.fetchall() if cursor.description else []


def _arrays(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def insert_rows(
    model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]], key: str = ""
) -> dict[Any, int]:
    """Insert `rows` (values in the order of `names`, as the database stores them). With `key`,
    a unique column, return the new primary keys by its value. PostgreSQL only."""
    if not rows:
        return {}
    database = _database(model)
    quoted, types = _columns(database, model, names)
    table = database.ops.quote_name(model._meta.db_table)
    unnest = ", ".join(f"%s::{array_type}" for array_type in types)
    sql = f"INSERT INTO {table} ({', '.join(quoted)}) SELECT * FROM unnest({unnest})"  # noqa: S608 - identifiers from the model, values as parameters
    if key:
        # RETURNING promises no order: each key comes back with the value that identifies it.
        key_column, pk = _columns(database, model, [key, "pk"])[0]
        sql += f" RETURNING {key_column}, {pk}"
    found = _execute(database, sql, _arrays(rows, len(names)))
    return dict(found) if key else {}


def upsert_rows(
    model: type[Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    unique: Sequence[str],
    updated: Sequence[str],
) -> None:
    """Insert `rows`, or where one with the same `unique` columns exists, set its `updated`
    columns to the new values. PostgreSQL only."""
    if not rows:
        return
    database = _database(model)
    quoted, types = _columns(database, model, names)
    conflict, _ = _columns(database, model, unique)
    assigned, _ = _columns(database, model, updated)
    table = database.ops.quote_name(model._meta.db_table)
    unnest = ", ".join(f"%s::{array_type}" for array_type in types)
    sql = (
        f"INSERT INTO {table} ({', '.join(quoted)}) SELECT * FROM unnest({unnest}) "  # noqa: S608 - identifiers from the model, values as parameters
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in assigned)
    )
    _execute(database, sql, _arrays(rows, len(names)))


def update_rows(model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Set the columns `names` of the rows whose primary key is each row's first value (the
    rest in the order of `names`). PostgreSQL only."""
    if not rows:
        return
    database = _database(model)
    quoted, types = _columns(database, model, ["pk", *names])
    table = database.ops.quote_name(model._meta.db_table)
    unnest = ", ".join(f"%s::{array_type}" for array_type in types)
    aliases = [f"c{i}" for i in range(len(quoted))]
    assignments = ", ".join(
        f"{column} = v.{alias}" for column, alias in zip(quoted[1:], aliases[1:], strict=True)
    )
    sql = (
        f"UPDATE {table} AS t SET {assignments} FROM unnest({unnest}) AS v({', '.join(aliases)}) "  # noqa: S608 - identifiers from the model, values as parameters
        f"WHERE t.{quoted[0]} = v.{aliases[0]}"
    )
    _execute(database, sql, _arrays(rows, len(quoted)))


def uses_arrays(model: type[Model]) -> bool:
    """Whether `model`'s database takes the array statements above."""
    return _database(model).vendor == "postgresql"
