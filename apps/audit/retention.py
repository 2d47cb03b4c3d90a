"""Retention: purging rows older than the retention period, unless a legal hold keeps them.

Only a contiguous prefix of a shard's chain can go: the rows from its start up to (not
including) the first row that is still within retention, is under a legal hold, is still
needed to recover the matcher, or is the newest row of the shard. Everything after that first
kept row stays too, so what remains is one unbroken chain that verifies from the checkpoint
the purge leaves behind (the seq and hash of the last row it removed).
"""

import functools
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import EventRecord, LegalHold, PurgeGrant, RetentionCheckpoint
from apps.audit.services import WEB_SHARD, chain_tail, web_event_record
from apps.audit.verify import ChainStart, shard_walk, shards_present

log = structlog.get_logger(__name__)

NS_PER_DAY = 86_400 * 10**9
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Shard → the highest seq its matcher's recovery no longer needs (its latest snapshot's).
RecoveryFloor = Callable[[int], int]
_recovery_floors: list[RecoveryFloor] = []


def recovery_floor_register(floor: RecoveryFloor) -> None:
    """Let the purge remove matcher rows up to what `floor(shard)` says recovery can spare.

    A matcher rebuilds its books by replaying its shard's log from its latest snapshot, so the
    rows after that snapshot must stay whatever their age. Until some floor is registered the
    purge keeps every matcher row: an early purge would make the books unrecoverable."""
    _recovery_floors.append(floor)


def datetime_to_ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


@dataclass(slots=True, frozen=True)
class ShardPurgePlan:
    shard: int
    # Rows after `start_seq` up to `through_seq` may go; none if through_seq <= start_seq.
    start_seq: int
    through_seq: int
    kept_because: str

    @property
    def rows(self) -> int:
        return max(0, self.through_seq - self.start_seq)


@dataclass(slots=True, frozen=True)
class ShardPurged:
    purged: int
    through_seq: int
    kept_because: str


@dataclass(slots=True)
class PurgeResult:
    cutoff_ns: int
    shards: dict[int, ShardPurged] = field(default_factory=dict)

    @property
    def purged(self) -> int:
        return sum(shard.purged for shard in self.shards.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "cutoff_ns": self.cutoff_ns,
            "retention_days": settings.AUDIT_RETENTION_DAYS,
            "purged": self.purged,
            "shards": {
                str(shard): {
                    "purged": outcome.purged,
                    "through_seq": outcome.through_seq,
                    "kept_because": outcome.kept_because,
                }
                for shard, outcome in self.shards.items()
            },
        }


# -- legal holds ----------------------------------------------------------------------------


