"""The risk models in the admin. Every edit goes through apps.risk.services, like the API's, so
it reaches the matcher as a journaled command with the reason the form asks for.

The admin wraps each save in a transaction: the commands go out when it commits.
"""

from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.accounts.models import User
from apps.risk import services
from apps.risk.limits import ACCOUNT_FIELDS, FIRM_FIELDS, INSTRUMENT_FIELDS
from apps.risk.models import (
    AccountRiskLimits,
    FirmRiskPolicy,
    InstrumentRiskLimits,
    PositionLimit,
    RestrictedInstrument,
    TraderRiskSettings,
)
from apps.trading.control import REASON_MAX_LENGTH
from project.api_errors import Rejection

RowT = TypeVar("RowT", bound=Model)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class ChangeReasonForm(forms.ModelForm[Any]):
    """A model form that also asks why: the reason goes into the journal with the change."""

    change_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        help_text="Why (required): journaled with the change.",
    )


class RiskAdmin(admin.ModelAdmin[RowT]):
    """Seen by those who may read limits, changed by those who may change them; rows are not
    deleted here (set a limit blank to remove it)."""

    form = ChangeReasonForm

    def has_module_permission(self, request: HttpRequest) -> bool:
        return services.can_view_limits(_user(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return services.can_view_limits(_user(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _user(request).has_perm(services.CHANGE_LIMITS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _user(request).has_perm(services.CHANGE_LIMITS)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if not self.has_change_permission(request, obj) and "change_reason" in fields:
            fields.remove("change_reason")
        return fields

    def save_model(self, request: HttpRequest, obj: RowT, form: Any, change: bool) -> None:
        try:
            outcome = self.change_through_service(
                _user(request), obj, form.cleaned_data, form.cleaned_data["change_reason"]
            )
        except Rejection as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        if outcome.row is not None:
            obj.pk = outcome.row.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service saved the many-to-many fields already (and sent their commands).
        return

    def change_through_service(
        self, actor: User, obj: RowT, cleaned: dict[str, Any], reason: str
    ) -> services.ControlOutcome:
        raise NotImplementedError


@admin.register(FirmRiskPolicy)
class FirmRiskPolicyAdmin(RiskAdmin[FirmRiskPolicy]):
    list_display = ("__str__", *(f.field for f in FIRM_FIELDS), "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not FirmRiskPolicy.objects.exists()

    def change_through_service(
        self, actor: User, obj: FirmRiskPolicy, cleaned: dict[str, Any], reason: str
    ) -> services.ControlOutcome:
        changes = {f.field: cleaned[f.field] for f in FIRM_FIELDS if f.field in cleaned}
        return services.firm_policy_update(actor, changes, reason)


@admin.register(AccountRiskLimits)
class AccountRiskLimitsAdmin(RiskAdmin[AccountRiskLimits]):
    list_display = ("account", *(f.field for f in ACCOUNT_FIELDS), "updated_at")
    filter_horizontal = ("permitted_instruments",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("account",) if obj is not None else ()

    def change_through_service(
        self, actor: User, obj: AccountRiskLimits, cleaned: dict[str, Any], reason: str
    ) -> services.ControlOutcome:
        changes: dict[str, Any] = {
            f.field: cleaned[f.field] for f in ACCOUNT_FIELDS if f.field in cleaned
        }
        if "permitted_instruments" in cleaned:
            changes["permitted_instruments"] = [i.symbol for i in cleaned["permitted_instruments"]]
        return services.account_limits_update(actor, obj.account, changes, reason)


@admin.register(InstrumentRiskLimits)
class InstrumentRiskLimitsAdmin(RiskAdmin[InstrumentRiskLimits]):
    list_display = ("instrument", *(f.field for f in INSTRUMENT_FIELDS), "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("instrument",) if obj is not None else ()

    def change_through_service(
        self, actor: User, obj: InstrumentRiskLimits, cleaned: dict[str, Any], reason: str
    ) -> services.ControlOutcome:
        changes = {f.field: cleaned[f.field] for f in INSTRUMENT_FIELDS if f.field in cleaned}
        return services.instrument_limits_update(actor, obj.instrument, changes, reason)


class PositionLimitForm(ChangeReasonForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("max_long_lots") is None and cleaned.get("max_short_lots") is None:
            raise forms.ValidationError("Set a long or a short limit (or both).")
        return cleaned


@admin.register(PositionLimit)
class PositionLimitAdmin(RiskAdmin[PositionLimit]):
    form = PositionLimitForm
    list_display = ("account", "instrument", "max_long_lots", "max_short_lots", "updated_at")
    list_filter = ("account",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("account", "instrument") if obj is not None else ()

    def change_through_service(
        self, actor: User, obj: PositionLimit, cleaned: dict[str, Any], reason: str
    ) -> services.ControlOutcome:
        return services.position_limit_set(
            actor,
            obj.account,
            obj.instrument,
            cleaned.get("max_long_lots"),
            cleaned.get("max_short_lots"),
            reason,
        )


class LiftRestrictionForm(forms.Form):
    change_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH, help_text="Why the restriction is lifted."
    )


@admin.register(RestrictedInstrument)
class RestrictedInstrumentAdmin(RiskAdmin[RestrictedInstrument]):
    """Restrictions are added here and lifted with the action (which asks why); the entry
    itself never changes."""

    list_display = ("instrument", "account", "reason", "created_by", "created_at")
    list_filter = ("account",)
    readonly_fields = ("reason", "created_by", "created_at")
    actions = ("lift",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("instrument", "account", "change_reason")
        return ("instrument", "account", "reason", "created_by", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The list's action needs the change permission; a saved entry's form is read only.
        return obj is None and super().has_change_permission(request, obj)

    def change_through_service(
        self, actor: User, obj: RestrictedInstrument, cleaned: dict[str, Any], reason: str
    ) -> services.ControlOutcome:
        return services.restricted_set(actor, obj.instrument, obj.account, True, reason)

    @admin.action(description="Lift the selected restrictions", permissions=["change"])
    def lift(
        self, request: HttpRequest, queryset: QuerySet[RestrictedInstrument]
    ) -> HttpResponse | None:
        form = LiftRestrictionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["change_reason"]
            lifted = 0
            for entry in queryset:
                try:
                    services.restricted_lift(_user(request), entry.pk, reason)
                except Rejection as exc:
                    self.message_user(request, exc.message, messages.ERROR)
                    continue
                lifted += 1
            self.message_user(request, f"Lifted {lifted} restrictions.", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/trading/reason_action.html",
            {
                **self.admin_site.each_context(request),
                "title": "Lift restrictions",
                "question": "Lift these restrictions?",
                "journaled_with": "each",
                "action": "lift",
                "verb": "Lift",
                "entries": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(TraderRiskSettings)
class TraderRiskSettingsAdmin(admin.ModelAdmin[TraderRiskSettings]):
    """A trader's own choice, made on the desk (me/settings); shown here, not changed."""

    list_display = ("user", "cancel_on_disconnect", "updated_at")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return services.can_view_limits(_user(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return services.can_view_limits(_user(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
