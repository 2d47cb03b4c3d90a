"""Request bodies (validated) and response shapes (for the schema) of the breakers API.

Durations are decimals in the unit their name says (three places), percentages decimals with
two; session times are local "HH:MM" in the session's time zone. Every change carries a
`reason`.
"""

from decimal import Decimal

from rest_framework import serializers

from apps.breakers.models import MINUTES_IN_A_DAY, SECONDS_IN_A_DAY
from project.api_controls import StrictSerializer, reason_field

INT_MAX = 2_147_483_647
PRICE_MAX = Decimal("999999999999.999999")


def _minutes(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=7,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=MINUTES_IN_A_DAY,
        required=False,
        help_text=help_text,
    )


def _seconds(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=8,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=SECONDS_IN_A_DAY,
        required=False,
        help_text=help_text,
    )


def _percent(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        required=False,
        help_text=help_text,
    )


# -- requests -------------------------------------------------------------------------------


class BreakerSettingsUpdateSerializer(StrictSerializer):
    reference_window_minutes = _minutes("LULD reference price: mean of trades over this window.")
    limit_state_seconds = _seconds("Limit state lasting this long becomes a trading pause.")
    pause_minutes = _minutes("Length of a LULD trading pause.")
    auction_collar_percent = _percent("Reopening auction collar around the reference price.")
    extension_minutes = _minutes("Pause extension when the auction falls outside its collar.")
    close_doubling_minutes = _minutes("Bands double this long before the close.")
    market_wide_level_1_percent = _percent("Market-wide level 1 decline.")
    market_wide_level_2_percent = _percent("Market-wide level 2 decline.")
    market_wide_level_3_percent = _percent("Market-wide level 3 decline (halt for the day).")
    market_wide_pause_minutes = _minutes("Market-wide level 1 and 2 pause length.")
    market_wide_cutoff_minutes = _minutes("No level 1 or 2 pause this close to the close.")
    spike_window_seconds = _seconds("Volume-spike window.")
    spike_lookback_minutes = _minutes("Volume-spike lookback the average is taken over.")
    spike_multiple = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, help_text="Spike: times the average."
    )
    spike_min_lots = serializers.IntegerField(
        min_value=1, max_value=INT_MAX, required=False, help_text="Spike: at least these lots."
    )
    session_open = serializers.TimeField(required=False, help_text="Local open, HH:MM.")
    session_close = serializers.TimeField(required=False, help_text="Local close, HH:MM.")
    session_timezone = serializers.CharField(
        max_length=64, required=False, help_text="IANA time zone, e.g. America/New_York."
    )
    reason = reason_field()


class InstrumentBreakersUpdateSerializer(StrictSerializer):
    luld_tier = serializers.ChoiceField(choices=[1, 2], required=False, help_text="LULD tier.")
    halted_accepts_orders = serializers.BooleanField(
        required=False, help_text="Take new orders (for the reopening auction) while halted."
    )
    index_weight = serializers.IntegerField(
        min_value=0,
        max_value=INT_MAX,
        required=False,
        help_text="Weight in the market-wide index (0: not in it).",
    )
    previous_close = serializers.DecimalField(
        max_digits=18,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        max_value=PRICE_MAX,
        required=False,
        allow_null=True,
        help_text="Yesterday's close, on the instrument's tick (null: none).",
    )
    spike_pauses = serializers.BooleanField(
        required=False, help_text="A volume spike pauses it (else it only alerts)."
    )
    reason = reason_field()


class HaltRequestSerializer(StrictSerializer):
    symbol = serializers.CharField(
        max_length=16,
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="The instrument; absent, blank or null: every instrument.",
    )
    action = serializers.ChoiceField(choices=["halt", "resume"])
    reason = reason_field()


# -- responses (documentation of their shape) ------------------------------------------------


