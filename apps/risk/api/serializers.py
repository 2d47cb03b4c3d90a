"""Request bodies (validated) and response shapes (for the schema) of the risk API.

Money is a decimal string in the currency with at most two decimal places; quantities are
whole lots. A limit given as null is removed (no limit). Every change carries a `reason`.
"""

from decimal import Decimal

from rest_framework import serializers

from apps.matching.engine import KillScope
from project.api_controls import StrictSerializer, reason_field

MONEY_MAX = Decimal("999999999999.99")
LOTS_MAX = 2_147_483_647


def _money(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MONEY_MAX,
        required=False,
        allow_null=True,
        help_text=help_text,
    )


def _lots(help_text: str, *, required: bool = False) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, max_value=LOTS_MAX, required=required, allow_null=True, help_text=help_text
    )


def _count(help_text: str, max_value: int = LOTS_MAX) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, max_value=max_value, required=False, allow_null=True, help_text=help_text
    )


# -- requests -------------------------------------------------------------------------------


class FirmPolicyUpdateSerializer(StrictSerializer):
    collar_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        required=False,
        allow_null=True,
        help_text="Price collar: percent away from the reference price.",
    )
    collar_minimum = _money("Price collar: at least this far from the reference (currency).")
    duplicate_window_ms = _count("Identical orders within this many ms are rejected.", 86_400_000)
    throttle_window_ms = _count("Message throttle's sliding window, ms.", 3_600_000)
    throttle_messages = _count("Orders and modifies per trader per window.")
    throttle_cancels = _count("Cancels per trader per window.")
    authorised_users_only = serializers.BooleanField(
        required=False, help_text="Only traders entitled to an account may trade it."
    )
    reason = reason_field()


class AccountLimitsUpdateSerializer(StrictSerializer):
    max_order_lots = _lots("Largest single order, lots.")
    max_order_notional = _money("Largest single order's value.")
    credit_limit = _money("Open exposure plus today's filled notional, at most.")
    loss_warning = _money("Daily loss that raises an alert.")
    loss_reduce_only = _money("Daily loss from which only risk-reducing orders pass.")
    loss_kill = _money("Daily loss at which the account's kill switch latches.")
    permitted_instruments_only = serializers.BooleanField(required=False)
    permitted_instruments = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        max_length=10_000,
        help_text="Symbols the account may trade when it trades permitted instruments only "
        "(replaces the list).",
    )
    reason = reason_field()


class InstrumentLimitsUpdateSerializer(StrictSerializer):
    max_order_lots = _lots("Largest single order in this instrument, lots, for any account.")
    max_order_notional = _money("Largest single order's value in this instrument.")
    reason = reason_field()


class PositionLimitSetSerializer(StrictSerializer):
    account = serializers.CharField(max_length=32)
    symbol = serializers.CharField(max_length=16)
    max_long = _lots("Largest long position, lots (null: no limit).", required=True)
    max_short = _lots("Largest short position, lots (null: no limit).", required=True)
    reason = reason_field()


class RestrictSerializer(StrictSerializer):
    symbol = serializers.CharField(max_length=16)
    account = serializers.CharField(
        max_length=32,
        required=False,
        allow_null=True,
        default=None,
        help_text="The account it is restricted for; absent or null: the whole firm.",
    )
    reason = reason_field()


class ReasonSerializer(StrictSerializer):
    reason = reason_field()


class KillSwitchSerializer(StrictSerializer):
    scope = serializers.ChoiceField(choices=[s.value for s in KillScope])
    action = serializers.ChoiceField(choices=["engage", "release"])
    account = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text="Scope account."
    )
    trader = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="Scope trader: a username.",
    )
    allow_risk_reducing = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Engaged, still let orders that only shrink a position through.",
    )
    reason = reason_field()


class TraderSettingsSerializer(StrictSerializer):
    cancel_on_disconnect = serializers.BooleanField(
        help_text="Cancel my working DAY orders when my last desk connection drops."
    )


# -- responses (documentation of their shape) ------------------------------------------------


class PositionLimitSerializer(serializers.Serializer[None]):
    account = serializers.CharField()
    symbol = serializers.CharField()
    max_long = serializers.IntegerField(allow_null=True)
    max_short = serializers.IntegerField(allow_null=True)


class AccountLimitsSerializer(serializers.Serializer[None]):
    account = serializers.CharField()
    name = serializers.CharField()
    is_active = serializers.BooleanField()
    traders = serializers.ListField(child=serializers.CharField())
    max_order_lots = serializers.IntegerField(allow_null=True)
    max_order_notional = serializers.CharField(allow_null=True)
    credit_limit = serializers.CharField(allow_null=True)
    loss_warning = serializers.CharField(allow_null=True)
    loss_reduce_only = serializers.CharField(allow_null=True)
    loss_kill = serializers.CharField(allow_null=True)
    permitted_instruments_only = serializers.BooleanField()
    permitted_instruments = serializers.ListField(child=serializers.CharField())
    position_limits = PositionLimitSerializer(many=True)
    restricted = serializers.ListField(child=serializers.CharField())


class InstrumentLimitsSerializer(serializers.Serializer[None]):
    symbol = serializers.CharField()
    max_order_lots = serializers.IntegerField(allow_null=True)
    max_order_notional = serializers.CharField(allow_null=True)


class FirmPolicySerializer(serializers.Serializer[None]):
    collar_percent = serializers.CharField(allow_null=True)
    collar_minimum = serializers.CharField(allow_null=True)
    duplicate_window_ms = serializers.IntegerField(allow_null=True)
    throttle_window_ms = serializers.IntegerField(allow_null=True)
    throttle_messages = serializers.IntegerField(allow_null=True)
    throttle_cancels = serializers.IntegerField(allow_null=True)
    authorised_users_only = serializers.BooleanField()


class RestrictedSerializer(serializers.Serializer[None]):
    id = serializers.IntegerField()
    symbol = serializers.CharField()
    account = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class KillSwitchStateSerializer(serializers.Serializer[None]):
    scope = serializers.CharField()
    account = serializers.CharField(allow_null=True)
    trader = serializers.CharField(allow_null=True)
    allow_risk_reducing = serializers.BooleanField()
    engaged_by = serializers.CharField(allow_null=True)
    reason = serializers.CharField()
    since_ns = serializers.IntegerField()


class ChangeSerializer(serializers.Serializer[None]):
    """What a change did, and the matcher's outcome events for it (first shard)."""

    changed = serializers.ListField(child=serializers.CharField())
    events = serializers.ListField(child=serializers.DictField(), allow_null=True)


class AccountChangeSerializer(ChangeSerializer):
    account = AccountLimitsSerializer()


class InstrumentChangeSerializer(ChangeSerializer):
    instrument = InstrumentLimitsSerializer()


class FirmChangeSerializer(ChangeSerializer):
    firm = FirmPolicySerializer()


class PositionChangeSerializer(ChangeSerializer):
    position_limit = PositionLimitSerializer(allow_null=True)


class RestrictedChangeSerializer(ChangeSerializer):
    restricted = RestrictedSerializer(allow_null=True)


class KillSwitchResultSerializer(serializers.Serializer[None]):
    scope = serializers.CharField()
    account = serializers.CharField(allow_null=True)
    trader = serializers.CharField(allow_null=True)
    engaged = serializers.BooleanField()
    cancelled_orders = serializers.IntegerField(help_text="Working orders it took, all shards.")
    events = serializers.ListField(child=serializers.DictField(), help_text="One per shard.")
