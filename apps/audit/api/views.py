"""The auditors' API: search, order life, CSV export and chain verification.

Auditors and administrators only (`audit.view_eventrecord`). Every search, order-life lookup and
export is itself written to the event log, with the filters and how many rows it returned.
"""

from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.api.filters import (
    PAGE_LIMIT_DEFAULT,
    PAGE_LIMIT_MAX,
    AuditQueryError,
    EventFilters,
    Order,
    export_query_from,
    order_id_from,
    page_query_from,
    shard_from,
)
from apps.audit.api.selectors import (
    ROW_FIELDS,
    UsernameCache,
    events_for_export,
    events_page,
    order_life,
    usernames_by_id,
)
from apps.audit.api.serializers import (
    ChainVerifySerializer,
    EventPageSerializer,
    OrderLifeSerializer,
    csv_cells,
    csv_chunks,
    event_row,
)
from project.api_errors import ErrorSerializer

# Rows the export reads from the database at a time (a server-side cursor on PostgreSQL).
EXPORT_FETCH_ROWS = 2000
ACTOR_COLUMN = ROW_FIELDS.index("actor_user_id")


def _record_access(kind: str, actor_user_id: int, payload: dict[str, Any]) -> None:
    # Imported here, not at the top: the web-side chain belongs to the integrity side of
    # apps/audit, and this module must import (and the schema build) on its own.
    from apps.audit.services import web_event_record

    web_event_record(kind, actor_user_id=actor_user_id, payload=payload)


class CanReadAuditTrail(BasePermission):
    message = "Only auditors and administrators may read the audit trail."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.has_perm("audit.view_eventrecord"))


class AuditApiView(APIView):
    permission_classes = [IsAuthenticated, CanReadAuditTrail]


def _actor_id(request: Request) -> int:
    user_id = request.user.pk
    assert user_id is not None  # IsAuthenticated ran first
    return int(user_id)


_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}

FILTER_PARAMETERS = [
    OpenApiParameter(
        "from", str, description="From this time (inclusive): ISO 8601, or integer ns UTC."
    ),
    OpenApiParameter("to", str, description="Up to this time (exclusive): ISO 8601, or ns."),
    OpenApiParameter("symbol", str, description="Instrument symbol, exactly."),
    OpenApiParameter("account", str, description="Trading account code, exactly."),
    OpenApiParameter("trader", str, description="Username of the user who acted."),
    OpenApiParameter("order_id", int),
    OpenApiParameter("client_order_id", str),
    OpenApiParameter(
        "kind",
        str,
        many=True,
        description="Event type (order_accepted, trade, audit.search, …); repeat the "
        "parameter or separate with commas for several.",
    ),
    OpenApiParameter("reason", str, description="Reason code, e.g. self_trade_prevented."),
    OpenApiParameter("shard", int),
    OpenApiParameter(
        "order", str, enum=["asc", "desc"], description="Oldest first (asc, default) or newest."
    ),
]
PAGE_PARAMETERS = [
    OpenApiParameter("after", str, description="The `next` cursor of the previous page."),
    OpenApiParameter(
        "limit",
        int,
        description=f"Rows per page, {PAGE_LIMIT_DEFAULT} unless given; at most {PAGE_LIMIT_MAX}.",
    ),
]