class BreakerSettingsSerializer(serializers.Serializer[None]):
    reference_window_minutes = serializers.CharField()
    limit_state_seconds = serializers.CharField()
    pause_minutes = serializers.CharField()
    auction_collar_percent = serializers.CharField()
    extension_minutes = serializers.CharField()
    close_doubling_minutes = serializers.CharField()
    market_wide_level_1_percent = serializers.CharField()
    market_wide_level_2_percent = serializers.CharField()
    market_wide_level_3_percent = serializers.CharField()
    market_wide_pause_minutes = serializers.CharField()
    market_wide_cutoff_minutes = serializers.CharField()
    spike_window_seconds = serializers.CharField()
    spike_lookback_minutes = serializers.CharField()
    spike_multiple = serializers.IntegerField()
    spike_min_lots = serializers.IntegerField()
    session_open = serializers.CharField()
    session_close = serializers.CharField()
    session_timezone = serializers.CharField()
    parameters = serializers.DictField(
        child=serializers.IntegerField(), help_text="As the engine takes them: ns, bps, counts."
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class InstrumentBreakersSerializer(serializers.Serializer[None]):
    symbol = serializers.CharField()
    luld_tier = serializers.IntegerField()
    halted_accepts_orders = serializers.BooleanField()
    index_weight = serializers.IntegerField()
    previous_close = serializers.CharField(allow_null=True)
    spike_pauses = serializers.BooleanField()
    shard = serializers.IntegerField()


class BreakerSettingsChangeSerializer(serializers.Serializer[None]):
    settings = BreakerSettingsSerializer()
    changed = serializers.ListField(child=serializers.CharField())
    events = serializers.ListField(
        child=serializers.DictField(), help_text="The matcher's outcome events."
    )


class InstrumentBreakersChangeSerializer(serializers.Serializer[None]):
    instrument = InstrumentBreakersSerializer()
    changed = serializers.ListField(child=serializers.CharField())
    events = serializers.ListField(child=serializers.DictField())


class HaltIndicativeSerializer(serializers.Serializer[None]):
    price = serializers.CharField(allow_null=True)
    paired = serializers.IntegerField()
    imbalance = serializers.IntegerField()
    imbalance_side = serializers.CharField()


class CurrentHaltSerializer(serializers.Serializer[None]):
    symbol = serializers.CharField()
    kind = serializers.CharField(help_text="luld_pause, manual, market_wide or volume_spike.")
    message = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True)
    accepts_orders = serializers.BooleanField()
    indicative = HaltIndicativeSerializer(allow_null=True)


class PastHaltSerializer(serializers.Serializer[None]):
    symbol = serializers.CharField()
    shard = serializers.IntegerField()
    seq = serializers.IntegerField()
    kind = serializers.CharField()
    message = serializers.CharField()
    reason = serializers.CharField(help_text="The risk manager's reason (manual halts).")
    halted_by = serializers.CharField(allow_null=True)
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(allow_null=True)
    accepts_orders = serializers.BooleanField()
    extensions = serializers.IntegerField()
    active = serializers.BooleanField()
    ended_at = serializers.DateTimeField(allow_null=True)
    ended_by = serializers.ChoiceField(
        choices=["resume_request", "pause_end", "superseded"], allow_null=True
    )
    resumed_by = serializers.CharField(allow_null=True)
    resume_reason = serializers.CharField()
    auction_price = serializers.CharField(allow_null=True)
    auction_volume = serializers.IntegerField(allow_null=True)


class HaltsSerializer(serializers.Serializer[None]):
    current = CurrentHaltSerializer(
        many=True, allow_null=True, help_text="As the matchers published them; null: cache down."
    )
    halts = PastHaltSerializer(many=True, help_text="Newest first, from the event log.")


class HaltOutcomeSerializer(serializers.Serializer[None]):
    action = serializers.CharField(help_text="halt or resume, as asked.")
    symbol = serializers.CharField(help_text="Blank: every instrument.")
    instruments = serializers.IntegerField(help_text="How many instruments changed.")
    message = serializers.CharField()
    events = serializers.ListField(child=serializers.DictField())
