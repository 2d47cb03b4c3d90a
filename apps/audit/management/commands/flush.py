"""Django's `flush`, able to empty the event log on SQLite too.

On PostgreSQL flush empties tables with TRUNCATE, which fires no row triggers. On SQLite it
runs DELETE FROM on each table, which the append-only trigger refuses. This command lets
that one statement through: just before flush's DELETE of audit_eventrecord it grants every
shard's rows, and right after it withdraws the grants, inside flush's own transaction. Only
the flush command does this (the test runner calls it between transactional tests); no
other DELETE of the event log passes.
"""

from collections.abc import Callable
from typing import Any

from django.core.management.commands import flush
from django.db import connections

from apps.audit.models import EventRecord, PurgeGrant

Execute = Callable[[str, Any, bool, dict[str, Any]], Any]


def _event_log_wipe_granted(
    execute: Execute, sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    table = EventRecord._meta.db_table
    # Exactly the statement SQLite's sql_flush writes for the table, nothing narrower or wider.
    if sql.strip().rstrip(";") != f'DELETE FROM "{table}"':  # noqa: S608 - compared, not run
        return execute(sql, params, many, context)
    cursor = context["cursor"]
    grants = PurgeGrant._meta.db_table
    cursor.execute(
        f'INSERT OR REPLACE INTO "{grants}" (shard, through_seq)'  # noqa: S608 - model names
        f' SELECT shard, MAX(seq) FROM "{table}" GROUP BY shard'
    )
    try:
        return execute(sql, params, many, context)
    finally:
        cursor.execute(f'DELETE FROM "{grants}"')  # noqa: S608 - a model's table name


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            super().handle(**options)
            return
        with connection.execute_wrapper(_event_log_wipe_granted):
            super().handle(**options)
