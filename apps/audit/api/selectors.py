"""Reads of the event log for auditors.

A search lists rows in one total order across shards, (ts_ns, shard, seq): time first, because
that is how an auditor reads a day, and (shard, seq) to break ties, which is unique. A page
continues after the last row of the previous one (keyset pagination), so that page 10,000 costs
what page 1 costs and rows appended meanwhile neither repeat nor vanish from the walk.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from apps.accounts.models import User
from apps.audit.api.filters import Cursor, EventFilters, EventPageQuery, Order
from apps.audit.models import EventRecord
from apps.audit.services import STORED_COLUMNS
from apps.matching.engine import COMMAND_TYPES

# The columns an auditor sees, in the order the CSV export writes them.
ROW_FIELDS = STORED_COLUMNS
SEARCH_ORDER = ("ts_ns", "shard", "seq")
COMMAND_KINDS = frozenset(COMMAND_TYPES)

Row = dict[str, Any]


def events_matching(filters: EventFilters) -> QuerySet[EventRecord]:
    """Every row the filters select, unordered. Each filter is an equality or a range on a
    column of the log, so that an index on (that column, ts_ns, shard, seq) serves both the
    filter and the search order, and a page reads about as many rows as it shows."""
    rows = EventRecord.objects.all()
    if filters.from_ns is not None:
        rows = rows.filter(ts_ns__gte=filters.from_ns)
    if filters.to_ns is not None:
        rows = rows.filter(ts_ns__lt=filters.to_ns)
    if filters.symbol:
        rows = rows.filter(symbol=filters.symbol)
    # The redundant "not blank" and "not null" repeat the partial indexes' conditions word for
    # word, which SQLite needs before it uses a partial index (PostgreSQL proves them itself).
    if filters.account:
        rows = rows.filter(account=filters.account).exclude(account="")
    if filters.actor_user_id is not None:
        rows = rows.filter(actor_user_id=filters.actor_user_id, actor_user_id__isnull=False)
    if filters.order_id is not None:
        rows = rows.filter(order_id=filters.order_id, order_id__isnull=False)
    if filters.client_order_id:
        rows = rows.filter(client_order_id=filters.client_order_id).exclude(client_order_id="")
    if len(filters.kinds) == 1:
        rows = rows.filter(kind=filters.kinds[0])
    elif filters.kinds:
        rows = rows.filter(kind__in=filters.kinds)
    if filters.reason:
        rows = rows.filter(reason=filters.reason).exclude(reason="")  # as for client_order_id
    if filters.shard is not None:
        rows = rows.filter(shard=filters.shard)
    return rows


def in_search_order(rows: QuerySet[EventRecord], order: Order) -> QuerySet[EventRecord]:
    if order == "desc":
        return rows.order_by(*(f"-{name}" for name in SEARCH_ORDER))
    return rows.order_by(*SEARCH_ORDER)


def after_cursor(rows: QuerySet[EventRecord], cursor: Cursor) -> QuerySet[EventRecord]:
    """The rows that come after `cursor` in its order.

    Written as a range on ts_ns plus a tie-break, not as one OR of three branches: the range
    is what lets an index on (…, ts_ns, shard, seq) start the scan at the cursor; the
    tie-break only drops the few rows that share the cursor's nanosecond.
    """
    ts_ns, shard, seq = cursor.ts_ns, cursor.shard, cursor.seq
    if cursor.order == "desc":
        return rows.filter(ts_ns__lte=ts_ns).filter(
            Q(ts_ns__lt=ts_ns) | Q(shard__lt=shard) | Q(shard=shard, seq__lt=seq)
        )
    return rows.filter(ts_ns__gte=ts_ns).filter(
        Q(ts_ns__gt=ts_ns) | Q(shard__gt=shard) | Q(shard=shard, seq__gt=seq)
    )


@dataclass(slots=True, frozen=True)
class EventPage:
    rows: list[Row]
    next_cursor: Cursor | None


def events_page(query: EventPageQuery) -> EventPage:
    rows = in_search_order(events_matching(query.filters), query.order)
    if query.after is not None:
        rows = after_cursor(rows, query.after)
    # One row more than asked says whether a next page exists, without counting millions.
    fetched: list[Row] = list(rows.values(*ROW_FIELDS)[: query.limit + 1])
    if len(fetched) <= query.limit:
        return EventPage(fetched, None)
    shown = fetched[: query.limit]
    last = shown[-1]
    return EventPage(shown, Cursor(last["ts_ns"], last["shard"], last["seq"], query.order))


def events_for_export(
    filters: EventFilters, order: Order
) -> QuerySet[EventRecord, tuple[Any, ...]]:
    """The rows as tuples in ROW_FIELDS order: an export reads millions."""
    rows: QuerySet[EventRecord, tuple[Any, ...]] = in_search_order(
        events_matching(filters), order
    ).values_list(*ROW_FIELDS)
    return rows


def usernames_by_id(user_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    return dict(User.objects.filter(pk__in=wanted).values_list("pk", "username"))


def maker_order_id_of_trade() -> Cast:
    """A trade's maker order id, out of its payload, as a number.

    Written so that PostgreSQL and SQLite both compile it to the very expression of an
    expression index (`CAST(payload ->> 'maker_order_id' AS bigint)` where kind = 'trade'),
    which is the only form in which they match a query to such an index."""
    return Cast(KeyTextTransform("maker_order_id", "payload"), BigIntegerField())


class UsernameCache:
    """Usernames looked up once per actor as the export meets them: a few users act in
    millions of rows."""

    def __init__(self) -> None:
        self.known: dict[int, str] = {}
        self._asked: set[int] = set()

    def resolve(self, user_id: int | None) -> dict[int, str]:
        if user_id is not None and user_id not in self._asked:
            self._asked.add(user_id)
            self.known.update(usernames_by_id([user_id]))
        return self.known


@dataclass(slots=True, frozen=True)
class OrderLife:
    order_id: int
    events: list[Row]
    commands: list[Row]


def _by_log_position(row: Row) -> tuple[int, int]:
    return row["shard"], row["seq"]


def order_life(order_id: int) -> OrderLife:
    """Every row about one order, and the commands that caused them, each in seq order.

    The order id column holds the order of acceptances, cancels, modifies and rejections, and
    the taker of a trade; the maker of a trade is only in the trade's payload, so trades are
    looked up there too, bounded to the order's shard, instrument and lifetime.
    """
    own_rows: list[Row] = list(
        EventRecord.objects.filter(order_id=order_id, order_id__isnull=False)
        .order_by("shard", "seq")
        .values(*ROW_FIELDS)
    )
    rows = {_by_log_position(row): row for row in own_rows}
    # Only an accepted order can rest and be a maker. (A cancel naming an unknown id leaves a
    # rejection with that id and nothing else.)
    accepted = next((row for row in own_rows if row["kind"] == "order_accepted"), None)
    if accepted is not None:
        maker_trades = (
            EventRecord.objects.alias(maker_order_id=maker_order_id_of_trade())
            .filter(
                shard=accepted["shard"],
                kind="trade",
                symbol=accepted["symbol"],
                ts_ns__gte=accepted["ts_ns"],
            )
            .filter(maker_order_id=order_id)
        )
        ends = [row["ts_ns"] for row in own_rows if row["kind"] == "order_cancelled"]
        if ends:
            # A cancelled order trades no more; this keeps the payload scan to its lifetime.
            maker_trades = maker_trades.filter(ts_ns__lte=max(ends))
        for row in maker_trades.values(*ROW_FIELDS):
            rows[_by_log_position(row)] = row

    events = [row for row in rows.values() if row["kind"] not in COMMAND_KINDS]
    commands = {key: row for key, row in rows.items() if row["kind"] in COMMAND_KINDS}
    command_ids_by_shard: dict[int, set[str]] = {}
    for row in events:
        if row["command_id"]:
            command_ids_by_shard.setdefault(row["shard"], set()).add(row["command_id"])
    causes = Q()
    for shard, command_ids in command_ids_by_shard.items():
        causes |= Q(shard=shard, command_id__in=sorted(command_ids))
    if causes:
        for row in (
            EventRecord.objects.filter(causes, kind__in=COMMAND_KINDS)
            .order_by()
            .values(*ROW_FIELDS)
        ):
            commands[_by_log_position(row)] = row
    return OrderLife(
        order_id,
        sorted(events, key=_by_log_position),
        sorted(commands.values(), key=_by_log_position),
    )
