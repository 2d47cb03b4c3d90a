"""Auditors' query parameters, parsed into typed filters and cursors, or refused with a code and
a sentence. Parsing only: the queries themselves are built in `selectors`."""

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from apps.accounts.models import User
from project.api_errors import Rejection

PAGE_LIMIT_DEFAULT = 100
PAGE_LIMIT_MAX = 1000
# Columns are bigint in the log; larger numbers cannot match and would overflow the query.
_BIGINT_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FILTER_NAMES = (
    "from",
    "to",
    "symbol",
    "account",
    "trader",
    "order_id",
    "client_order_id",
    "kind",
    "reason",
    "shard",
)
# Parameters of a page of results, on top of the filters; an export takes the order only.
PAGE_NAMES = ("order", "after", "limit")
EXPORT_NAMES = ("order",)

Order = Literal["asc", "desc"]


class AuditQueryError(Rejection):
    """A search the auditor asked for cannot run as given; nothing was read."""


@dataclass(slots=True, frozen=True)
class EventFilters:
    """What to look for. Empty strings and None mean "any"; `kinds` empty means every kind."""

    from_ns: int | None = None
    to_ns: int | None = None
    symbol: str = ""
    account: str = ""
    trader: str = ""
    actor_user_id: int | None = None
    order_id: int | None = None
    client_order_id: str = ""
    kinds: tuple[str, ...] = ()
    reason: str = ""
    shard: int | None = None

    def as_logged(self) -> dict[str, Any]:
        """The filters as the audit trail records them: only those given, in plain JSON."""
        logged: dict[str, Any] = {
            "from_ns": self.from_ns,
            "to_ns": self.to_ns,
            "symbol": self.symbol,
            "account": self.account,
            "trader": self.trader,
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "kind": list(self.kinds),
            "reason": self.reason,
            "shard": self.shard,
        }
        return {name: value for name, value in logged.items() if value not in (None, "", [])}


@dataclass(slots=True, frozen=True)
class Cursor:
    """The position of the last row a page showed, in the search's order (time, shard, seq)."""

    ts_ns: int
    shard: int
    seq: int
    order: Order

    def encode(self) -> str:
        text = f"{self.order}.{self.ts_ns}.{self.shard}.{self.seq}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, order: Order) -> "Cursor":
        bad = AuditQueryError(
            "invalid_cursor", "The 'after' cursor is not one this search returned."
        )
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise bad from None
        match = re.fullmatch(r"(asc|desc)\.(\d{1,19})\.(\d{1,5})\.(\d{1,19})", text)
        if match is None:
            raise bad
        if match[1] != order:
            raise AuditQueryError(
                "invalid_cursor", "The 'after' cursor belongs to a search in the other order."
            )
        return cls(int(match[2]), int(match[3]), int(match[4]), order)


@dataclass(slots=True, frozen=True)
class EventPageQuery:
    filters: EventFilters
    order: Order = "asc"
    after: Cursor | None = None
    limit: int = PAGE_LIMIT_DEFAULT


class QueryParams:
    """Read access to a request's query string that insists on names and single values."""

    def __init__(self, params: Mapping[str, Any], allowed: Sequence[str]) -> None:
        self._params = params
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise AuditQueryError(
                "unknown_filter",
                f"Unknown parameter '{unknown[0]}'; the parameters are {', '.join(allowed)}.",
            )

    def all(self, name: str) -> list[str]:
        getlist = getattr(self._params, "getlist", None)
        values = getlist(name) if getlist is not None else [self._params.get(name)]
        return [str(v).strip() for v in values if v is not None and str(v).strip()]

    def one(self, name: str) -> str:
        values = self.all(name)
        if len(values) > 1:
            raise AuditQueryError("invalid_filter", f"Give '{name}' once, not {len(values)} times.")
        return values[0] if values else ""


