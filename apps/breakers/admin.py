"""The breaker settings and the instruments' breaker fields in the admin. Every edit goes
through apps.breakers.services, like the API's, so it reaches the matcher as a journaled command
with the reason the form asks for; halting, resuming and starting the session are actions.

The admin wraps each save in a transaction: the commands go out when it commits.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.accounts.models import User
from apps.breakers import services
from apps.breakers.models import BreakerSettings, InstrumentBreakers
from apps.breakers.parameters import SETTINGS_FIELDS
from apps.trading.control import REASON_MAX_LENGTH
from project.api_errors import Rejection


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _can_view(request: HttpRequest) -> bool:
    user = _user(request)
    return services.can_change_breakers(user) or services.can_halt(user)


class ChangeReasonForm(forms.ModelForm[Any]):
    """A model form that also asks why: the reason goes into the journal with the change."""

    change_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        help_text="Why (required): journaled with the change.",
    )


class ReasonForm(forms.Form):
    change_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH, help_text="Why (required): journaled with it."
    )


def _with_reason(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    action: str,
    question: str,
    verb: str,
    run: Callable[[str], None],
) -> HttpResponse | None:
    """An action that asks for a reason on an intermediate page, then runs."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        try:
            run(form.cleaned_data["change_reason"])
        except Rejection as exc:
            model_admin.message_user(request, exc.message, messages.ERROR)
        return None
    return TemplateResponse(
        request,
        "admin/trading/reason_action.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": verb,
            "question": question,
            "journaled_with": "it",
            "verb": verb,
            "action": action,
            "entries": queryset,
            "form": form,
            "opts": model_admin.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        },
    )


class BreakersAdmin(admin.ModelAdmin[Any]):
    """Seen by risk managers and administrators, changed by those who may change breakers;
    nothing is added or deleted here."""

    form = ChangeReasonForm

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _can_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_view(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return services.can_change_breakers(_user(request))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_halt_permission(self, request: HttpRequest) -> bool:
        return services.can_halt(_user(request))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if not self.has_change_permission(request, obj) and "change_reason" in fields:
            fields.remove("change_reason")
        return fields


@admin.register(BreakerSettings)
class BreakerSettingsAdmin(BreakersAdmin):
    list_display = (
        "__str__",
        "limit_state_seconds",
        "pause_minutes",
        "auction_collar_percent",
        "session_open",
        "session_close",
        "session_timezone",
        "updated_at",
    )
    actions = ("start_session",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return services.can_change_breakers(_user(request)) and not BreakerSettings.objects.exists()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        cleaned = form.cleaned_data
        changes = {name: cleaned[name] for name in SETTINGS_FIELDS if name in cleaned}
        try:
            outcome = services.breaker_settings_update(
                _user(request), changes, cleaned["change_reason"]
            )
        except Rejection as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk = outcome.row.pk

    @admin.action(description="Start today's session on every matcher", permissions=["change"])
    def start_session(
        self, request: HttpRequest, queryset: QuerySet[BreakerSettings]
    ) -> HttpResponse | None:
        try:
            times = services.session_start(_user(request))
        except Rejection as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        self.message_user(
            request, f"Session of {times.day.isoformat()} sent to every matcher.", messages.SUCCESS
        )
        return None


@admin.register(InstrumentBreakers)
class InstrumentBreakersAdmin(BreakersAdmin):
    list_display = (
        "symbol",
        "luld_tier",
        "halted_accepts_orders",
        "index_weight",
        "previous_close",
        "spike_pauses",
        "shard",
    )
    fields = (
        "symbol",
        "luld_tier",
        "halted_accepts_orders",
        "index_weight",
        "previous_close",
        "spike_pauses",
        "change_reason",
    )
    readonly_fields = ("symbol",)
    actions = ("halt", "resume")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        cleaned = form.cleaned_data
        changes = {name: cleaned[name] for name in services.INSTRUMENT_FIELDS if name in cleaned}
        try:
            services.instrument_breakers_update(
                _user(request), obj.symbol, changes, cleaned["change_reason"]
            )
        except Rejection as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def _halt_action(
        self, request: HttpRequest, queryset: QuerySet[InstrumentBreakers], halt: bool
    ) -> HttpResponse | None:
        service = services.halt_request if halt else services.resume_request

        def run(reason: str) -> None:
            for instrument in queryset:
                outcome = service(_user(request), instrument.symbol, reason)
                self.message_user(request, outcome.message, messages.SUCCESS)

        verb = "Halt" if halt else "Resume"
        question = (
            "Halt trading in these instruments until resumed by hand?"
            if halt
            else "Resume these instruments? Each reopens with an auction."
        )
        return _with_reason(self, request, queryset, verb.lower(), question, verb, run)

    @admin.action(description="Halt the selected instruments", permissions=["halt"])
    def halt(
        self, request: HttpRequest, queryset: QuerySet[InstrumentBreakers]
    ) -> HttpResponse | None:
        return self._halt_action(request, queryset, True)

    @admin.action(description="Resume the selected instruments", permissions=["halt"])
    def resume(
        self, request: HttpRequest, queryset: QuerySet[InstrumentBreakers]
    ) -> HttpResponse | None:
        return self._halt_action(request, queryset, False)
