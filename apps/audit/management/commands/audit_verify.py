from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.audit.verify import chain_verify, result_lines, verification_record


class Command(BaseCommand):
    help = (
        "Walk the event log's hash chain (every shard, or one) and say how far it is intact, "
        "or name the first row that does not verify. Exits with status 1 if a chain is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shard", type=int, default=None, help="Only this shard.")

    def handle(self, *args: Any, shard: int | None, **options: Any) -> None:
        result = chain_verify(shard)
        verification_record(result, actor_user_id=None)
        for line in result_lines(result):
            self.stdout.write(line)
        if not result.intact:
            # SystemExit rather than CommandError: the sentence above already says what broke.
            raise SystemExit(1)
