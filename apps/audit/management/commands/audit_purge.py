from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.audit.retention import audit_purge


class Command(BaseCommand):
    help = (
        "Remove event-log rows older than AUDIT_RETENTION_DAYS that no legal hold keeps, "
        "leaving a checkpoint per shard so the remaining chain still verifies."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would go; remove nothing."
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        result = audit_purge(dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        self.stdout.write(f"retention {settings.AUDIT_RETENTION_DAYS} days")
        for shard, outcome in result.shards.items():
            self.stdout.write(
                f"shard {shard}: {verb} {outcome.purged} rows through seq {outcome.through_seq}"
                f" (stops because {outcome.kept_because})"
            )
        self.stdout.write(f"{verb} {result.purged} rows in all")
