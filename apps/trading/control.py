"""Control changes from the web tier to the matchers, shared by the risk controls (apps.risk)
and the circuit breakers (apps.breakers), which differ only in what they send.

Both check the same things at the edge (the actor's role, a reason for the journal) and send
their commands the same way: to the shards named, with a fresh command id each, answered by the
first shard (or by every shard, for an emergency), once the change that caused them committed.
"""

import dataclasses
import uuid
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction

from apps.accounts.models import User
from apps.instruments.models import Instrument
from apps.matching.engine import Command
from apps.trading.services import command_send, reply_wait
from project.api_errors import Rejection

log = structlog.get_logger(__name__)

# The journal holds at most this much text in a command's field (apps.matching.codec).
REASON_MAX_LENGTH = 200
# The operator id of commands no person sent (session start, a start-up sync, an automatic
# kill switch).
SYSTEM_USER_ID = 0


def require_permission(actor: User, perm: str, action: str) -> None:
    if not actor.is_active or not actor.has_perm(perm):
        raise Rejection("permission_denied", f"Your role does not allow you to {action}.", 403)


def control_reason(reason: str | None) -> str:
    """The reason as journaled: one line, trimmed, required."""
    # Only code sends a non-string; it gets the same answer as a missing reason.
    text = (reason or "").strip() if isinstance(reason, str | None) else ""
    if not text:
        raise Rejection("reason_required", "Say why: a reason is required for every change.")
    if len(text) > REASON_MAX_LENGTH or not text.isprintable():
        raise Rejection(
            "invalid_reason",
            f"The reason must be one line of at most {REASON_MAX_LENGTH} printable characters.",
        )
    return text


def instrument_shards() -> list[int]:
    """Every shard that lists an instrument: firm-wide control commands go to each of them."""
    return sorted(set(Instrument.objects.values_list("shard", flat=True)))


def matcher_shards() -> list[int]:
    """Every shard a matcher may run: the configured ones and any an instrument names. What the
    matchers publish (halts, risk figures) is read from each of them."""
    listed = set(Instrument.objects.values_list("shard", flat=True))
    return sorted(listed | set(range(settings.MATCHER_SHARD_COUNT)))


@dataclass(slots=True)
class ShardDispatch:
    """Commands for shards, sent (with `send_on_commit`, once the change that caused them has
    committed) and answered. Each (shard, command) is a template: the command is sent with a
    fresh id. Only the first shard's answers are awaited unless `wait_all`; list the targets
    grouped by shard. `unsent_log` names the log event of a queue that is down; `unanswered`
    is what a caller that saved nothing is told when the matcher does not answer in time."""

    targets: list[tuple[int, Command]]
    unsent_log: str
    wait_all: bool = False
    unanswered: str = "The request is queued, but the matcher did not answer in time."
    sent: bool = False
    failure: Rejection | None = None
    awaited: list[str] = field(default_factory=list)

    def send(self) -> None:
        first_shard = self.targets[0][0] if self.targets else None
        try:
            for shard, template in self.targets:
                command = dataclasses.replace(template, command_id=uuid.uuid4().hex)
                wants_reply = self.wait_all or shard == first_shard
                command_send(shard, command, want_reply=wants_reply)
                if wants_reply:
                    self.awaited.append(command.command_id)
        except Rejection as exc:
            # A saved change is durable; only its delivery failed. The matcher's start-up sync
            # brings it the database's configuration, this change included.
            log.warning(self.unsent_log, code=exc.code, commands=len(self.targets))
            self.failure = exc
        self.sent = True

    def send_on_commit(self) -> None:
        if self.targets:
            transaction.on_commit(self.send)

    def answers(self, saved: bool = True) -> list[dict[str, Any]] | None:
        """The outcome events, in order; None while the enclosing transaction is still open.
        `saved`: whether a change is already durable (it then says so when delivery fails)."""
        if not self.targets:
            return []
        if not self.sent:
            return None
        if self.failure is not None:
            if not saved:
                raise Rejection(
                    self.failure.code,
                    "The request could not be sent: the desk's queue is down.",
                    self.failure.status,
                )
            raise Rejection(
                self.failure.code,
                "The change is saved, but the desk's queue is down: the matcher keeps the "
                "previous value until it takes the change at its next start.",
                self.failure.status,
            )
        events: list[dict[str, Any]] = []
        for command_id in self.awaited:
            try:
                reply = reply_wait(command_id)
            except Rejection as exc:
                message = (
                    "The change is saved and queued, but the matcher did not confirm it in time."
                    if saved
                    else self.unanswered
                )
                raise Rejection(exc.code, message, exc.status) from None
            if reply["status"] >= 400:
                raise Rejection(reply["code"], reply["message"], reply["status"])
            if "event" in reply:
                events.append(reply["event"])
        return events
