"""Send today's (or a given day's) StartSession to every shard by hand: after a late start, a
changed close, or on a test desk outside market hours."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.breakers.services import session_start
from project.api_errors import Rejection


class Command(BaseCommand):
    help = "Send the session's open and close (from the breaker settings) to every shard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            default=None,
            help="The session's day, YYYY-MM-DD (default: today in the session's time zone).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            times = session_start(day=options["date"])
        except Rejection as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Session of {times.day.isoformat()} sent: open_ns={times.open_ns} "
            f"close_ns={times.close_ns}"
        )
