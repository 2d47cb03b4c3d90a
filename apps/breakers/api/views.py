"""The breakers API: the firm's breaker settings, each instrument's breaker settings, and the
halts (in force and past) with halting and resuming by hand.

Every signed-in user reads; risk managers and administrators change, halt and resume. Views
parse and call one service; the service checks the role again and does the work.
"""

from typing import Any

import redis
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.breakers import selectors, services
from apps.breakers.api import serializers as s
from apps.instruments.models import Instrument
from project.api_controls import (
    READ_ERRORS,
    WRITE_ERRORS,
    StrictSerializer,
    request_user,
    validated_body,
)
from project.api_errors import ErrorSerializer, Rejection


def _validated(serializer_class: type[StrictSerializer], request: Request) -> dict[str, Any]:
    # The breakers API has always answered a body that is not a JSON object with
    # malformed_request; the risk API leaves that to the serializer (invalid_request).
    if not isinstance(request.data, dict):
        raise Rejection("malformed_request", "The body must be a JSON object.")
    return validated_body(serializer_class, request)


def _instrument(symbol: str) -> Instrument:
    instrument = Instrument.objects.filter(symbol=symbol).first()
    if instrument is None:
        raise Rejection("unknown_instrument", f"Instrument {symbol!r} is not listed.", 404)
    return instrument


class BreakersApiView(APIView):
    permission_classes = [IsAuthenticated]


class SettingsView(BreakersApiView):
    @extend_schema(
        operation_id="breakers_settings_retrieve",
        tags=["breakers"],
        responses={200: s.BreakerSettingsSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """The firm-wide breaker parameters and the session's times."""
        return Response(selectors.breaker_settings_as_dict(selectors.breaker_settings()))

    @extend_schema(
        operation_id="breakers_settings_update",
        tags=["breakers"],
        request=s.BreakerSettingsUpdateSerializer,
        responses={200: s.BreakerSettingsChangeSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request) -> Response:
        """Change some settings; each changed parameter reaches every matcher as a journaled
        command. A reason is required."""
        fields = _validated(s.BreakerSettingsUpdateSerializer, request)
        reason = fields.pop("reason")
        outcome = services.breaker_settings_update(request_user(request), fields, reason)
        return Response(
            {
                "settings": selectors.breaker_settings_as_dict(selectors.breaker_settings()),
                "changed": outcome.changed,
                "events": outcome.events,
            }
        )


class InstrumentListView(BreakersApiView):
    @extend_schema(
        operation_id="breakers_instruments_list",
        tags=["breakers"],
        responses={200: s.InstrumentBreakersSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Every instrument's breaker settings."""
        return Response(
            [
                selectors.instrument_breakers_as_dict(instrument)
                for instrument in Instrument.objects.order_by("symbol")
            ]
        )


class InstrumentDetailView(BreakersApiView):
    @extend_schema(
        operation_id="breakers_instrument_retrieve",
        tags=["breakers"],
        responses={200: s.InstrumentBreakersSerializer, 404: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, symbol: str) -> Response:
        return Response(selectors.instrument_breakers_as_dict(_instrument(symbol)))

    @extend_schema(
        operation_id="breakers_instrument_update",
        tags=["breakers"],
        request=s.InstrumentBreakersUpdateSerializer,
        responses={200: s.InstrumentBreakersChangeSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, symbol: str) -> Response:
        """Change an instrument's tier, orders while halted, index weight, previous close or
        spike pauses; its definition reaches its matcher at once. A reason is required."""
        instrument = _instrument(symbol)
        fields = _validated(s.InstrumentBreakersUpdateSerializer, request)
        reason = fields.pop("reason")
        outcome = services.instrument_breakers_update(
            request_user(request), instrument, fields, reason
        )
        instrument.refresh_from_db()
        return Response(
            {
                "instrument": selectors.instrument_breakers_as_dict(instrument),
                "changed": outcome.changed,
                "events": outcome.events,
            }
        )


class HaltsView(BreakersApiView):
    @extend_schema(
        operation_id="breakers_halts_list",
        tags=["breakers"],
        parameters=[
            OpenApiParameter("symbol", str, description="Only this instrument's halts."),
            OpenApiParameter(
                "limit", int, description="At most this many past halts (1 to 500, default 100)."
            ),
        ],
        responses={200: s.HaltsSerializer, 400: ErrorSerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """The halts in force (as the matchers published them) and the latest halts from the
        event log, newest first, each with its reason and what ended it."""
        symbol = request.query_params.get("symbol", "")
        limit = serializers.IntegerField(min_value=1, max_value=selectors.HISTORY_LIMIT_MAX)
        try:
            count = limit.run_validation(request.query_params.get("limit", "100"))
        except serializers.ValidationError:
            raise Rejection(
                "invalid_request",
                f"limit must be a whole number from 1 to {selectors.HISTORY_LIMIT_MAX}.",
            ) from None
        try:
            current: list[dict[str, Any]] | None = selectors.halts_current()
        except redis.RedisError:
            current = None
        if current is not None and symbol:
            current = [h for h in current if h.get("symbol") == symbol]
        return Response({"current": current, "halts": selectors.halts_history(count, symbol[:16])})

    @extend_schema(
        operation_id="breakers_halts_request",
        tags=["breakers"],
        request=s.HaltRequestSerializer,
        responses={200: s.HaltOutcomeSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Halt or resume one instrument (or every one, without a symbol) by hand, with a
        reason; answers once every matcher concerned has acted. A resume reopens by auction."""
        fields = _validated(s.HaltRequestSerializer, request)
        action = services.halt_request if fields["action"] == "halt" else services.resume_request
        outcome = action(request_user(request), fields["symbol"] or None, fields["reason"])
        return Response(
            {
                "action": fields["action"],
                "symbol": outcome.symbol,
                "instruments": outcome.instruments,
                "message": outcome.message,
                "events": outcome.events,
            }
        )