def time_ns_from_text(name: str, text: str) -> int:
    """Integer nanoseconds since the epoch, or an ISO 8601 time (UTC when no offset is given;
    fractions up to nanoseconds are kept)."""
    if re.fullmatch(r"\d{1,19}", text):
        return min(int(text), _BIGINT_MAX)
    # A '+' left unencoded in a query string arrives as a space: "…T09:30:00 00:00".
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text)
    fraction = re.search(r"[.,](\d+)", text)
    extra_ns = 0
    if fraction is not None and len(fraction[1]) > 6:
        # datetime keeps microseconds; the log keeps nanoseconds, so keep digits 7 to 9 here.
        extra_ns = int(fraction[1][6:9].ljust(3, "0"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AuditQueryError(
            "invalid_filter",
            f"'{name}' must be an ISO 8601 time such as 2026-11-24T09:30:00Z "
            "or integer nanoseconds since the epoch.",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ns = (moment - _EPOCH) // timedelta(microseconds=1) * 1000 + extra_ns
    # ts_ns is a bigint (good until 2262); a bound outside it selects the same rows clamped.
    return max(0, min(ns, _BIGINT_MAX))


def _whole_number(name: str, text: str, maximum: int) -> int | None:
    if not text:
        return None
    if not re.fullmatch(r"\d{1,19}", text) or int(text) > maximum:
        # The bigint bound is no help to a reader; a small bound (shards) is.
        bound = f" from 0 to {maximum}" if maximum < _BIGINT_MAX else ""
        raise AuditQueryError("invalid_filter", f"'{name}' must be a whole number{bound}.")
    return int(text)


def _word(name: str, text: str, max_length: int) -> str:
    if len(text) > max_length:
        raise AuditQueryError(
            "invalid_filter", f"'{name}' is at most {max_length} characters long."
        )
    return text


def _kinds(params: QueryParams) -> tuple[str, ...]:
    kinds: dict[str, None] = {}  # ordered and without repeats
    for value in params.all("kind"):
        for kind in value.split(","):
            kind = kind.strip()
            if not kind:
                continue
            if not re.fullmatch(r"[a-z0-9_.]{1,40}", kind):
                raise AuditQueryError(
                    "invalid_filter",
                    f"'{kind[:40]}' is not an event type: event types are lower-case words "
                    "such as order_accepted or audit.search.",
                )
            kinds[kind] = None
    return tuple(kinds)


def _actor_user_id(username: str) -> int | None:
    if not username:
        return None
    user_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
    if user_id is None:
        raise AuditQueryError("unknown_trader", f"No user is named '{username[:150]}'.")
    return int(user_id)


def event_filters_from(params: QueryParams) -> EventFilters:
    from_text, to_text = params.one("from"), params.one("to")
    from_ns = time_ns_from_text("from", from_text) if from_text else None
    to_ns = time_ns_from_text("to", to_text) if to_text else None
    if from_ns is not None and to_ns is not None and from_ns >= to_ns:
        raise AuditQueryError("invalid_filter", "'from' must be before 'to'.")
    trader = _word("trader", params.one("trader"), 150)
    return EventFilters(
        from_ns=from_ns,
        to_ns=to_ns,
        symbol=_word("symbol", params.one("symbol"), 16),
        account=_word("account", params.one("account"), 32),
        trader=trader,
        actor_user_id=_actor_user_id(trader),
        order_id=_whole_number("order_id", params.one("order_id"), _BIGINT_MAX),
        client_order_id=_word("client_order_id", params.one("client_order_id"), 64),
        kinds=_kinds(params),
        reason=_word("reason", params.one("reason"), 40),
        shard=_whole_number("shard", params.one("shard"), 32767),
    )


def _order(params: QueryParams) -> Order:
    order = params.one("order") or "asc"
    if order == "asc":
        return "asc"
    if order == "desc":
        return "desc"
    raise AuditQueryError("invalid_filter", "'order' must be 'asc' (oldest first) or 'desc'.")


def page_query_from(raw: Mapping[str, Any]) -> EventPageQuery:
    """A page of a search: filters, order, the cursor after which to continue, and a limit."""
    params = QueryParams(raw, FILTER_NAMES + PAGE_NAMES)
    filters = event_filters_from(params)
    order = _order(params)
    token = params.one("after")
    limit_text = params.one("limit")
    if limit_text and not (
        re.fullmatch(r"\d{1,4}", limit_text) and 1 <= int(limit_text) <= PAGE_LIMIT_MAX
    ):
        raise AuditQueryError(
            "invalid_limit", f"'limit' must be a whole number from 1 to {PAGE_LIMIT_MAX}."
        )
    return EventPageQuery(
        filters=filters,
        order=order,
        after=Cursor.decode(token, order) if token else None,
        limit=int(limit_text) if limit_text else PAGE_LIMIT_DEFAULT,
    )


def export_query_from(raw: Mapping[str, Any]) -> tuple[EventFilters, Order]:
    """Everything a search selects, from the first row: the filters and the order only."""
    params = QueryParams(raw, FILTER_NAMES + EXPORT_NAMES)
    return event_filters_from(params), _order(params)


def order_id_from(text: str) -> int:
    order_id = _whole_number("order_id", text, _BIGINT_MAX)
    if order_id is None:
        raise AuditQueryError("invalid_filter", "'order_id' must be a whole number.")
    return order_id


def shard_from(raw: Mapping[str, Any]) -> int | None:
    params = QueryParams(raw, ("shard",))
    return _whole_number("shard", params.one("shard"), 32767)