def legal_hold_place(
    *,
    created_by: User,
    reason: str,
    account: str = "",
    symbol: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> LegalHold:
    hold = LegalHold(
        account=account,
        symbol=symbol,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by=created_by,
    )
    hold.full_clean(exclude=["created_at"])
    with transaction.atomic():
        hold.save()
        web_event_record(
            "legal_hold.placed",
            actor_user_id=created_by.pk,
            payload=_hold_detail(hold),
            account=account,
            symbol=symbol,
        )
    return hold


def legal_hold_release(hold: LegalHold, *, released_by: User) -> None:
    if hold.released_at is not None:
        return
    with transaction.atomic():
        hold.released_at = timezone.now()
        hold.released_by = released_by
        hold.save(update_fields=["released_at", "released_by"])
        web_event_record(
            "legal_hold.released",
            actor_user_id=released_by.pk,
            payload=_hold_detail(hold),
            account=hold.account,
            symbol=hold.symbol,
        )


def _hold_detail(hold: LegalHold) -> dict[str, Any]:
    return {
        "hold_id": hold.pk,
        "starts_at": hold.starts_at.isoformat() if hold.starts_at else None,
        "ends_at": hold.ends_at.isoformat() if hold.ends_at else None,
        "hold_reason": hold.reason,
    }


def _hold_rows(hold: LegalHold) -> Q:
    """The event-log rows `hold` keeps."""
    rows = Q(pk__isnull=False)  # a hold without criteria keeps every row
    if hold.account:
        # Trades name their two accounts in the payload only.
        rows &= (
            Q(account=hold.account)
            | Q(payload__maker_account=hold.account)
            | Q(payload__taker_account=hold.account)
        )
    if hold.symbol:
        rows &= Q(symbol=hold.symbol)
    if hold.starts_at is not None:
        rows &= Q(ts_ns__gte=datetime_to_ns(hold.starts_at))
    if hold.ends_at is not None:
        rows &= Q(ts_ns__lt=datetime_to_ns(hold.ends_at))
    return rows


def _held_rows() -> Q | None:
    holds = LegalHold.objects.filter(released_at__isnull=True)
    filters = [_hold_rows(hold) for hold in holds]
    return functools.reduce(operator.or_, filters) if filters else None


def _first_seq(shard: int, after_seq: int, rows: Q, through_seq: int | None = None) -> int | None:
    """The first seq after `after_seq` (up to `through_seq`) of a row that `rows` matches."""
    candidates = EventRecord.objects.filter(rows, shard=shard, seq__gt=after_seq)
    if through_seq is not None:
        candidates = candidates.filter(seq__lte=through_seq)
    return candidates.order_by("seq").values_list("seq", flat=True).first()


# -- the purge ------------------------------------------------------------------------------


def retention_cutoff_ns(now_ns: int | None = None) -> int:
    now_ns = time.time_ns() if now_ns is None else now_ns
    retention_days: int = settings.AUDIT_RETENTION_DAYS
    return now_ns - retention_days * NS_PER_DAY


def shard_purge_plan(shard: int, cutoff_ns: int) -> ShardPurgePlan:
    """How far `shard`'s prefix can go, and which row stops it."""
    start = ChainStart.of_shard(shard)
    tail_seq = chain_tail(shard).seq
    # Each candidate: (last seq that may go, why the row after it stays).
    stops: list[tuple[int, str]] = [
        # Every writer finds its head hash in its own rows, so the newest row stays.
        (tail_seq - 1, f"seq {tail_seq} is the newest row of the shard"),
    ]
    unexpired = _first_seq(shard, start.seq, Q(ts_ns__gte=cutoff_ns))
    if unexpired is not None:
        stops.append((unexpired - 1, f"seq {unexpired} is within retention"))
    if shard != WEB_SHARD:
        if not _recovery_floors:
            stops.append((start.seq, "no recovery floor is registered for matcher shards"))
        else:
            floor = min(recovery_floor(shard) for recovery_floor in _recovery_floors)
            stops.append((floor, f"the matcher's recovery needs the rows after seq {floor}"))
    # Holds are looked for only where the other stops would let the purge go, which keeps
    # the (unindexed) payload lookups to the expired prefix.
    held_rows = _held_rows()
    reach = min(stops)[0]
    if held_rows is not None and reach > start.seq:
        held = _first_seq(shard, start.seq, held_rows, reach)
        if held is not None:
            stops.append((held - 1, f"seq {held} is under a legal hold"))
    through_seq, kept_because = min(stops)
    return ShardPurgePlan(shard, start.seq, max(through_seq, start.seq), kept_because)


def _purge_batch(shard: int, through_limit: int, batch_rows: int) -> tuple[int, int]:
    """Delete the next batch of `shard`'s prefix (at most up to `through_limit`) in one
    transaction with its checkpoint; return how many rows went and the checkpoint's seq."""
    with transaction.atomic():
        # The grant row goes in first: on PostgreSQL a second purge of this shard waits on
        # its primary key until we commit, on SQLite on the write lock; either way the
        # checkpoint read below is the latest one.
        grant = PurgeGrant.objects.create(shard=shard, through_seq=0)
        start_seq = ChainStart.of_shard(shard).seq
        through_seq = min(start_seq + batch_rows, through_limit)
        # A hold placed since the plan was made still counts.
        held_rows = _held_rows()
        if held_rows is not None:
            held = _first_seq(shard, start_seq, held_rows, through_seq)
            if held is not None:
                through_seq = held - 1
        if through_seq <= start_seq:
            grant.delete()
            return 0, start_seq
        last = EventRecord.objects.get(shard=shard, seq=through_seq)
        grant.through_seq = through_seq
        grant.save(update_fields=["through_seq"])
        deleted, _ = EventRecord.objects.filter(
            shard=shard, seq__gt=start_seq, seq__lte=through_seq
        ).delete()
        if deleted != through_seq - start_seq:
            # The chain had a gap in the range: leave it for verification to name.
            raise RuntimeError(
                f"shard {shard}: expected to purge seqs {start_seq + 1} to {through_seq}, "
                f"found {deleted} rows"
            )
        RetentionCheckpoint.objects.update_or_create(
            shard=shard,
            defaults={
                "seq": through_seq,
                "hash": last.hash,
                "ts_ns": last.ts_ns,
                "purged_at": timezone.now(),
            },
        )
        # No grant outlives its transaction: the next DELETE is refused again.
        grant.delete()
    return deleted, through_seq


def audit_purge(*, now_ns: int | None = None, dry_run: bool = False) -> PurgeResult:
    """Remove every expired, unheld prefix of every shard; record what went as `audit.purged`.

    A shard whose prefix does not verify is not purged: a checkpoint only ever vouches for
    rows that were verified before they went."""
    result = PurgeResult(cutoff_ns=retention_cutoff_ns(now_ns))
    for shard in shards_present():
        plan = shard_purge_plan(shard, result.cutoff_ns)
        kept_because = plan.kept_because
        purged = 0
        through_seq = plan.start_seq
        if plan.rows:
            start = ChainStart.of_shard(shard)
            walk = shard_walk(shard, start.seq, start.hash, start.described, plan.through_seq)
            if walk.bad is not None:
                kept_because = f"its prefix does not verify: {walk.bad}"
                log.error("audit_purge_refused", shard=shard, bad=str(walk.bad))
            elif dry_run:
                purged, through_seq = plan.rows, plan.through_seq
            else:
                while True:
                    deleted, batch_through_seq = _purge_batch(
                        shard, plan.through_seq, settings.AUDIT_PURGE_BATCH_ROWS
                    )
                    if not deleted:
                        break
                    purged += deleted
                    through_seq = batch_through_seq
        result.shards[shard] = ShardPurged(purged, through_seq, kept_because)
        log.info(
            "audit_purge_shard",
            shard=shard,
            purged=purged,
            through_seq=through_seq,
            kept_because=kept_because,
            dry_run=dry_run,
        )
    if not dry_run:
        web_event_record("audit.purged", actor_user_id=None, payload=result.as_dict())
    return result
