from decimal import Decimal

from rest_framework import serializers

from apps.instruments.models import Instrument
from apps.matching.engine import OrderType, Side, TimeInForce


class InstrumentSerializer(serializers.ModelSerializer[Instrument]):
    tick_size = serializers.SerializerMethodField()

    class Meta:
        model = Instrument
        fields = ["symbol", "name", "tick_size", "lot_size", "reference_price", "luld_tier"]

    def get_tick_size(self, instrument: Instrument) -> str:
        return str(instrument.ticks_to_price(1))

    def to_representation(self, instrument: Instrument) -> dict[str, object]:
        data = super().to_representation(instrument)
        data["reference_price"] = str(
            instrument.reference_price.quantize(instrument.ticks_to_price(1))
        )
        return data


class OrderCreateSerializer(serializers.Serializer[None]):
    symbol = serializers.CharField(max_length=16)
    side = serializers.ChoiceField(choices=[s.value for s in Side])
    type = serializers.ChoiceField(
        choices=[t.value for t in OrderType], default=OrderType.LIMIT.value
    )
    price = serializers.DecimalField(max_digits=18, decimal_places=6, min_value=Decimal("0.000001"))
    quantity = serializers.IntegerField(min_value=1, max_value=10**12)
    time_in_force = serializers.ChoiceField(choices=[t.value for t in TimeInForce], default="GTC")
    client_order_id = serializers.CharField(max_length=64)
    account = serializers.CharField(max_length=32, required=False)


class OrderSerializer(serializers.Serializer[None]):
    """The order as the desk shows it (documentation of the response shape)."""

    order_id = serializers.IntegerField()
    client_order_id = serializers.CharField()
    account = serializers.CharField()
    symbol = serializers.CharField()
    side = serializers.CharField()
    type = serializers.CharField()
    time_in_force = serializers.CharField()
    price = serializers.CharField()
    quantity = serializers.IntegerField()
    filled_quantity = serializers.IntegerField()
    leaves_quantity = serializers.IntegerField()
    status = serializers.CharField()
    reason_code = serializers.CharField()
    created_at = serializers.CharField()


class ErrorSerializer(serializers.Serializer[None]):
    code = serializers.CharField()
    message = serializers.CharField()


class BookSerializer(serializers.Serializer[None]):
    symbol = serializers.CharField()
    seq = serializers.IntegerField()
    bids = serializers.ListField(child=serializers.ListField())
    asks = serializers.ListField(child=serializers.ListField())


class MeSerializer(serializers.Serializer[None]):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    accounts = serializers.ListField(child=serializers.CharField())
