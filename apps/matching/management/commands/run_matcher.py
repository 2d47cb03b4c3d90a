import signal
import threading
from typing import Any

import structlog
from django.core.management.base import BaseCommand, CommandParser

from apps.matching.engine import IMPLEMENTATION
from apps.matching.worker import Matcher

log = structlog.get_logger(__name__)


class Command(BaseCommand):
    help = "Run the matcher of one shard: the single writer of its books and its event log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--shard", type=int, default=0)
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, shard: int, batch_size: int, **options: Any) -> None:
        stop = threading.Event()

        def drain(signum: int, frame: object) -> None:
            # Finish the batch in hand (journal, ack, publish), then leave the loop.
            stop.set()

        signal.signal(signal.SIGTERM, drain)
        signal.signal(signal.SIGINT, drain)
        # Compiled by mypyc or plain Python (apps/matching/engine/__init__.py chooses).
        log.info("matcher_engine", shard=shard, engine=IMPLEMENTATION)
        Matcher(shard, batch_size=batch_size).run(stop)
