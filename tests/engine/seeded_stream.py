"""A short seeded command stream and the events it makes, as JSON lines, for comparing the
engine's implementations (test_implementation.py). Run as a module, it prints them and, first,
which implementation made them:

    CWTS_ENGINE=pure python -m tests.engine.seeded_stream
"""

import json
import sys

from apps.matching.codec import event_to_dict
from apps.matching.engine import IMPLEMENTATION, Engine
from apps.matching.engine.commands import Command
from apps.matching.management.commands.bench_engine import WorkloadBuilder
from tests.engine.reference_book import ReferenceBook
from tests.engine.test_differential import StreamGenerator

SEED = 7
BOOK_COMMANDS = 1_500
CONTROLLED_COMMANDS = 1_500


def book_commands() -> list[Command]:
    """Every order type, modifies, mass cancels, expiries and bad input on two books: the
    differential test's generator, which aims cancels and modifies at working orders."""
    reference = ReferenceBook()
    commands: list[Command] = []
    for command in StreamGenerator(SEED, reference).commands(BOOK_COMMANDS):
        reference.apply(command)
        commands.append(command)
    return commands


def controlled_commands() -> list[Command]:
    """The benchmark's order flow with every risk control configured and active."""
    return WorkloadBuilder(SEED, controls=True).build(CONTROLLED_COMMANDS)


def event_lines() -> list[str]:
    """Each stream on a fresh engine: one JSON line per event, then the engine's snapshot."""
    lines = []
    for commands in (book_commands(), controlled_commands()):
        engine = Engine()
        for command in commands:
            for event in engine.apply(command):
                lines.append(json.dumps(event_to_dict(event), sort_keys=True))
        lines.append(json.dumps(engine.snapshot(), sort_keys=True))
    return lines


if __name__ == "__main__":
    sys.stdout.write("\n".join([IMPLEMENTATION, *event_lines()]) + "\n")
