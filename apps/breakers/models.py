"""Circuit-breaker settings as the firm decided them: the source the matcher's breaker stage is
fed from.

The engine holds the parameters it enforces; this row is what the firm chose. Every change goes
through apps.breakers.services, which saves the row and then sends one SetBreakerParameter per
changed parameter to every shard, so that the journal records who changed what, from what, to
what, and why. The per-instrument settings (LULD tier, orders while halted, index weight,
previous close, spike pauses) are fields of the Instrument and travel in its DefineInstrument;
`InstrumentBreakers` is a view of just those fields, for the admin.
"""

import zoneinfo
from datetime import time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.instruments.models import Instrument

MINUTES_IN_A_DAY = Decimal(1440)
SECONDS_IN_A_DAY = Decimal(86_400)


def _minutes(default: str, help_text: str) -> "models.DecimalField[Decimal, Decimal]":
    return models.DecimalField(
        max_digits=7,
        decimal_places=3,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(MINUTES_IN_A_DAY)],
        help_text=help_text,
    )


def _seconds(default: str, help_text: str) -> "models.DecimalField[Decimal, Decimal]":
    return models.DecimalField(
        max_digits=8,
        decimal_places=3,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(SECONDS_IN_A_DAY)],
        help_text=help_text,
    )


def _percent(default: str, help_text: str) -> "models.DecimalField[Decimal, Decimal]":
    return models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(100))],
        help_text=help_text,
    )


def validate_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{name!r} is not a known time zone.") from None


class BreakerSettings(models.Model):
    """The firm-wide breaker parameters and the session's times; one row (pk 1). Until it is
    first saved, the defaults (the LULD Plan's and the market-wide rule's) apply."""

    SINGLETON_PK = 1

    reference_window_minutes = _minutes(
        "5", "The LULD reference price is the mean trade price over this many minutes."
    )
    limit_state_seconds = _seconds(
        "15", "A limit state that has not cleared after this many seconds becomes a pause."
    )
    pause_minutes = _minutes("5", "A LULD trading pause lasts this many minutes.")
    auction_collar_percent = _percent(
        "5.00", "The reopening auction may not price further than this from the reference."
    )
    extension_minutes = _minutes(
        "5", "An auction outside its collar extends the pause by this many minutes."
    )
    close_doubling_minutes = _minutes(
        "25", "Bands double (Tier 1, and Tier 2 at or below $3) this many minutes before the close."
    )
    market_wide_level_1_percent = _percent(
        "7.00", "Market-wide level 1: an index decline this far below the previous close."
    )
    market_wide_level_2_percent = _percent("13.00", "Market-wide level 2.")
    market_wide_level_3_percent = _percent(
        "20.00", "Market-wide level 3: trading halts for the rest of the day."
    )
    market_wide_pause_minutes = _minutes(
        "15", "Market-wide levels 1 and 2 pause all trading for this many minutes."
    )
    market_wide_cutoff_minutes = _minutes(
        "35",
        "No level 1 or 2 pause in the last this many minutes of the session "
        "(35: not after 3:25 p.m. for a 4 p.m. close).",
    )
    spike_window_seconds = _seconds("10", "Volume spikes: the window whose volume is watched.")
    spike_lookback_minutes = _minutes(
        "5", "Volume spikes: the recent history the window's average is taken over."
    )
    spike_multiple = models.PositiveIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text="A window holding more than this many times the average is a spike.",
    )
    spike_min_lots = models.PositiveIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(2_147_483_647)],
        help_text="...and at least this many lots (so a quiet instrument's few trades are not).",
    )
    session_open = models.TimeField(default=time(9, 30), help_text="Local time, in the zone below.")
    session_close = models.TimeField(
        default=time(16, 0), help_text="Local time (early closes too)."
    )
    session_timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "circuit-breaker settings"
        verbose_name_plural = "circuit-breaker settings"
        permissions = [
            ("halt_trading", "Can halt and resume instruments"),
            ("change_breakers", "Can change circuit-breaker settings and start the session"),
        ]

    def __str__(self) -> str:
        return "Circuit-breaker settings"

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        levels = (
            self.market_wide_level_1_percent,
            self.market_wide_level_2_percent,
            self.market_wide_level_3_percent,
        )
        if None not in levels and not levels[0] < levels[1] < levels[2]:
            raise ValidationError(
                {"market_wide_level_2_percent": "The three levels must rise: 1 < 2 < 3."}
            )
        if (
            self.spike_lookback_minutes is not None
            and self.spike_window_seconds is not None
            and self.spike_lookback_minutes * 60 < self.spike_window_seconds
        ):
            raise ValidationError(
                {"spike_lookback_minutes": "The lookback must hold at least one window."}
            )
        if (
            self.session_open is not None
            and self.session_close is not None
            and self.session_open >= self.session_close
        ):
            raise ValidationError({"session_close": "The session must close after it opens."})


class InstrumentBreakers(Instrument):
    """An instrument's circuit-breaker fields, on their own admin page (edits go through
    apps.breakers.services with a reason)."""

    class Meta:
        proxy = True
        verbose_name = "instrument breaker settings"
        verbose_name_plural = "instrument breaker settings"
