"""The database itself refuses UPDATE and DELETE on the event log.

UPDATE is refused always. DELETE is refused unless a row of audit_purgegrant covers the row
(same shard, seq at or below the grant's through_seq): the purge writes that grant and removes
it again inside its own transaction, so the only deletes that ever pass are the purge's.

PostgreSQL: one plpgsql function behind a row-level BEFORE UPDATE OR DELETE trigger; it
raises SQLSTATE 23001 (restrict_violation), which Django surfaces as IntegrityError, the same
class SQLite's RAISE(ABORT) gives. TRUNCATE fires no row triggers: it needs table ownership,
the same privilege that can drop a trigger, so it is kept away from the application's role by
the deployment rather than here (and `manage.py flush` relies on it).

SQLite: two BEFORE triggers with RAISE(ABORT, ...). A later migration that makes Django
rebuild audit_eventrecord on SQLite (most AlterField operations do) drops these triggers with
the old table; apps.audit.signals checks after every migrate that they are still there.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

POSTGRESQL_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION audit_eventrecord_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND EXISTS (
            SELECT 1 FROM audit_purgegrant AS grant_row
            WHERE grant_row.shard = OLD.shard AND OLD.seq <= grant_row.through_seq
        ) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'the event log is append-only: % of shard % seq % refused',
            TG_OP, OLD.shard, OLD.seq
            USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_eventrecord_append_only
    BEFORE UPDATE OR DELETE ON audit_eventrecord
    FOR EACH ROW EXECUTE FUNCTION audit_eventrecord_append_only()
    """,
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_eventrecord_append_only ON audit_eventrecord",
    "DROP FUNCTION IF EXISTS audit_eventrecord_append_only()",
]

SQLITE_INSTALL = [
    """
    CREATE TRIGGER audit_eventrecord_refuse_update
    BEFORE UPDATE ON audit_eventrecord
    BEGIN
        SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused');
    END
    """,
    """
    CREATE TRIGGER audit_eventrecord_refuse_delete
    BEFORE DELETE ON audit_eventrecord
    WHEN NOT EXISTS (
        SELECT 1 FROM audit_purgegrant AS grant_row
        WHERE grant_row.shard = OLD.shard AND OLD.seq <= grant_row.through_seq
    )
    BEGIN
        SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused');
    END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_eventrecord_refuse_update",
    "DROP TRIGGER IF EXISTS audit_eventrecord_refuse_delete",
]

STATEMENTS = {
    "postgresql": (POSTGRESQL_INSTALL, POSTGRESQL_REMOVE),
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
}


def _run(schema_editor: BaseDatabaseSchemaEditor, install: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        # An event log without the database's refusal would be append-only in name only.
        raise RuntimeError(f"no append-only triggers for the {vendor} database")
    install_sql, remove_sql = STATEMENTS[vendor]
    for statement in install_sql if install else remove_sql:
        # No parameters: the plpgsql body's % placeholders are RAISE's, not the driver's.
        schema_editor.execute(statement, params=None)


def install_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, install=True)


def remove_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, install=False)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_retention_holds_and_chain_lock"),
    ]

    operations = [
        migrations.RunPython(install_triggers, remove_triggers),
    ]
