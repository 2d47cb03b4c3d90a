from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from apps.audit.models import EventRecord
from apps.matching.codec import event_from_dict
from apps.matching.engine import COMMAND_TYPES
from apps.trading.models import Fill, Order, Position
from apps.trading.projection import ReadModelProjector


class Command(BaseCommand):
    help = (
        "Rebuild the order, fill and position read models of a shard from the event log. "
        "Run it with that shard's matcher stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shard", type=int, default=0)
        parser.add_argument("--batch", type=int, default=5000)

    @transaction.atomic
    def handle(self, *args: Any, shard: int, batch: int, **options: Any) -> None:
        # One transaction: readers see the old read models or the rebuilt ones, never half.
        Fill.objects.filter(shard=shard).delete()
        Order.objects.filter(shard=shard).delete()
        positions = Position.objects.filter(instrument__shard=shard)
        positions.delete()
        projector = ReadModelProjector(shard)
        rows = (
            EventRecord.objects.filter(shard=shard)
            .exclude(kind__in=list(COMMAND_TYPES))
            .order_by("seq")
            .values_list("payload", flat=True)
        )
        pending = []
        projected = 0
        for payload in rows.iterator(chunk_size=batch):
            pending.append(event_from_dict(payload))
            if len(pending) >= batch:
                projector.apply(pending)
                projected += len(pending)
                pending = []
        projector.apply(pending)
        projected += len(pending)
        self.stdout.write(
            f"Shard {shard}: {projected} events projected into "
            f"{Order.objects.filter(shard=shard).count()} orders, "
            f"{Fill.objects.filter(shard=shard).count()} fills and "
            f"{positions.count()} positions."
        )
