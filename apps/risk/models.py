"""Pre-trade limits as the risk managers set them: the source the matcher's risk stage is fed from.

The engine holds the limits it enforces; these rows are what the firm decided. Every change goes
through apps.risk.services, which saves the row and then sends the matching control command to
every shard, so the journal records who changed what, from what, to what, and why. A blank
limit (NULL) means no limit.

Units: money is in the currency (Decimal, two places) and reaches the engine as integer micros;
quantities are lots (the demo instruments trade in lots of one share, so lots are shares there).
"""

from decimal import Decimal
from itertools import pairwise

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.accounts.models import TradingAccount
from apps.instruments.models import Instrument

# Money has 14 digits, 2 after the point, so that it fits the engine's int64 micros:
# 999,999,999,999.99 is about 1e18 micros.
POSITIVE_MONEY = [MinValueValidator(Decimal("0.01"))]
POSITIVE_COUNT = [MinValueValidator(1)]


class FirmRiskPolicy(models.Model):
    """The firm-wide controls; one row (pk 1). Until it is first saved, the defaults apply."""

    SINGLETON_PK = 1

    collar_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text="Reject a limit priced through the reference by more than this percent.",
    )
    collar_minimum = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal("0.50"),
        validators=POSITIVE_MONEY,
        help_text="...or by more than this amount, whichever is greater (currency units).",
    )
    duplicate_window_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=1000,
        validators=[MinValueValidator(1), MaxValueValidator(86_400_000)],
        help_text="An identical order within this many milliseconds is rejected.",
    )
    throttle_window_ms = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=3000,
        validators=[MinValueValidator(1), MaxValueValidator(3_600_000)],
        help_text="The sliding window of the per-trader message throttle.",
    )
    throttle_messages = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=500,
        validators=POSITIVE_COUNT,
        help_text="Orders and modifies a trader may send within the window.",
    )
    throttle_cancels = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=1500,
        validators=POSITIVE_COUNT,
        help_text="Cancels a trader may send within the window.",
    )
    authorised_users_only = models.BooleanField(
        default=True, help_text="Only traders entitled to an account may trade it."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "firm risk policy"
        verbose_name_plural = "firm risk policy"
        permissions = [
            ("view_risk_limits", "Can see pre-trade limits and kill switches"),
            ("change_risk_limits", "Can change pre-trade limits"),
            ("operate_kill_switch", "Can engage and release kill switches"),
        ]

    def __str__(self) -> str:
        return "Firm risk policy"

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class AccountRiskLimits(models.Model):
    """One trading account's limits."""

    account = models.OneToOneField(
        TradingAccount, on_delete=models.CASCADE, related_name="risk_limits"
    )
    max_order_lots = models.PositiveIntegerField(
        null=True, blank=True, validators=POSITIVE_COUNT, help_text="Largest single order, in lots."
    )
    max_order_notional = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE_MONEY,
        help_text="Largest single order's value.",
    )
    credit_limit = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE_MONEY,
        help_text="Open buy and sell exposure plus today's filled notional may not exceed this.",
    )
    loss_warning = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE_MONEY,
        help_text="Daily loss (realised plus unrealised) at which an alert is raised.",
    )
    loss_reduce_only = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE_MONEY,
        help_text="Daily loss from which only risk-reducing orders pass.",
    )
    loss_kill = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE_MONEY,
        help_text="Daily loss at which the account's kill switch latches.",
    )
    permitted_instruments_only = models.BooleanField(
        default=False, help_text="Trade only the permitted instruments below."
    )
    permitted_instruments = models.ManyToManyField(
        Instrument, blank=True, related_name="permitted_for"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "account risk limits"
        verbose_name_plural = "account risk limits"
        ordering = ["account__code"]

    def __str__(self) -> str:
        return f"Limits of {self.account}"

    def clean(self) -> None:
        # The loss stages bite in order: warning, then reduce-only, then the kill switch.
        stages = [
            (name, value)
            for name, value in (
                ("loss_warning", self.loss_warning),
                ("loss_reduce_only", self.loss_reduce_only),
                ("loss_kill", self.loss_kill),
            )
            if value is not None
        ]
        for (lower, low), (higher, high) in pairwise(stages):
            if low > high:
                raise ValidationError(
                    {higher: f"{higher} ({high}) must not be below {lower} ({low})."}
                )


class InstrumentRiskLimits(models.Model):
    """One instrument's per-order limits, for every account."""

    instrument = models.OneToOneField(
        Instrument, on_delete=models.CASCADE, related_name="risk_limits"
    )
    max_order_lots = models.PositiveIntegerField(
        null=True, blank=True, validators=POSITIVE_COUNT, help_text="Largest single order, in lots."
    )
    max_order_notional = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE_MONEY,
        help_text="Largest single order's value.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "instrument risk limits"
        verbose_name_plural = "instrument risk limits"
        ordering = ["instrument__symbol"]

    def __str__(self) -> str:
        return f"Limits of {self.instrument}"


class PositionLimit(models.Model):
    """How long and how short an account may be in one instrument, counting working orders
    that would increase the position."""

    account = models.ForeignKey(
        TradingAccount, on_delete=models.CASCADE, related_name="position_limits"
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="position_limits"
    )
    max_long_lots = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Largest long position, in lots (0: no long position at all).",
    )
    max_short_lots = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Largest short position, in lots (0: no short selling).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account__code", "instrument__symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "instrument"], name="positionlimit_account_instrument_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.instrument}"


class RestrictedInstrument(models.Model):
    """An instrument nobody (no account: firm-wide) or one account may trade."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="restricted")
    account = models.ForeignKey(
        TradingAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="restricted_instruments",
        help_text="Empty: restricted for the whole firm.",
    )
    reason = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instrument__symbol", "account__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "account"], name="restricted_instrument_account_unique"
            ),
            # NULLs are distinct in a unique index: the firm-wide entry needs its own.
            models.UniqueConstraint(
                fields=["instrument"],
                condition=Q(account__isnull=True),
                name="restricted_instrument_firm_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} restricted for {self.account or 'the firm'}"


class TraderRiskSettings(models.Model):
    """A trader's own choices about their orders."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="risk_settings"
    )
    cancel_on_disconnect = models.BooleanField(
        default=False,
        help_text="Cancel my working DAY orders when my last desk connection drops.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "trader risk settings"
        verbose_name_plural = "trader risk settings"

    def __str__(self) -> str:
        return f"Risk settings of {self.user}"