class EventSearchView(AuditApiView):
    @extend_schema(
        operation_id="audit_events_search",
        tags=["audit"],
        parameters=FILTER_PARAMETERS + PAGE_PARAMETERS,
        responses={200: EventPageSerializer, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Rows of the event log that match every filter given, in time order, a page at a
        time."""
        query = page_query_from(request.query_params)
        page = events_page(query)
        usernames = usernames_by_id(row["actor_user_id"] for row in page.rows)
        _record_access(
            "audit.search",
            _actor_id(request),
            {
                "filters": query.filters.as_logged(),
                "order": query.order,
                "after": query.after.encode() if query.after else None,
                "limit": query.limit,
                "rows": len(page.rows),
            },
        )
        return Response(
            {
                "results": [event_row(row, usernames) for row in page.rows],
                "next": page.next_cursor.encode() if page.next_cursor else None,
            }
        )


class IgnoreAcceptHeader(BaseContentNegotiation):
    """The export answers CSV, or a JSON error, whatever the client says it accepts: a
    spreadsheet's or a browser link's Accept header must not turn an error into a 406."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


def _export_chunks(
    rows: Iterator[tuple[Any, ...]], filters: EventFilters, order: Order, actor_user_id: int
) -> Generator[str, None, None]:
    """The CSV, chunk by chunk; once it ends (finished, failed or abandoned by the client),
    the export is logged with the rows it read."""
    exported = 0
    completed = False
    usernames = UsernameCache()

    def lines() -> Iterator[list[Any]]:
        nonlocal exported
        for row in rows:
            exported += 1
            yield csv_cells(row, usernames.resolve(row[ACTOR_COLUMN]))

    try:
        yield from csv_chunks(lines())
        completed = True
    finally:
        _record_access(
            "audit.export",
            actor_user_id,
            {
                "filters": filters.as_logged(),
                "order": order,
                "rows": exported,
                "completed": completed,
            },
        )


def _next_chunk(chunks: Iterator[str]) -> str | None:
    return next(chunks, None)


async def _pulled_from_thread(chunks: Generator[str, None, None]) -> AsyncIterator[str]:
    """The same chunks for an ASGI server. Django would read a plain iterator to the end into
    memory before sending a byte; each chunk is pulled here on the request's database thread
    instead, so the export stays streaming and the cursor stays on its connection."""
    pull = sync_to_async(_next_chunk, thread_sensitive=True)
    try:
        while (chunk := await pull(chunks)) is not None:
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=True)()


class EventExportView(AuditApiView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = IgnoreAcceptHeader

    @extend_schema(
        operation_id="audit_events_export",
        tags=["audit"],
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="A header row, then one line per row of the log."
            ),
            **_ERRORS,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        """Every row the filters select, as CSV, streamed: the export of a search of any size."""
        filters, order = export_query_from(request.query_params)
        rows = events_for_export(filters, order).iterator(chunk_size=EXPORT_FETCH_ROWS)
        chunks = _export_chunks(rows, filters, order, _actor_id(request))
        content: Iterator[str] | AsyncIterator[str] = chunks
        if isinstance(request._request, ASGIRequest):
            content = _pulled_from_thread(chunks)
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.csv"'
        # Proxies must not hold the stream back to buffer it.
        response["X-Accel-Buffering"] = "no"
        return response


class OrderLifeView(AuditApiView):
    @extend_schema(
        operation_id="audit_order_life",
        tags=["audit"],
        parameters=[OpenApiParameter("order_id", int, OpenApiParameter.PATH)],
        responses={200: OrderLifeSerializer, 404: ErrorSerializer, **_ERRORS},
    )
    def get(self, request: Request, order_id: str) -> Response:
        """One order's full life: every event naming it (also as the maker of a trade) and the
        commands that caused them."""
        wanted = order_id_from(order_id)
        life = order_life(wanted)
        found = len(life.events) + len(life.commands)
        _record_access("audit.order_life", _actor_id(request), {"order_id": wanted, "rows": found})
        if not found:
            raise AuditQueryError(
                "order_not_found", f"No row of the event log names order {wanted}.", 404
            )
        usernames = usernames_by_id(row["actor_user_id"] for row in life.events + life.commands)
        return Response(
            {
                "order_id": wanted,
                "events": [event_row(row, usernames) for row in life.events],
                "commands": [event_row(row, usernames) for row in life.commands],
            }
        )


class ChainVerifyView(AuditApiView):
    @extend_schema(
        operation_id="audit_chain_verify",
        tags=["audit"],
        parameters=[OpenApiParameter("shard", int, description="One shard; all when absent.")],
        responses={200: ChainVerifySerializer, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Walk the hash chain: intact up to seq N per shard (`heads`, keyed by shard), or the
        first row that does not verify."""
        shard = shard_from(request.query_params)
        # Imported here for the same reason as the recorder above.
        from apps.audit.verify import chain_verify, result_as_dict, verification_record

        result = chain_verify(shard)
        # Auditors see in the trail when a verification ran, who ran it and what it found.
        verification_record(result, actor_user_id=_actor_id(request))
        return Response(result_as_dict(result))
