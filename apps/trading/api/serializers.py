from decimal import Decimal

from rest_framework import serializers

from apps.matching.engine import OrderType, Side, StpMode, TimeInForce


class OrderCreateSerializer(serializers.Serializer[None]):
    symbol = serializers.CharField(max_length=16)
    side = serializers.ChoiceField(choices=[s.value for s in Side])
    type = serializers.ChoiceField(
        choices=[t.value for t in OrderType], default=OrderType.LIMIT.value
    )
    price = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        required=False,
        allow_null=True,
        help_text="Limit price: required for limit and stop_limit orders, absent otherwise.",
    )
    stop_price = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        required=False,
        allow_null=True,
        help_text="Trigger price of stop and stop_limit orders (last trade price).",
    )
    quantity = serializers.IntegerField(min_value=1, max_value=10**12)
    display_quantity = serializers.IntegerField(
        min_value=1,
        max_value=10**12,
        required=False,
        allow_null=True,
        help_text="Iceberg: the quantity shown at a time.",
    )
    post_only = serializers.BooleanField(default=False)
    stp_mode = serializers.ChoiceField(
        choices=[m.value for m in StpMode], default=StpMode.CANCEL_RESTING.value
    )
    time_in_force = serializers.ChoiceField(choices=[t.value for t in TimeInForce], default="GTC")
    client_order_id = serializers.CharField(max_length=64)
    account = serializers.CharField(max_length=32, required=False)


class OrderModifySerializer(serializers.Serializer[None]):
    price = serializers.DecimalField(max_digits=18, decimal_places=6, min_value=Decimal("0.000001"))
    quantity = serializers.IntegerField(
        min_value=1, max_value=10**12, help_text="The new open (leaves) quantity."
    )


class MassCancelSerializer(serializers.Serializer[None]):
    account = serializers.CharField(max_length=32, required=False, default="")
    trader = serializers.CharField(max_length=150, required=False, default="")
    symbol = serializers.CharField(max_length=16, required=False, default="")
    side = serializers.ChoiceField(choices=[s.value for s in Side], required=False, default="")


class MassCancelResultSerializer(serializers.Serializer[None]):
    cancelled_orders = serializers.IntegerField()


class OrderSerializer(serializers.Serializer[None]):
    """The order as the desk shows it (documentation of the response shape)."""

    order_id = serializers.IntegerField()
    client_order_id = serializers.CharField()
    account = serializers.CharField()
    symbol = serializers.CharField()
    side = serializers.CharField()
    type = serializers.CharField()
    time_in_force = serializers.CharField()
    price = serializers.CharField(allow_null=True)
    stop_price = serializers.CharField(allow_null=True)
    display_quantity = serializers.IntegerField(allow_null=True)
    post_only = serializers.BooleanField()
    quantity = serializers.IntegerField()
    filled_quantity = serializers.IntegerField()
    leaves_quantity = serializers.IntegerField()
    status = serializers.CharField()
    reason_code = serializers.CharField()
    created_at = serializers.CharField()


class PositionSerializer(serializers.Serializer[None]):
    account = serializers.CharField()
    symbol = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Signed: long > 0, short < 0.")
    average_price = serializers.CharField(allow_null=True)
    realised_pnl = serializers.CharField()
    bought_quantity = serializers.IntegerField()
    sold_quantity = serializers.IntegerField()
