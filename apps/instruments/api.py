"""The instruments, and each one's book as the matcher last published it."""

import json
from typing import Any

import redis
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.instruments.models import Instrument
from apps.matching import keys
from apps.matching.redis import redis_get
from project.api_errors import ErrorSerializer, Rejection


class InstrumentSerializer(serializers.ModelSerializer[Instrument]):
    tick_size = serializers.SerializerMethodField()

    class Meta:
        model = Instrument
        fields = ["symbol", "name", "tick_size", "lot_size", "reference_price", "luld_tier"]

    def get_tick_size(self, instrument: Instrument) -> str:
        return instrument.price_text(1)

    def to_representation(self, instrument: Instrument) -> dict[str, object]:
        data = super().to_representation(instrument)
        data["reference_price"] = str(
            instrument.reference_price.quantize(instrument.ticks_to_price(1))
        )
        return data


class BookSerializer(serializers.Serializer[None]):
    symbol = serializers.CharField()
    seq = serializers.IntegerField()
    bids = serializers.ListField(child=serializers.ListField())
    asks = serializers.ListField(child=serializers.ListField())


class InstrumentViewSet(viewsets.ReadOnlyModelViewSet[Instrument]):
    queryset = Instrument.objects.filter(is_active=True)
    serializer_class = InstrumentSerializer
    lookup_field = "symbol"
    pagination_class = None

    @extend_schema(responses={200: BookSerializer, 404: ErrorSerializer, 503: ErrorSerializer})
    @action(detail=True)
    def book(self, request: Request, symbol: str) -> Response:
        """The instrument's order book as the matcher last published it (all levels)."""
        instrument = self.get_object()
        try:
            raw = redis_get(keys.book_snapshot(instrument.shard, instrument.symbol))
        except redis.RedisError:
            raise Rejection(
                "book_unavailable", "The book cannot be read: the desk's cache is down.", 503
            ) from None
        if raw is None:
            return Response({"symbol": instrument.symbol, "seq": 0, "bids": [], "asks": []})
        snapshot: dict[str, Any] = json.loads(raw)
        return Response(snapshot)
