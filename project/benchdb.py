"""A scratch PostgreSQL database for the benchmarks, created fresh and dropped after.

The desk's own event log is append-only, so a benchmark never writes to it: it gets a database
of its own, whose name must say "bench" so that no other one is ever dropped by mistake.
"""

from dataclasses import dataclass
from typing import Any

import environ
import psycopg
import psycopg.sql
from django.core.management.base import CommandError


@dataclass(slots=True, frozen=True)
class ScratchDatabase:
    url: str
    name: str
    user: str
    password: str
    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> "ScratchDatabase":
        config = environ.Env.db_url_config(url)
        if config["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError(f"--database-url must name a PostgreSQL database, not {url!r}.")
        name = str(config["NAME"])
        # The database is dropped and created again: never one that is not the benchmark's.
        if "bench" not in name:
            raise CommandError(
                f"Refusing to drop and recreate database {name!r}: the benchmark's database "
                f"name must contain 'bench'."
            )
        return cls(
            url,
            name,
            str(config["USER"] or "postgres"),
            str(config["PASSWORD"] or ""),
            str(config["HOST"] or "127.0.0.1"),
            int(config["PORT"] or 5432),
        )

    def maintenance(self) -> psycopg.Connection[Any]:
        """A connection to the server's `postgres` database, to drop and create ours."""
        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password or None,
                dbname="postgres",
                autocommit=True,
                connect_timeout=5,
            )
        except psycopg.OperationalError as exc:
            raise CommandError(
                f"PostgreSQL is not reachable at {self.host}:{self.port} as {self.user!r}, and "
                f"the benchmarks run on PostgreSQL: start it, or point --database-url at one. "
                f"({' '.join(str(exc).split())})"
            ) from None

    def recreate(self) -> None:
        with self.maintenance() as admin:
            name = psycopg.sql.Identifier(self.name)
            admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(name))

    def drop(self) -> None:
        with self.maintenance() as admin:
            name = psycopg.sql.Identifier(self.name)
            admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
